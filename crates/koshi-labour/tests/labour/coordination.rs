//! The doubly-constrained model of moves between regions and the relocation of surplus seekers
//! to shortage regions along its routes.

use koshi_labour::coordination::{CoordinationError, Package, relocation, spatial_interaction};

fn distances(points: &[(f64, f64)]) -> Vec<Vec<f64>> {
    points
        .iter()
        .map(|a| points.iter().map(|b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt().max(1e-9)).collect())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn the_model_meets_every_region_s_departures_and_arrivals() {
    let d = distances(&[(0.0, 0.0), (100.0, 0.0), (0.0, 300.0), (500.0, 500.0)]);
    let (out, arrivals) = ([120.0, 80.0, 40.0, 60.0], [50.0, 100.0, 90.0, 60.0]);
    let m = spatial_interaction(&out, &arrivals, &d, 1.3).unwrap();
    for i in 0..4 {
        assert_eq!(m.moves[i][i], 0.0);
        assert!(close(m.moves[i].iter().sum(), out[i]), "row {i}: {:?}", m.moves[i]);
        let column: f64 = m.moves.iter().map(|r| r[i]).sum();
        assert!(close(column, arrivals[i]), "column {i}: {column}");
    }
    assert_eq!(m.arrivals_scaled_by, 1.0);
    // A stronger decay sends more of region 0's movers to its nearest neighbour (region 1).
    let weak = spatial_interaction(&out, &arrivals, &d, 0.2).unwrap();
    let strong = spatial_interaction(&out, &arrivals, &d, 2.5).unwrap();
    assert!(strong.share(0, 1) > m.share(0, 1) && m.share(0, 1) > weak.share(0, 1));
    // Arrivals that do not add up to the departures are scaled, and the scale is said.
    let half: Vec<f64> = arrivals.iter().map(|a| a / 2.0).collect();
    let scaled = spatial_interaction(&out, &half, &d, 1.3).unwrap();
    assert_eq!(scaled.arrivals_scaled_by, 2.0);
    for i in 0..4 {
        for j in 0..4 {
            assert!(close(scaled.moves[i][j], m.moves[i][j]));
        }
    }
}

#[test]
fn without_decay_the_moves_are_proportional_to_the_margins_off_the_diagonal() {
    // Three regions, no distance effect: T_ij = a_i b_j off the diagonal. With equal margins
    // every route carries the same number.
    let d = distances(&[(0.0, 0.0), (1.0, 0.0), (0.0, 7.0)]);
    let m = spatial_interaction(&[10.0, 10.0, 10.0], &[10.0, 10.0, 10.0], &d, 0.0).unwrap();
    for i in 0..3 {
        for j in 0..3 {
            let want = if i == j { 0.0 } else { 5.0 };
            assert!(close(m.moves[i][j], want), "{i}->{j}: {}", m.moves[i][j]);
        }
    }
}

#[test]
fn surplus_seekers_go_to_shortage_regions_along_the_routes() {
    let d = distances(&[(0.0, 0.0), (100.0, 0.0), (0.0, 300.0), (500.0, 500.0)]);
    let routes = spatial_interaction(&[120.0, 80.0, 40.0, 60.0], &[50.0, 100.0, 90.0, 60.0], &d, 1.0).unwrap();
    // One surplus region: its 10 seekers split as the gaps are (6 and 4), whatever the routes.
    let r = relocation(&[10.0, 0.0, 0.0, 0.0], &[0.0, 6.0, 4.0, 0.0], &routes, 0.0).unwrap();
    assert!(close(r.movers, 10.0));
    let to = |j: usize| r.moves.iter().filter(|m| m.to == j).map(|m| m.persons).sum::<f64>();
    assert!(close(to(1), 6.0) && close(to(2), 4.0), "{:?}", r.moves);
    assert!(r.moves.iter().all(|m| m.from == 0));
    // Two surplus regions, two shortage regions, more seekers than vacancies: the vacancies are
    // all filled, each surplus region sends in proportion to its surplus, and the nearer
    // shortage region takes more of region 0's movers than the model's routes would give region 1's.
    let r = relocation(&[30.0, 10.0, 0.0, 0.0], &[0.0, 0.0, 12.0, 8.0], &routes, 0.0).unwrap();
    assert!(close(r.movers, 20.0) && close(r.gap_left, 0.0) && close(r.surplus_left, 20.0));
    let from = |i: usize| r.moves.iter().filter(|m| m.from == i).map(|m| m.persons).sum::<f64>();
    assert!(close(from(0), 15.0) && close(from(1), 5.0), "{:?}", r.moves);
    assert!(r.moves.iter().all(|m| (m.from == 0 || m.from == 1) && (m.to == 2 || m.to == 3)));
    assert!(r.moves.windows(2).all(|w| w[0].persons >= w[1].persons));
    // Nothing to move.
    let none = relocation(&[0.0; 4], &[0.0, 0.0, 5.0, 0.0], &routes, 0.0).unwrap();
    assert_eq!((none.movers, none.moves.len(), none.gap_left), (0.0, 0, 5.0));
}

#[test]
fn bad_inputs_are_refused_with_what_is_wrong() {
    let d = distances(&[(0.0, 0.0), (1.0, 0.0)]);
    assert_eq!(spatial_interaction(&[], &[], &[], 1.0).unwrap_err(), CoordinationError::NoRegions);
    assert!(matches!(
        spatial_interaction(&[1.0, f64::NAN], &[1.0, 1.0], &d, 1.0),
        Err(CoordinationError::BadValue { what: "departures", index: 1, .. })
    ));
    assert!(matches!(spatial_interaction(&[1.0], &[1.0, 1.0], &d, 1.0), Err(CoordinationError::Shape { .. })));
    assert_eq!(spatial_interaction(&[1.0, 1.0], &[1.0, 1.0], &d, -1.0).unwrap_err(), CoordinationError::BadDecay(-1.0));
    let zero = vec![vec![0.0, 0.0], vec![0.0, 0.0]];
    assert!(matches!(
        spatial_interaction(&[1.0, 1.0], &[1.0, 1.0], &zero, 1.0),
        Err(CoordinationError::BadDistance { .. })
    ));
    assert_eq!(spatial_interaction(&[0.0, 0.0], &[1.0, 1.0], &d, 1.0).unwrap_err(), CoordinationError::NoMoves);
}

#[test]
fn a_package_costs_each_part_per_person() {
    let p = Package {
        currency: "KZT".into(),
        transport: 50_000.0,
        housing_per_month: 80_000.0,
        housing_months: 12.0,
        microcredit: 1_000_000.0,
        source: "test".into(),
    };
    let c = p.cost(10.0);
    assert_eq!((c.transport, c.housing, c.microcredit), (500_000.0, 9_600_000.0, 10_000_000.0));
    assert_eq!(c.total, 20_100_000.0);
}
