//! Every region's figure of one measure of internal migration, by year and by month: what the
//! map of Kazakhstan's regions shows. Arrivals, departures and net migration are the harmonised
//! figures as published; the rates per 1,000 are the indicators computed from them and the
//! regions' mean populations, with their inputs.

use std::collections::BTreeSet;
use std::sync::Arc;

use koshi_core::Labels;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Result};
use crate::indicators::{IndicatorRequest, Input};
use crate::profile::{Sourced, is_year};

/// The measures a map can show: published figures first, then computed rates.
pub const MAP_MEASURES: &[&str] = &["ARR", "DEP", "NET", "NET_RATE", "GROSS_RATE"];

/// Every region's figures of one measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionsMapRequest {
    /// One of [`MAP_MEASURES`].
    pub measure: String,
    pub as_of: Option<String>,
}

/// One region's figure for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionFigure {
    /// The region's ISO 3166-2 code.
    pub region: String,
    #[serde(flatten)]
    pub figure: Sourced,
    /// For a computed rate, the figures it was computed from (empty for a published figure).
    pub inputs: Vec<Input>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionsMap {
    pub measure: String,
    pub name: Labels,
    pub unit: String,
    /// How a computed measure is computed (absent for a published one).
    pub formula: Option<String>,
    pub as_of: Option<String>,
    /// The years and the months with at least one region's figure, in order.
    pub years: Vec<String>,
    pub months: Vec<String>,
    /// By period, then region.
    pub figures: Vec<RegionFigure>,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
}

impl App {
    /// Every region's figure of `measure` by year and month. Kept until the bank changes.
    pub fn regions_map(&self, request: &RegionsMapRequest) -> Result<Arc<RegionsMap>> {
        let measure = request.measure.trim().to_ascii_uppercase();
        if !MAP_MEASURES.contains(&measure.as_str()) {
            return Err(AppError::invalid(
                "measure",
                format!("`{}` is not a map measure; one of {}", request.measure, MAP_MEASURES.join(", ")),
            ));
        }
        let request = RegionsMapRequest { measure, as_of: request.as_of.clone() };
        self.kept(&self.regions_maps, &request, |app| app.compute_regions_map(&request))
    }

    fn compute_regions_map(&self, request: &RegionsMapRequest) -> Result<RegionsMap> {
        let is_region = |code: &str| code.starts_with("KZ-");
        let (name, unit, formula, mut figures, notes) = if let Some(published) =
            ["ARR", "DEP", "NET"].into_iter().find(|m| *m == request.measure)
        {
            let catalogue = self.catalogue()?;
            let name = catalogue
                .codelist("MEASURE:MIG_INT")
                .and_then(|l| l.get(published))
                .map(|c| c.labels.clone())
                .ok_or_else(|| AppError::Unanswerable(format!("the MIG_INT measure {published} has no name")))?;
            let harmonised = self.harmonised_of("MIG_INT", &[format!("MEASURE={published}")], &request.as_of)?;
            let figures: Vec<RegionFigure> = harmonised
                .iter()
                .filter(|h| is_region(&h.key[0]))
                .filter_map(|h| {
                    Some(RegionFigure { region: h.key[0].clone(), figure: Sourced::harmonised(h)?, inputs: Vec::new() })
                })
                .collect();
            let unit = figures.first().map(|f| f.figure.unit.clone()).unwrap_or_else(|| "PERS".into());
            (name, unit, None, figures, Vec::new())
        } else {
            let report = self.indicator(&IndicatorRequest {
                indicator: request.measure.clone(),
                dataflow: "MIG_INT".into(),
                as_of: request.as_of.clone(),
                ..IndicatorRequest::default()
            })?;
            let figures = report
                .items
                .into_iter()
                .filter(|v| is_region(&v.key))
                .map(|v| {
                    let distinct = |field: fn(&Input) -> &String| -> String {
                        let set: BTreeSet<&String> = v.inputs.iter().map(field).collect();
                        set.into_iter().cloned().collect::<Vec<_>>().join("; ")
                    };
                    let figure = Sourced {
                        dataflow: report.dataflow.clone(),
                        key: v.key.clone(),
                        period: v.period.clone(),
                        value: v.value,
                        unit: report.unit.clone(),
                        source: distinct(|i| &i.source),
                        definition: report.formula.clone(),
                        release: distinct(|i| &i.release),
                        release_date: v.inputs.iter().map(|i| i.release_date.clone()).max().unwrap_or_default(),
                        citation: None,
                        reason: None,
                    };
                    RegionFigure { region: v.key.clone(), figure, inputs: v.inputs }
                })
                .collect();
            (report.name, report.unit, Some(report.formula), figures, report.notes)
        };
        figures.sort_by(|a, b| a.figure.period.cmp(&b.figure.period).then_with(|| a.region.cmp(&b.region)));
        let periods: BTreeSet<&str> = figures.iter().map(|f| f.figure.period.as_str()).collect();
        let (years, months): (Vec<String>, Vec<String>) =
            periods.into_iter().map(str::to_string).partition(|p| is_year(p));
        Ok(RegionsMap {
            measure: request.measure.clone(),
            name,
            unit,
            formula,
            as_of: request.as_of.clone(),
            years,
            months,
            figures,
            notes,
        })
    }
}
