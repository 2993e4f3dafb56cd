//! Monitoring a series for a change: a two-sided CUSUM control chart on standardised values,
//! calibrated for a stated in-control average run length (the mean number of periods between
//! false alarms), and the simple rules analysts state in words (a balance turning negative, a
//! change on the previous period above a threshold). Pure: numbers in, signals out.

/// A two-sided tabular CUSUM in units of the baseline's standard deviation: `k` is the
/// allowance (half the shift it is tuned to detect), `h` the decision interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cusum {
    pub k: f64,
    pub h: f64,
}

impl Cusum {
    /// The in-control average run length of one side by Siegmund's approximation
    /// (`(e^{2kb} − 2kb − 1) / 2k²` with `b = h + 1.166`), for standard normal values.
    pub fn one_sided_arl0(&self) -> f64 {
        let b = self.h + 1.166;
        let x = 2.0 * self.k * b;
        if self.k.abs() < 1e-9 {
            return b * b;
        }
        (x.exp() - x - 1.0) / (2.0 * self.k * self.k)
    }

    /// The in-control average run length of the two-sided chart (both sides alarm): the two
    /// one-sided run lengths combine as parallel hazards, `1/ARL = 1/ARL⁺ + 1/ARL⁻`.
    pub fn arl0(&self) -> f64 {
        self.one_sided_arl0() / 2.0
    }

    /// The chart with allowance `k` whose two-sided in-control run length is `arl0` periods
    /// (`h` found by bisection on Siegmund's approximation). `None` if `k` is not positive or
    /// `arl0` is not above 1.
    pub fn calibrated(k: f64, arl0: f64) -> Option<Cusum> {
        if !(k > 0.0 && k.is_finite() && arl0 > 1.0 && arl0.is_finite()) {
            return None;
        }
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        while (Cusum { k, h: hi }).arl0() < arl0 {
            hi *= 2.0;
            if hi > 1e6 {
                return None;
            }
        }
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if (Cusum { k, h: mid }).arl0() < arl0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(Cusum { k, h: (lo + hi) / 2.0 })
    }
}

