//! Non-seasonal ARIMA(p,d,q) with exact Gaussian likelihood (Kalman filter) and the
//! Hyndman–Khandakar automatic order search: d from repeated KPSS tests, then a
//! stepwise search over (p, q, constant) minimising AICc.
//!
//! AR and MA coefficients are optimised through partial autocorrelations (tanh →
//! Durbin–Levinson), so every candidate is stationary and invertible by construction.

use crate::error::{ForecastError, Result, check_series};
use crate::optim::NelderMead;
use crate::{Forecast, stats};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArimaOrder {
    pub p: usize,
    pub d: usize,
    pub q: usize,
    /// Mean (d = 0) or drift (d = 1); never used with d = 2.
    pub constant: bool,
}

#[derive(Debug, Clone)]
pub struct ArimaFit {
    pub order: ArimaOrder,
    pub ar: Vec<f64>,
    pub ma: Vec<f64>,
    /// Mean of the differenced series (0 when no constant).
    pub mean: f64,
    pub sigma2: f64,
    pub loglik: f64,
    pub aicc: f64,
    /// Predicted state after the last observation (for forecasting).
    state: Vec<f64>,
    /// Tail of the undifferenced series needed to integrate forecasts back.
    y_tail: Vec<f64>,
    pub fitted: Vec<f64>,
    /// Optimiser coordinates (tanh⁻¹ PACFs, scaled mean offset) for warm starts.
    raw: Vec<f64>,
}

/// KPSS level-stationarity statistic with Bartlett long-run variance.
pub fn kpss_statistic(x: &[f64]) -> f64 {
    let n = x.len();
    let m = stats::mean(x);
    let e: Vec<f64> = x.iter().map(|v| v - m).collect();
    let mut s = 0.0;
    let mut eta = 0.0;
    for v in &e {
        s += v;
        eta += s * s;
    }
    eta /= (n * n) as f64;
    // Bartlett window trunc(3√n/13), as in the forecast package's ndiffs.
    let lags = (3.0 * (n as f64).sqrt() / 13.0).trunc() as usize;
    let mut lrv = e.iter().map(|v| v * v).sum::<f64>() / n as f64;
    for l in 1..=lags.min(n.saturating_sub(1)) {
        let w = 1.0 - l as f64 / (lags as f64 + 1.0);
        let cov: f64 = (l..n).map(|t| e[t] * e[t - l]).sum::<f64>() / n as f64;
        lrv += 2.0 * w * cov;
    }
    if lrv <= 0.0 { 0.0 } else { eta / lrv }
}

/// Number of differences by repeated KPSS tests at the 5% level (critical value 0.463).
pub fn ndiffs(y: &[f64], max_d: usize) -> usize {
    let mut x = y.to_vec();
    let mut d = 0;
    while d < max_d && x.len() > 3 {
        if is_constant(&x) || kpss_statistic(&x) <= 0.463 {
            break;
        }
        x = stats::diff(&x);
        d += 1;
    }
    d
}

fn is_constant(x: &[f64]) -> bool {
    x.iter().all(|v| (v - x[0]).abs() <= 1e-12 * x[0].abs().max(1.0))
}

/// Partial autocorrelations → AR coefficients of a stationary polynomial.
#[cfg(test)]
fn pacf_to_coefs(pacf: &[f64]) -> Vec<f64> {
    let mut phi: Vec<f64> = Vec::with_capacity(pacf.len());
    for (k, &r) in pacf.iter().enumerate() {
        let prev = phi.clone();
        for j in 0..k {
            phi[j] = prev[j] - r * prev[k - 1 - j];
        }
        phi.push(r);
    }
    phi
}

#[cfg(test)]
fn coefs_to_pacf(phi: &[f64]) -> Vec<f64> {
    let mut cur = phi.to_vec();
    let mut pacf = vec![0.0; phi.len()];
    for k in (0..phi.len()).rev() {
        let r = cur[k];
        pacf[k] = r;
        if k == 0 {
            break;
        }
        let denom = 1.0 - r * r;
        let prev: Vec<f64> = (0..k).map(|j| (cur[j] + r * cur[k - 1 - j]) / denom).collect();
        cur = prev;
    }
    pacf
}

