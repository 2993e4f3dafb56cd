//! Profiles: everything the bank knows about one country or one region of Kazakhstan, on one
//! page, each figure with the source, definition and release it came from. The observatory's
//! profile pages and the printable reports (`koshi report`) are drawn from these reports alone.

use std::collections::BTreeMap;
use std::sync::Arc;

use koshi_core::{Catalogue, Labels};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::bank::{Figures, HarmonisedFigure, Observation, QueryRequest};
use crate::error::{AppError, Result};
use crate::forecast::{BUNDLED_SCENARIOS, ForecastReport, ForecastRequest, ScenarioSource};
use crate::indicators::{IndicatorRequest, IndicatorValue};

/// One figure and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sourced {
    pub dataflow: String,
    /// The series key (dotted, in the dataflow's order).
    pub key: String,
    pub period: String,
    /// In the unit itself (persons, not thousands).
    pub value: f64,
    pub unit: String,
    pub source: String,
    pub definition: String,
    pub release: String,
    pub release_date: String,
    pub citation: Option<String>,
    /// Why this figure was chosen among the sources' (harmonised figures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Sourced {
    pub(crate) fn observed(o: &Observation) -> Option<Sourced> {
        Some(Sourced {
            dataflow: o.dataflow.clone(),
            key: o.key.join("."),
            period: o.time_period.clone(),
            value: o.value_base?,
            unit: o.unit.clone(),
            source: o.source.clone(),
            definition: o.definition.clone(),
            release: o.release_label.clone(),
            release_date: o.release_date.clone(),
            citation: o.citation.clone(),
            reason: None,
        })
    }

    pub(crate) fn harmonised(h: &HarmonisedFigure) -> Option<Sourced> {
        Some(Sourced {
            dataflow: h.dataflow.clone(),
            key: h.key.join("."),
            period: h.time_period.clone(),
            value: h.value_base?,
            unit: h.unit.clone(),
            source: h.source.clone(),
            definition: h.definition.clone(),
            release: h.release_label.clone(),
            release_date: h.release_date.clone(),
            citation: h.citation.clone(),
            reason: Some(h.reason.clone()),
        })
    }
}

/// One source's figures for one series, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceLine {
    pub source: String,
    pub source_name: Labels,
    pub figures: Vec<Sourced>,
}

/// A sum over many series of one source and release (the emigrants of a country, counted by
/// each country of destination).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Total {
    pub period: String,
    pub value: f64,
    /// How many series were added up.
    pub parts: usize,
    pub source: String,
    pub release: String,
    pub release_date: String,
}

/// A partner country in a country's corridors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub partner: String,
    pub name: Labels,
    pub value: f64,
    /// Of the country's total for the year, in per cent.
    pub share_pct: f64,
    pub figure: Sourced,
}

fn default_horizon() -> usize {
    10
}

fn default_top() -> usize {
    10
}

/// A country's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryProfileRequest {
    /// ISO 3166-1 alpha-3.
    pub country: String,
    /// What was known on this date (`YYYY-MM-DD`).
    pub as_of: Option<String>,
    /// Years forecast after the last observed one.
    #[serde(default = "default_horizon")]
    pub horizon: usize,
    /// How many origins and destinations.
    #[serde(default = "default_top")]
    pub top: usize,
}