impl Cusum {
    /// The chart with allowance `k` that, on values standardised by the moving baseline of
    /// [`cusum_alarms`] (`window` values), runs on average `arl0` periods to a false alarm when
    /// nothing changes. A baseline estimated from few values makes alarms more frequent than
    /// Siegmund's `h` promises, so `h` is found by simulation: 400 normal series from a fixed
    /// seed (the same answer on every run), their standardised values computed once, the mean
    /// first-alarm run found by bisection on `h`. `None` where [`Cusum::calibrated`] is.
    pub fn calibrated_for_window(k: f64, arl0: f64, window: usize) -> Option<Cusum> {
        let start = Cusum::calibrated(k, arl0)?;
        if window < 4 {
            return None;
        }
        let length = ((8.0 * arl0).ceil() as usize).clamp(50, 20_000);
        let mut rng = Normal::seeded(0x5DEE_CE66_D1CE_4E5B);
        let streams: Vec<Vec<f64>> = (0..400)
            .map(|_| {
                let values: Vec<f64> = (0..window + length).map(|_| rng.draw()).collect();
                (window..values.len())
                    .filter_map(|t| robust_baseline(&values[t - window..t]).map(|(m, sd)| (values[t] - m) / sd))
                    .collect()
            })
            .collect();
        let mean_run = |h: f64| {
            let runs: f64 = streams
                .iter()
                .map(|z| {
                    let (mut up, mut down) = (0.0_f64, 0.0_f64);
                    for (i, v) in z.iter().enumerate() {
                        up = (up + v - k).max(0.0);
                        down = (down - v - k).max(0.0);
                        if up > h || down > h {
                            return (i + 1) as f64;
                        }
                    }
                    z.len() as f64
                })
                .sum();
            runs / streams.len() as f64
        };
        let (mut lo, mut hi) = (start.h, start.h);
        while mean_run(hi) < arl0 {
            hi *= 1.25;
            if hi > 100.0 {
                return None;
            }
        }
        while lo > 0.0 && mean_run(lo) > arl0 {
            lo /= 1.25;
        }
        for _ in 0..40 {
            let mid = (lo + hi) / 2.0;
            if mean_run(mid) < arl0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(Cusum { k, h: (lo + hi) / 2.0 })
    }
}

/// Standard normal draws from a seed (xorshift64* and Box–Muller): the same numbers on every run.
struct Normal(u64);

impl Normal {
    fn seeded(seed: u64) -> Self {
        Normal(seed | 1)
    }

    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn draw(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Which way a series moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// A CUSUM alarm: the value at `index` took the statistic over `h`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alarm {
    pub index: usize,
    pub direction: Direction,
    /// The CUSUM statistic at the alarm, in standard deviations.
    pub statistic: f64,
    /// The baseline the values were standardised on.
    pub baseline_mean: f64,
    pub baseline_sd: f64,
    /// The first value of the run that led to the alarm (where the change probably began).
    pub run_start: usize,
}

/// A baseline's centre and spread: the mean and standard deviation of the values left after
/// those more than 3.5 robust standard deviations (median absolute deviation × 1.4826) from the
/// median are set aside, so one outlier in the window does not widen the band, while the spread
/// is estimated as efficiently as the plain standard deviation. `None` with fewer than 4 values
/// or no spread.
pub fn robust_baseline(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 4 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
    };
    let centre = median(&mut values.to_vec());
    let mad = 1.4826 * median(&mut values.iter().map(|v| (v - centre).abs()).collect());
    let kept: Vec<f64> = values.iter().copied().filter(|v| mad == 0.0 || (v - centre).abs() <= 3.5 * mad).collect();
    if kept.len() < 4 {
        return None;
    }
    let n = kept.len() as f64;
    let mean = kept.iter().sum::<f64>() / n;
    let sd = (kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd > 0.0).then_some((mean, sd))
}

/// Runs the chart over `values`: each value is standardised on the `window` values before it
/// (a moving baseline, so a series that has settled at a new level becomes the norm again), the
/// statistics restart after each alarm, and a new baseline begins after it. Values before the
/// first full window are not judged.
pub fn cusum_alarms(values: &[f64], window: usize, chart: Cusum) -> Vec<Alarm> {
    let mut alarms = Vec::new();
    let (mut up, mut down) = (0.0_f64, 0.0_f64);
    let (mut up_start, mut down_start) = (0usize, 0usize);
    // The baseline may not reach back before the last alarm.
    let mut since = 0usize;
    for t in 0..values.len() {
        if t < since + window {
            continue;
        }
        let Some((mean, sd)) = robust_baseline(&values[t - window..t]) else { continue };
        let z = (values[t] - mean) / sd;
        if up <= 0.0 {
            up_start = t;
        }
        if down <= 0.0 {
            down_start = t;
        }
        up = (up + z - chart.k).max(0.0);
        down = (down - z - chart.k).max(0.0);
        let alarm = if up > chart.h {
            Some((Direction::Up, up, up_start))
        } else if down > chart.h {
            Some((Direction::Down, down, down_start))
        } else {
            None
        };
        if let Some((direction, statistic, run_start)) = alarm {
            alarms.push(Alarm { index: t, direction, statistic, baseline_mean: mean, baseline_sd: sd, run_start });
            up = 0.0;
            down = 0.0;
            since = t + 1;
        }
    }
    alarms
}

/// Whether `next` is the period right after `period`: both years (`YYYY`) or both months
/// (`YYYY-MM`); anything else (a range, a day, mixed kinds) follows nothing.
pub fn follows(period: &str, next: &str) -> bool {
    let index = |p: &str| -> Option<(usize, i32)> {
        let b = p.as_bytes();
        match b.len() {
            4 => Some((4, p.parse::<i32>().ok()?)),
            7 if b[4] == b'-' => Some((7, p[..4].parse::<i32>().ok()? * 12 + p[5..7].parse::<i32>().ok()?)),
            _ => None,
        }
    };
    matches!((index(period), index(next)), (Some((ka, a)), Some((kb, b))) if ka == kb && b == a + 1)
}

/// The change from `previous` to `value` in per cent of `previous`'s size; `None` from zero.
pub fn relative_change_pct(previous: f64, value: f64) -> Option<f64> {
    (previous != 0.0 && previous.is_finite() && value.is_finite()).then(|| (value - previous) / previous.abs() * 100.0)
}

/// Whether the sign went from not negative to negative (`Down`) or from not positive to
/// positive (`Up`) between two consecutive values.
pub fn sign_turn(previous: f64, value: f64) -> Option<Direction> {
    if previous >= 0.0 && value < 0.0 {
        Some(Direction::Down)
    } else if previous <= 0.0 && value > 0.0 {
        Some(Direction::Up)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siegmund_is_within_one_per_cent_of_the_published_run_lengths() {
        // Montgomery's table for k = 0.5: two-sided ARL0 168 at h = 4 and 465 at h = 5.
        for (h, published) in [(4.0, 168.0), (5.0, 465.0)] {
            let arl0 = Cusum { k: 0.5, h }.arl0();
            assert!((arl0 / published - 1.0).abs() < 0.01, "h = {h}: {arl0} against {published}");
        }
        let c = Cusum::calibrated(0.5, Cusum { k: 0.5, h: 4.0 }.arl0()).unwrap();
        assert!((c.h - 4.0).abs() < 1e-6, "{c:?}");
        assert!(Cusum::calibrated(0.0, 100.0).is_none() && Cusum::calibrated(0.5, 1.0).is_none());
    }

    #[test]
    fn periods_follow_within_their_kind() {
        assert!(follows("2022", "2023") && follows("2023-12", "2024-01") && follows("2024-01", "2024-02"));
        assert!(!follows("2022", "2024") && !follows("2023", "2024-01") && !follows("2023-12", "2024"));
        assert!(!follows("2010/2015", "2015/2020") && !follows("2024-01-01", "2024-01-02") && !follows("20x3", "2024"));
    }

    #[test]
    fn the_baseline_ignores_an_outlier() {
        let (m, s) = robust_baseline(&[10.0, 11.0, 9.0, 10.0, 1000.0]).unwrap();
        assert_eq!(m, 10.0);
        assert!((s - (2.0_f64 / 3.0).sqrt()).abs() < 1e-12, "{s}");
        assert!(robust_baseline(&[1.0, 1.0, 1.0, 1.0]).is_none(), "no spread, no baseline");
    }

    /// Injected step changes of two standard deviations are caught within a few periods, and a
    /// series without change alarms about as rarely as the calibration says. The run lengths
    /// are printed (`--nocapture`).
    #[test]
    fn injected_steps_are_detected_and_false_alarms_are_rare() {
        let window = 20;
        let chart = Cusum::calibrated_for_window(0.5, 100.0, window).unwrap();
        println!(
            "h = {:.3} for a 20-value baseline (Siegmund: {:.3})",
            chart.h,
            Cusum::calibrated(0.5, 100.0).unwrap().h
        );
        let mut rng = Normal::seeded(0x9E37_79B9_7F4A_7C15);
        // A step of +2 sd at period 40 (after a 20-period baseline and 20 judged periods). Series
        // that alarmed falsely before the step start a new baseline; they are counted apart.
        let (mut delays, mut missed, mut early) = (Vec::new(), 0, 0);
        for _ in 0..300 {
            let values: Vec<f64> =
                (0..80).map(|t| 100.0 + 10.0 * rng.draw() + if t >= 40 { 20.0 } else { 0.0 }).collect();
            let alarms = cusum_alarms(&values, window, chart);
            if alarms.iter().any(|a| a.index < 40) {
                early += 1;
                continue;
            }
            match alarms.first() {
                Some(a) if a.direction == Direction::Up => delays.push((a.index - 40) as f64 + 1.0),
                _ => missed += 1,
            }
        }
        let mean_delay = delays.iter().sum::<f64>() / delays.len() as f64;
        println!(
            "step of 2 sd: detected in {} of {} series, mean delay {mean_delay:.2} periods; {early} of 300 alarmed before it",
            delays.len(),
            delays.len() + missed
        );
        assert!(missed * 100 <= delays.len(), "{missed} steps missed");
        assert!(mean_delay < 5.0, "mean detection delay {mean_delay}");
        // In control: periods to the first false alarm, averaged over series the calibration did
        // not see.
        let mut runs = Vec::new();
        for _ in 0..200 {
            let values: Vec<f64> = (0..window + 2_000).map(|_| 50.0 + 5.0 * rng.draw()).collect();
            let run = cusum_alarms(&values, window, chart).first().map_or(2_000, |a| a.index - window + 1);
            runs.push(run as f64);
        }
        let arl = runs.iter().sum::<f64>() / runs.len() as f64;
        println!("no change: mean run to a false alarm {arl:.1} periods (stated 100)");
        assert!((arl / 100.0 - 1.0).abs() < 0.2, "in-control run length {arl}, stated 100");
        // 20 judged periods before the step: about 1 - (1 - 1/100)^20 = 18% of the series alarm
        // early; well over a quarter would mean the stated rate is not kept.
        assert!(early < 80, "{early} of 300 series alarmed before the step");
    }
}