const PACF_BOUND: f64 = 4.0; // tanh(4) ≈ 0.9993: keeps roots off the unit circle.

/// PACF parameters (tanh-mapped) → AR and MA coefficients, on the stack.
fn unpack(params: &[f64], p: usize, q: usize) -> ([f64; MAX_R], [f64; MAX_R]) {
    fn to_coefs(raw: &[f64], out: &mut [f64; MAX_R]) {
        let mut prev = [0.0; MAX_R];
        for (k, u) in raw.iter().enumerate() {
            let r = u.clamp(-PACF_BOUND, PACF_BOUND).tanh();
            prev[..k].copy_from_slice(&out[..k]);
            for j in 0..k {
                out[j] = prev[j] - r * prev[k - 1 - j];
            }
            out[k] = r;
        }
    }
    let mut ar = [0.0; MAX_R];
    let mut ma = [0.0; MAX_R];
    to_coefs(&params[..p], &mut ar);
    to_coefs(&params[p..p + q], &mut ma);
    // θ(B) = 1 + Σθ_i B^i is invertible iff −θ is a stationary AR polynomial.
    ma[..q].iter_mut().for_each(|c| *c = -*c);
    (ar, ma)
}

/// Stationary state covariance P solving P = T P T' + R R' for Harvey's ARMA form.
#[cfg(test)]
fn initial_covariance(ar: &[f64], ma: &[f64], r: usize) -> Vec<f64> {
    let mut out = [0.0; MAX_R * MAX_R];
    initial_covariance_into(ar, ma, r, &mut out);
    (0..r * r).map(|k| out[(k / r) * MAX_R + k % r]).collect()
}

/// As above, written into `out` with row stride [`MAX_R`]; no heap work for r ≤ 6.
fn initial_covariance_into(ar: &[f64], ma: &[f64], r: usize, out: &mut [f64; MAX_R * MAX_R]) {
    if r == 1 {
        let phi = ar.first().copied().unwrap_or(0.0);
        out[0] = 1.0 / (1.0 - phi * phi);
        return;
    }
    // Unknowns: upper triangle of P, vectorised.
    let idx = |i: usize, j: usize| -> usize {
        let (a, b) = if i <= j { (i, j) } else { (j, i) };
        a * r - a * (a + 1) / 2 + b
    };
    const M_MAX: usize = MAX_R * (MAX_R + 1) / 2;
    let m = r * (r + 1) / 2;
    let phi = |i: usize| if i < ar.len() { ar[i] } else { 0.0 };
    let rv = |i: usize| {
        if i == 0 {
            1.0
        } else if i - 1 < ma.len() {
            ma[i - 1]
        } else {
            0.0
        }
    };
    let mut a = [0.0; M_MAX * M_MAX];
    let mut b = [0.0; M_MAX];
    // (T P T')_{ij} = φ_i φ_j P00 + φ_i P0,j+1 + φ_j P_{i+1},0 + P_{i+1,j+1}
    for i in 0..r {
        for j in i..r {
            let row = idx(i, j);
            a[row * m + row] += 1.0;
            a[row * m + idx(0, 0)] -= phi(i) * phi(j);
            if j + 1 < r {
                a[row * m + idx(0, j + 1)] -= phi(i);
            }
            if i + 1 < r {
                a[row * m + idx(i + 1, 0)] -= phi(j);
            }
            if i + 1 < r && j + 1 < r {
                a[row * m + idx(i + 1, j + 1)] -= 1.0;
            }
            b[row] = rv(i) * rv(j);
        }
    }
    let ok = crate::linalg::solve_in_place(&mut a[..m * m], &mut b[..m], m);
    for i in 0..r {
        for j in 0..r {
            out[i * MAX_R + j] = if ok { b[idx(i, j)] } else { 0.0 };
        }
    }
}

struct FilterOutput {
    loglik: f64,
    sigma2: f64,
    state: Vec<f64>,
    innovations: Vec<f64>,
}

