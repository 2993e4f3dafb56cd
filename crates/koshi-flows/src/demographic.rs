//! Demographic-accounting flows from bilateral stocks (Abel 2013; Abel &
//! Sander 2014; Abel 2018; Abel & Cohen 2019).

use crate::ipf::{DiagonalTreatment, check_seed, fit_birthplace_compact, ipf2};
use crate::{Convergence, FlowsError, IpfOptions, Matrix, Table3};
use koshi_numeric::par::{join, map_indices};

/// How birthplace (row) totals of the two stock tables are made equal once
/// births and deaths are removed — each birthplace's movers must balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthplaceMatching {
    /// Closed world (Abel & Sander 2014): IPF each table to the mid-point row
    /// totals `rowsum ∓ dd/2` keeping its column (residence) totals.
    Rescale,
    /// Open world (Abel 2018): the surplus leaves the system, the deficit
    /// enters from outside; leavers are distributed like the end stocks,
    /// entrants like the start stocks.
    Open,
    /// Open world as in Abel (2013) Demographic Research: leavers distributed
    /// like the start stocks, entrants like the end stocks.
    OpenDr,
    /// Inputs already match; error otherwise.
    None,
}

/// How deaths by residence are split by birthplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeathMethod {
    /// Same mortality for every birthplace group living in a region: deaths
    /// spread over the residence column in proportion to start stocks.
    Proportion,
    /// All deaths among the native-born (falls back to `Proportion` for a
    /// region whose native stock is smaller than its deaths).
    NativeBorn,
}

/// Options for [`demographic_accounting`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemographicOptions {
    /// `true`: minimum-migration / quasi-independence (stayers fixed at
    /// `min(start, end)`); `false`: independence (Azose & Raftery 2019 ingredient).
    pub stayer_assumption: bool,
    pub birthplace_matching: BirthplaceMatching,
    /// Before anything else, rescale native-born diagonals (half at start,
    /// half at end) so world stock change equals world natural change.
    /// Applied only with [`BirthplaceMatching::Rescale`], as in migest.
    pub match_global: bool,
    pub death_method: DeathMethod,
    /// If a region's births exceed its native-born end stock, spread its
    /// births over its residence column instead of the diagonal.
    pub births_non_negative: bool,
    /// Keep the origin × destination × birthplace table (n³ cells).
    pub keep_birthplace_detail: bool,
    pub ipf: IpfOptions,
}

impl Default for DemographicOptions {
    fn default() -> Self {
        Self {
            stayer_assumption: true,
            birthplace_matching: BirthplaceMatching::Rescale,
            match_global: true,
            death_method: DeathMethod::Proportion,
            births_non_negative: true,
            keep_birthplace_detail: false,
            ipf: IpfOptions::default(),
        }
    }
}

/// Result of [`demographic_accounting`].
#[derive(Debug, Clone, PartialEq)]
pub struct DemographicEstimate {
    /// Origin × destination movers summed over birthplace; diagonal zero.
    pub od_flows: Matrix,
    /// Origin × destination × birthplace, stayers on each slice's diagonal
    /// (only with `keep_birthplace_detail`).
    pub by_birthplace: Option<Table3>,
    /// Birthplace × residence tables whose margins the fit honours: rows of
    /// slice `k` sum to `adjusted_start[k]`, columns to `adjusted_end[k]`.
    pub adjusted_start: Matrix,
    pub adjusted_end: Matrix,
    /// Birthplace × residence births and deaths that were removed.
    pub births: Matrix,
    pub deaths: Matrix,
    /// Birthplace × residence moves into / out of the system (open variants).
    pub entering: Matrix,
    pub leaving: Matrix,
    /// Report of the per-birthplace flow fits (margins = adjusted stocks).
    pub convergence: Convergence,
    /// Report of the `Rescale` step's IPF of the stock tables, when it ran.
    pub rescale_convergence: Option<Convergence>,
}

impl DemographicEstimate {
    /// Total movers between regions (sum of off-diagonal flows).
    pub fn total_movers(&self) -> f64 {
        self.od_flows.off_diagonal_sum()
    }
}

/// Approximate births and deaths when only stocks are known: the change in
/// each birthplace total `Δ_k = Σ_r end_kr − Σ_r start_kr` is taken as natural
/// change of the native-born (`births = max(Δ, 0)`, `deaths = max(−Δ, 0)`).
/// Use with [`DeathMethod::NativeBorn`]; birthplace totals then match exactly,
/// so every decline of a diaspora stock is read as a move (no emigrant deaths).
pub fn births_deaths_from_birthplace_totals(start: &Matrix, end: &Matrix) -> (Vec<f64>, Vec<f64>) {
    start.row_sums().iter().zip(end.row_sums()).map(|(s, e)| ((e - s).max(0.0), (s - e).max(0.0))).unzip()
}

fn check_stock(name: &str, m: &Matrix) -> Result<(), FlowsError> {
    if let Some(v) = m.as_slice().iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(FlowsError::InvalidInput(format!("{name} contains {v}; stocks must be finite and ≥ 0")));
    }
    Ok(())
}

