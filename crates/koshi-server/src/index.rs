//! `GET /api`: what the API answers, each endpoint with its parameters and what it is for, and the
//! one key grammar. A test checks that every listed parameter is accepted where it is listed and
//! that every endpoint refuses a parameter it does not list.

use axum::Json;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The path, with `{placeholders}`.
    pub path: &'static str,
    pub parameters: &'static [&'static str],
    pub answers: &'static str,
}

const PAGE: &[&str] = &["limit", "offset"];

/// Every endpoint of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint { path: "/api", parameters: &[], answers: "this index" },
    Endpoint {
        path: "/api/health",
        parameters: &[],
        answers: "whether the bundled data are complete, the bank's counts and state",
    },
    Endpoint {
        path: "/api/dataflows",
        parameters: PAGE,
        answers: "dataflows with their dimensions, code lists, measures and sizes",
    },
    Endpoint {
        path: "/api/dataflows/{dataflow}/codes",
        parameters: &[],
        answers: "each dimension's codes that the dataflow's series use, with labels in en/ru/kk; its units and first and last period",
    },
    Endpoint {
        path: "/api/data/{dataflow}",
        parameters: &["key", "as_of", "source", "harmonised", "from", "to", "predecessors", "limit", "offset"],
        answers: "observations with source, definition, release and citation; or the harmonised figures and why each won",
    },
    Endpoint {
        path: "/api/download/{dataflow}",
        parameters: &["key", "as_of", "source", "harmonised", "from", "to", "predecessors"],
        answers: "the figures /api/data selects as one ZIP file: data.csv, metadata.json and a README with the citation and each source's terms",
    },
    Endpoint {
        path: "/api/discrepancies",
        parameters: &["dataflow", "tolerance", "limit", "offset"],
        answers: "keys where sources or definitions disagree by more than tolerance per cent",
    },
    Endpoint {
        path: "/api/indicators",
        parameters: &[],
        answers: "the indicators koshi computes: names in en/ru/kk, formulas, the dataflows each applies to",
    },
    Endpoint {
        path: "/api/indicators/{indicator}/{dataflow}",
        parameters: &["key", "from", "to", "as_of", "limit", "offset"],
        answers: "an indicator by every dimension but the measure, each value with the input figures, sources and releases it came from",
    },
    Endpoint {
        path: "/api/search",
        parameters: &["q", "limit"],
        answers: "series found by words in English, Russian or Kazakh: dataflows with the codes that took the words, as keys",
    },
    Endpoint {
        path: "/api/alerts",
        parameters: &["rule", "since", "as_of", "limit", "offset"],
        answers: "the monitoring rules' alerts, latest first: sign turns, changes past a threshold, CUSUM alarms, each with its figures, source and message in en/ru/kk",
    },
    Endpoint {
        path: "/api/profiles/country/{code}",
        parameters: &["as_of", "horizon", "top"],
        answers: "a country's profile: migrant stocks in and out, net migration by source beside the UN's, the largest corridors, the net migration forecast with scenarios; every figure with its source and release",
    },
    Endpoint {
        path: "/api/profiles/region/{code}",
        parameters: &["as_of"],
        answers: "a region of Kazakhstan: internal arrivals, departures and net by year and month, rates per 1,000, population, its place among the regions, predecessors' figures",
    },
    Endpoint {
        path: "/api/profiles/regions",
        parameters: &["measure", "as_of"],
        answers: "every region of Kazakhstan's figure of one measure (ARR, DEP, NET as published; NET_RATE, GROSS_RATE per 1,000 with their inputs) by year and month: the map",
    },
    Endpoint {
        path: "/api/releases",
        parameters: &["dataflow", "limit", "offset"],
        answers: "releases (vintages) with revisions",
    },
    Endpoint {
        path: "/api/changes",
        parameters: &["latest"],
        answers: "what each of the latest releases changed in its dataflow: figures added, revised and withdrawn, with examples",
    },
    Endpoint {
        path: "/api/changes/{dataflow}",
        parameters: &["since", "key", "limit", "offset"],
        answers: "the harmonised view known on `since` against the view now: added, revised (with the change) and withdrawn figures, each side with its source and release",
    },
    Endpoint {
        path: "/api/corridors",
        parameters: &["countries", "year", "as_of"],
        answers: "the bilateral migrant stocks among 2 to 12 countries (origin, destination, persons, source), with their capitals for a flow map",
    },
    Endpoint {
        path: "/api/corridors/{a}/{b}",
        parameters: &["as_of"],
        answers: "two countries' corridor: migrants each way over the years, every bilateral figure (trade, labour migration, diasporas, geography) and a risk view from the migrants', the origin's and the destination's viewpoints",
    },
    Endpoint {
        path: "/api/vacancies",
        parameters: &["region", "occupation", "q", "status", "coding", "with_duplicates", "after", "limit"],
        answers: "the regional vacancy database's vacancies by region, ISCO-08 occupation, words of the title, employer or settlement, status and coding, {\"items\", \"next_after\"} with limit at most 500; postings, imports and changes are described in /api/registry/openapi.json",
    },
    Endpoint {
        path: "/api/vacancies/{id}",
        parameters: &[],
        answers: "a vacancy with every state it has had, each with the day it took effect and who made the change",
    },
    Endpoint {
        path: "/api/vacancies/coding-queue",
        parameters: &["after", "limit"],
        answers: "for a signed-in regional officer, the vacancies of the region whose occupation the coder could not place with confidence",
    },
    Endpoint {
        path: "/api/labour-demand",
        parameters: &["level", "from", "to", "region", "occupation", "offset", "limit"],
        answers: "labour demand from the vacancy database by region, ISCO-08 occupation (1 to 4 digits) and month: vacancy stock, inflow, outflow, hires, mean duration, registered job seekers, seekers per vacancy and tightness; pages of at most 50,000 cells",
    },
    Endpoint {
        path: "/api/labour-demand/coordination",
        parameters: &[
            "month",
            "level",
            "flows_year",
            "decay",
            "transport",
            "housing_per_month",
            "housing_months",
            "microcredit",
            "currency",
            "package_source",
        ],
        answers: "internal-migration coordination for a month: per occupation group (ISCO-08 level 1 or 2), the regions' surplus seekers and unfilled vacancies, and the surplus sent to the shortage regions along the routes of a doubly-constrained gravity model of internal migration (decay from the bank's gravity fit unless given); with a relocation package's amounts per person (transport, housing per month and months, microcredit) and their source, what moving them would cost",
    },
    Endpoint {
        path: "/api/shortage/assessment",
        parameters: &["rule", "month", "level"],
        answers: "the shortage assessment of every occupation in every region for a month by a dated, cited composite index, with each assessment's figures and reasons in three languages; not stored (an administrator adopts a list with POST /api/shortage/lists)",
    },
    Endpoint {
        path: "/api/shortage/lists/latest",
        parameters: &["list", "region", "occupation", "status", "after", "limit"],
        answers: "the entries of the newest adopted shortage list (or ?list=ID): status, seekers, vacancies, figures and reasons, in pages (limit at most 20,000, next_after); the permit decisions' labour-market test reads it",
    },
    Endpoint { path: "/api/sources", parameters: PAGE, answers: "sources with their releases and observations" },
    Endpoint { path: "/api/check", parameters: PAGE, answers: "every defect, declared by a source or found by a rule" },
    Endpoint {
        path: "/api/codelists/{id}",
        parameters: &[],
        answers: "a code list with English, Russian and Kazakh labels",
    },
    Endpoint {
        path: "/api/occupations",
        parameters: &["level", "under", "q"],
        answers: "the occupation classification ISCO-08 (which НК РК 01-2017 follows): groups of a level (1 to 4 digits), inside a group, or whose English, Russian or Kazakh title has the words, each with its titles in the three languages (every major and sub-major group has all three) and their source",
    },
    Endpoint {
        path: "/api/forecast/{dataflow}",
        parameters: &[
            "key",
            "horizon",
            "model",
            "from",
            "to",
            "as_of",
            "compare_un",
            "reconcile",
            "scenario",
            "show_history",
        ],
        answers: "forecasts with calibrated 80/95% intervals, scenarios, the UN comparison, regional reconciliation",
    },
    Endpoint {
        path: "/api/backtest/{dataflow}",
        parameters: &["key", "horizon", "origins", "model", "from", "to", "as_of"],
        answers: "rolling-origin sMAPE, MASE, MSIS and interval coverage per model",
    },
    Endpoint {
        path: "/api/gravity/fit",
        parameters: &[
            "formula",
            "data",
            "source",
            "where",
            "estimator",
            "vcov",
            "small_sample",
            "conf_level",
            "rectifier",
            "fixed_effects",
            "fitted",
            "counterfactual",
            "within",
            "limit",
            "offset",
        ],
        answers: "a gravity model (PPML with fixed effects, OLS, Poisson) on bank data, with counterfactuals",
    },
    Endpoint { path: "/api/gravity/panel", parameters: &[], answers: "the UN DESA bilateral panel's size and make-up" },
    Endpoint {
        path: "/api/gravity/push-pull",
        parameters: &[
            "formula",
            "data",
            "source",
            "where",
            "estimator",
            "vcov",
            "small_sample",
            "conf_level",
            "rectifier",
            "origin",
            "destination",
            "top",
            "corridor",
            "partners",
            "a",
            "b",
            "c",
        ],
        answers: "push and pull factors ranked from the fixed effects, and a corridor's table",
    },
    Endpoint {
        path: "/api/gravity/potential",
        parameters: &["corridor", "partners", "a", "b", "c", "fit_undesa"],
        answers: "the gravitational potential P = pop^a·GDP^b/dist^c of a corridor",
    },
    Endpoint {
        path: "/api/indices/{dataflow}",
        parameters: &["key", "year", "source", "release"],
        answers: "migration indices of an origin–destination table or of regional arrivals and departures",
    },
    Endpoint {
        path: "/api/flows/estimate",
        parameters: &[
            "from",
            "to",
            "method",
            "stocks",
            "stocks_source",
            "stocks_release",
            "population",
            "births",
            "deaths",
            "decrease",
            "total",
        ],
        answers: "flows estimated from stocks, without writing them (a dry run)",
    },
];

pub const KEY_GRAMMAR: &str = "A key is an SDMX key with codes in dimension order joined by `.` (KAZ.WLD._T._T.NET), an \
empty part for any code and `+` for several (KAZ+RUS), or DIM=CODE[+CODE] items joined by `,` \
(REF_AREA=KAZ,MEASURE=NET+ARR). Constraints on one dimension combine with AND. Every code is checked against its code \
list (GET /api/codelists/{id}); a mistyped one is a 400 naming it with near codes.";

#[derive(Serialize)]
pub struct Index {
    version: &'static str,
    keys: &'static str,
    lists: &'static str,
    errors: &'static str,
    endpoints: &'static [Endpoint],
}

pub async fn index(crate::params::Params(crate::NoParams {}): crate::params::Params<crate::NoParams>) -> Json<Index> {
    Json(Index {
        version: env!("CARGO_PKG_VERSION"),
        keys: KEY_GRAMMAR,
        lists: "Lists come a page at a time: {\"total\", \"limit\", \"offset\", \"next\", \"items\"}; limit is 1000 by \
default and at most 10000.",
        errors: "Every error is {\"error\": {\"status\", \"code\", \"message\"}}.",
        endpoints: ENDPOINTS,
    })
}
