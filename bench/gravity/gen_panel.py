"""Seeded synthetic migration/trade panel: origins x destinations x years, two regressors.

FE structure: origin-year, destination-year and pair effects; y ~ Poisson(mu * Gamma(1, 1)).
Usage: gen_panel.py --scale S --out FILE   (S multiplies the number of years: 25*S).
"""
import argparse

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n_c, n_t = 200, 25 * args.scale
    orig, dest = np.meshgrid(np.arange(n_c), np.arange(n_c), indexing="ij")
    keep = orig != dest
    orig, dest = orig[keep], dest[keep]
    n_pairs = orig.size
    pair = orig * n_c + dest
    pair_effect = rng.normal(0.0, 1.5, n_pairs)
    switch = np.where(rng.random(n_pairs) < 0.3, rng.integers(0, n_t, n_pairs), n_t + 1)
    exp_year = rng.normal(0.0, 1.0, (n_c, n_t))
    imp_year = rng.normal(0.0, 1.0, (n_c, n_t))
    year = np.repeat(np.arange(n_t)[None, :], n_pairs, axis=0).ravel()
    o = np.repeat(orig, n_t)
    d = np.repeat(dest, n_t)
    p = np.repeat(pair, n_t)
    fta = (year >= np.repeat(switch, n_t)).astype(np.int8)
    ln_tariff = rng.normal(0.0, 0.1, o.size)
    eta = 0.15 + exp_year[o, year] + imp_year[d, year] + np.repeat(pair_effect, n_t) + 0.25 * fta - 1.5 * ln_tariff
    y = rng.poisson(np.exp(eta) * rng.gamma(1.0, 1.0, o.size))
    df = pd.DataFrame({"exp": o, "imp": d, "year": 2000 + year, "pair": p, "fta": fta, "ln_tariff": ln_tariff, "y": y})
    df.to_csv(args.out, index=False, float_format="%.9g")
    print(f"rows={len(df)} zeros={np.mean(y == 0):.3f} all_zero_pairs={int((df.groupby('pair')['y'].sum() == 0).sum())}")


if __name__ == "__main__":
    main()