/// Rescales the diagonal of `m` proportionally to sum to `target`.
fn rescale_diagonal(m: &mut Matrix, target: f64) {
    let current: f64 = m.diagonal().iter().sum();
    let n = m.rows();
    if current > 0.0 {
        let f = target / current;
        for i in 0..n {
            m[(i, i)] *= f;
        }
    } else if n > 0 {
        for i in 0..n {
            m[(i, i)] = target / n as f64;
        }
    }
}

/// Adds `delta` to a table's total through its native-born diagonal, or
/// through every cell when the diagonal cannot absorb a reduction.
fn adjust_total(m: &mut Matrix, delta: f64) -> Result<(), FlowsError> {
    let diagonal: f64 = m.diagonal().iter().sum();
    if diagonal + delta >= 0.0 {
        rescale_diagonal(m, diagonal + delta);
        return Ok(());
    }
    let total = m.sum();
    if total + delta < 0.0 || total <= 0.0 {
        return Err(FlowsError::Infeasible(format!("cannot change a stock total of {total} by {delta}")));
    }
    let f = (total + delta) / total;
    m.as_mut_slice().iter_mut().for_each(|v| *v *= f);
    Ok(())
}

/// Spreads `total[c]` over column `c` in proportion to `weights[., c]`.
fn spread_column(out: &mut Matrix, weights: &Matrix, c: usize, total: f64) {
    let col: f64 = (0..weights.rows()).map(|r| weights[(r, c)]).sum();
    for r in 0..weights.rows() {
        out[(r, c)] = if col > 0.0 { total * weights[(r, c)] / col } else { 0.0 };
    }
}

/// Scales each row of `seed` to `targets` (rows with no seed mass fall back to `fallback`).
fn scale_rows(seed: &Matrix, fallback: &Matrix, targets: &[f64]) -> Matrix {
    let mut out = Matrix::zeros(seed.rows(), seed.cols());
    for (k, &t) in targets.iter().enumerate() {
        if t <= 0.0 {
            continue;
        }
        let src = if seed.row(k).iter().sum::<f64>() > 0.0 { seed.row(k) } else { fallback.row(k) };
        let s: f64 = src.iter().sum();
        if s > 0.0 {
            for (o, v) in out.row_mut(k).iter_mut().zip(src) {
                *o = t * v / s;
            }
        }
    }
    out
}

