"""Reference BD-rates for tests/unit/bench/bd-rate.test.ts, computed with scipy/numpy:
PchipInterpolator(...).integrate for the piecewise-cubic variant, np.polyfit(deg 3) +
np.polyint for the classic VCEG-M33 variant. Data: a 4-point H.264-style example that many
BD-rate tools use for their own checks."""
import numpy as np
from scipy.interpolate import PchipInterpolator

R1 = [686.76, 309.58, 157.11, 85.95]
Q1 = [40.28, 37.18, 34.24, 31.42]
R2 = [893.34, 407.8, 204.93, 112.75]
Q2 = [40.39, 37.21, 34.17, 31.24]


def bd(r1, q1, r2, q2, method):
    l1, l2 = np.log10(r1), np.log10(r2)
    o1, o2 = np.argsort(q1), np.argsort(q2)
    q1, l1, q2, l2 = np.array(q1)[o1], l1[o1], np.array(q2)[o2], l2[o2]
    lo, hi = max(q1.min(), q2.min()), min(q1.max(), q2.max())
    if method == "pchip":
        i1 = PchipInterpolator(q1, l1).integrate(lo, hi)
        i2 = PchipInterpolator(q2, l2).integrate(lo, hi)
    else:
        p1, p2 = np.polyint(np.polyfit(q1, l1, 3)), np.polyint(np.polyfit(q2, l2, 3))
        i1 = np.polyval(p1, hi) - np.polyval(p1, lo)
        i2 = np.polyval(p2, hi) - np.polyval(p2, lo)
    return (10 ** ((i2 - i1) / (hi - lo)) - 1) * 100


for m in ("pchip", "cubic-polynomial"):
    print(m, repr(float(bd(R1, Q1, R2, Q2, m))))