/// Largest state dimension: max(p, q + 1) with p, q ≤ 5.
const MAX_R: usize = 6;

/// Kalman filter of the ARMA series `x − mu`; σ² concentrated out.
///
/// Works on fixed-size stack arrays (no allocation per step). Once the prediction
/// covariance stops changing (steady state: exactly after p steps for a pure AR, soon
/// after for an invertible MA), the covariance recursions are skipped and only the
/// state is propagated with the frozen gain.
fn kalman(x: &[f64], mu: f64, ar: &[f64], ma: &[f64], keep_innovations: bool) -> Option<FilterOutput> {
    let r = ar.len().max(ma.len() + 1);
    if r > MAX_R {
        return None;
    }
    let mut phi = [0.0; MAX_R];
    phi[..ar.len()].copy_from_slice(ar);
    let mut rv = [0.0; MAX_R];
    rv[0] = 1.0;
    rv[1..=ma.len()].copy_from_slice(ma);
    let mut p = [0.0; MAX_R * MAX_R];
    initial_covariance_into(ar, ma, r, &mut p);
    let mut a = [0.0; MAX_R];
    let mut tp = [0.0; MAX_R * MAX_R];
    let mut k = [0.0; MAX_R];
    let mut prow = [0.0; MAX_R];
    let (mut ssq, mut log_f_sum, mut f_prod) = (0.0, 0.0, 1.0);
    let mut innovations = Vec::new();
    if keep_innovations {
        innovations.reserve(x.len());
    }
    let n = x.len();
    let mut steady = false;
    let mut f = p[0];
    for &xt in x {
        let v = xt - mu - a[0];
        if !steady {
            f = p[0];
            if !f.is_finite() || f <= 0.0 {
                return None;
            }
            for i in 0..r {
                k[i] = p[i * MAX_R] / f;
            }
        }
        if keep_innovations {
            innovations.push(v);
        }
        ssq += v * v / f;
        f_prod *= f;
        if f_prod > 1e100 {
            log_f_sum += f_prod.ln();
            f_prod = 1.0;
        }
        // Update and predict the state: a = T (a + K v).
        for i in 0..r {
            a[i] += k[i] * v;
        }
        let a0 = a[0];
        for i in 0..r {
            a[i] = phi[i] * a0 + if i + 1 < r { a[i + 1] } else { 0.0 };
        }
        if steady {
            continue;
        }
        // P ← P − K P[0,:];  P ← T P T' + R R'.
        prow[..r].copy_from_slice(&p[..r]);
        for i in 0..r {
            for j in 0..r {
                p[i * MAX_R + j] -= k[i] * prow[j];
            }
        }
        for i in 0..r {
            for j in 0..r {
                tp[i * MAX_R + j] = phi[i] * p[j] + if i + 1 < r { p[(i + 1) * MAX_R + j] } else { 0.0 };
            }
        }
        let mut change = 0.0f64;
        for i in 0..r {
            for j in 0..r {
                let new = tp[i * MAX_R] * phi[j] + if j + 1 < r { tp[i * MAX_R + j + 1] } else { 0.0 } + rv[i] * rv[j];
                change = change.max((new - p[i * MAX_R + j]).abs());
                p[i * MAX_R + j] = new;
            }
        }
        if change < 1e-10 {
            // Gain and innovation variance are now constant.
            steady = true;
            f = p[0];
            if !f.is_finite() || f <= 0.0 {
                return None;
            }
            for i in 0..r {
                k[i] = p[i * MAX_R] / f;
            }
        }
    }
    log_f_sum += f_prod.ln();
    let sigma2 = ssq / n as f64;
    if sigma2.is_nan() || sigma2 <= 0.0 {
        return None;
    }
    let loglik = -0.5 * (n as f64 * (2.0 * std::f64::consts::PI * sigma2).ln() + log_f_sum + n as f64);
    Some(FilterOutput { loglik, sigma2, state: a[..r].to_vec(), innovations })
}

fn difference(y: &[f64], d: usize) -> Vec<f64> {
    let mut x = y.to_vec();
    for _ in 0..d {
        x = stats::diff(&x);
    }
    x
}