/// Demographic-accounting estimate of origin × destination flows between
/// two stock tables (rows = birthplace, columns = residence).
///
/// Steps: (1) optional global match of native-born stocks; (2) remove births
/// from the end table (native-born diagonal) and deaths from the start
/// table; (3) equalise birthplace totals ([`BirthplaceMatching`]); (4) for
/// each birthplace `k`, fit `y_ijk` with row sums `start'[k][i]` and column
/// sums `end'[k][j]` by IPF — with the stayer assumption the diagonal is
/// fixed at `min(start', end')` and movers get a zero-diagonal seed. `seed`
/// is an optional origin × destination offset (e.g. a distance prior)
/// shared by all birthplaces. `births`/`deaths` are by residence; `None` = 0.
pub fn demographic_accounting(
    start: &Matrix,
    end: &Matrix,
    births: Option<&[f64]>,
    deaths: Option<&[f64]>,
    seed: Option<&Matrix>,
    options: &DemographicOptions,
) -> Result<DemographicEstimate, FlowsError> {
    start.same_shape(end)?;
    if !start.is_square() {
        return Err(FlowsError::Dimension("stock tables must be square".into()));
    }
    check_stock("start stocks", start)?;
    check_stock("end stocks", end)?;
    let n = start.rows();
    let zeros = vec![0.0; n];
    let births = births.unwrap_or(&zeros);
    let deaths = deaths.unwrap_or(&zeros);
    for (name, v) in [("births", births), ("deaths", deaths)] {
        if v.len() != n {
            return Err(FlowsError::Dimension(format!("{name}: {} values for {n} regions", v.len())));
        }
        if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
            return Err(FlowsError::InvalidInput(format!("{name} contains {x}")));
        }
    }
    if let Some(s) = seed
        && (s.rows() != n || s.cols() != n)
    {
        return Err(FlowsError::Dimension("seed must be n × n".into()));
    }

    // (1) Closed world: stock growth must equal natural growth.
    let mut s1 = start.clone();
    let mut s2 = end.clone();
    if options.match_global && options.birthplace_matching == BirthplaceMatching::Rescale {
        let natural: f64 = births.iter().sum::<f64>() - deaths.iter().sum::<f64>();
        let gap = natural - (s2.sum() - s1.sum());
        if gap != 0.0 {
            adjust_total(&mut s1, -gap / 2.0)?;
            adjust_total(&mut s2, gap / 2.0)?;
        }
    }

    // (2) Births join the native-born at the end; deaths leave the start stocks.
    let mut birth_mat = Matrix::zeros(n, n);
    for r in 0..n {
        if options.births_non_negative && s2[(r, r)] < births[r] {
            spread_column(&mut birth_mat, &s2, r, births[r]);
        } else {
            birth_mat[(r, r)] = births[r];
        }
    }
    let mut death_mat = Matrix::zeros(n, n);
    for r in 0..n {
        match options.death_method {
            DeathMethod::NativeBorn if s1[(r, r)] >= deaths[r] => death_mat[(r, r)] = deaths[r],
            _ => spread_column(&mut death_mat, &s1, r, deaths[r]),
        }
    }
    let s1c = s1.sub(&death_mat)?.map(|v| v.max(0.0));
    let s2c = s2.sub(&birth_mat)?.map(|v| v.max(0.0));

    // (3) Equal birthplace totals.
    // Birthplace totals count as equal within 1e-9 of the stock total.
    let balance_tol = 1e-9 * (1.0 + s1c.sum());
    let gap: Vec<f64> = s1c.row_sums().iter().zip(s2c.row_sums()).map(|(a, b)| a - b).collect();
    let mut entering = Matrix::zeros(n, n);
    let mut leaving = Matrix::zeros(n, n);
    let mut rescale_convergence = None;
    let (s1d, s2d) = match options.birthplace_matching {
        BirthplaceMatching::Rescale => {
            if gap.iter().all(|g| g.abs() <= balance_tol) {
                (s1c, s2c)
            } else {
                let r1: Vec<f64> = s1c.row_sums().iter().zip(&gap).map(|(r, g)| r - g / 2.0).collect();
                let r2: Vec<f64> = s2c.row_sums().iter().zip(&gap).map(|(r, g)| r + g / 2.0).collect();
                // The two tables are independent: fit them on two threads.
                let (f1, f2) = join(
                    || ipf2(Some(&r1), Some(&s1c.col_sums()), &s1c, &options.ipf),
                    || ipf2(Some(&r2), Some(&s2c.col_sums()), &s2c, &options.ipf),
                );
                let (f1, f2) = (f1?, f2?);
                rescale_convergence = Some(f1.convergence.merge(f2.convergence));
                // Fit exactly to the common row totals so per-birthplace margins balance.
                let mut t1 = f1.table;
                let mut t2 = f2.table;
                let mid: Vec<f64> = r1.iter().zip(&r2).map(|(a, b)| 0.5 * (a + b)).collect();
                for (m, t) in [(&mut t1, &mid), (&mut t2, &mid)] {
                    for (k, &target) in t.iter().enumerate() {
                        let s: f64 = m.row(k).iter().sum();
                        if s > 0.0 {
                            m.row_mut(k).iter_mut().for_each(|v| *v *= target / s);
                        }
                    }
                }
                (t1, t2)
            }
        }
        BirthplaceMatching::Open | BirthplaceMatching::OpenDr => {
            let leave_targets: Vec<f64> = gap.iter().map(|g| g.max(0.0)).collect();
            let enter_targets: Vec<f64> = gap.iter().map(|g| (-g).max(0.0)).collect();
            let (leave_seed, enter_seed) =
                if options.birthplace_matching == BirthplaceMatching::Open { (&s2c, &s1c) } else { (&s1c, &s2c) };
            leaving = scale_rows(leave_seed, &s1c, &leave_targets);
            entering = scale_rows(enter_seed, &s2c, &enter_targets);
            let a = s1c.sub(&leaving)?;
            let b = s2c.sub(&entering)?;
            if a.as_slice().iter().chain(b.as_slice()).any(|v| *v < -1e-9) {
                return Err(FlowsError::Infeasible(
                    "open matching removes more people than a stock holds; use OpenDr or Rescale".into(),
                ));
            }
            (a.map(|v| v.max(0.0)), b.map(|v| v.max(0.0)))
        }
        BirthplaceMatching::None => {
            if let Some((k, g)) = gap.iter().enumerate().find(|(_, g)| g.abs() > balance_tol) {
                return Err(FlowsError::InvalidInput(format!("birthplace {k} totals differ by {g}")));
            }
            (s1c, s2c)
        }
    };

    // (4) One independent fit per birthplace, spread over the cores; the
    // slices are combined in birthplace order, so the sums are deterministic.
    if let Some(s) = seed {
        check_seed(s)?;
    }
    let diagonal = if options.stayer_assumption { DiagonalTreatment::FixedStayers } else { DiagonalTreatment::Fitted };
    let slices = map_indices(n, |k| fit_birthplace_compact(s1d.row(k), s2d.row(k), seed, diagonal, &options.ipf))?;
    let mut convergence = Convergence::EXACT;
    let mut od_flows = Matrix::zeros(n, n);
    let mut detail = options.keep_birthplace_detail.then(|| Vec::with_capacity(n));
    for slice in &slices {
        convergence = convergence.merge(slice.fit.convergence);
        slice.fit.add_into(&mut od_flows);
        if let Some(d) = detail.as_mut() {
            d.push(slice.expand());
        }
    }
    od_flows.set_diagonal(0.0);
    Ok(DemographicEstimate {
        od_flows,
        by_birthplace: detail.map(Table3::from_slices).transpose()?,
        adjusted_start: s1d,
        adjusted_end: s2d,
        births: birth_mat,
        deaths: death_mat,
        entering,
        leaving,
        convergence,
        rescale_convergence,
    })
}
