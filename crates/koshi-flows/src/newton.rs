//! Newton's method for the 2-way scaling problem that IPF solves.
//!
//! The IPF fixed point `y_ij = α_i β_j m_ij` with row sums `r` and column
//! sums `c` is the minimiser of the convex dual
//! `φ(v) = Σ_i r_i log Σ_j m_ij e^{v_j} − Σ_j c_j v_j` (rows eliminated
//! exactly: `α_i = r_i / Σ_j m_ij e^{v_j}`, `β_j = e^{v_j}`). Its gradient is
//! `t(v) − c` (column sums of the row-exact table `y(v)`) and its Hessian
//! `J = diag(t) − Yᵀ diag(ρ)⁻¹ Y` (`ρ` = row sums of `y(v)`), a weighted
//! graph Laplacian with the constant vector in its null space. IPF is a
//! block coordinate method on the same dual and crawls when the table is
//! nearly decomposable (world stock tables: thousands of sweeps); Newton's
//! steps reach the same fixed point in a handful of iterations.

// The dense factorisation and solve of the Newton system, shared with the other engines.
pub(crate) use koshi_numeric::{cholesky_in_place as cholesky, cholesky_solve_in_place as cholesky_solve};

/// Outcome of [`newton_scale`].
pub(crate) struct NewtonOutcome {
    /// Newton steps taken (each one evaluation of `y(v)` plus one solve).
    pub steps: usize,
    pub converged: bool,
}

/// Sparse (compressed rows) copy of the positive cells of a compact table.
struct Csr {
    row_start: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
}

impl Csr {
    fn from_dense(work: &[f64], nc: usize) -> Self {
        let nr = work.len().checked_div(nc).unwrap_or(0);
        let mut row_start = Vec::with_capacity(nr + 1);
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        row_start.push(0);
        for row in work.chunks_exact(nc.max(1)).take(nr) {
            for (b, &v) in row.iter().enumerate() {
                if v > 0.0 {
                    cols.push(b as u32);
                    vals.push(v);
                }
            }
            row_start.push(vals.len());
        }
        Self { row_start, cols, vals }
    }
}

/// Row-exact table `y(v)` for column factors `f = e^v` (stored over the CSR
/// pattern in `y`), its column sums `t`, row sums `rho`, and the largest
/// margin error against both targets. `None` if a row has no mass or a
/// value is not finite.
fn evaluate(
    csr: &Csr,
    f: &[f64],
    rt: &[f64],
    ct: &[f64],
    y: &mut [f64],
    t: &mut [f64],
    rho: &mut [f64],
) -> Option<f64> {
    t.iter_mut().for_each(|x| *x = 0.0);
    let mut err: f64 = 0.0;
    for (a, &target) in rt.iter().enumerate() {
        let range = csr.row_start[a]..csr.row_start[a + 1];
        let (bv, bc, yv) = (&csr.vals[range.clone()], &csr.cols[range.clone()], &mut y[range]);
        let mut s = 0.0;
        for ((out, &m), &b) in yv.iter_mut().zip(bv).zip(bc) {
            *out = m * f[b as usize];
            s += *out;
        }
        if !(s > 0.0 && s.is_finite()) {
            return None;
        }
        let scale = target / s;
        let mut row_sum = 0.0;
        for (out, &b) in yv.iter_mut().zip(bc) {
            *out *= scale;
            row_sum += *out;
            t[b as usize] += *out;
        }
        rho[a] = row_sum;
        err = err.max((row_sum - target).abs());
    }
    for (&tj, &cj) in t.iter().zip(ct) {
        err = err.max((tj - cj).abs());
    }
    err.is_finite().then_some(err)
}