/// Fits ARIMA with a given order by exact maximum likelihood.
pub fn fit_arima(y: &[f64], order: ArimaOrder) -> Result<ArimaFit> {
    fit_arima_from(y, order, None)
}

/// Raw optimiser coordinates of `order` started from a neighbouring fit: its partial
/// autocorrelations are kept (a new trailing one starts at 0, which leaves the
/// polynomial unchanged), so the search starts at the neighbour's optimum.
fn warm_start(from: &ArimaFit, order: ArimaOrder) -> Vec<f64> {
    let o = from.order;
    let mut x = Vec::with_capacity(order.p + order.q + 1);
    x.extend((0..order.p).map(|i| if i < o.p { from.raw[i] } else { 0.0 }));
    x.extend((0..order.q).map(|i| if i < o.q { from.raw[o.p + i] } else { 0.0 }));
    if order.constant {
        x.push(if o.constant { from.raw[o.p + o.q] } else { 0.0 });
    }
    x
}

/// As [`fit_arima`]; with `start`, the likelihood search begins at a neighbour's optimum.
fn fit_arima_from(y: &[f64], order: ArimaOrder, start: Option<&ArimaFit>) -> Result<ArimaFit> {
    check_series(y, order.d + 2)?;
    let w = difference(y, order.d);
    let n = w.len();
    let (p, q) = (order.p, order.q);
    let k = p + q + order.constant as usize;
    let w_mean = stats::mean(&w);
    let w_sd = stats::variance(&w).sqrt().max(1e-8 * w_mean.abs().max(1.0));
    let neg_loglik = |params: &[f64]| -> f64 {
        let (ar, ma) = unpack(params, p, q);
        let mu = if order.constant { w_mean + params[p + q] * w_sd } else { 0.0 };
        match kalman(&w, mu, &ar[..p], &ma[..q], false) {
            Some(out) => -out.loglik,
            None => f64::INFINITY,
        }
    };
    // Start from the Yule–Walker-like AR(1) guess; MA at zero.
    let mut x0 = vec![0.0; k];
    if p > 0 && n > 2 {
        let r1 = lag1_autocorrelation(&w);
        x0[0] = r1.clamp(-0.9, 0.9).atanh();
    }
    let mut step = 0.3;
    if let Some(from) = start.filter(|f| f.order.d == order.d) {
        x0 = warm_start(from, order);
        step = 0.15;
    }
    let steps = vec![step; k];
    let best = if p + q == 0 {
        // White noise: the sample mean is the exact MLE of the mean.
        vec![0.0; k]
    } else {
        let nm = NelderMead { max_evals: 250 * k, f_tol: 1e-7 };
        let (b, _) = nm.minimize(neg_loglik, &x0, &steps);
        b
    };
    let (ar, ma) = unpack(&best, p, q);
    let (ar, ma) = (ar[..p].to_vec(), ma[..q].to_vec());
    let mean = if order.constant { w_mean + best[p + q] * w_sd } else { 0.0 };
    let out =
        kalman(&w, mean, &ar, &ma, true).ok_or_else(|| ForecastError::Fit("ARIMA likelihood undefined".into()))?;
    let n_params = k + 1;
    let nf = n as f64;
    let aicc = if nf - n_params as f64 - 1.0 > 0.0 {
        -2.0 * out.loglik
            + 2.0 * n_params as f64
            + 2.0 * (n_params * (n_params + 1)) as f64 / (nf - n_params as f64 - 1.0)
    } else {
        f64::INFINITY
    };
    // One-step fitted values on the original scale (first d undefined).
    let mut fitted = vec![f64::NAN; order.d];
    let mut wfit: Vec<f64> = w.iter().zip(&out.innovations).map(|(v, e)| v - e).collect();
    if order.d == 0 {
        fitted.append(&mut wfit);
    } else {
        // ŷ_t = y_t − innovation_t since differencing is linear in y_t.
        for (i, e) in out.innovations.iter().enumerate() {
            fitted.push(y[i + order.d] - e);
        }
    }
    Ok(ArimaFit {
        order,
        ar,
        ma,
        mean,
        sigma2: out.sigma2,
        loglik: out.loglik,
        aicc,
        state: out.state,
        y_tail: y[y.len() - order.d.max(1)..].to_vec(),
        fitted,
        raw: best,
    })
}

