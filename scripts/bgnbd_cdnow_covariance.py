"""Independent check of the BG/NBD covariance on CDNOW: the inverse of the negative Hessian of
the log-likelihood in natural parameters, at the MLE, by mpmath (30 digits) numerical
differentiation. Prints the 4x4 matrix pasted into tests/bgnbd_cdnow.rs.

Run: python scripts/bgnbd_cdnow_covariance.py data/cdnow_customers_summary.csv
"""
import collections
import sys

import mpmath as mp

mp.mp.dps = 30
rows = collections.Counter()
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        _, x, tx, T = line.strip().split(",")
        rows[(int(float(x)), mp.mpf(tx), mp.mpf(T))] += 1


def ll(r, al, a, b):
    tot = 0
    for (x, tx, T), w in rows.items():
        base = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + mp.loggamma(a + b) + mp.loggamma(b + x) - mp.loggamma(b) - mp.loggamma(a + b + x)
        t1 = -(r + x) * mp.log(al + T)
        if x > 0:
            t2 = mp.log(a) - mp.log(b + x - 1) - (r + x) * mp.log(al + tx)
            tot += w * (base + mp.log(mp.exp(t1) + mp.exp(t2)))
        else:
            tot += w * (base + t1)
    return tot


# the MLE (clv's fit; lifetimes agrees to 1e-7)
theta = [mp.mpf("0.24259290720436424"), mp.mpf("4.413531561192786"), mp.mpf("0.7928861480953889"), mp.mpf("2.425753436477799")]
H = mp.matrix(4, 4)
for i in range(4):
    for j in range(i, 4):
        order = [0] * 4
        order[i] += 1
        order[j] += 1
        H[i, j] = H[j, i] = mp.diff(lambda *p: ll(*p), theta, tuple(order))
cov = (-H) ** -1
print([[float(cov[i, j]) for j in range(4)] for i in range(4)])
