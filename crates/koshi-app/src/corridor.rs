//! Corridors: two countries' migration ties on one page — the migrants of each living in the
//! other, over the years, every bilateral figure the bank holds (trade, labour migration,
//! diasporas, geography), and a risk view from the three viewpoints papers 000 and 001 name (the
//! migrants, the country of departure, the country of arrival) with the indicators the bank can
//! compute and a named place for those it cannot yet. And a set of countries' bilateral stocks as
//! an origin–destination table for flow maps and Sankey diagrams.

use std::collections::{BTreeMap, BTreeSet};

use koshi_core::Labels;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::bank::Observation;
use crate::error::{AppError, Result};
use crate::indicators::labels;
use crate::profile::{Sourced, area_labels, is_year};

/// Two countries' corridor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorridorRequest {
    pub a: String,
    pub b: String,
    pub as_of: Option<String>,
}

/// The bilateral figures of one measure of one dataflow, in one direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BilateralLine {
    pub dataflow: String,
    pub measure: String,
    pub name: Labels,
    /// Reporting area and partner of the figures.
    pub reporter: String,
    pub partner: String,
    pub figures: Vec<Sourced>,
}

/// An indicator of a viewpoint: its value with the figures it came from, or why it is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskIndicator {
    pub id: &'static str,
    pub name: Labels,
    pub unit: &'static str,
    pub period: Option<String>,
    pub value: Option<f64>,
    pub inputs: Vec<Sourced>,
    /// What source would supply it, when the bank cannot compute it.
    pub missing: Option<&'static str>,
}

/// One viewpoint on one direction of the corridor (migrants from `origin` to `destination`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Viewpoint {
    /// migrants, departure or arrival.
    pub viewpoint: &'static str,
    pub name: Labels,
    pub origin: String,
    pub destination: String,
    pub indicators: Vec<RiskIndicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorridorReport {
    pub a: String,
    pub a_name: Labels,
    pub b: String,
    pub b_name: Labels,
    pub as_of: Option<String>,
    /// Natives of `a` living in `b`, and of `b` living in `a`, by source.
    pub a_in_b: Vec<Sourced>,
    pub b_in_a: Vec<Sourced>,
    /// Every other figure the bank holds between the two (trade, labour migration, diasporas, geography).
    pub bilateral: Vec<BilateralLine>,
    /// The risk view: three viewpoints on each direction.
    pub risk: Vec<Viewpoint>,
    pub notes: Vec<String>,
}

/// One figure per year: the latest release's.
fn by_year(rows: &[Observation]) -> Vec<Sourced> {
    let mut latest: BTreeMap<&str, &Observation> = BTreeMap::new();
    for o in rows.iter().filter(|o| is_year(&o.time_period) && o.value_base.is_some()) {
        let slot = latest.entry(&o.time_period).or_insert(o);
        if (o.release_date.as_str(), o.source == "UN_DESA") > (slot.release_date.as_str(), slot.source == "UN_DESA") {
            *slot = o;
        }
    }
    latest.values().filter_map(|o| Sourced::observed(o)).collect()
}

fn at<'a>(line: &'a [Sourced], year: &str) -> Option<&'a Sourced> {
    line.iter().find(|s| s.period == year)
}

fn ratio(id: &'static str, name: Labels, year: &str, part: Option<&Sourced>, whole: Option<&Sourced>) -> RiskIndicator {
    let value = match (part, whole) {
        (Some(p), Some(w)) if w.value != 0.0 => Some(100.0 * p.value / w.value),
        _ => None,
    };
    RiskIndicator {
        id,
        name,
        unit: "PCT",
        period: value.map(|_| year.to_string()),
        value,
        inputs: [part, whole].into_iter().flatten().cloned().collect(),
        missing: None,
    }
}

fn missing(id: &'static str, name: Labels, unit: &'static str, source: &'static str) -> RiskIndicator {
    RiskIndicator { id, name, unit, period: None, value: None, inputs: Vec::new(), missing: Some(source) }
}

impl App {
    /// Two countries' corridor: migrants each way, the bilateral figures, and the risk view.
    /// Kept until the bank changes.
    pub fn corridor(&self, request: &CorridorRequest) -> Result<std::sync::Arc<CorridorReport>> {
        self.kept(&self.corridors, request, |app| app.compute_corridor(request))
    }

