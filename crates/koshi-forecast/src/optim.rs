//! Nelder–Mead simplex minimiser: derivative-free, robust on the small, bounded
//! likelihood surfaces of Theta and ARIMA.

pub struct NelderMead {
    pub max_evals: usize,
    pub f_tol: f64,
}

impl Default for NelderMead {
    fn default() -> Self {
        Self {
            max_evals: 1000,
            f_tol: 1e-8,
        }
    }
}

impl NelderMead {
    /// Minimise `f` from `x0` with initial per-coordinate `steps`; returns (argmin, min).
    pub fn minimize(
        &self,
        f: impl Fn(&[f64]) -> f64,
        x0: &[f64],
        steps: &[f64],
    ) -> (Vec<f64>, f64) {
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
        let best = (0..=n)
            .min_by(|&a, &b| values[a].total_cmp(&values[b]))
            .unwrap_or(0);
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
        let nm = NelderMead {
            max_evals: 5000,
            f_tol: 1e-14,
        };
        let (x, fx) = nm.minimize(
            |p| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2),
            &[-1.2, 1.0],
            &[0.5, 0.5],
        );
        assert!(fx < 1e-8, "{fx}");
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3);
    }
}
