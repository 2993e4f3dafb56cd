//! Gravity models over HTTP, on the bank's data only (no user files):
//!
//! - `GET /api/gravity/fit?formula=…&data=undesa-panel|<DATAFLOW>&source=…&where=…&estimator=ppml|ols|poisson`
//!   `&vcov=…&small_sample=…&conf_level=…&rectifier=true|false&fixed_effects=true&fitted=true&limit=…&offset=…`
//!   `&counterfactual=EDIT;EDIT…&within=…` — a fit; `limit`/`offset` page the fitted values
//!   (with `fitted=true`; by default the first 1,000), several counterfactual edits are
//!   separated by `;`;
//! - `GET /api/gravity/panel` — the UN DESA bilateral panel's summary;
//! - `GET /api/gravity/push-pull?formula=…&data=…&origin=…&destination=…&top=…&corridor=…&partners=A,B&a=…&b=…&c=…`;
//! - `GET /api/gravity/potential?corridor=…&partners=A,B&a=…&b=…&c=…&fit_undesa=true`.
//!
//! Every answer is the report the command line prints with `--format json`; one over the
//! server's answer limit is a 413.

use std::sync::Arc;

use axum::extract::State;
use koshi_app::PageRequest;
use koshi_app::gravity::{
    CorridorRequest, EstimatorChoice, FitRequest, GravityData, GravityModel, PanelRequest, PotentialRequest,
    PushPullRequest,
};
use serde::Deserialize;

use crate::params::{JsonBytes, Paging, Params, boolean, report_json, whole_number};
use crate::{ApiError, NoParams, Server, blocking};

/// The parameters of a model.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FitParams {
    formula: Option<String>,
    data: Option<String>,
    source: Option<String>,
    #[serde(rename = "where")]
    filter: Option<String>,
    estimator: Option<String>,
    vcov: Option<String>,
    small_sample: Option<String>,
    conf_level: Option<String>,
    rectifier: Option<String>,
    fixed_effects: Option<String>,
    fitted: Option<String>,
    counterfactual: Option<String>,
    within: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushPullParams {
    formula: Option<String>,
    data: Option<String>,
    source: Option<String>,
    #[serde(rename = "where")]
    filter: Option<String>,
    estimator: Option<String>,
    vcov: Option<String>,
    small_sample: Option<String>,
    conf_level: Option<String>,
    rectifier: Option<String>,
    origin: Option<String>,
    destination: Option<String>,
    top: Option<String>,
    corridor: Option<String>,
    partners: Option<String>,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PotentialParams {
    corridor: Option<String>,
    partners: Option<String>,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
    fit_undesa: Option<String>,
}

fn required(name: &str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ApiError::bad_parameter(format!("{name}: required"))),
    }
}

fn number(name: &str, text: Option<&str>) -> Result<Option<f64>, ApiError> {
    text.map(|t| match t.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ApiError::bad_parameter(format!("{name}: `{t}` is not a number"))),
    })
    .transpose()
}

#[allow(clippy::too_many_arguments)]
fn model(
    formula: Option<String>,
    data: Option<String>,
    source: Option<String>,
    filter: Option<String>,
    estimator: Option<String>,
    vcov: Option<String>,
    small_sample: Option<String>,
    conf_level: Option<String>,
    rectifier: Option<String>,
) -> Result<GravityModel, ApiError> {
    let formula = required("formula", formula)?;
    let data = required("data", data)?;
    let mut m = GravityModel::new(formula, GravityData::named(data.trim(), source));
    m.filter = filter;
    if let Some(e) = estimator {
        m.estimator = EstimatorChoice::parse(&e)?;
    }
    m.vcov = vcov;
    if let Some(s) = small_sample {
        m.small_sample = s;
    }
    if let Some(level) = number("conf_level", conf_level.as_deref())? {
        m.conf_level = level;
    }
    m.rectifier = match rectifier.as_deref() {
        None => true,
        text => boolean("rectifier", text)?,
    };
    Ok(m)
}

fn corridor(
    destination: Option<String>,
    partners: Option<String>,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
) -> Result<CorridorRequest, ApiError> {
    let mut r = CorridorRequest::default();
    if let Some(d) = destination {
        r.destination = d.trim().to_string();
    }
    if let Some(p) = partners {
        r.partners = p.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    }
    r.a = number("a", a.as_deref())?;
    r.b = number("b", b.as_deref())?;
    r.c = number("c", c.as_deref())?;
    Ok(r)
}

pub(crate) async fn fit(
    State(server): State<Arc<Server>>,
    Params(p): Params<FitParams>,
) -> Result<JsonBytes, ApiError> {
    let fitted = boolean("fitted", p.fitted.as_deref())?;
    let fitted_page = if fitted {
        let paging = Paging::parse(p.limit.as_deref(), p.offset.as_deref())?;
        Some(PageRequest { offset: paging.offset, limit: paging.limit })
    } else if p.limit.is_some() || p.offset.is_some() {
        return Err(ApiError::bad_parameter("limit, offset: they page the fitted values, so only with fitted=true"));
    } else {
        None
    };
    let counterfactuals = p
        .counterfactual
        .as_deref()
        .map(|c| c.split(';').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect())
        .unwrap_or_default();
    let request = FitRequest {
        model: model(
            p.formula,
            p.data,
            p.source,
            p.filter,
            p.estimator,
            p.vcov,
            p.small_sample,
            p.conf_level,
            p.rectifier,
        )?,
        fixed_effects: boolean("fixed_effects", p.fixed_effects.as_deref())?,
        fitted,
        fitted_page,
        counterfactuals,
        within: p.within,
    };
    blocking(move || {
        let report = server.app().gravity_fit(&request)?;
        report_json(
            &report,
            server.max_response_bytes,
            "ask for fewer fitted values with limit= and page on with offset=, or leave out fixed_effects=true",
        )
    })
    .await
}

pub(crate) async fn panel(
    State(server): State<Arc<Server>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<JsonBytes, ApiError> {
    blocking(move || {
        let report = server.app().gravity_panel(&PanelRequest { out: None })?;
        report_json(&report, server.max_response_bytes, "the panel summary should never be this large")
    })
    .await
}

pub(crate) async fn push_pull(
    State(server): State<Arc<Server>>,
    Params(p): Params<PushPullParams>,
) -> Result<JsonBytes, ApiError> {
    let mut request = PushPullRequest::new(model(
        p.formula,
        p.data,
        p.source,
        p.filter,
        p.estimator,
        p.vcov,
        p.small_sample,
        p.conf_level,
        p.rectifier,
    )?);
    if let Some(o) = p.origin {
        request.origin = o;
    }
    if let Some(d) = p.destination {
        request.destination = d;
    }
    if let Some(t) = p.top {
        request.top = whole_number("top", &t)?;
    }
    request.corridor = corridor(p.corridor, p.partners, p.a, p.b, p.c)?;
    blocking(move || {
        let report = server.app().gravity_push_pull(&request)?;
        report_json(&report, server.max_response_bytes, "ask for fewer ranked places with top=")
    })
    .await
}

pub(crate) async fn potential(
    State(server): State<Arc<Server>>,
    Params(p): Params<PotentialParams>,
) -> Result<JsonBytes, ApiError> {
    let request = PotentialRequest {
        corridor: corridor(p.corridor, p.partners, p.a, p.b, p.c)?,
        fit_undesa: boolean("fit_undesa", p.fit_undesa.as_deref())?,
    };
    blocking(move || {
        let report = server.app().gravity_potential(&request)?;
        report_json(&report, server.max_response_bytes, "ask for fewer partners")
    })
    .await
}