/// Fits the compact table `work` (`nr × nc`, row-major, every row and column
/// with a positive cell and a positive target) to row targets `rt` and column
/// targets `ct` by damped Newton steps on the dual. Stops when every row and
/// column margin is within `threshold`; on success `work` holds the fitted
/// table. On failure (`converged == false`) `work` is left unchanged.
pub(crate) fn newton_scale(
    work: &mut [f64],
    nc: usize,
    rt: &[f64],
    ct: &[f64],
    threshold: f64,
    max_steps: usize,
) -> NewtonOutcome {
    let nr = rt.len();
    let csr = Csr::from_dense(work, nc);
    let total: f64 = ct.iter().sum();
    let mut f = vec![1.0; nc];
    let mut f_prev = f.clone();
    let mut dv = vec![0.0; nc];
    let mut y = vec![0.0; csr.vals.len()];
    let (mut t, mut rho) = (vec![0.0; nc], vec![0.0; nr]);
    let mut hess = vec![0.0; nc * nc];
    let mut g = vec![0.0; nc];
    let mut z = vec![0.0; nc];
    let mut inv_sqrt_t = vec![0.0; nc];
    let mut best = f64::INFINITY;
    let mut step: f64 = 1.0;
    let mut steps = 0;
    loop {
        let err = evaluate(&csr, &f, rt, ct, &mut y, &mut t, &mut rho);
        if let Some(e) = err
            && e <= threshold
        {
            work.iter_mut().for_each(|v| *v = 0.0);
            for a in 0..nr {
                for p in csr.row_start[a]..csr.row_start[a + 1] {
                    work[a * nc + csr.cols[p] as usize] = y[p];
                }
            }
            return NewtonOutcome { steps, converged: true };
        }
        if steps >= max_steps {
            return NewtonOutcome { steps, converged: false };
        }
        match err {
            Some(e) if e < best => {
                best = e;
                step = 1.0;
            }
            _ => {
                // Backtrack along the last direction (safeguard far from the solution).
                step *= 0.5;
                if step < 1.0 / 1024.0 || !best.is_finite() {
                    return NewtonOutcome { steps, converged: false };
                }
                for ((fj, &pj), &d) in f.iter_mut().zip(&f_prev).zip(&dv) {
                    *fj = pj * (step * d).exp();
                }
                continue;
            }
        }
        steps += 1;

        // Normalised Hessian K = D^{-1/2} J D^{-1/2} (D = diag t), lower triangle.
        for (s, &tj) in inv_sqrt_t.iter_mut().zip(&t) {
            *s = if tj > 0.0 { 1.0 / tj.sqrt() } else { 0.0 };
        }
        hess.iter_mut().for_each(|h| *h = 0.0);
        for (a, &row_total) in rho.iter().enumerate() {
            let range = csr.row_start[a]..csr.row_start[a + 1];
            let (yc, yv) = (&csr.cols[range.clone()], &y[range]);
            let w = 1.0 / row_total;
            for (p, (&bj, &yj)) in yc.iter().zip(yv).enumerate() {
                let j = bj as usize;
                let uj = yj * inv_sqrt_t[j] * w;
                let row = &mut hess[j * nc..j * nc + nc];
                for (&bl, &yl) in yc[..=p].iter().zip(&yv[..=p]) {
                    let l = bl as usize;
                    row[l] -= uj * yl * inv_sqrt_t[l];
                }
            }
        }
        // Rows of y are sorted by column, so every update above landed at
        // l ≤ j (lower triangle). Null vector z ∝ D^{1/2}·1 is pinned by adding z zᵀ.
        for (zj, &tj) in z.iter_mut().zip(&t) {
            *zj = (tj / total).sqrt();
        }
        for j in 0..nc {
            let row = &mut hess[j * nc..j * nc + j + 1];
            for (l, h) in row.iter_mut().enumerate() {
                *h += z[j] * z[l];
            }
            row[j] += 1.0 + 1e-12;
        }
        // Right-hand side (c − t) normalised, projected off the null vector.
        for ((gj, (&cj, &tj)), &s) in g.iter_mut().zip(ct.iter().zip(&t)).zip(&inv_sqrt_t) {
            *gj = (cj - tj) * s;
        }
        let zg: f64 = z.iter().zip(&g).map(|(a, b)| a * b).sum();
        let zz: f64 = z.iter().map(|a| a * a).sum();
        for (gj, &zj) in g.iter_mut().zip(&z) {
            *gj -= zg / zz * zj;
        }
        if !cholesky(&mut hess, nc) {
            return NewtonOutcome { steps, converged: false };
        }
        cholesky_solve(&hess, nc, &mut g);
        f_prev.copy_from_slice(&f);
        for (((d, &w), &s), (fj, &pj)) in dv.iter_mut().zip(&g).zip(&inv_sqrt_t).zip(f.iter_mut().zip(&f_prev)) {
            *d = (w * s).clamp(-30.0, 30.0);
            *fj = pj * d.exp();
        }
    }
}
