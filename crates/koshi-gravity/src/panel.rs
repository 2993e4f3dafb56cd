//! Bilateral panels for gravity models, assembled from plain vectors (no IO): flows by origin,
//! destination and year, completed with zeros, with great-circle distances between places,
//! contiguity and populations attached.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::{GravityError, Result};
use crate::table::DataTable;

pub use koshi_core::geography::{EARTH_RADIUS_KM, LatLon, great_circle_km};

/// One observed bilateral figure.
#[derive(Debug, Clone, PartialEq)]
pub struct BilateralFlow {
    pub origin: String,
    pub destination: String,
    pub year: i32,
    pub value: f64,
}

/// Everything known about the places, keyed by code.
#[derive(Debug, Clone, Default)]
pub struct PanelInputs {
    /// (latitude, longitude) of each place's reference point (e.g. its capital).
    pub coordinates: HashMap<String, (f64, f64)>,
    /// Population by (place, year); missing ones stay missing (NaN) in the panel.
    pub population: HashMap<(String, i32), f64>,
    /// Pairs sharing a border (either order).
    pub contiguous: HashSet<(String, String)>,
    /// Membership of a group (e.g. EAEU) by place: first year a member (inclusive).
    pub member_since: HashMap<String, i32>,
}

/// Options of [`build_panel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelOptions {
    /// Add a zero for every origin × destination × year cell not observed (origins and
    /// destinations are those seen anywhere in the flows): zeros carry information in PPML.
    pub fill_zeros: bool,
}

impl Default for PanelOptions {
    fn default() -> Self {
        Self { fill_zeros: true }
    }
}

/// A rectangular bilateral panel, one row per origin × destination × year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GravityPanel {
    pub origin: Vec<String>,
    pub destination: Vec<String>,
    pub year: Vec<i32>,
    pub flow: Vec<f64>,
    /// Great-circle distance in km (NaN when a place has no coordinates).
    pub dist: Vec<f64>,
    /// 1 when the two places share a border.
    pub contig: Vec<f64>,
    pub pop_orig: Vec<f64>,
    pub pop_dest: Vec<f64>,
    /// 1 when both places are members of the group in that year.
    pub both_members: Vec<f64>,
    /// Places dropped because they have no coordinates.
    pub without_coordinates: Vec<String>,
    /// Flows that were zero-filled.
    pub filled_zeros: usize,
}

impl GravityPanel {
    pub fn len(&self) -> usize {
        self.flow.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flow.is_empty()
    }

    /// Columns `orig`, `dest`, `year` (categorical), `pair` (categorical `orig-dest`), `flow`,
    /// `dist`, `contig`, `pop_o`, `pop_d`, `eaeu` (numeric) for fitting.
    pub fn to_table(&self) -> Result<DataTable> {
        let mut t = DataTable::new();
        t.add_categorical("orig", &self.origin)?;
        t.add_categorical("dest", &self.destination)?;
        let years: Vec<String> = self.year.iter().map(|y| y.to_string()).collect();
        t.add_categorical("year", &years)?;
        let pairs: Vec<String> = self.origin.iter().zip(&self.destination).map(|(o, d)| format!("{o}-{d}")).collect();
        t.add_categorical("pair", &pairs)?;
        t.add_numeric("flow", self.flow.clone())?;
        t.add_numeric("dist", self.dist.clone())?;
        t.add_numeric("contig", self.contig.clone())?;
        t.add_numeric("pop_o", self.pop_orig.clone())?;
        t.add_numeric("pop_d", self.pop_dest.clone())?;
        t.add_numeric("eaeu", self.both_members.clone())?;
        Ok(t)
    }
}

/// Builds the panel: every observed flow between two distinct places with coordinates, plus
/// (with `fill_zeros`) a zero for each unobserved cell. Duplicate cells are an error: the
/// caller decides which source wins before calling.
pub fn build_panel(flows: &[BilateralFlow], inputs: &PanelInputs, options: PanelOptions) -> Result<GravityPanel> {
    let mut observed: HashMap<(&str, &str, i32), f64> = HashMap::with_capacity(flows.len());
    let mut places: BTreeSet<&str> = BTreeSet::new();
    let mut origins: BTreeSet<&str> = BTreeSet::new();
    let mut destinations: BTreeSet<&str> = BTreeSet::new();
    let mut years: BTreeSet<i32> = BTreeSet::new();
    let mut without: BTreeSet<String> = BTreeSet::new();
    for f in flows {
        if f.origin == f.destination {
            continue;
        }
        places.insert(&f.origin);
        places.insert(&f.destination);
        let has = |p: &str| inputs.coordinates.contains_key(p);
        if !has(&f.origin) || !has(&f.destination) {
            for p in [&f.origin, &f.destination] {
                if !has(p) {
                    without.insert(p.clone());
                }
            }
            continue;
        }
        if !(f.value >= 0.0) {
            return Err(GravityError::Invalid(format!(
                "flow {} → {} in {} is {} (must be ≥ 0)",
                f.origin, f.destination, f.year, f.value
            )));
        }
        if observed.insert((&f.origin, &f.destination, f.year), f.value).is_some() {
            return Err(GravityError::Invalid(format!(
                "flow {} → {} in {} given twice",
                f.origin, f.destination, f.year
            )));
        }
        origins.insert(&f.origin);
        destinations.insert(&f.destination);
        years.insert(f.year);
    }
    let mut cells: Vec<(&str, &str, i32)> = if options.fill_zeros {
        let mut v = Vec::with_capacity(origins.len() * destinations.len() * years.len());
        for &o in &origins {
            for &d in &destinations {
                if o != d {
                    for &y in &years {
                        v.push((o, d, y));
                    }
                }
            }
        }
        v
    } else {
        let mut v: Vec<_> = observed.keys().copied().collect();
        v.sort_unstable();
        v
    };
    cells.shrink_to_fit();
    let mut p = GravityPanel { without_coordinates: without.into_iter().collect(), ..GravityPanel::default() };
    let mut dist_cache: HashMap<(&str, &str), f64> = HashMap::new();
    let mut contig_cache: HashMap<(&str, &str), bool> = HashMap::new();
    for (o, d, y) in cells {
        let value = match observed.get(&(o, d, y)) {
            Some(v) => *v,
            None => {
                p.filled_zeros += 1;
                0.0
            }
        };
        let dist = *dist_cache.entry((o, d)).or_insert_with(|| {
            let (a, b) = (inputs.coordinates[o], inputs.coordinates[d]);
            great_circle_km(LatLon { lat: a.0, lon: a.1 }, LatLon { lat: b.0, lon: b.1 })
        });
        let contig = *contig_cache.entry((o, d)).or_insert_with(|| {
            inputs.contiguous.contains(&(o.to_string(), d.to_string()))
                || inputs.contiguous.contains(&(d.to_string(), o.to_string()))
        });
        let member = |c: &str| inputs.member_since.get(c).is_some_and(|&since| y >= since);
        p.origin.push(o.to_string());
        p.destination.push(d.to_string());
        p.year.push(y);
        p.flow.push(value);
        p.dist.push(dist);
        p.contig.push(if contig { 1.0 } else { 0.0 });
        p.pop_orig.push(inputs.population.get(&(o.to_string(), y)).copied().unwrap_or(f64::NAN));
        p.pop_dest.push(inputs.population.get(&(d.to_string(), y)).copied().unwrap_or(f64::NAN));
        p.both_members.push(if member(o) && member(d) { 1.0 } else { 0.0 });
    }
    Ok(p)
}