/// Smallest root modulus of 1 − c₁z − … − c_k z^k (Durand–Kerner); ∞ for k = 0.
fn min_root_modulus(coefs: &[f64]) -> f64 {
    let k = coefs.iter().rposition(|c| c.abs() > 1e-12).map_or(0, |i| i + 1);
    if k == 0 {
        return f64::INFINITY;
    }
    if k == 1 {
        return 1.0 / coefs[0].abs();
    }
    // Monic form: z^k + a_{k-1} z^{k-1} + … + a_0 with a_j = −c_{k−j}/c_k … built from 1 − Σ c_i z^i.
    let lead = -coefs[k - 1];
    let poly: Vec<f64> = (0..k).map(|j| if j == 0 { 1.0 / lead } else { -coefs[j - 1] / lead }).collect();
    let eval = |re: f64, im: f64| -> (f64, f64) {
        // Horner on z^k + Σ poly[j] z^j.
        let (mut pr, mut pi) = (1.0, 0.0);
        for j in (0..k).rev() {
            let (nr, ni) = (pr * re - pi * im + poly[j], pr * im + pi * re);
            pr = nr;
            pi = ni;
        }
        (pr, pi)
    };
    let mut roots: Vec<(f64, f64)> = (0..k)
        .map(|j| {
            let ang = 0.4 + 2.0 * std::f64::consts::PI * j as f64 / k as f64;
            (0.9 * ang.cos(), 0.9 * ang.sin())
        })
        .collect();
    for _ in 0..500 {
        let mut delta = 0.0f64;
        for i in 0..k {
            let (zr, zi) = roots[i];
            let (mut dr, mut di) = (1.0, 0.0);
            for (j, &(wr, wi)) in roots.iter().enumerate() {
                if j != i {
                    let (ar, ai) = (zr - wr, zi - wi);
                    let (nr, ni) = (dr * ar - di * ai, dr * ai + di * ar);
                    dr = nr;
                    di = ni;
                }
            }
            let (fr, fi) = eval(zr, zi);
            let den = dr * dr + di * di;
            if den == 0.0 {
                continue;
            }
            let (qr, qi) = ((fr * dr + fi * di) / den, (fi * dr - fr * di) / den);
            roots[i] = (zr - qr, zi - qi);
            delta = delta.max(qr.abs() + qi.abs());
        }
        if delta < 1e-12 {
            break;
        }
    }
    roots.iter().map(|(r, i)| (r * r + i * i).sqrt()).fold(f64::INFINITY, f64::min)
}

fn lag1_autocorrelation(x: &[f64]) -> f64 {
    let m = stats::mean(x);
    let den: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / den
}

impl ArimaFit {
    pub fn forecast(&self, horizon: usize) -> Forecast {
        let r = self.state.len();
        let phi = |i: usize| if i < self.ar.len() { self.ar[i] } else { 0.0 };
        let mut a = self.state.clone();
        let mut w_hat = Vec::with_capacity(horizon);
        for _ in 0..horizon {
            w_hat.push(a[0] + self.mean);
            let a0 = a[0];
            for i in 0..r {
                a[i] = phi(i) * a0 + if i + 1 < r { a[i + 1] } else { 0.0 };
            }
        }
        // Integrate back d times using the last observed levels.
        let mut mean = w_hat;
        for level in (0..self.order.d).rev() {
            let tail = difference(&self.y_tail, level);
            let mut last = *tail.last().expect("tail holds d values");
            for v in mean.iter_mut() {
                last += *v;
                *v = last;
            }
        }
        // ψ-weights of φ(B)(1−B)^d / θ(B) give the h-step variance.
        let mut full_ar = self.ar.clone();
        for _ in 0..self.order.d {
            let mut next = vec![0.0; full_ar.len() + 1];
            next[0] = 1.0;
            for (i, c) in full_ar.iter().enumerate() {
                next[i] += c;
                next[i + 1] -= c;
            }
            full_ar = next;
        }
        let mut psi = vec![1.0; horizon];
        for j in 1..horizon {
            let mut v = if j <= self.ma.len() { self.ma[j - 1] } else { 0.0 };
            for i in 1..=j.min(full_ar.len()) {
                v += full_ar[i - 1] * psi[j - i];
            }
            psi[j] = v;
        }
        let mut acc = 0.0;
        let sd = psi
            .iter()
            .map(|p| {
                acc += p * p;
                (self.sigma2 * acc).sqrt()
            })
            .collect();
        Forecast {
            model: format!(
                "ARIMA({},{},{}){}",
                self.order.p,
                self.order.d,
                self.order.q,
                if self.order.constant { if self.order.d == 0 { " with mean" } else { " with drift" } } else { "" }
            ),
            mean,
            sd,
            fitted: self.fitted.clone(),
        }
    }
}

