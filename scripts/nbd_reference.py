"""The NBD maximum-likelihood estimates on CDNOW (tests/nbd.rs): mpmath's findroot of the
score equations of L = prod Gamma(r+x)/Gamma(r) alpha^r / (alpha+T)^(r+x).

Run: python scripts/nbd_reference.py   (needs mpmath; reads data/cdnow_customers_summary.csv)
"""
import csv
import mpmath as mp

mp.mp.dps = 30
rows = list(csv.DictReader(open("data/cdnow_customers_summary.csv")))
xs = [mp.mpf(r["frequency"]) for r in rows]
Ts = [mp.mpf(r["T"]) for r in rows]
n = len(rows)


def score(r, al):
    g_r = mp.fsum(mp.digamma(r + x) - mp.log(al + T) for x, T in zip(xs, Ts)) + n * (mp.log(al) - mp.digamma(r))
    g_a = n * r / al - mp.fsum((r + x) / (al + T) for x, T in zip(xs, Ts))
    return g_r, g_a


r, al = mp.findroot(score, (mp.mpf("0.4"), mp.mpf("12")))
ll = mp.fsum(mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) - (r + x) * mp.log(al + T) for x, T in zip(xs, Ts))
print(f"r {mp.nstr(r, 12)} alpha {mp.nstr(al, 12)} LL {mp.nstr(ll, 15)}")
