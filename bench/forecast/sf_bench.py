"""statsforecast 2.1.1 AutoETS / AutoARIMA on the 826 M3+M1 yearly series (one process).

Prints RESULT lines in the same format as the koshi bench example.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA, AutoETS


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = []
    for s in data:
        for t, v in enumerate(s["x"]):
            rows.append((s["id"], t, float(v)))
    df = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    return data, df


def score(data, fc, model):
    by_id = {uid: g for uid, g in fc.groupby("unique_id")}
    out = {}
    for ds in ("M3", "M1"):
        sm, ma, cov, n = 0.0, 0.0, 0.0, 0
        for s in data:
            if s["ds"] != ds:
                continue
            g = by_id[s["id"]]
            f = g[model].to_numpy()
            lo = g[f"{model}-lo-95"].to_numpy()
            hi = g[f"{model}-hi-95"].to_numpy()
            y = np.asarray(s["xx"], dtype=float)
            x = np.asarray(s["x"], dtype=float)
            den = np.abs(y) + np.abs(f)
            sm += np.mean(np.where(den == 0, 0.0, 200 * np.abs(y - f) / np.where(den == 0, 1, den)))
            ma += np.mean(np.abs(y - f)) / np.mean(np.abs(np.diff(x)))
            cov += np.mean((lo <= y) & (y <= hi))
            n += 1
        out[ds] = (sm / n, ma / n, cov / n)
    return out


def main():
    path = sys.argv[1]
    data, df = load(path)
    h = data[0]["h"]
    for name, model in (("ets", AutoETS(season_length=1)), ("arima", AutoARIMA(season_length=1))):
        sf = StatsForecast(models=[model], freq=1, n_jobs=1)
        # Warm-up (numba compilation) on a few series, excluded from the timing.
        warm = df[df.unique_id.isin(df.unique_id.unique()[:5])]
        sf.forecast(df=warm, h=h, level=[95])
        start = time.perf_counter()
        fc = sf.forecast(df=df, h=h, level=[95])
        secs = time.perf_counter() - start
        fc = fc.reset_index() if "unique_id" not in fc.columns else fc
        col = [c for c in fc.columns if c.startswith("Auto") and "-" not in c][0]
        for ds, (sm, ma, cov) in score(data, fc, col).items():
            print(f"RESULT impl=statsforecast model={name} ds={ds} smape={sm:.3f} mase={ma:.3f} cov95={cov:.3f} secs_1thread={secs:.3f}", flush=True)


if __name__ == "__main__":
    main()
