"""Summarises bench/out/gravity: median wall/fit time, peak RSS, ratio, coefficient agreement."""
import glob
import json
import os
import re
import statistics
import sys

out = sys.argv[1]


def time_file(path):
    text = open(path).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)", text).group(1).strip()
    parts = [float(p) for p in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return secs, rss / 1024


def collect(tool, scale):
    rows = []
    for j in sorted(glob.glob(os.path.join(out, f"run_{tool}_{scale}x_*.json"))):
        run = j.rsplit("_", 1)[1].split(".")[0]
        try:
            res = json.loads(open(j).read().strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            continue
        wall, rss = time_file(os.path.join(out, f"time_{tool}_{scale}x_{run}.txt"))
        rows.append((wall, res["fit_seconds"], rss, res))
    return rows


def med(rows, k):
    return statistics.median(r[k] for r in rows)


lines = []
scales = sorted({int(m.group(1)) for f in os.listdir(out) if (m := re.match(r"run_\w+?_(\d+)x_", f))})
for scale in scales:
    for tool in ["koshi", "koshirect", "pyfixest"]:
        rows = collect(tool, scale)
        if not rows:
            continue
        r = rows[0][3]
        lines.append(
            f"{scale:>3}x {tool:<9} runs={len(rows)} nobs={r['nobs']:>9} median wall {med(rows, 0):7.2f} s  "
            f"median fit {med(rows, 1):7.2f} s  peak RSS {max(x[2] for x in rows):7.0f} MiB  "
            f"fta={r['coef']['fta']:.9f} ln_tariff={r['coef']['ln_tariff']:.9f} se(fta)={r['se']['fta']:.9f}"
        )
    k, p = collect("koshi", scale), collect("pyfixest", scale)
    if k and p:
        rel = max(
            abs(k[0][3][part][v] - p[0][3][part][v]) / abs(p[0][3][part][v])
            for part in ["coef", "se"]
            for v in ["fta", "ln_tariff"]
        )
        lines.append(
            f"{scale:>3}x speed-up (pyfixest/koshi): wall {med(p, 0) / med(k, 0):.2f}x, fit {med(p, 1) / med(k, 1):.2f}x; "
            f"memory koshi/pyfixest {max(x[2] for x in k) / max(x[2] for x in p):.2f}; "
            f"max relative difference of coefficients and SEs {rel:.2e} -> {'AGREE' if rel < 1e-6 else 'DIFFER'} at 1e-6"
        )
print("\n".join(lines))
