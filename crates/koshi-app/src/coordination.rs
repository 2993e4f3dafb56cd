//! Internal-migration coordination (paper 003, measures 9, 16 and 18): for each occupation
//! group, the regions whose registered job seekers outnumber their vacancies and those whose
//! vacancies outnumber their seekers, and how many people would move along which routes if the
//! surplus were sent where the vacancies are, following the routes people already take between
//! regions. The routes come from a doubly-constrained gravity model of the bank's internal
//! migration (arrivals and departures by region) whose distance decay is the distance elasticity
//! of the bank's own gravity fit of bilateral migrant stocks: Kazakhstan publishes no
//! region-to-region matrix on which it could be fitted, and the report says so.

use koshi_core::geography::{LatLon, great_circle_km};
pub use koshi_labour::coordination::{Package, PackageCost};
use koshi_labour::coordination::{Relocation, relocation, spatial_interaction};
use koshi_labour::demand::TOTAL;
use koshi_labour::vacancy::Region;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};
use crate::gravity::{FitRequest, GravityData, GravityModel};
use crate::registry::{Actor, DemandRequest};

/// The regions' points (for distances), with their source in the folder's README.
const REGION_CENTRES: &str = include_str!("../../../data/labour/coordination/region_centres.csv");
/// The bank's gravity fit whose distance elasticity is the decay.
pub const GRAVITY_FORMULA: &str = "flow ~ log(dist) + contig + eaeu | orig^year + dest^year";
pub const GRAVITY_DATA: &str = "undesa-panel";
const DISTANCE_TERM: &str = "log(dist)";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordinationRequest {
    /// The month of the vacancies and seekers, `YYYY-MM`.
    pub month: String,
    /// ISCO-08 digits of the occupation groups, 1 or 2 (1 by default).
    pub level: Option<usize>,
    /// The year of the internal migration (the latest with every region's arrivals and
    /// departures by default).
    pub flows_year: Option<String>,
    /// A distance decay to use instead of the gravity fit's elasticity.
    pub decay: Option<f64>,
    /// What a relocation package gives each person moved, with its source; no cost without it.
    pub package: Option<Package>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionBalance {
    pub region: String,
    pub seekers: u64,
    pub vacancies: u64,
    /// Seekers beyond the vacancies (surplus) or vacancies beyond the seekers (gap).
    pub surplus: u64,
    pub gap: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteView {
    pub from: String,
    pub to: String,
    pub persons: f64,
    /// The model's moves on the route in the flows' year, for scale.
    pub modelled_moves: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OccupationPlan {
    pub occupation: String,
    pub regions: Vec<RegionBalance>,
    pub movers: f64,
    pub surplus_left: f64,
    pub gap_left: f64,
    pub routes: Vec<RouteView>,
    pub cost: Option<PackageCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecaySource {
    pub decay: f64,
    /// `gravity fit` or `given`.
    pub from: String,
    pub formula: Option<String>,
    pub data: Option<String>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoordinationReport {
    pub month: String,
    pub level: usize,
    pub flows_year: String,
    pub decay: DecaySource,
    /// Arrivals were scaled by this to add up to departures (they differ in the published data).
    pub arrivals_scaled_by: f64,
    pub occupations: Vec<OccupationPlan>,
    pub movers: f64,
    pub cost: Option<PackageCost>,
    pub package: Option<Package>,
    pub notes: Vec<String>,
}

/// A package's amounts are sums of money per person moved, and its source says where they come
/// from: a cost computed from anything else would be a wrong figure.
fn check_package(p: &Package) -> Result<()> {
    for (field, value) in [
        ("transport", p.transport),
        ("housing_per_month", p.housing_per_month),
        ("housing_months", p.housing_months),
        ("microcredit", p.microcredit),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(AppError::invalid(field, format!("{value} is not an amount ≥ 0")));
        }
    }
    if p.source.trim().is_empty() {
        return Err(AppError::invalid("package_source", "say where the package's amounts come from"));
    }
    if p.currency.len() != 3 || !p.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(AppError::invalid("currency", format!("`{}` is not an ISO 4217 code such as KZT", p.currency)));
    }
    Ok(())
}

fn region_points() -> Result<Vec<(String, LatLon)>> {
    let mut out = Vec::new();
    for (n, line) in REGION_CENTRES.lines().enumerate().skip(1) {
        let parts: Vec<&str> = line.split(',').collect();
        let bad = || AppError::Unanswerable(format!("region_centres.csv line {}: not code,name,lat,lon", n + 1));
        let [code, _, lat, lon] = parts[..] else { return Err(bad()) };
        let (lat, lon) = (lat.parse().map_err(|_| bad())?, lon.parse().map_err(|_| bad())?);
        out.push((code.to_string(), LatLon { lat, lon }));
    }
    Ok(out)
}

impl App {
    /// The distance decay of internal moves: the distance elasticity of the bank's gravity fit
    /// of bilateral migrant stocks (PPML with origin-year and destination-year effects), with its
    /// 95% interval.
    pub fn distance_decay(&self) -> Result<DecaySource> {
        let fit = self.gravity_fit(&FitRequest::new(GravityModel::new(
            GRAVITY_FORMULA,
            GravityData::named(GRAVITY_DATA, None),
        )))?;
        let term =
            fit.coefficients.iter().find(|c| c.term == DISTANCE_TERM).ok_or_else(|| {
                AppError::Unanswerable(format!("the gravity fit has no `{DISTANCE_TERM}` coefficient"))
            })?;
        Ok(DecaySource {
            decay: -term.estimate,
            from: "gravity fit".into(),
            formula: Some(GRAVITY_FORMULA.into()),
            data: Some(GRAVITY_DATA.into()),
            ci_low: Some(-term.ci_high),
            ci_high: Some(-term.ci_low),
        })
    }

    /// The coordination of internal migration with regional labour demand for a month.
    pub fn coordination(&self, request: &CoordinationRequest) -> Result<CoordinationReport> {
        let level = request.level.unwrap_or(1);
        if !(1..=2).contains(&level) {
            return Err(AppError::invalid("level", "1 or 2 (ISCO-08 major or sub-major groups)"));
        }
        if let Some(package) = &request.package {
            check_package(package)?;
        }
        let points = region_points()?;
        let codes: Vec<String> = points.iter().map(|(c, _)| c.clone()).collect();
        for code in &codes {
            Region::from_code(code).map_err(|e| AppError::Unanswerable(format!("region_centres.csv: {e}")))?;
        }
        let distances: Vec<Vec<f64>> =
            points.iter().map(|(_, a)| points.iter().map(|(_, b)| great_circle_km(*a, *b)).collect()).collect();

        // Internal migration of the flows' year: every region's arrivals and departures.
        let arrivals = self.harmonised_of("MIG_INT", &["MEASURE=ARR".to_string()], &None)?;
        let departures = self.harmonised_of("MIG_INT", &["MEASURE=DEP".to_string()], &None)?;
        let value = |figures: &[crate::bank::HarmonisedFigure], region: &str, year: &str| {
            figures.iter().find(|h| h.key[0] == region && h.time_period == year).and_then(|h| h.value)
        };
        let complete = |year: &str| {
            codes.iter().all(|c| value(&arrivals, c, year).is_some() && value(&departures, c, year).is_some())
        };
        let flows_year = match &request.flows_year {
            Some(y) => {
                if !complete(y) {
                    let missing: Vec<&String> = codes
                        .iter()
                        .filter(|c| value(&arrivals, c, y).is_none() || value(&departures, c, y).is_none())
                        .collect();
                    return Err(AppError::invalid(
                        "flows_year",
                        format!("the bank has no arrivals or departures of {y} for {missing:?}"),
                    ));
                }
                y.clone()
            }
            None => {
                let mut years: Vec<&String> =
                    arrivals.iter().map(|h| &h.time_period).filter(|p| p.len() == 4).collect();
                years.sort();
                years.dedup();
                years.into_iter().rev().find(|y| complete(y)).cloned().ok_or_else(|| {
                    AppError::Unanswerable(
                        "no year of the bank has every region's internal arrivals and departures".into(),
                    )
                })?
            }
        };
        let out: Vec<f64> = codes.iter().map(|c| value(&departures, c, &flows_year).unwrap_or(0.0)).collect();
        let inn: Vec<f64> = codes.iter().map(|c| value(&arrivals, c, &flows_year).unwrap_or(0.0)).collect();

        let decay = match request.decay {
            Some(d) => {
                DecaySource { decay: d, from: "given".into(), formula: None, data: None, ci_low: None, ci_high: None }
            }
            None => self.distance_decay()?,
        };
        let routes = spatial_interaction(&out, &inn, &distances, decay.decay)
            .map_err(|e| AppError::invalid("decay", e.to_string()))?;

        // Vacancies and seekers of the month by region and occupation group.
        let demand = self.registry()?.labour_demand(
            &Actor::public(),
            &DemandRequest {
                level: Some(level),
                from: Some(request.month.clone()),
                to: Some(request.month.clone()),
                ..DemandRequest::default()
            },
        )?;
        let mut occupations: Vec<String> =
            demand.cells.iter().map(|c| c.occupation.clone()).filter(|o| o != TOTAL).collect();
        occupations.sort();
        occupations.dedup();
        let mut plans = Vec::new();
        let mut unknown_seekers = 0usize;
        for occupation in occupations {
            let mut balances = Vec::new();
            let (mut surplus, mut gap) = (vec![0.0; codes.len()], vec![0.0; codes.len()]);
            for (i, code) in codes.iter().enumerate() {
                let Some(cell) = demand.cells.iter().find(|c| &c.region == code && c.occupation == occupation) else {
                    continue;
                };
                let Some(seekers) = cell.seekers else {
                    if cell.stock > 0 {
                        unknown_seekers += 1;
                    }
                    continue;
                };
                let (s, g) = (seekers.saturating_sub(cell.stock), cell.stock.saturating_sub(seekers));
                surplus[i] = s as f64;
                gap[i] = g as f64;
                balances.push(RegionBalance {
                    region: code.clone(),
                    seekers,
                    vacancies: cell.stock,
                    surplus: s,
                    gap: g,
                });
            }
            let plan: Relocation =
                relocation(&surplus, &gap, &routes, 0.5).map_err(|e| AppError::Unanswerable(e.to_string()))?;
            if balances.is_empty() {
                continue;
            }
            plans.push(OccupationPlan {
                occupation,
                regions: balances,
                movers: plan.movers,
                surplus_left: plan.surplus_left,
                gap_left: plan.gap_left,
                cost: request.package.as_ref().map(|p| p.cost(plan.movers)),
                routes: plan
                    .moves
                    .iter()
                    .map(|m| RouteView {
                        from: codes[m.from].clone(),
                        to: codes[m.to].clone(),
                        persons: m.persons,
                        modelled_moves: routes.moves[m.from][m.to],
                    })
                    .collect(),
            });
        }
        let movers: f64 = plans.iter().map(|p| p.movers).sum();
        let mut notes = vec![
            format!(
                "Routes: a doubly-constrained gravity model of internal migration in {flows_year} (each region's \
                 departures and arrivals met exactly), distances between regional centres, distance decay {:.3}.",
                decay.decay
            ),
            "Kazakhstan publishes internal arrivals and departures by region but no region-to-region matrix, so the \
             decay is not fitted on internal moves: it is the distance elasticity of the bank's gravity fit of \
             bilateral migrant stocks unless given."
                .to_string(),
        ];
        if (routes.arrivals_scaled_by - 1.0).abs() > 1e-12 {
            notes.push(format!(
                "Arrivals and departures differ in the published data; arrivals were scaled by {:.6} to match.",
                routes.arrivals_scaled_by
            ));
        }
        if unknown_seekers > 0 {
            notes.push(format!(
                "{unknown_seekers} region × occupation cells have vacancies but no registered seekers reported; they \
                 are left out."
            ));
        }
        Ok(CoordinationReport {
            month: request.month.clone(),
            level,
            flows_year,
            decay,
            arrivals_scaled_by: routes.arrivals_scaled_by,
            cost: request.package.as_ref().map(|p| p.cost(movers)),
            package: request.package.clone(),
            occupations: plans,
            movers,
            notes,
        })
    }
}
