//! The standard normal distribution.

/// Complementary error function, to within one unit in the last place (musl's `erfc`).
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// Standard normal cdf Φ(x), with full relative precision in the lower tail.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Two-sided p-value `2·(1 − Φ(|z|))` of a z statistic; NaN for NaN, 0 for ±∞.
pub fn two_sided_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { f64::NAN } else { 0.0 };
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Standard normal quantile Φ⁻¹(p): Wichura's algorithm AS 241 (PPND16), relative error about
/// 1e-16 over the whole range. −∞ for p ≤ 0, +∞ for p ≥ 1, NaN for NaN.
#[allow(clippy::excessive_precision)] // the coefficients as published
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(&A, r) / horner(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let z =
        if r <= 5.0 { horner(&C, r - 1.6) / horner(&D, r - 1.6) } else { horner(&E, r - 5.0) / horner(&F, r - 5.0) };
    if q < 0.0 { -z } else { z }
}

/// Two-sided normal critical value for a central interval of `level` (0.95 → 1.96).
pub fn z_for_level(level: f64) -> f64 {
    normal_quantile(0.5 + level / 2.0)
}

/// c₀ + c₁x + … + c₇x⁷.
#[inline]
fn horner(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Φ⁻¹ of the double nearest each p, at 50 digits (mpmath, as `bench/numerics/gen_reference.py`), rounded.
    const KNOWN: [(f64, f64); 10] = [
        (0.5, 0.0),
        (0.75, 0.6744897501960817),
        (0.9, 1.2815515655446006),
        (0.95, 1.6448536269514722),
        (0.975, 1.9599639845400538),
        (0.99, 2.3263478740408408),
        (0.995, 2.5758293035489004),
        (0.999, 3.090232306167813),
        (1e-10, -6.361340902404057),
        (1e-100, -21.273453560965326),
    ];

    #[test]
    fn quantile_matches_known_values_to_1e12() {
        for (p, z) in KNOWN {
            let got = normal_quantile(p);
            assert!((got - z).abs() <= 1e-12 * z.abs().max(1.0), "q({p}) = {got}, want {z}");
            if p != 0.5 && p > 0.01 {
                let lower = normal_quantile(1.0 - p);
                assert!((lower + z).abs() <= 1e-12 * z.abs().max(1.0), "q(1-{p}) = {lower}");
            }
        }
    }

    #[test]
    fn quantile_inverts_the_cdf() {
        for k in 1..1000 {
            let p = k as f64 / 1000.0;
            let back = normal_cdf(normal_quantile(p));
            assert!((back - p).abs() <= 1e-14 * p, "Φ(Φ⁻¹({p})) = {back}");
        }
        for e in 1..300 {
            let p = 10f64.powi(-e);
            let back = normal_cdf(normal_quantile(p));
            assert!((back - p).abs() <= 1e-12 * p, "Φ(Φ⁻¹({p})) = {back}");
        }
    }

    #[test]
    fn edges() {
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(f64::NAN).is_nan());
        assert_eq!(normal_cdf(0.0), 0.5);
        assert_eq!(two_sided_p(f64::INFINITY), 0.0);
        assert!(two_sided_p(f64::NAN).is_nan());
        assert!((two_sided_p(1.959963984540054) - 0.05).abs() < 1e-15);
        assert!((z_for_level(0.95) - 1.959963984540054).abs() < 1e-15);
    }
}
