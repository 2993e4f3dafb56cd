"""Fits the benchmark model with pyfixest and prints one JSON line."""
import json
import sys
import time

import pandas as pd
import pyfixest as pf

path = sys.argv[1]
# Extra calls in the same process show the warm (post-JIT) cost: bench_pyfixest.py FILE [N_CALLS]
n_calls = int(sys.argv[2]) if len(sys.argv) > 2 else 1
t0 = time.perf_counter()
df = pd.read_csv(path)
t1 = time.perf_counter()
call_seconds = []
for _ in range(n_calls):
    tc = time.perf_counter()
    fit = pf.fepois(
        "y ~ fta + ln_tariff | exp^year + imp^year + pair",
        data=df,
        vcov={"CRV1": "pair"},
        copy_data=False,
    )
    call_seconds.append(time.perf_counter() - tc)
t2 = t1 + call_seconds[0]
coef = fit.coef()
se = fit.se()
print(json.dumps({
    "tool": "pyfixest",
    "read_seconds": t1 - t0,
    "fit_seconds": t2 - t1,
    "call_seconds": call_seconds,
    "nobs": int(fit._N),
    "coef": {k: float(coef[k]) for k in ["fta", "ln_tariff"]},
    "se": {k: float(se[k]) for k in ["fta", "ln_tariff"]},
}))
