"""NumPy peer for the koshi-flows world benchmark.

A straightforward, vectorised NumPy implementation of the same algorithm as
koshi_flows::demographic_accounting with the benchmark's options: births to
the native-born diagonal (spread over the residence column when they exceed
it), deaths from the native-born diagonal (proportional fallback), closed-world
rescale of birthplace totals by 2-way IPF (same stopping rule), then the
stayer-assumption 3-way IPF over the full origin x destination x birthplace
array with a zero diagonal. Inputs are the raw f64 files written by
`bench_world --dump DIR`; only the estimation is timed.
"""
import sys
import time

import numpy as np

EPS = np.finfo(float).eps


def ipf2(rows, cols, seed, tol=1e-8, max_iter=20000):
    y = seed.copy()
    scale = max(1.0, rows.max(), cols.max())
    thr = max(tol, 16 * EPS * scale) + abs(rows.sum() - cols.sum())
    for it in range(1, max_iter + 1):
        rs = y.sum(axis=1)
        err = np.abs(rs - rows).max()
        y *= np.divide(rows, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = y.sum(axis=0)
        y *= np.divide(cols, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
        if it > 1 and err <= thr:
            break
    return y


def estimate(s1, s2, births, deaths, tol=1e-8, max_iter=20000):
    n = s1.shape[0]
    idx = np.arange(n)
    b = np.zeros_like(s2)
    ok = s2[idx, idx] >= births
    b[idx[ok], idx[ok]] = births[ok]
    for r in idx[~ok]:
        col = s2[:, r]
        b[:, r] = births[r] * col / col.sum() if col.sum() > 0 else 0.0
    d = np.zeros_like(s1)
    ok = s1[idx, idx] >= deaths
    d[idx[ok], idx[ok]] = deaths[ok]
    for r in idx[~ok]:
        col = s1[:, r]
        d[:, r] = deaths[r] * col / col.sum() if col.sum() > 0 else 0.0
    a = np.maximum(s1 - d, 0.0)
    c = np.maximum(s2 - b, 0.0)
    gap = a.sum(1) - c.sum(1)
    if np.any(np.abs(gap) > 1e-9 * (1 + a.sum())):
        r1, r2 = a.sum(1) - gap / 2, c.sum(1) + gap / 2
        a = ipf2(r1, a.sum(0), a, tol, max_iter)
        c = ipf2(r2, c.sum(0), c, tol, max_iter)
        mid = (r1 + r2) / 2
        a *= np.divide(mid, a.sum(1), out=np.zeros_like(mid), where=a.sum(1) > 0)[:, None]
        c *= np.divide(mid, c.sum(1), out=np.zeros_like(mid), where=c.sum(1) > 0)[:, None]
    # 3-way array y[k, i, j]: birthplace k, origin i, destination j.
    stay = np.minimum(a, c)
    out_m = a - stay  # (k, i)
    in_m = c - stay  # (k, j)
    y = np.ones((n, n, n))
    y[:, idx, idx] = 0.0
    y *= ((out_m > 0)[:, :, None] & (in_m > 0)[:, None, :])
    for it in range(1, max_iter + 1):
        rs = y.sum(axis=2)
        err = np.abs(rs - out_m).max()
        y *= np.divide(out_m, rs, out=np.zeros_like(rs), where=rs > 0)[:, :, None]
        cs = y.sum(axis=1)
        y *= np.divide(in_m, cs, out=np.zeros_like(cs), where=cs > 0)[:, None, :]
        if it > 1 and err <= max(tol, 16 * EPS * max(1.0, out_m.max())) + 1e-9 * out_m.sum():
            break
    od = y.sum(axis=0)
    return od


def main():
    d = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    periods = []
    for i in range(6):
        label, n = open(f"{d}/p{i}_meta.txt").read().split()
        n = int(n)
        load = lambda name: np.fromfile(f"{d}/p{i}_{name}.f64", dtype="<f8")
        periods.append((label, load("start").reshape(n, n), load("end").reshape(n, n), load("births"), load("deaths")))
    for i, (label, s1, s2, b, dd) in enumerate(periods):
        od = estimate(s1, s2, b, dd)
        line = f"numpy period {label} n={s1.shape[0]} movers={od.sum():.4f}"
        try:  # the Rust flows of the same period, when written by bench_world --dump
            rust = np.fromfile(f"{d}/p{i}_od_rust.f64", dtype="<f8").reshape(od.shape)
            line += f" max_cell_diff_vs_rust={np.abs(od - rust).max():.3e}"
        except FileNotFoundError:
            pass
        print(line)
    one, allp = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        estimate(*periods[0][1:])
        one.append(time.perf_counter() - t)
    for _ in range(repeat):
        t = time.perf_counter()
        for p in periods:
            estimate(*p[1:])
        allp.append(time.perf_counter() - t)
    print(f"numpy one_period_s={sorted(one)[len(one)//2]:.6f} all_periods_s={sorted(allp)[len(allp)//2]:.6f} repeat={repeat}")


if __name__ == "__main__":
    main()
