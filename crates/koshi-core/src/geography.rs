//! Where places are: each country's capital (the reference point for distances) and which
//! countries share a land border, from `data/structure/capitals/` (GeoNames). Gravity panels,
//! flow indices and maps all take distances and contiguity from here, so that one model's
//! "distance" is the other's.

use std::collections::{BTreeMap, BTreeSet};

use crate::codelist::{field, read_csv};
use crate::structure::StructureError;

/// Mean Earth radius (IUGG), km.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A point in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// Great-circle distance in km between two points (haversine on the mean radius).
pub fn great_circle_km(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    // min() guards against rounding just above 1 for antipodal points.
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A country's capital.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Capital {
    pub name: String,
    pub at: LatLon,
    /// Where the coordinates come from (GeoNames city, or its largest city where no capital matched).
    pub source: String,
}

/// Capitals by ISO alpha-3 code, and land borders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geography {
    pub capitals: BTreeMap<String, Capital>,
    /// Pairs sharing a land border, each stored once with the smaller code first.
    borders: BTreeSet<(String, String)>,
}

impl Geography {
    /// Read `capitals.csv` (`alpha3,capital,lat,lon,source`; a row without coordinates is a
    /// country with no reference point) and `contiguity.csv` (`a,b`).
    pub fn parse(
        capitals_file: &str,
        capitals_text: &str,
        borders_file: &str,
        borders_text: &str,
    ) -> Result<Geography, StructureError> {
        let mut capitals = BTreeMap::new();
        for (i, row) in read_csv(capitals_file, capitals_text)?.into_iter().enumerate() {
            let (lat, lon) = (field(&row, "lat"), field(&row, "lon"));
            if lat.is_empty() && lon.is_empty() {
                continue;
            }
            let degrees = |text: &str, limit: f64, what: &str| -> Result<f64, StructureError> {
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
                    _ => Err(StructureError::Csv {
                        file: capitals_file.into(),
                        row: i + 2,
                        message: format!("{what} `{text}` is not a number of degrees within ±{limit}"),
                    }),
                }
            };
            let at = LatLon { lat: degrees(lat, 90.0, "lat")?, lon: degrees(lon, 180.0, "lon")? };
            let capital = Capital { name: field(&row, "capital").into(), at, source: field(&row, "source").into() };
            capitals.insert(field(&row, "alpha3").to_string(), capital);
        }
        let mut borders = BTreeSet::new();
        for row in read_csv(borders_file, borders_text)? {
            borders.insert(Self::ordered(field(&row, "a"), field(&row, "b")));
        }
        Ok(Geography { capitals, borders })
    }

    fn ordered(a: &str, b: &str) -> (String, String) {
        if a <= b { (a.into(), b.into()) } else { (b.into(), a.into()) }
    }

    /// The capital's coordinates of `country`, if it has a reference point.
    pub fn capital(&self, country: &str) -> Option<LatLon> {
        self.capitals.get(country).map(|c| c.at)
    }

    /// Great-circle km between the capitals of two countries (None if either has none).
    pub fn distance_km(&self, a: &str, b: &str) -> Option<f64> {
        Some(great_circle_km(self.capital(a)?, self.capital(b)?))
    }

    /// Whether two countries share a land border (in either order).
    pub fn contiguous(&self, a: &str, b: &str) -> bool {
        self.borders.contains(&Self::ordered(a, b))
    }

    /// Every bordering pair, smaller code first.
    pub fn borders(&self) -> impl Iterator<Item = (&str, &str)> {
        self.borders.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }
}
