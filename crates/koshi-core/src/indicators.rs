//! Indicator formulas of the monitoring system. All take and return plain numbers; the
//! callers fetch the inputs from the bank and record which figures they used.

/// Net migration (migration balance): arrivals − departures.
pub fn net_migration(arrivals: f64, departures: f64) -> f64 {
    arrivals - departures
}

/// A count per 1,000 of the population (crude rates).
pub fn per_thousand(count: f64, population: f64) -> Option<f64> {
    (population > 0.0).then(|| 1000.0 * count / population)
}

/// Gross migration intensity: (arrivals + departures) per 1,000 population.
pub fn gross_intensity(arrivals: f64, departures: f64, population: f64) -> Option<f64> {
    per_thousand(arrivals + departures, population)
}

/// Migration effectiveness: 100 × (arrivals − departures) / (arrivals + departures), in
/// [−100, 100]: how much redistribution each move achieves.
pub fn effectiveness(arrivals: f64, departures: f64) -> Option<f64> {
    let gross = arrivals + departures;
    (gross > 0.0).then(|| 100.0 * (arrivals - departures) / gross)
}

/// A part as a percentage of its total (stock share of population, partner share of trade).
pub fn share_pct(part: f64, total: f64) -> Option<f64> {
    (total != 0.0).then(|| 100.0 * part / total)
}

/// Accumulated balance over periods.
pub fn accumulated(balances: &[f64]) -> f64 {
    balances.iter().sum()
}

/// Trade turnover: exports + imports.
pub fn turnover(exports: f64, imports: f64) -> f64 {
    exports + imports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas() {
        assert_eq!(net_migration(7_204.0, 10_975.0), -3_771.0);
        assert_eq!(effectiveness(10.0, 30.0), Some(-50.0));
        assert_eq!(effectiveness(0.0, 0.0), None);
        assert_eq!(per_thousand(5.0, 1000.0), Some(5.0));
        assert_eq!(share_pct(1.0, 4.0), Some(25.0));
        assert_eq!(accumulated(&[1.0, -3.0]), -2.0);
    }
}
