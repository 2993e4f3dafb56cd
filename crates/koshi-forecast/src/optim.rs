//! Nelder–Mead simplex minimiser: derivative-free, robust on the small, bounded
//! likelihood surfaces of Theta and ARIMA.

pub struct NelderMead {
    pub max_evals: usize,
    pub f_tol: f64,
}

impl Default for NelderMead {
    fn default() -> Self {
        Self { max_evals: 1000, f_tol: 1e-8 }
    }
}

impl NelderMead {
    /// Minimise `f` from `x0` with initial per-coordinate `steps`; returns (argmin, min).
    pub fn minimize(&self, f: impl Fn(&[f64]) -> f64, x0: &[f64], steps: &[f64]) -> (Vec<f64>, f64) {
        let n = x0.len();
        if n == 0 {
            return (vec![], f(x0));
        }
        let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
        simplex.push(x0.to_vec());
        for i in 0..n {
            let mut x = x0.to_vec();
            x[i] += steps[i];
            simplex.push(x);
        }
        let mut values: Vec<f64> = simplex.iter().map(|x| sanitize(f(x))).collect();
        let mut evals = n + 1;
        let mut centroid = vec![0.0; n];
        let mut trial = vec![0.0; n];
        let mut trial2 = vec![0.0; n];
        while evals < self.max_evals {
            // Order: best first, worst last.
            let mut order: Vec<usize> = (0..=n).collect();
            order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
            simplex = order.iter().map(|&i| simplex[i].clone()).collect();
            values = order.iter().map(|&i| values[i]).collect();
            let spread = (values[n] - values[0]).abs();
            if spread <= self.f_tol * (values[0].abs() + self.f_tol) {
                break;
            }
            centroid.iter_mut().for_each(|c| *c = 0.0);
            for x in &simplex[..n] {
                for (c, v) in centroid.iter_mut().zip(x) {
                    *c += v / n as f64;
                }
            }
            let worst = simplex[n].clone();
            for i in 0..n {
                trial[i] = centroid[i] + (centroid[i] - worst[i]);
            }
            let f_reflect = sanitize(f(&trial));
            evals += 1;
            if f_reflect < values[0] {
                for i in 0..n {
                    trial2[i] = centroid[i] + 2.0 * (centroid[i] - worst[i]);
                }
                let f_expand = sanitize(f(&trial2));
                evals += 1;
                if f_expand < f_reflect {
                    simplex[n].copy_from_slice(&trial2);
                    values[n] = f_expand;
                } else {
                    simplex[n].copy_from_slice(&trial);
                    values[n] = f_reflect;
                }
            } else if f_reflect < values[n - 1] {
                simplex[n].copy_from_slice(&trial);
                values[n] = f_reflect;
            } else {
                let outside = f_reflect < values[n];
                for i in 0..n {
                    trial2[i] = if outside {
                        centroid[i] + 0.5 * (trial[i] - centroid[i])
                    } else {
                        centroid[i] + 0.5 * (worst[i] - centroid[i])
                    };
                }
                let f_contract = sanitize(f(&trial2));
                evals += 1;
                if f_contract < values[n].min(f_reflect) {
                    simplex[n].copy_from_slice(&trial2);
                    values[n] = f_contract;
                } else {
                    // Shrink towards the best vertex.
                    let best = simplex[0].clone();
                    for j in 1..=n {
                        for i in 0..n {
                            simplex[j][i] = best[i] + 0.5 * (simplex[j][i] - best[i]);
                        }
                        values[j] = sanitize(f(&simplex[j]));
                    }
                    evals += n;
                }
            }
        }
        let best = (0..=n).min_by(|&a, &b| values[a].total_cmp(&values[b])).unwrap_or(0);
        (simplex[best].clone(), values[best])
    }
}

/// Nelder–Mead on a box, as used for the Theta models: every trial point is clamped to
/// `[lower, upper]`, the coefficients adapt to the dimension (Gao & Han 2012), the initial
/// simplex moves each coordinate by a relative step (`zero_step` for zero coordinates), and
/// the search stops once the standard deviation of the simplex values is below `f_std_tol`.
/// A small start simplex keeps the search local to the conventional starting point.
pub struct BoxNelderMead {
    pub max_iter: usize,
    pub f_std_tol: f64,
    pub rel_step: f64,
    pub zero_step: f64,
}