impl CountryProfileRequest {
    pub fn new(country: &str) -> Self {
        CountryProfileRequest {
            country: country.to_string(),
            as_of: None,
            horizon: default_horizon(),
            top: default_top(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryProfile {
    pub country: String,
    pub name: Labels,
    pub as_of: Option<String>,
    /// International migrants living in the country, by source.
    pub immigrant_stock: Vec<SourceLine>,
    /// The same as a share of the population, in per cent, by source.
    pub immigrant_share: Vec<SourceLine>,
    /// Emigrants: the country's natives counted by every country of destination in the bank.
    pub emigrant_stock: Vec<Total>,
    /// Net migration by source: the national statistics' or the papers' beside the UN's.
    pub net_migration: Vec<SourceLine>,
    /// The year of the corridors below.
    pub corridor_year: Option<String>,
    /// Where the country's immigrants were born, largest first.
    pub top_origins: Vec<Partner>,
    /// Where the country's emigrants live, largest first.
    pub top_destinations: Vec<Partner>,
    /// Net migration forecast with calibrated intervals, the UN's projection and the bundled
    /// scenarios that apply; absent when the bank has no annual net migration for the country.
    pub forecast: Option<ForecastReport>,
    /// What could not be shown, and why.
    pub notes: Vec<String>,
}

/// Code lists and source names the profiles label their figures with.
struct Names<'a> {
    catalogue: &'a Catalogue,
}

/// An area's names (the code itself in every language when the AREA code list lacks it).
pub(crate) fn area_labels(catalogue: &Catalogue, code: &str) -> Labels {
    catalogue.codelist("AREA").and_then(|l| l.get(code)).map(|c| c.labels.clone()).unwrap_or_else(|| Labels {
        en: code.into(),
        ru: code.into(),
        kk: code.into(),
    })
}

impl Names<'_> {
    fn area(&self, code: &str) -> Labels {
        area_labels(self.catalogue, code)
    }

    fn source(&self, id: &str) -> Labels {
        self.catalogue.source(id).map(|s| s.name.clone()).unwrap_or_else(|| Labels {
            en: id.into(),
            ru: id.into(),
            kk: id.into(),
        })
    }

    /// Group observations into one line per source, each ordered by period.
    fn lines(&self, observations: &[Observation]) -> Vec<SourceLine> {
        let mut by_source: BTreeMap<&str, Vec<Sourced>> = BTreeMap::new();
        for o in observations {
            if let Some(s) = Sourced::observed(o) {
                by_source.entry(&o.source).or_default().push(s);
            }
        }
        by_source
            .into_iter()
            .map(|(source, mut figures)| {
                figures.sort_by(|a, b| a.period.cmp(&b.period).then(b.release_date.cmp(&a.release_date)));
                // Several definitions or releases of one source for a period: keep the latest release.
                figures.dedup_by(|later, earlier| later.period == earlier.period);
                SourceLine { source: source.to_string(), source_name: self.source(source), figures }
            })
            .collect()
    }
}

fn observations(report: crate::bank::QueryReport) -> Vec<Observation> {
    match report.items {
        Figures::Observations(o) => o,
        Figures::Harmonised(_) => Vec::new(),
    }
}

/// Whether a period is a single year (`2019`, not `2019-05` or `2017/2018`).
pub(crate) fn is_year(period: &str) -> bool {
    period.len() == 4 && period.bytes().all(|b| b.is_ascii_digit())
}

impl App {
    pub(crate) fn observations_of(
        &self,
        dataflow: &str,
        key: &str,
        as_of: &Option<String>,
    ) -> Result<Vec<Observation>> {
        let request = QueryRequest {
            dataflow: dataflow.into(),
            keys: vec![key.into()],
            as_of: as_of.clone(),
            ..QueryRequest::default()
        };
        Ok(observations(self.query(&request)?))
    }

    /// The harmonised figures (one per key and period, with the reason) a query selects.
    pub(crate) fn harmonised_of(
        &self,
        dataflow: &str,
        keys: &[String],
        as_of: &Option<String>,
    ) -> Result<Vec<HarmonisedFigure>> {
        let request = QueryRequest {
            dataflow: dataflow.into(),
            keys: keys.to_vec(),
            as_of: as_of.clone(),
            harmonised: true,
            ..QueryRequest::default()
        };
        match self.query(&request)?.items {
            Figures::Harmonised(h) => Ok(h),
            Figures::Observations(_) => {
                Err(AppError::Unanswerable("the harmonised query answered with observations".into()))
            }
        }
    }

    /// A country's profile: stocks in and out, net migration beside the UN's, its largest
    /// corridors and the forecast of its net migration. Kept until the bank changes.
    pub fn country_profile(&self, request: &CountryProfileRequest) -> Result<Arc<CountryProfile>> {
        Ok(self.kept_lasting(&self.country_profiles, request, |app| app.compute_country_profile(request))?.1)
    }

    /// A region's profile: internal arrivals, departures and net migration by year and month,
    /// rates on the mean population, population, and its place among the regions; figures of
    /// the regions it was formed from are included, under their own codes. Kept until the
    /// bank changes.
    pub fn region_profile(&self, request: &RegionProfileRequest) -> Result<Arc<RegionProfile>> {
        self.kept(&self.region_profiles, request, |app| app.compute_region_profile(request))
    }

    fn compute_country_profile(&self, request: &CountryProfileRequest) -> Result<CountryProfile> {
        let catalogue = self.catalogue()?;
        let country = request.country.trim().to_ascii_uppercase();
        if !catalogue.country_codes().contains(&country) {
            return Err(AppError::invalid(
                "country",
                format!("`{}` is not a country of the AREA code list (ISO 3166-1 alpha-3, e.g. KAZ)", request.country),
            ));
        }
        if request.top == 0 || request.top > 50 {
            return Err(AppError::invalid("top", "between 1 and 50 partners"));
        }
        let names = Names { catalogue: &catalogue };
        let as_of = &request.as_of;
        let mut notes = Vec::new();

        let stock_in = self.observations_of("MIG_STOCK", &format!("{country}.WLD._T.STOCK"), as_of)?;
        let share_in = self.observations_of("MIG_STOCK", &format!("{country}.WLD._T.SHARE_POP"), as_of)?;
        let net = self.observations_of("MIG_EXT", &format!("{country}.WLD._T._T.NET"), as_of)?;

        // Corridors: the bilateral stocks of the most recent year with a source's full matrix.
        let origins = self.observations_of("MIG_STOCK", &format!("{country}.._T.STOCK"), as_of)?;
        let destinations = self.observations_of("MIG_STOCK", &format!(".{country}._T.STOCK"), as_of)?;
        let countries: std::collections::BTreeSet<String> = catalogue.country_codes().into_iter().collect();
        let bilateral = |rows: &[Observation], partner_at: usize| -> Vec<Observation> {
            rows.iter()
                .filter(|o| countries.contains(&o.key[partner_at]) && o.key[0] != o.key[1] && o.value_base.is_some())
                .cloned()
                .collect()
        };
        let from_origins = bilateral(&origins, 1);
        let to_destinations = bilateral(&destinations, 0);
        let corridor_year =
            from_origins.iter().chain(&to_destinations).map(|o| o.time_period.clone()).filter(|p| is_year(p)).max();
        let emigrant_stock = totals(&to_destinations);
        let top = |rows: &[Observation], partner_at: usize| -> Vec<Partner> {
            let Some(year) = &corridor_year else { return Vec::new() };
            let mut latest: BTreeMap<&str, &Observation> = BTreeMap::new();
            for o in rows.iter().filter(|o| &o.time_period == year) {
                let slot = latest.entry(o.key[partner_at].as_str()).or_insert(o);
                if o.release_date > slot.release_date {
                    *slot = o;
                }
            }
            let total: f64 = latest.values().filter_map(|o| o.value_base).sum();
            let mut partners: Vec<Partner> = latest
                .into_iter()
                .filter_map(|(partner, o)| {
                    let value = o.value_base?;
                    Some(Partner {
                        partner: partner.to_string(),
                        name: names.area(partner),
                        value,
                        share_pct: if total > 0.0 { 100.0 * value / total } else { 0.0 },
                        figure: Sourced::observed(o)?,
                    })
                })
                .collect();
            partners.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.partner.cmp(&b.partner)));
            partners.truncate(request.top);
            partners
        };
        let top_origins = top(&from_origins, 1);
        let top_destinations = top(&to_destinations, 0);
        if corridor_year.is_none() {
            notes.push(format!("no bilateral migrant stocks for {country} in the bank"));
        }

        let annual_net = net.iter().filter(|o| is_year(&o.time_period) && o.value_base.is_some()).count();
        let forecast = if annual_net >= 3 {
            let forecast_request = ForecastRequest {
                dataflow: "MIG_EXT".into(),
                keys: vec![format!("{country}.WLD._T._T.NET")],
                horizon: request.horizon,
                as_of: as_of.clone(),
                compare_un: true,
                scenarios: BUNDLED_SCENARIOS
                    .iter()
                    .map(|(name, _)| ScenarioSource::Bundled(name.to_string()))
                    .collect(),
                show_history: 30,
                ..ForecastRequest::default()
            };
            Some(self.forecast(&forecast_request)?)
        } else {
            notes.push(format!("fewer than three years of net migration for {country}: no forecast"));
            None
        };

        Ok(CountryProfile {
            name: names.area(&country),
            country,
            as_of: as_of.clone(),
            immigrant_stock: names.lines(&stock_in),
            immigrant_share: names.lines(&share_in),
            emigrant_stock,
            net_migration: names.lines(&net),
            corridor_year,
            top_origins,
            top_destinations,
            forecast,
            notes,
        })
    }
}

