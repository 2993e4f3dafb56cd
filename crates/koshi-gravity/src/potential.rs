//! Gravitational potential of migration between one place and its partners.
//!
//! For a destination i and partner j the potential is
//!
//! ```text
//! P_ij = pop_j^a · GDP_j^b / dist_ij^c
//! ```
//!
//! with population in millions, GDP in billions of US dollars and distance in km, and the
//! elasticities a, b, c taken from a fitted gravity model (or set by hand; a = b = 1, c = 2 is
//! Newton's form). The index is reported as is, as a share of the partners' total and relative
//! to the strongest partner (= 100), since only ratios between partners are meaningful.

use crate::error::{GravityError, Result};

/// Elasticities of the potential index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PotentialElasticities {
    pub population: f64,
    pub gdp: f64,
    pub distance: f64,
}

impl Default for PotentialElasticities {
    fn default() -> Self {
        Self { population: 1.0, gdp: 1.0, distance: 2.0 }
    }
}

/// One partner's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerMass {
    pub partner: String,
    /// Millions of people.
    pub population: f64,
    /// Billions of US dollars (use 1 to leave GDP out with b = 0).
    pub gdp: f64,
    pub distance_km: f64,
}

/// A partner's potential, ranked (1 = largest).
#[derive(Debug, Clone, PartialEq)]
pub struct Potential {
    pub rank: usize,
    pub partner: String,
    pub index: f64,
    /// Percent of the partners' total.
    pub share_pct: f64,
    /// 100 × index / largest index.
    pub relative: f64,
}

/// P_j = pop_j^a · GDP_j^b / dist_j^c for every partner, ranked.
pub fn gravitational_potential(partners: &[PartnerMass], e: PotentialElasticities) -> Result<Vec<Potential>> {
    let mut out = Vec::with_capacity(partners.len());
    for p in partners {
        if !(p.population > 0.0 && p.gdp > 0.0 && p.distance_km > 0.0) {
            return Err(GravityError::Invalid(format!(
                "potential of {}: population, GDP and distance must be positive",
                p.partner
            )));
        }
        let index = (e.population * p.population.ln() + e.gdp * p.gdp.ln() - e.distance * p.distance_km.ln()).exp();
        out.push(Potential { rank: 0, partner: p.partner.clone(), index, share_pct: 0.0, relative: 0.0 });
    }
    let total: f64 = out.iter().map(|p| p.index).sum();
    let top = out.iter().fold(0.0f64, |m, p| m.max(p.index));
    out.sort_by(|a, b| b.index.total_cmp(&a.index));
    for (k, p) in out.iter_mut().enumerate() {
        p.rank = k + 1;
        p.share_pct = 100.0 * p.index / total;
        p.relative = 100.0 * p.index / top;
    }
    Ok(out)
}