    fn compute_corridor(&self, request: &CorridorRequest) -> Result<CorridorReport> {
        let catalogue = self.catalogue()?;
        let countries = catalogue.country_codes();
        let a = request.a.trim().to_ascii_uppercase();
        let b = request.b.trim().to_ascii_uppercase();
        for (field, code) in [("a", &a), ("b", &b)] {
            if !countries.contains(code) {
                return Err(AppError::invalid(
                    field,
                    format!("`{code}` is not a country of the AREA code list (ISO 3166-1 alpha-3)"),
                ));
            }
        }
        if a == b {
            return Err(AppError::invalid("b", "a corridor joins two different countries"));
        }
        let as_of = &request.as_of;
        let stock =
            |dest: &str, origin: &str| self.observations_of("MIG_STOCK", &format!("{dest}.{origin}._T.STOCK"), as_of);
        let a_in_b = by_year(&stock(&b, &a)?);
        let b_in_a = by_year(&stock(&a, &b)?);
        let mut notes = Vec::new();

        // Every bilateral figure of the small dataflows, both directions.
        let mut bilateral = Vec::new();
        for dataflow in ["TRADE", "LAB_MIG", "DIASPORA", "GEO_PAIR"] {
            let measures = catalogue.codelist(&format!("MEASURE:{dataflow}"));
            for (reporter, partner) in [(&a, &b), (&b, &a)] {
                let rows =
                    self.observations_of(dataflow, &format!("REF_AREA={reporter},COUNTERPART={partner}"), as_of)?;
                let mut by_measure: BTreeMap<String, Vec<Sourced>> = BTreeMap::new();
                for o in &rows {
                    if let (Some(measure), Some(s)) = (o.key.last(), Sourced::observed(o)) {
                        by_measure.entry(measure.clone()).or_default().push(s);
                    }
                }
                for (measure, mut figures) in by_measure {
                    figures.sort_by(|x, y| x.period.cmp(&y.period).then(x.source.cmp(&y.source)));
                    let name = measures
                        .and_then(|l| l.get(&measure))
                        .map(|c| c.labels.clone())
                        .unwrap_or_else(|| labels(&measure, &measure, &measure));
                    bilateral.push(BilateralLine {
                        dataflow: dataflow.into(),
                        measure,
                        name,
                        reporter: reporter.clone(),
                        partner: partner.clone(),
                        figures,
                    });
                }
            }
        }

        // The risk view, for each direction, at the latest year with bilateral stocks.
        let mut risk = Vec::new();
        for (origin, destination, line) in [(&a, &b, &a_in_b), (&b, &a, &b_in_a)] {
            let Some(latest) = line.last() else {
                notes.push(format!("no migrant stock of {origin} natives in {destination} in the bank"));
                continue;
            };
            let year = latest.period.clone();
            let previous = line.iter().rev().nth(1);
            let growth = previous.filter(|p| p.value != 0.0).map(|p| 100.0 * (latest.value - p.value) / p.value);
            // The destination's immigrants counted the same way (every origin, the same release).
            let immigrants: f64 = self
                .observations_of("MIG_STOCK", &format!("{destination}.._T.STOCK"), as_of)?
                .iter()
                .filter(|o| o.time_period == year && o.source == latest.source && o.release_label == latest.release)
                .filter(|o| countries.contains(&o.key[1]) && o.key[1] != *destination)
                .filter_map(|o| o.value_base)
                .sum();
            let immigrant_total = Sourced {
                key: format!("{destination}.*._T.STOCK"),
                value: immigrants,
                definition: format!("migrants in {destination} from every country of birth in the bank (sum)"),
                ..latest.clone()
            };
            let emigrants_of_origin: f64 = self
                .observations_of("MIG_STOCK", &format!(".{origin}._T.STOCK"), as_of)?
                .iter()
                .filter(|o| o.time_period == year && o.source == latest.source && o.release_label == latest.release)
                .filter(|o| countries.contains(&o.key[0]) && o.key[0] != *origin)
                .filter_map(|o| o.value_base)
                .sum();
            let population = |country: &str| -> Result<Vec<Sourced>> {
                Ok(by_year(&self.observations_of("POP", &format!("{country}._T._T"), as_of)?))
            };
            let (pop_origin, pop_destination) = (population(origin)?, population(destination)?);
            let emigrant_total = Sourced {
                dataflow: "MIG_STOCK".into(),
                key: format!("*.{origin}._T.STOCK"),
                period: year.clone(),
                value: emigrants_of_origin,
                unit: "PERS".into(),
                source: latest.source.clone(),
                definition: format!("natives of {origin} counted by every country of destination in the bank (sum)"),
                release: latest.release.clone(),
                release_date: latest.release_date.clone(),
                citation: None,
                reason: None,
            };
            risk.push(Viewpoint {
                viewpoint: "migrants",
                name: labels("The migrants", "Мигранты", "Мигранттар"),
                origin: origin.clone(),
                destination: destination.clone(),
                indicators: vec![
                    RiskIndicator {
                        id: "STOCK",
                        name: labels("Migrants in the corridor", "Мигранты в коридоре", "Дәліздегі мигранттар"),
                        unit: "PERS",
                        period: Some(year.clone()),
                        value: Some(latest.value),
                        inputs: vec![latest.clone()],
                        missing: None,
                    },
                    RiskIndicator {
                        id: "STOCK_GROWTH",
                        name: labels(
                            "Change since the previous count",
                            "Изменение с предыдущего учёта",
                            "Алдыңғы есептен бергі өзгеріс",
                        ),
                        unit: "PCT",
                        period: growth.map(|_| year.clone()),
                        value: growth,
                        inputs: previous.into_iter().chain([latest]).cloned().collect(),
                        missing: None,
                    },
                    missing(
                        "VULNERABLE_WORK",
                        labels(
                            "Migrants in informal or vulnerable work",
                            "Мигранты в неформальной или уязвимой занятости",
                            "Бейресми немесе осал жұмыстағы мигранттар",
                        ),
                        "PCT",
                        "labour force surveys with country of birth (ILO ILOSTAT)",
                    ),
                ],
            });
            risk.push(Viewpoint {
                viewpoint: "departure",
                name: labels("The country of departure", "Страна выбытия", "Кету елі"),
                origin: origin.clone(),
                destination: destination.clone(),
                indicators: vec![
                    ratio(
                        "EMIGRANTS_PCT_POP",
                        labels(
                            "Emigrants in the corridor, % of the origin's population",
                            "Эмигранты в коридоре, % населения страны выбытия",
                            "Дәліздегі эмигранттар, кету елі халқының %",
                        ),
                        &year,
                        Some(latest),
                        at(&pop_origin, &year),
                    ),
                    ratio(
                        "CORRIDOR_SHARE_OF_EMIGRANTS",
                        labels(
                            "Share of the origin's emigrants in this destination",
                            "Доля эмигрантов страны в этой стране назначения",
                            "Елдің эмигранттарының осы баратын елдегі үлесі",
                        ),
                        &year,
                        Some(latest),
                        Some(&emigrant_total),
                    ),
                    missing(
                        "REMITTANCES_PCT_GDP",
                        labels(
                            "Remittances from the destination, % of GDP",
                            "Денежные переводы из страны назначения, % ВВП",
                            "Баратын елден ақша аударымдары, ЖІӨ %",
                        ),
                        "PCT",
                        "bilateral remittance estimates (World Bank / KNOMAD)",
                    ),
                ],
            });
            risk.push(Viewpoint {
                viewpoint: "arrival",
                name: labels("The country of arrival", "Страна прибытия", "Келу елі"),
                origin: origin.clone(),
                destination: destination.clone(),
                indicators: vec![
                    ratio(
                        "IMMIGRANTS_PCT_POP",
                        labels(
                            "Migrants from the origin, % of the population",
                            "Мигранты из страны выбытия, % населения",
                            "Кету елінен келген мигранттар, халықтың %",
                        ),
                        &year,
                        Some(latest),
                        at(&pop_destination, &year),
                    ),
                    ratio(
                        "CORRIDOR_SHARE_OF_IMMIGRANTS",
                        labels(
                            "Share of the destination's immigrants born in the origin",
                            "Доля иммигрантов страны, родившихся в стране выбытия",
                            "Елдің кету елінде туған иммигранттарының үлесі",
                        ),
                        &year,
                        Some(latest),
                        Some(&immigrant_total),
                    ),
                    missing(
                        "PUBLIC_ATTITUDES",
                        labels(
                            "Public attitudes to migrants from the origin",
                            "Отношение населения к мигрантам из страны выбытия",
                            "Кету елінен келген мигранттарға қоғамның көзқарасы",
                        ),
                        "INDEX",
                        "opinion surveys (e.g. the papers' sentiment studies, World Values Survey)",
                    ),
                ],
            });
        }
        Ok(CorridorReport {
            a_name: area_labels(&catalogue, &a),
            b_name: area_labels(&catalogue, &b),
            a,
            b,
            as_of: as_of.clone(),
            a_in_b,
            b_in_a,
            bilateral,
            risk,
            notes,
        })
    }
}