impl BoxNelderMead {
    /// Minimise `f` from `x0` within `[lower, upper]`; returns (argmin, min).
    pub fn minimize(&self, f: impl Fn(&[f64]) -> f64, x0: &[f64], lower: &[f64], upper: &[f64]) -> (Vec<f64>, f64) {
        let n = x0.len();
        let clamp = |x: &mut [f64]| {
            for ((v, lo), hi) in x.iter_mut().zip(lower).zip(upper) {
                *v = v.clamp(*lo, *hi);
            }
        };
        let mut start = x0.to_vec();
        clamp(&mut start);
        if n == 0 {
            let v = sanitize(f(&start));
            return (start, v);
        }
        let nf = n as f64;
        let (gamma, rho, sigma) = (1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf);
        let mut simplex: Vec<Vec<f64>> = vec![start.clone(); n + 1];
        for (i, vertex) in simplex.iter_mut().take(n).enumerate() {
            let v = vertex[i];
            vertex[i] = if v == 0.0 { self.zero_step } else { v * (1.0 + self.rel_step) };
            clamp(vertex);
        }
        let mut values: Vec<f64> = simplex.iter().map(|x| sanitize(f(x))).collect();
        let mut centroid = vec![0.0; n];
        let mut reflect = vec![0.0; n];
        let mut trial = vec![0.0; n];
        for _ in 0..self.max_iter {
            let mean = values.iter().sum::<f64>() / (nf + 1.0);
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nf + 1.0);
            if var.sqrt() < self.f_std_tol {
                break;
            }
            let mut order: Vec<usize> = (0..=n).collect();
            order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
            let (best, worst, second) = (order[0], order[n], order[n - 1]);
            centroid.iter_mut().for_each(|c| *c = 0.0);
            for (j, x) in simplex.iter().enumerate() {
                if j != worst {
                    for (c, v) in centroid.iter_mut().zip(x) {
                        *c += v / nf;
                    }
                }
            }
            for i in 0..n {
                reflect[i] = 2.0 * centroid[i] - simplex[worst][i];
            }
            clamp(&mut reflect);
            let f_reflect = sanitize(f(&reflect));
            if values[best] <= f_reflect && f_reflect < values[second] {
                simplex[worst].copy_from_slice(&reflect);
                values[worst] = f_reflect;
                continue;
            }
            if f_reflect < values[best] {
                for i in 0..n {
                    trial[i] = centroid[i] + gamma * (reflect[i] - centroid[i]);
                }
                clamp(&mut trial);
                let f_expand = sanitize(f(&trial));
                if f_expand < f_reflect {
                    simplex[worst].copy_from_slice(&trial);
                    values[worst] = f_expand;
                } else {
                    simplex[worst].copy_from_slice(&reflect);
                    values[worst] = f_reflect;
                }
                continue;
            }
            let outside = f_reflect < values[worst];
            for i in 0..n {
                let towards = if outside { reflect[i] } else { simplex[worst][i] };
                trial[i] = centroid[i] + rho * (towards - centroid[i]);
            }
            clamp(&mut trial);
            let f_contract = sanitize(f(&trial));
            let accepted = if outside { f_contract <= f_reflect } else { f_contract < values[worst] };
            if accepted {
                simplex[worst].copy_from_slice(&trial);
                values[worst] = f_contract;
                continue;
            }
            let anchor = simplex[best].clone();
            for j in 0..=n {
                if j == best {
                    continue;
                }
                for i in 0..n {
                    simplex[j][i] = anchor[i] + sigma * (simplex[j][i] - anchor[i]);
                }
                clamp(&mut simplex[j]);
                values[j] = sanitize(f(&simplex[j]));
            }
        }
        let best = (0..=n).min_by(|&a, &b| values[a].total_cmp(&values[b])).unwrap_or(0);
        (simplex[best].clone(), values[best])
    }
}

fn sanitize(v: f64) -> f64 {
    if v.is_nan() { f64::INFINITY } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rosenbrock_minimum() {
        let nm = NelderMead { max_evals: 5000, f_tol: 1e-14 };
        let (x, fx) =
            nm.minimize(|p| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2), &[-1.2, 1.0], &[0.5, 0.5]);
        assert!(fx < 1e-8, "{fx}");
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3);
    }

    #[test]
    fn box_search_respects_bounds() {
        let nm = BoxNelderMead { max_iter: 2000, f_std_tol: 1e-14, rel_step: 0.05, zero_step: 1e-4 };
        // Unconstrained minimum at (3, −1); the box caps the first coordinate at 2.
        let (x, _) =
            nm.minimize(|p| (p[0] - 3.0).powi(2) + (p[1] + 1.0).powi(2), &[1.0, 0.5], &[0.0, -5.0], &[2.0, 5.0]);
        assert!((x[0] - 2.0).abs() < 1e-6 && (x[1] + 1.0).abs() < 1e-4, "{x:?}");
    }
}
