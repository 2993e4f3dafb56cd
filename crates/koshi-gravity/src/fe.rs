//! Factors (categorical codes) and the weighted fixed-effect projection ("demeaning").
//!
//! The projection solves the normal equations of the fixed-effect coefficients,
//! D'WD α = D'W x, by conjugate gradients with the diagonal (group weight) preconditioner.
//! Each iteration costs one gather and one scatter per fixed-effect dimension. The coefficient
//! vector α is kept between calls, which gives the warm start between IRLS steps for free.
//! With one fixed effect the projection is exact in a single pass.

use std::collections::HashMap;

/// A categorical variable restricted to the estimation sample: codes `0..labels.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    pub name: String,
    pub codes: Vec<u32>,
    pub labels: Vec<String>,
}

impl Factor {
    pub fn n_levels(&self) -> usize {
        self.labels.len()
    }

    /// Builds a factor with levels ordered by first appearance of `keys`, then relabels so
    /// that levels are sorted by `sort_key`.
    pub(crate) fn from_keys<K: std::hash::Hash + Eq + Copy>(
        name: String,
        keys: &[K],
        label: impl Fn(usize) -> String,
        numeric_order: Option<&dyn Fn(usize) -> f64>,
    ) -> Factor {
        let mut index: HashMap<K, u32> = HashMap::with_capacity(keys.len() / 4 + 16);
        let mut first_row: Vec<usize> = Vec::new();
        let mut codes = Vec::with_capacity(keys.len());
        for (row, k) in keys.iter().enumerate() {
            let next = first_row.len() as u32;
            let code = *index.entry(*k).or_insert_with(|| {
                first_row.push(row);
                next
            });
            codes.push(code);
        }
        let labels: Vec<String> = first_row.iter().map(|&r| label(r)).collect();
        let mut order: Vec<usize> = (0..labels.len()).collect();
        match numeric_order {
            Some(f) => {
                let vals: Vec<f64> = first_row.iter().map(|&r| f(r)).collect();
                order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
            }
            None => order.sort_by(|&a, &b| labels[a].cmp(&labels[b])),
        }
        let mut new_code = vec![0u32; labels.len()];
        for (new, &old) in order.iter().enumerate() {
            new_code[old] = new as u32;
        }
        let sorted_labels = order.iter().map(|&o| labels[o].clone()).collect();
        for c in codes.iter_mut() {
            *c = new_code[*c as usize];
        }
        Factor { name, codes, labels: sorted_labels }
    }

    /// Keeps the rows in `rows` and renumbers the remaining levels compactly (order kept).
    pub fn subset(&self, rows: &[usize]) -> Factor {
        let mut map = vec![u32::MAX; self.labels.len()];
        for &r in rows {
            map[self.codes[r] as usize] = 0;
        }
        let mut labels = Vec::new();
        for (old, m) in map.iter_mut().enumerate() {
            if *m == 0 {
                *m = labels.len() as u32;
                labels.push(self.labels[old].clone());
            }
        }
        let codes = rows.iter().map(|&r| map[self.codes[r] as usize]).collect();
        Factor { name: self.name.clone(), codes, labels }
    }

    /// Whether every level of `self` falls within a single level of `outer`.
    pub fn is_nested_in(&self, outer: &Factor) -> bool {
        let mut seen = vec![u32::MAX; self.n_levels()];
        for (&c, &o) in self.codes.iter().zip(&outer.codes) {
            let s = &mut seen[c as usize];
            if *s == u32::MAX {
                *s = o;
            } else if *s != o {
                return false;
            }
        }
        true
    }

    /// Interaction of two factors on the same rows.
    pub fn interact(&self, other: &Factor) -> Factor {
        let m = other.n_levels() as u64;
        let keys: Vec<u64> = self.codes.iter().zip(&other.codes).map(|(&a, &b)| a as u64 * m + b as u64).collect();
        Factor::from_keys(
            format!("{}^{}", self.name, other.name),
            &keys,
            |r| format!("{}^{}", self.labels[self.codes[r] as usize], other.labels[other.codes[r] as usize]),
            Some(&|r| keys[r] as f64),
        )
    }
}

/// Outcome of one projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectionStats {
    pub iterations: usize,
    pub converged: bool,
}

/// Weighted projection onto the orthogonal complement of the fixed-effect dummies.
pub struct Demeaner<'a> {
    dims: Vec<&'a [u32]>,
    offsets: Vec<usize>,
    n_coef: usize,
    weights: Option<&'a [f64]>,
    inv_group_weight: Vec<f64>,
    n: usize,
}