/// Hyndman–Khandakar stepwise search for a non-seasonal ARIMA model.
pub fn auto_arima_fit(y: &[f64]) -> Result<ArimaFit> {
    auto_arima_fit_max_d(y, 2)
}

/// As [`auto_arima_fit`] with at most `max_d` differences.
pub fn auto_arima_fit_max_d(y: &[f64], max_d: usize) -> Result<ArimaFit> {
    check_series(y, 3)?;
    let n = y.len();
    let d = ndiffs(y, max_d);
    let max_p = 5usize.min(n / 3);
    let max_q = 5usize.min(n / 3);
    let max_order = 5;
    let allow_constant = d <= 1;
    let mut cache: std::collections::HashMap<ArimaOrder, Option<ArimaFit>> = std::collections::HashMap::new();
    let mut try_fit = |p: usize, q: usize, constant: bool, from: Option<&ArimaFit>| -> Option<ArimaFit> {
        let order = ArimaOrder { p, d, q, constant: constant && allow_constant };
        if p > max_p || q > max_q || p + q > max_order {
            return None;
        }
        cache
            .entry(order)
            .or_insert_with(|| {
                // Like R's auto.arima: reject fits with roots near the unit circle.
                fit_arima_from(y, order, from).ok().filter(|f| {
                    f.aicc.is_finite()
                        && min_root_modulus(&f.ar) > 1.01
                        && min_root_modulus(&f.ma.iter().map(|c| -c).collect::<Vec<_>>()) > 1.01
                })
            })
            .clone()
    };
    let mut best: Option<ArimaFit> = None;
    let consider = |best: &mut Option<ArimaFit>, cand: Option<ArimaFit>| -> bool {
        match cand {
            Some(c) if best.as_ref().is_none_or(|b| c.aicc < b.aicc - 1e-9) => {
                *best = Some(c);
                true
            }
            _ => false,
        }
    };
    // Start at (2, d, 2), or (1, d, 1) for fewer than 10 observations (as auto.arima).
    let start_order = if n < 10 { 1 } else { 2 };
    consider(&mut best, try_fit(start_order.min(max_p), start_order.min(max_q), true, None));
    consider(&mut best, try_fit(0, 0, true, None));
    consider(&mut best, try_fit(1.min(max_p), 0, true, None));
    consider(&mut best, try_fit(0, 1.min(max_q), true, None));
    if allow_constant {
        consider(&mut best, try_fit(0, 0, false, None));
    }
    let Some(mut current) = best.clone() else {
        return Err(ForecastError::Fit("no ARIMA candidate could be fitted".into()));
    };
    for _ in 0..100 {
        let o = current.order;
        let (p, q) = (o.p as isize, o.q as isize);
        let moves: [(isize, isize, bool); 9] = [
            (p - 1, q, o.constant),
            (p, q - 1, o.constant),
            (p + 1, q, o.constant),
            (p, q + 1, o.constant),
            (p - 1, q - 1, o.constant),
            (p - 1, q + 1, o.constant),
            (p + 1, q - 1, o.constant),
            (p + 1, q + 1, o.constant),
            (p, q, !o.constant),
        ];
        let mut improved = false;
        for (np, nq, c) in moves {
            if np < 0 || nq < 0 || (c && !allow_constant) {
                continue;
            }
            if consider(&mut best, try_fit(np as usize, nq as usize, c, Some(&current))) {
                improved = true;
                break;
            }
        }
        if !improved {
            break;
        }
        current = best.clone().expect("improved implies some");
    }
    Ok(current)
}

