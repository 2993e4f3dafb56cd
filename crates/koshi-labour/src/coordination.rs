//! Coordinating internal migration with regional labour demand (paper 003, measures 9, 16 and
//! 18): where job seekers outnumber vacancies in an occupation and where vacancies outnumber
//! seekers, and along which routes people already move, so that a relocation programme can be
//! sized.
//!
//! * [`spatial_interaction`]: a doubly-constrained gravity model of the moves between regions,
//!   `T_ij = A_i O_i B_j D_j d_ij^(-γ)` for `i ≠ j`, its balancing factors found by iterative
//!   proportional fitting so that every region's departures `O_i` and arrivals `D_j` are met.
//!   Kazakhstan publishes arrivals and departures by region, not who moved where, so `γ` cannot
//!   be fitted on internal moves; the caller gives it (the application takes the distance
//!   elasticity of the bank's gravity fit of bilateral migrant stocks) and says so.
//! * [`relocation`]: for one occupation, the surplus regions' seekers allocated to the shortage
//!   regions' vacancies in proportion to the modelled moves: the allocation closest to the
//!   existing routes (in the information sense of IPF) that moves `min(Σ surplus, Σ gap)` people,
//!   taking from each surplus region and giving to each shortage region in proportion to its
//!   surplus and gap.
//! * [`Package`]: what moving them costs under a relocation package (transport, months of
//!   housing, a start-up microcredit), each amount given by the caller with its source.

use serde::Serialize;

/// The most regions a model takes.
pub const MAX_REGIONS: usize = 1_000;
/// Balancing stops when every margin is met to this relative tolerance.
pub const TOLERANCE: f64 = 1e-10;
/// … or after this many sweeps.
pub const MAX_SWEEPS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordinationError {
    #[error("no regions")]
    NoRegions,
    #[error("more than {MAX_REGIONS} regions")]
    TooManyRegions,
    #[error("{what} has {found} entries for {regions} regions")]
    Shape { what: &'static str, found: usize, regions: usize },
    #[error("{what} of region {index} is {value}: it must be a finite number ≥ 0")]
    BadValue { what: &'static str, index: usize, value: f64 },
    #[error("the distance from region {from} to region {to} is {value}: it must be finite and > 0")]
    BadDistance { from: usize, to: usize, value: f64 },
    #[error("the distance decay {0} must be finite and ≥ 0")]
    BadDecay(f64),
    #[error("no region has departures, or none has arrivals")]
    NoMoves,
    #[error("the margins were not met after {MAX_SWEEPS} sweeps (largest relative gap {gap:e})")]
    NotConverged { gap: f64 },
}

/// The modelled moves between regions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interaction {
    /// `moves[i][j]`: people moving from region `i` to region `j` (0 on the diagonal).
    pub moves: Vec<Vec<f64>>,
    pub decay: f64,
    /// Arrivals were scaled by this so that they add up to the departures.
    pub arrivals_scaled_by: f64,
    pub sweeps: usize,
}

impl Interaction {
    /// The share of region `i`'s departures that go to `j`.
    pub fn share(&self, i: usize, j: usize) -> f64 {
        let total: f64 = self.moves[i].iter().sum();
        if total > 0.0 { self.moves[i][j] / total } else { 0.0 }
    }
}

fn check(what: &'static str, values: &[f64], regions: usize) -> Result<(), CoordinationError> {
    if values.len() != regions {
        return Err(CoordinationError::Shape { what, found: values.len(), regions });
    }
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() || value < 0.0 {
            return Err(CoordinationError::BadValue { what, index, value });
        }
    }
    Ok(())
}

/// Balances `seed` (zero where no move may happen) to the row sums `rows` and column sums
/// `columns` (which add up to the same total) by alternating scaling.
fn balance(seed: &[Vec<f64>], rows: &[f64], columns: &[f64]) -> Result<(Vec<Vec<f64>>, usize), CoordinationError> {
    let n = rows.len();
    let m = columns.len();
    let mut t: Vec<Vec<f64>> = seed.to_vec();
    let total: f64 = rows.iter().sum();
    if total <= 0.0 {
        return Ok((vec![vec![0.0; m]; n], 0));
    }
    for sweep in 1..=MAX_SWEEPS {
        for (i, row) in t.iter_mut().enumerate() {
            let sum: f64 = row.iter().sum();
            if sum > 0.0 {
                let f = rows[i] / sum;
                row.iter_mut().for_each(|x| *x *= f);
            }
        }
        let mut gap: f64 = 0.0;
        for j in 0..m {
            let sum: f64 = t.iter().map(|r| r[j]).sum();
            if sum > 0.0 {
                let f = columns[j] / sum;
                t.iter_mut().for_each(|r| r[j] *= f);
            }
        }
        for (i, row) in t.iter().enumerate() {
            let sum: f64 = row.iter().sum();
            gap = gap.max((sum - rows[i]).abs() / total);
        }
        if gap <= TOLERANCE {
            return Ok((t, sweep));
        }
        if sweep == MAX_SWEEPS {
            return Err(CoordinationError::NotConverged { gap });
        }
    }
    Err(CoordinationError::NotConverged { gap: f64::INFINITY })
}