/// Sums of one source's release per year, over the partners it counts.
fn totals(rows: &[Observation]) -> Vec<Total> {
    let mut sums: BTreeMap<(String, String, String, String), (f64, usize)> = BTreeMap::new();
    for o in rows.iter().filter(|o| is_year(&o.time_period)) {
        let Some(v) = o.value_base else { continue };
        let slot = sums
            .entry((o.time_period.clone(), o.source.clone(), o.release_label.clone(), o.release_date.clone()))
            .or_insert((0.0, 0));
        slot.0 += v;
        slot.1 += 1;
    }
    sums.into_iter()
        .map(|((period, source, release, release_date), (value, parts))| Total {
            period,
            value,
            parts,
            source,
            release,
            release_date,
        })
        .collect()
}

/// A region's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionProfileRequest {
    /// ISO 3166-2 code of a region or city of republican significance (KZ-75), current or former.
    pub region: String,
    pub as_of: Option<String>,
}

/// A region that ceased to exist and whose territory passed to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Territory {
    pub code: String,
    pub name: Labels,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

/// One measure of internal migration, the harmonised figure of each period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureLine {
    pub measure: String,
    pub name: Labels,
    pub annual: Vec<Sourced>,
    pub monthly: Vec<Sourced>,
}

/// Where the region stands among the regions of the same layout in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rank {
    pub period: String,
    pub measure: String,
    /// 1 = the highest figure.
    pub rank: usize,
    pub of: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionProfile {
    pub region: String,
    pub name: Labels,
    /// kz_region or kz_city.
    pub kind: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    /// The regions it was formed from (with their own figures below, marked by their key).
    pub predecessors: Vec<Territory>,
    /// The regions it was divided into, when it no longer exists.
    pub successors: Vec<Territory>,
    pub as_of: Option<String>,
    /// Arrivals, departures and net migration (internal, between regions), yearly and monthly.
    pub migration: Vec<MeasureLine>,
    /// Net and gross rates per 1,000 of the mean population, with their inputs.
    pub net_rate: Vec<IndicatorValue>,
    pub gross_rate: Vec<IndicatorValue>,
    /// Population on 1 January, both sexes, all ages.
    pub population: Vec<Sourced>,
    /// The region's place by net migration among the regions with figures that year.
    pub net_rank: Vec<Rank>,
    pub notes: Vec<String>,
}

