"""High-precision GGom/NBD reference values (mpmath, 30 digits) for
tests/data/ggomnbd_reference.csv.

Run: python scripts/ggomnbd_reference.py > tests/data/ggomnbd_reference.csv
Only needs mpmath. From the model's definition (Bemmaor & Glady 2012): the likelihood's death
integral, E[X(t)] = (r/alpha) int_0^t S(u) du, the pmf by integrating the Poisson count over the
lifetime density, DERT by integrating the discounted survival; every integral by mp.quad on
panels graded toward 0. Parameters where the Gompertz curvature matters (b up to 0.2) and near
the Pareto/NBD boundary.
"""
import mpmath as mp

mp.mp.dps = 30


def E_(b, y):
    return mp.expm1(b * y)


def surv(b, s, be, T, u):
    """S(u | alive at T) = ((be + e^{bT} - 1)/(be + e^{b(T+u)} - 1))^s."""
    return ((be + E_(b, T)) / (be + E_(b, T + u))) ** s


def dens(b, s, be, T, u):
    """Lifetime density at T+u given alive at T."""
    return surv(b, s, be, T, u) * s * b * mp.exp(b * (T + u)) / (be + E_(b, T + u))


def panels(lo, hi):
    if hi == mp.inf:
        return [lo] + [lo + mp.mpf(2) ** k for k in range(-20, 40)] + [mp.inf]
    d = hi - lo
    return [lo] + [lo + d * mp.mpf(2) ** -k for k in range(30, 0, -1)] + [hi]


def ln_lik(r, al, b, s, be, x, tx, T):
    c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
    alive = (al + T) ** (-(r + x)) * (be + E_(b, T)) ** (-s)
    g = lambda tau: mp.exp(b * tau) * (al + tau) ** (-(r + x)) * (be + E_(b, tau)) ** (-(s + 1))
    dead = s * b * mp.quad(g, panels(tx, T)) if tx < T else 0
    return c + mp.log(alive + dead), alive / (alive + dead)


def mean_alive(r, al, b, s, be, x, T, t):
    return (r + x) / (al + T) * mp.quad(lambda u: surv(b, s, be, T, u), panels(0, t))


def nb(r, al, n, tau):
    return mp.exp(mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1)) * (al / (al + tau)) ** r * (tau / (al + tau)) ** n


def pmf_alive(r, al, b, s, be, x, T, n, t):
    rr, aa = r + x, al + T
    die = mp.quad(lambda u: nb(rr, aa, n, u) * dens(b, s, be, T, u), panels(0, t))
    return nb(rr, aa, n, t) * surv(b, s, be, T, t) + die


def dert(r, al, b, s, be, x, T, pa, delta):
    return pa * (r + x) / (al + T) * mp.quad(lambda u: mp.exp(-delta * u) * surv(b, s, be, T, u), panels(0, mp.inf))


params = [
    ("curved", "0.6", "8.0", "0.05", "1.2", "3.0"),
    ("steep", "1.5", "20.0", "0.2", "0.4", "0.5"),
    ("near_pnbd", "0.553", "10.578", "0.0002", "0.606", "0.0023338"),
]
customers = [(0, "0", "38.86"), (2, "30.43", "38.86"), (26, "30.857143", "31"), (300, "70", "78"), (1, "1", "60")]
delta = mp.log(mp.mpf("1.15")) / 52
print("params,r,alpha,b,s,beta,x,t_x,T,t,n,quantity,value")
for name, *ps in params:
    r, al, b, s, be = (mp.mpf(v) for v in ps)
    P = ",".join(ps)
    for t in ("1", "39", "78"):
        tt = mp.mpf(t)
        print(f"{name},{P},,,,{t},,expected_purchases,{mp.nstr(mean_alive(r, al, b, s, be, 0, 0, tt), 20)}")
        for n in (0, 1, 3):
            print(f"{name},{P},,,,{t},{n},pmf,{mp.nstr(pmf_alive(r, al, b, s, be, 0, 0, n, tt), 20)}")
    for x, tx, T in customers:
        txm, Tm = mp.mpf(tx), mp.mpf(T)
        ll, pa = ln_lik(r, al, b, s, be, x, txm, Tm)
        print(f"{name},{P},{x},{tx},{T},,,ln_likelihood,{mp.nstr(ll, 20)}")
        print(f"{name},{P},{x},{tx},{T},,,p_alive,{mp.nstr(pa, 20)}")
        print(f"{name},{P},{x},{tx},{T},,,dert,{mp.nstr(dert(r, al, b, s, be, x, Tm, pa, delta), 20)}")
        for t in ("1", "39", "104"):
            tt = mp.mpf(t)
            ce = pa * mean_alive(r, al, b, s, be, x, Tm, tt)
            print(f"{name},{P},{x},{tx},{T},{t},,conditional_expected_purchases,{mp.nstr(ce, 20)}")
            mean = float(ce)
            for n in sorted({0, 1, max(1, int(mean))}):
                cp = pa * pmf_alive(r, al, b, s, be, x, Tm, n, tt) + ((1 - pa) if n == 0 else 0)
                print(f"{name},{P},{x},{tx},{T},{t},{n},conditional_pmf,{mp.nstr(cp, 20)}")