/// The doubly-constrained gravity model of moves between regions with departures `departures`,
/// arrivals `arrivals` (scaled to the departures' total), distances `distance_km` and decay `γ`.
pub fn spatial_interaction(
    departures: &[f64],
    arrivals: &[f64],
    distance_km: &[Vec<f64>],
    decay: f64,
) -> Result<Interaction, CoordinationError> {
    let n = departures.len();
    if n == 0 {
        return Err(CoordinationError::NoRegions);
    }
    if n > MAX_REGIONS {
        return Err(CoordinationError::TooManyRegions);
    }
    check("departures", departures, n)?;
    check("arrivals", arrivals, n)?;
    if distance_km.len() != n {
        return Err(CoordinationError::Shape { what: "distances", found: distance_km.len(), regions: n });
    }
    if !decay.is_finite() || decay < 0.0 {
        return Err(CoordinationError::BadDecay(decay));
    }
    let mut seed = vec![vec![0.0; n]; n];
    for (i, row) in distance_km.iter().enumerate() {
        if row.len() != n {
            return Err(CoordinationError::Shape { what: "a row of distances", found: row.len(), regions: n });
        }
        for (j, &d) in row.iter().enumerate() {
            if i == j {
                continue;
            }
            if !d.is_finite() || d <= 0.0 {
                return Err(CoordinationError::BadDistance { from: i, to: j, value: d });
            }
            seed[i][j] = d.powf(-decay);
        }
    }
    let (out_total, in_total) = (departures.iter().sum::<f64>(), arrivals.iter().sum::<f64>());
    if out_total <= 0.0 || in_total <= 0.0 {
        return Err(CoordinationError::NoMoves);
    }
    let scale = out_total / in_total;
    let columns: Vec<f64> = arrivals.iter().map(|a| a * scale).collect();
    let (moves, sweeps) = balance(&seed, departures, &columns)?;
    Ok(Interaction { moves, decay, arrivals_scaled_by: scale, sweeps })
}

/// One route of a relocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub from: usize,
    pub to: usize,
    pub persons: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relocation {
    /// People moved: `min(Σ surplus, Σ gap)`.
    pub movers: f64,
    /// Routes carrying at least `min_persons`, largest first.
    pub moves: Vec<Move>,
    /// Seekers left without a vacancy elsewhere, and vacancies left without a seeker.
    pub surplus_left: f64,
    pub gap_left: f64,
}

/// Allocates the surplus regions' seekers to the shortage regions' vacancies along the modelled
/// routes; routes under `min_persons` are left out of the list (not of the totals).
pub fn relocation(
    surplus: &[f64],
    gap: &[f64],
    routes: &Interaction,
    min_persons: f64,
) -> Result<Relocation, CoordinationError> {
    let n = routes.moves.len();
    check("surplus", surplus, n)?;
    check("gap", gap, n)?;
    let (s_total, g_total) = (surplus.iter().sum::<f64>(), gap.iter().sum::<f64>());
    let movers = s_total.min(g_total);
    if movers <= 0.0 {
        return Ok(Relocation { movers: 0.0, moves: Vec::new(), surplus_left: s_total, gap_left: g_total });
    }
    let rows: Vec<f64> = surplus.iter().map(|s| s * movers / s_total).collect();
    let columns: Vec<f64> = gap.iter().map(|g| g * movers / g_total).collect();
    // Moves happen only from a surplus region to a shortage region, along the modelled routes.
    let seed: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if surplus[i] > 0.0 && gap[j] > 0.0 && i != j { routes.moves[i][j].max(0.0) } else { 0.0 })
                .collect()
        })
        .collect();
    let (t, _) = balance(&seed, &rows, &columns)?;
    let mut moves: Vec<Move> = Vec::new();
    for (i, row) in t.iter().enumerate() {
        for (j, &persons) in row.iter().enumerate() {
            if persons >= min_persons && persons > 0.0 {
                moves.push(Move { from: i, to: j, persons });
            }
        }
    }
    moves.sort_by(|a, b| b.persons.total_cmp(&a.persons).then(a.from.cmp(&b.from)).then(a.to.cmp(&b.to)));
    let moved: f64 = t.iter().flatten().sum();
    Ok(Relocation { movers: moved, moves, surplus_left: s_total - moved, gap_left: g_total - moved })
}

/// A relocation package per person moved, each amount with where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Package {
    pub currency: String,
    pub transport: f64,
    pub housing_per_month: f64,
    pub housing_months: f64,
    pub microcredit: f64,
    /// Where the amounts come from (a programme's rules, a budget law).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageCost {
    pub transport: f64,
    pub housing: f64,
    pub microcredit: f64,
    pub total: f64,
}

impl Package {
    /// What moving `persons` costs.
    pub fn cost(&self, persons: f64) -> PackageCost {
        let transport = self.transport * persons;
        let housing = self.housing_per_month * self.housing_months * persons;
        let microcredit = self.microcredit * persons;
        PackageCost { transport, housing, microcredit, total: transport + housing + microcredit }
    }
}