impl<'a> Demeaner<'a> {
    pub fn new(factors: &'a [Factor], weights: Option<&'a [f64]>, n: usize) -> Self {
        let dims: Vec<&[u32]> = factors.iter().map(|f| f.codes.as_slice()).collect();
        let mut offsets = Vec::with_capacity(factors.len());
        let mut n_coef = 0;
        for f in factors {
            offsets.push(n_coef);
            n_coef += f.n_levels();
        }
        let mut group_weight = vec![0.0; n_coef];
        for (k, codes) in dims.iter().enumerate() {
            let g = &mut group_weight[offsets[k]..];
            match weights {
                Some(w) => codes.iter().zip(w).for_each(|(&c, &wi)| g[c as usize] += wi),
                None => codes.iter().for_each(|&c| g[c as usize] += 1.0),
            }
        }
        let inv_group_weight = group_weight.iter().map(|&s| if s > 0.0 { 1.0 / s } else { 0.0 }).collect();
        Demeaner { dims, offsets, n_coef, weights, inv_group_weight, n }
    }

    /// Length of the fixed-effect coefficient vector (sum of levels).
    pub fn n_coef(&self) -> usize {
        self.n_coef
    }

    /// out = v - D·alpha
    fn subtract_effects(&self, alpha: &[f64], out: &mut [f64]) {
        for (k, codes) in self.dims.iter().enumerate() {
            let a = &alpha[self.offsets[k]..];
            out.iter_mut().zip(codes.iter()).for_each(|(o, &c)| *o -= a[c as usize]);
        }
    }