impl App {
    fn compute_region_profile(&self, request: &RegionProfileRequest) -> Result<RegionProfile> {
        let catalogue = self.catalogue()?;
        let region = request.region.trim().to_ascii_uppercase();
        let code = catalogue
            .codelist("AREA")
            .and_then(|l| l.get(&region))
            .filter(|c| matches!(c.properties.get("kind").map(String::as_str), Some("kz_region" | "kz_city")))
            .ok_or_else(|| {
                AppError::invalid(
                    "region",
                    format!("`{}` is not a region of Kazakhstan in the AREA code list (e.g. KZ-75)", request.region),
                )
            })?
            .clone();
        let territory = |c: &koshi_core::codelist::Code| Territory {
            code: c.id.clone(),
            name: c.labels.clone(),
            valid_from: c.valid_from.map(|d| d.to_string()),
            valid_to: c.valid_to.map(|d| d.to_string()),
        };
        let predecessors: Vec<Territory> = catalogue.predecessors(&region).into_iter().map(territory).collect();
        let successors: Vec<Territory> = code
            .successors
            .iter()
            .filter_map(|s| catalogue.codelist("AREA").and_then(|l| l.get(s)))
            .map(territory)
            .collect();
        let as_of = &request.as_of;
        let mut notes = Vec::new();

        let mut areas = vec![region.clone()];
        areas.extend(predecessors.iter().map(|p| p.code.clone()));
        let area_key = areas.join("+");
        let harmonised_of = |dataflow: &str, key: String| self.harmonised_of(dataflow, &[key], as_of);
        let internal = harmonised_of("MIG_INT", format!("REF_AREA={area_key}"))?;
        let measures = catalogue.codelist("MEASURE:MIG_INT");
        let mut migration = Vec::new();
        for measure in ["ARR", "DEP", "NET"] {
            let mut annual = Vec::new();
            let mut monthly = Vec::new();
            for h in internal.iter().filter(|h| h.key[1] == measure) {
                let Some(s) = Sourced::harmonised(h) else { continue };
                if is_year(&h.time_period) {
                    annual.push(s);
                } else {
                    monthly.push(s);
                }
            }
            annual.sort_by(|a, b| a.period.cmp(&b.period).then(a.key.cmp(&b.key)));
            monthly.sort_by(|a, b| a.period.cmp(&b.period).then(a.key.cmp(&b.key)));
            let name = measures.and_then(|l| l.get(measure)).map(|c| c.labels.clone()).unwrap_or_else(|| Labels {
                en: measure.into(),
                ru: measure.into(),
                kk: measure.into(),
            });
            migration.push(MeasureLine { measure: measure.into(), name, annual, monthly });
        }
        if migration.iter().all(|m| m.annual.is_empty() && m.monthly.is_empty()) {
            notes.push(format!("no internal migration figures for {region} in the bank"));
        }

        let mut rate = |indicator: &str| -> Result<Vec<IndicatorValue>> {
            let report = self.indicator(&IndicatorRequest {
                indicator: indicator.into(),
                dataflow: "MIG_INT".into(),
                keys: vec![format!("REF_AREA={area_key}")],
                as_of: as_of.clone(),
                ..IndicatorRequest::default()
            })?;
            for note in report.notes.iter().take(3) {
                if !notes.contains(note) {
                    notes.push(note.clone());
                }
            }
            Ok(report.items.into_iter().filter(|v| is_year(&v.period)).collect())
        };
        let net_rate = rate("NET_RATE")?;
        let gross_rate = rate("GROSS_RATE")?;

        let population: Vec<Sourced> = harmonised_of("POP", format!("REF_AREA={area_key},SEX=_T,AGE=_T"))?
            .iter()
            .filter_map(Sourced::harmonised)
            .collect();

        // The place among the regions: every region's net figure of each year the region has one.
        let everyone = harmonised_of("MIG_INT", "MEASURE=NET".to_string())?;
        let mut net_rank = Vec::new();
        for own in migration.iter().filter(|m| m.measure == "NET").flat_map(|m| &m.annual) {
            let peers: Vec<f64> = everyone
                .iter()
                .filter(|h| h.time_period == own.period && h.key[0].starts_with("KZ-"))
                .filter_map(|h| h.value_base)
                .collect();
            let rank = 1 + peers.iter().filter(|v| **v > own.value).count();
            net_rank.push(Rank { period: own.period.clone(), measure: "NET".into(), rank, of: peers.len() });
        }
        Ok(RegionProfile {
            region,
            name: code.labels.clone(),
            kind: code.properties.get("kind").cloned().unwrap_or_default(),
            valid_from: code.valid_from.map(|d| d.to_string()),
            valid_to: code.valid_to.map(|d| d.to_string()),
            predecessors,
            successors,
            as_of: as_of.clone(),
            migration,
            net_rate,
            gross_rate,
            population,
            net_rank,
            notes,
        })
    }
}