/// A set of countries' bilateral migrant stocks as an origin–destination table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorridorSetRequest {
    pub countries: Vec<String>,
    /// The year of the stocks (default: the latest with figures).
    pub year: Option<String>,
    pub as_of: Option<String>,
}

/// A place on the map: a country and its capital.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    pub country: String,
    pub name: Labels,
    /// Longitude and latitude of the capital (for lines on a map).
    pub capital: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub origin: String,
    pub destination: String,
    pub persons: f64,
    pub figure: Sourced,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorridorSet {
    pub year: Option<String>,
    pub places: Vec<Place>,
    /// Natives of `origin` living in `destination`, largest first.
    pub links: Vec<Link>,
    pub notes: Vec<String>,
}

impl App {
    /// The bilateral migrant stocks among a set of 2 to 12 countries. Kept until the bank changes.
    pub fn corridor_set(&self, request: &CorridorSetRequest) -> Result<std::sync::Arc<CorridorSet>> {
        self.kept(&self.corridor_sets, request, |app| app.compute_corridor_set(request))
    }

    fn compute_corridor_set(&self, request: &CorridorSetRequest) -> Result<CorridorSet> {
        let catalogue = self.catalogue()?;
        let known: BTreeSet<String> = catalogue.country_codes().into_iter().collect();
        let mut chosen: Vec<String> = Vec::new();
        for c in &request.countries {
            let code = c.trim().to_ascii_uppercase();
            if !known.contains(&code) {
                return Err(AppError::invalid("countries", format!("`{c}` is not a country of the AREA code list")));
            }
            if !chosen.contains(&code) {
                chosen.push(code);
            }
        }
        if !(2..=12).contains(&chosen.len()) {
            return Err(AppError::invalid("countries", "between 2 and 12 different countries"));
        }
        let list = chosen.join("+");
        let rows = self.observations_of(
            "MIG_STOCK",
            &format!("REF_AREA={list},COUNTERPART={list},SEX=_T,MEASURE=STOCK"),
            &request.as_of,
        )?;
        let years: BTreeSet<&str> = rows
            .iter()
            .filter(|o| o.key[0] != o.key[1])
            .map(|o| o.time_period.as_str())
            .filter(|p| is_year(p))
            .collect();
        let year = match &request.year {
            Some(y) if years.contains(y.as_str()) => Some(y.clone()),
            Some(y) => {
                return Err(AppError::invalid(
                    "year",
                    format!(
                        "no bilateral stocks for {y}; the years are {}",
                        years.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            None => years.last().map(|y| y.to_string()),
        };
        let mut links: Vec<Link> = Vec::new();
        if let Some(year) = &year {
            let mut latest: BTreeMap<(String, String), &Observation> = BTreeMap::new();
            for o in rows.iter().filter(|o| &o.time_period == year && o.key[0] != o.key[1] && o.value_base.is_some()) {
                let slot = latest.entry((o.key[1].clone(), o.key[0].clone())).or_insert(o);
                if o.release_date > slot.release_date {
                    *slot = o;
                }
            }
            links = latest
                .into_iter()
                .filter_map(|((origin, destination), o)| {
                    Some(Link { origin, destination, persons: o.value_base?, figure: Sourced::observed(o)? })
                })
                .filter(|l| l.persons > 0.0)
                .collect();
            links.sort_by(|x, y| y.persons.total_cmp(&x.persons).then(x.origin.cmp(&y.origin)));
        }
        let places = chosen
            .iter()
            .map(|c| Place {
                country: c.clone(),
                name: area_labels(&catalogue, c),
                capital: catalogue.geography.capital(c).map(|at| [at.lon, at.lat]),
            })
            .collect();
        let mut notes = Vec::new();
        if links.is_empty() {
            notes.push("no bilateral migrant stocks among these countries in the bank".to_string());
        }
        Ok(CorridorSet { year, places, links, notes })
    }
}