    /// out = D'W v
    fn scatter(&self, v: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|x| *x = 0.0);
        for (k, codes) in self.dims.iter().enumerate() {
            let o = &mut out[self.offsets[k]..];
            match self.weights {
                Some(w) => codes.iter().zip(v).zip(w).for_each(|((&c, &vi), &wi)| o[c as usize] += vi * wi),
                None => codes.iter().zip(v).for_each(|(&c, &vi)| o[c as usize] += vi),
            }
        }
    }

    fn wnorm2(&self, v: &[f64]) -> f64 {
        match self.weights {
            Some(w) => v.iter().zip(w).map(|(x, w)| x * x * w).sum(),
            None => v.iter().map(|x| x * x).sum(),
        }
    }

    /// One fused pass: t = D·p, q = D'W t; returns p'q = Σ w t². No n-length temporaries.
    fn apply_normal_operator(&self, p: &[f64], q: &mut [f64]) -> f64 {
        q.iter_mut().for_each(|v| *v = 0.0);
        let mut pq = 0.0;
        let w = |i: usize| self.weights.map_or(1.0, |w| w[i]);
        match self.dims.as_slice() {
            [c0, c1] => {
                let (p0, p1) = p.split_at(self.offsets[1]);
                let (q0, q1) = q.split_at_mut(self.offsets[1]);
                for i in 0..self.n {
                    let (a, b) = (c0[i] as usize, c1[i] as usize);
                    let t = p0[a] + p1[b];
                    let wt = w(i) * t;
                    pq += wt * t;
                    q0[a] += wt;
                    q1[b] += wt;
                }
            }
            [c0, c1, c2] => {
                let (p0, rest) = p.split_at(self.offsets[1]);
                let (p1, p2) = rest.split_at(self.offsets[2] - self.offsets[1]);
                let (q0, rest) = q.split_at_mut(self.offsets[1]);
                let (q1, q2) = rest.split_at_mut(self.offsets[2] - self.offsets[1]);
                for i in 0..self.n {
                    let (a, b, c) = (c0[i] as usize, c1[i] as usize, c2[i] as usize);
                    let t = p0[a] + p1[b] + p2[c];
                    let wt = w(i) * t;
                    pq += wt * t;
                    q0[a] += wt;
                    q1[b] += wt;
                    q2[c] += wt;
                }
            }
            dims => {
                for i in 0..self.n {
                    let mut t = 0.0;
                    for (k, codes) in dims.iter().enumerate() {
                        t += p[self.offsets[k] + codes[i] as usize];
                    }
                    let wt = w(i) * t;
                    pq += wt * t;
                    for (k, codes) in dims.iter().enumerate() {
                        q[self.offsets[k] + codes[i] as usize] += wt;
                    }
                }
            }
        }
        pq
    }

    /// Projects `x` into `out` (= x − D α̂), updating `alpha` in place (its input is the warm
    /// start). Stops when the preconditioned residual norm, relative to ‖out‖_W, is below `tol`.
    pub fn project(&self, x: &[f64], alpha: &mut [f64], out: &mut [f64], tol: f64, max_iter: usize) -> ProjectionStats {
        debug_assert_eq!(x.len(), self.n);
        out.copy_from_slice(x);
        if self.dims.is_empty() {
            return ProjectionStats { iterations: 0, converged: true };
        }
        self.subtract_effects(alpha, out);
        let mut r = vec![0.0; self.n_coef];
        self.scatter(out, &mut r);
        if self.dims.len() == 1 {
            // One fixed effect: the group mean is the exact solution.
            for (g, rg) in r.iter().enumerate() {
                alpha[g] += rg * self.inv_group_weight[g];
            }
            let codes = self.dims[0];
            out.iter_mut()
                .zip(codes.iter())
                .for_each(|(o, &c)| *o -= r[c as usize] * self.inv_group_weight[c as usize]);
            return ProjectionStats { iterations: 1, converged: true };
        }
        // Below this the remainder is rounding noise: stop even if x is (nearly) absorbed.
        let noise_floor = 1e-28 * self.wnorm2(x);
        // ‖out‖ is only refreshed when the residual test passes, so iterations touch no n-vectors
        // except the codes and weights.
        let mut denom = self.wnorm2(out);
        let mut z: Vec<f64> = r.iter().zip(&self.inv_group_weight).map(|(a, b)| a * b).collect();
        let mut p = z.clone();
        let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let mut q = vec![0.0; self.n_coef];
        let tol2 = tol * tol;
        let mut it = 0;
        let refresh = |alpha: &[f64], out: &mut [f64]| {
            out.copy_from_slice(x);
            self.subtract_effects(alpha, out);
            self.wnorm2(out)
        };
        loop {
            if rz <= tol2 * denom || rz <= noise_floor {
                denom = refresh(alpha, out);
                if rz <= tol2 * denom || rz <= noise_floor {
                    return ProjectionStats { iterations: it, converged: true };
                }
            }
            if it >= max_iter {
                refresh(alpha, out);
                return ProjectionStats { iterations: it, converged: false };
            }
            it += 1;
            let pq = self.apply_normal_operator(&p, &mut q);
            if !(pq > 0.0) {
                denom = refresh(alpha, out);
                return ProjectionStats { iterations: it, converged: rz <= tol2 * denom };
            }
            let step = rz / pq;
            alpha.iter_mut().zip(&p).for_each(|(a, pi)| *a += step * pi);
            r.iter_mut().zip(&q).for_each(|(ri, qi)| *ri -= step * qi);
            z.iter_mut().zip(r.iter().zip(&self.inv_group_weight)).for_each(|(zi, (ri, m))| *zi = ri * m);
            let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
            let beta = rz_new / rz;
            p.iter_mut().zip(&z).for_each(|(pi, zi)| *pi = zi + beta * *pi);
            rz = rz_new;
        }
    }

    /// Projects several columns at once with the same weights. The columns share one pass over
    /// the codes per iteration (coefficients stored interleaved), which is what bounds the cost.
    pub fn project_many(
        &self,
        xs: &[&[f64]],
        alphas: &mut [Vec<f64>],
        outs: &mut [Vec<f64>],
        tol: f64,
        max_iter: usize,
    ) -> Vec<ProjectionStats> {
        let m = xs.len();
        if m <= 1 || self.dims.len() <= 1 {
            return xs
                .iter()
                .zip(alphas.iter_mut())
                .zip(outs.iter_mut())
                .map(|((x, a), o)| self.project(x, a, o, tol, max_iter))
                .collect();
        }
        let l = self.n_coef;
        let tol2 = tol * tol;
        let mut r = vec![vec![0.0; l]; m];
        let mut z = vec![vec![0.0; l]; m];
        let mut p = vec![vec![0.0; l]; m];
        let mut rz = vec![0.0; m];
        let mut denom = vec![0.0; m];
        let mut noise_floor = vec![0.0; m];
        let mut stats = vec![ProjectionStats::default(); m];
        let mut active = vec![true; m];
        for c in 0..m {
            outs[c].copy_from_slice(xs[c]);
            self.subtract_effects(&alphas[c], &mut outs[c]);
            self.scatter(&outs[c], &mut r[c]);
            noise_floor[c] = 1e-28 * self.wnorm2(xs[c]);
            denom[c] = self.wnorm2(&outs[c]);
            for g in 0..l {
                z[c][g] = r[c][g] * self.inv_group_weight[g];
            }
            p[c].copy_from_slice(&z[c]);
            rz[c] = r[c].iter().zip(&z[c]).map(|(a, b)| a * b).sum();
        }
        let mut p_il = vec![0.0; l * m];
        let mut q_il = vec![0.0; l * m];
        let mut pq = vec![0.0; m];
        loop {
            for c in 0..m {
                if !active[c] {
                    continue;
                }
                let done = |rz: f64, d: f64| rz <= tol2 * d || rz <= noise_floor[c];
                if done(rz[c], denom[c]) {
                    outs[c].copy_from_slice(xs[c]);
                    self.subtract_effects(&alphas[c], &mut outs[c]);
                    denom[c] = self.wnorm2(&outs[c]);
                    if done(rz[c], denom[c]) {
                        active[c] = false;
                        stats[c].converged = true;
                        continue;
                    }
                }
                if stats[c].iterations >= max_iter {
                    outs[c].copy_from_slice(xs[c]);
                    self.subtract_effects(&alphas[c], &mut outs[c]);
                    active[c] = false;
                }
            }
            if !active.iter().any(|&a| a) {
                return stats;
            }
            for c in 0..m {
                let src = &p[c];
                let on = active[c];
                for g in 0..l {
                    p_il[g * m + c] = if on { src[g] } else { 0.0 };
                }
            }
            self.apply_normal_operator_many(&p_il, &mut q_il, &mut pq, m);
            for c in 0..m {
                if !active[c] {
                    continue;
                }
                stats[c].iterations += 1;
                if !(pq[c] > 0.0) {
                    outs[c].copy_from_slice(xs[c]);
                    self.subtract_effects(&alphas[c], &mut outs[c]);
                    denom[c] = self.wnorm2(&outs[c]);
                    stats[c].converged = rz[c] <= tol2 * denom[c];
                    active[c] = false;
                    continue;
                }
                let step = rz[c] / pq[c];
                let (alpha, pc, rc, zc) = (&mut alphas[c], &mut p[c], &mut r[c], &mut z[c]);
                let mut rz_new = 0.0;
                for g in 0..l {
                    alpha[g] += step * pc[g];
                    rc[g] -= step * q_il[g * m + c];
                    zc[g] = rc[g] * self.inv_group_weight[g];
                    rz_new += rc[g] * zc[g];
                }
                let beta = rz_new / rz[c];
                for g in 0..l {
                    pc[g] = zc[g] + beta * pc[g];
                }
                rz[c] = rz_new;
            }
        }
    }

    /// Fixed-width interleaved pass for three fixed effects (the gravity case).
    fn apply_three_fe<const M: usize>(&self, p: &[f64], q: &mut [f64], pq: &mut [f64]) {
        q.iter_mut().for_each(|v| *v = 0.0);
        let mut acc = [0.0; M];
        let (c0, c1, c2) = (self.dims[0], self.dims[1], self.dims[2]);
        let (o1, o2) = (self.offsets[1], self.offsets[2]);
        for i in 0..self.n {
            let a = c0[i] as usize * M;
            let b = (o1 + c1[i] as usize) * M;
            let d = (o2 + c2[i] as usize) * M;
            let wi = self.weights.map_or(1.0, |w| w[i]);
            let pa: &[f64; M] = p[a..a + M].try_into().expect("width");
            let pb: &[f64; M] = p[b..b + M].try_into().expect("width");
            let pd: &[f64; M] = p[d..d + M].try_into().expect("width");
            let mut wt = [0.0; M];
            for c in 0..M {
                let t = pa[c] + pb[c] + pd[c];
                wt[c] = wi * t;
                acc[c] += wt[c] * t;
            }
            for base in [a, b, d] {
                let qs: &mut [f64; M] = (&mut q[base..base + M]).try_into().expect("width");
                for c in 0..M {
                    qs[c] += wt[c];
                }
            }
        }
        pq.copy_from_slice(&acc);
    }

    /// Interleaved version of [`Self::apply_normal_operator`] for `m` columns.
    fn apply_normal_operator_many(&self, p: &[f64], q: &mut [f64], pq: &mut [f64], m: usize) {
        if self.dims.len() == 3 {
            match m {
                2 => return self.apply_three_fe::<2>(p, q, pq),
                3 => return self.apply_three_fe::<3>(p, q, pq),
                4 => return self.apply_three_fe::<4>(p, q, pq),
                _ => {}
            }
        }
        q.iter_mut().for_each(|v| *v = 0.0);
        pq.iter_mut().for_each(|v| *v = 0.0);
        let mut t = vec![0.0; m];
        let k_dims = self.dims.len();
        let mut base = vec![0usize; k_dims];
        for i in 0..self.n {
            t.iter_mut().for_each(|v| *v = 0.0);
            for k in 0..k_dims {
                let b = (self.offsets[k] + self.dims[k][i] as usize) * m;
                base[k] = b;
                for (tc, pv) in t.iter_mut().zip(&p[b..b + m]) {
                    *tc += pv;
                }
            }
            let wi = self.weights.map_or(1.0, |w| w[i]);
            for c in 0..m {
                let wt = wi * t[c];
                pq[c] += wt * t[c];
                t[c] = wt;
            }
            for &b in &base {
                for (qv, tc) in q[b..b + m].iter_mut().zip(&t) {
                    *qv += tc;
                }
            }
        }
    }
}
