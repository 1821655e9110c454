"""High-precision BG/NBD reference values (mpmath, 50 digits) for tests/data/bgnbd_reference.csv.

Run: python scripts/bgnbd_reference.py > tests/data/bgnbd_reference.csv
Only needs mpmath. The formulas are Fader, Hardie & Lee (2005) eqs. (8)-(10) and P(alive);
the conditional pmf is P(alive) * eq. (8) at the posterior (r+x, alpha+T, a, b+x) plus
(1 - P(alive)) at n = 0.
"""
import mpmath as mp

mp.mp.dps = 50


def E(r, al, a, b, t):
    return (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * mp.hyp2f1(r, b, a + b - 1, t / (al + t)))


def pmf(r, al, a, b, n, t):
    lb = mp.beta(a, b + n) / mp.beta(a, b)
    first = lb * mp.gamma(r + n) / (mp.gamma(r) * mp.factorial(n)) * (al / (al + t)) ** r * (t / (al + t)) ** n
    if n == 0:
        return first
    tail = mp.betainc(n, r, 0, t / (al + t), regularized=True)
    return first + a / (b + n - 1) * lb * tail


def p_alive(r, al, a, b, x, tx, T):
    if x == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


params = [
    ("paper", "0.243", "4.414", "0.793", "2.426"),
    ("a_gt_1", "1.5", "20.0", "3.2", "8.0"),
]
customers = [(0, "0", "38.86"), (2, "30.43", "38.86"), (50, "70", "78"), (3000, "519", "520"), (5000, "999.5", "1000")]
print("params,r,alpha,a,b,x,t_x,T,t,n,quantity,value")
for name, *ps in params:
    r, al, a, b = (mp.mpf(v) for v in ps)
    for t in ("1", "39", "78"):
        tt = mp.mpf(t)
        print(f"{name},{','.join(ps)},,,,{t},,expected_purchases,{mp.nstr(E(r, al, a, b, tt), 20)}")
        for n in (0, 1, 3, 10):
            print(f"{name},{','.join(ps)},,,,{t},{n},pmf,{mp.nstr(pmf(r, al, a, b, n, tt), 20)}")
    for x, tx, T in customers:
        txm, Tm = mp.mpf(tx), mp.mpf(T)
        pa = p_alive(r, al, a, b, x, txm, Tm)
        print(f"{name},{','.join(ps)},{x},{tx},{T},,,p_alive,{mp.nstr(pa, 20)}")
        for t in ("1", "39", "104"):
            tt = mp.mpf(t)
            ce = pa * E(r + x, al + Tm, a, b + x, tt)
            print(f"{name},{','.join(ps)},{x},{tx},{T},{t},,conditional_expected_purchases,{mp.nstr(ce, 20)}")
            mean = float(ce)
            for n in sorted({0, 1, max(1, int(mean)), max(1, int(2 * mean))}):
                cp = pa * pmf(r + x, al + Tm, a, b + x, n, tt) + ((1 - pa) if n == 0 else 0)
                print(f"{name},{','.join(ps)},{x},{tx},{T},{t},{n},conditional_pmf,{mp.nstr(cp, 20)}")
