"""Reference values for the numerics benchmark, computed with mpmath at 50 digits.

Writes reference_quantile.csv (p, z with Phi(z) = p) and reference_cdf.csv (x, Phi(x)),
which run.sh feeds to the timing binary to measure accuracy.
"""
import mpmath as mp

mp.mp.dps = 50


def lower_quantile(p):
    """z <= 0 with Phi(z) = p <= 1/2, by Newton on log Phi (exact in the deep tail)."""
    if p == mp.mpf(1) / 2:
        return mp.mpf(0)
    z = -mp.sqrt(2 * mp.log(1 / p))  # starting point
    for _ in range(200):
        f = mp.log(mp.ncdf(z)) - mp.log(p)
        step = f * mp.ncdf(z) / mp.npdf(z)
        z -= step
        if abs(step) < mp.mpf(10) ** -40:
            break
    return z


def quantile(p):
    return lower_quantile(p) if p <= mp.mpf(1) / 2 else -lower_quantile(1 - p)


ps = []
for e in range(1, 301, 7):  # deep lower tail down to 1e-300
    ps.append(mp.mpf(10) ** -e)
for k in range(1, 1000):  # the body, p = 0.001 .. 0.999
    ps.append(mp.mpf(k) / 1000)
for e in range(4, 16):  # the upper tail as doubles can hold it
    ps.append(1 - mp.mpf(10) ** -e)
with open("reference_quantile.csv", "w") as f:
    f.write("p,z\n")
    for p in ps:
        pd = float(p)  # the double actually passed in
        f.write(f"{mp.nstr(mp.mpf(pd), 25)},{mp.nstr(quantile(mp.mpf(pd)), 25)}\n")

with open("reference_cdf.csv", "w") as f:
    f.write("x,phi\n")
    x = mp.mpf(-37.5)
    while x <= 8.5:
        f.write(f"{mp.nstr(x, 25)},{mp.nstr(mp.ncdf(x), 25)}\n")
        x += mp.mpf("0.0625")