pub fn auto_arima(y: &[f64], horizon: usize) -> Result<Forecast> {
    Ok(auto_arima_fit(y)?.forecast(horizon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_modulus_of_known_polynomials() {
        // 1 − 0.5z → root 2.
        assert!((min_root_modulus(&[0.5]) - 2.0).abs() < 1e-12);
        // (1 − 0.5z)(1 − 0.25z) = 1 − 0.75z + 0.125z² → roots 2 and 4.
        assert!((min_root_modulus(&[0.75, -0.125]) - 2.0).abs() < 1e-9);
        // 1 + 0.81z² → |z| = 1/0.9.
        assert!((min_root_modulus(&[0.0, -0.81]) - 1.0 / 0.9).abs() < 1e-9);
    }

    #[test]
    fn pacf_round_trip() {
        let phi = pacf_to_coefs(&[0.5, -0.3, 0.2]);
        let back = coefs_to_pacf(&phi);
        for (a, b) in back.iter().zip([0.5, -0.3, 0.2]) {
            assert!((a - b).abs() < 1e-12);
        }
        // AR(2) from pacf (r1, r2): φ2 = r2, φ1 = r1(1 − r2).
        let phi2 = pacf_to_coefs(&[0.5, -0.3]);
        assert!((phi2[0] - 0.5 * 1.3).abs() < 1e-12 && (phi2[1] + 0.3).abs() < 1e-12);
    }

    #[test]
    fn stationary_covariance_matches_ar1_and_ma1_formulas() {
        // ARMA(1,1): Var(x) = (1 + 2φθ + θ²)/(1 − φ²).
        let (phi, theta) = (0.6, 0.4);
        let p = initial_covariance(&[phi], &[theta], 2);
        let expected = (1.0 + 2.0 * phi * theta + theta * theta) / (1.0 - phi * phi);
        assert!((p[0] - expected).abs() < 1e-10, "{} vs {}", p[0], expected);
    }

    /// For a white-noise model the exact likelihood is the iid Gaussian one.
    #[test]
    fn white_noise_likelihood_is_gaussian() {
        let x = [0.3, -1.2, 0.8, 0.1, -0.4, 1.5];
        let out = kalman(&x, 0.0, &[], &[], false).unwrap();
        let n = x.len() as f64;
        let s2 = x.iter().map(|v| v * v).sum::<f64>() / n;
        let ll = -0.5 * n * ((2.0 * std::f64::consts::PI * s2).ln() + 1.0);
        assert!((out.loglik - ll).abs() < 1e-12);
    }

    #[test]
    fn random_walk_with_drift_is_selected_for_a_noisy_trend() {
        // Deterministic pseudo-noise around a drift of 2 per step.
        let mut y = vec![100.0];
        for t in 1..40 {
            let e = ((t * 7919) % 13) as f64 / 6.0 - 1.0;
            y.push(y[t - 1] + 2.0 + e);
        }
        let fit = auto_arima_fit(&y).unwrap();
        assert_eq!(fit.order.d, 1);
        let fc = fit.forecast(3);
        let slope = (fc.mean[2] - fc.mean[0]) / 2.0;
        assert!((slope - 2.0).abs() < 0.5, "slope {slope}, model {}", fc.model);
        assert!(fc.sd[2] > fc.sd[0]);
    }

    #[test]
    fn kpss_flags_trend_but_not_noise() {
        let trend: Vec<f64> = (0..30).map(|t| t as f64).collect();
        assert!(kpss_statistic(&trend) > 0.463);
        let noise: Vec<f64> = (0..30).map(|t| (((t * 7919) % 17) as f64) - 8.0).collect();
        assert!(kpss_statistic(&noise) < 0.463);
        assert_eq!(ndiffs(&trend, 2), 1);
    }
}
