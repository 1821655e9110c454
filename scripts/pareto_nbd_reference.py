"""High-precision Pareto/NBD reference values (mpmath, 40 digits) for
tests/data/pareto_nbd_reference.csv.

Run: python scripts/pareto_nbd_reference.py > tests/data/pareto_nbd_reference.csv
Only needs mpmath. Every value is computed from the model's definition by routes independent of
the crate's: the likelihood's integral over the death time by mp.quad (and, as a cross-check in
this script, the 2F1 form of Fader, Hardie & Lee's note, eq. 11-12); P(X(t) = n) by mp.quad of
the "dies at tau after n purchases" integral; DERT from the paper's closed form with the
Tricomi function U (FHL 2005, "RFM and CLV", eq. 2). The conditional pmf is
P(alive) * pmf at the posterior (r+x, alpha+T, s, beta+T) + (1 - P(alive)) at n = 0.
"""
import mpmath as mp

mp.mp.dps = 40


def bracket_parts(r, al, s, be, x, tx, T):
    first = (al + T) ** (-(r + x)) * (be + T) ** (-s)
    if tx == T:
        return first, mp.mpf(0)
    # scaled to 1 at tau = tx (mp.quad's tolerance is absolute); the integrand falls fast after
    # tx when x is large: many panels
    scale = (al + tx) ** (-(r + x)) * (be + tx) ** (-(s + 1))
    f = lambda tau: ((al + tx) / (al + tau)) ** (r + x) * ((be + tx) / (be + tau)) ** (s + 1)
    pts = [tx] + [tx + (T - tx) * mp.mpf(2) ** -k for k in range(40, 0, -1)] + [T]
    second = s * scale * mp.quad(f, pts)
    return first, second


def ln_c(r, al, s, be, x):
    return mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)


def ln_lik(r, al, s, be, x, tx, T):
    a, b = bracket_parts(r, al, s, be, x, tx, T)
    return ln_c(r, al, s, be, x) + mp.log(a + b)


def ln_lik_2f1(r, al, s, be, x, tx, T):
    """FHL note eq. 11-12 (both branches)."""
    a1 = r + s + x
    if al >= be:
        F = lambda y: mp.hyp2f1(a1, s + 1, a1 + 1, (al - be) / (al + y)) / (al + y) ** a1
    else:
        F = lambda y: mp.hyp2f1(a1, r + x, a1 + 1, (be - al) / (be + y)) / (be + y) ** a1
    A0 = F(tx) - F(T)
    return ln_c(r, al, s, be, x) + mp.log((al + T) ** (-(r + x)) * (be + T) ** (-s) + s / a1 * A0)


def p_alive(r, al, s, be, x, tx, T):
    a, b = bracket_parts(r, al, s, be, x, tx, T)
    return a / (a + b)


def E(r, al, s, be, t):
    if s == 1:
        return r * be / al * mp.log(1 + t / be)
    return r * be / (al * (s - 1)) * (1 - (be / (be + t)) ** (s - 1))


def pmf(r, al, s, be, n, t):
    nb = mp.gamma(r + n) / (mp.gamma(r) * mp.factorial(n))
    first = nb * (al / (al + t)) ** r * (t / (al + t)) ** n * (be / (be + t)) ** s
    g = lambda tau: tau**n * (al + tau) ** (-(r + n)) * (be + tau) ** (-(s + 1))
    grid = [t * k / 400 for k in range(401)]
    scale = max(g(u) for u in grid[1:])
    second = nb * al**r * s * be**s * scale * mp.quad(lambda u: g(u) / scale, grid)
    return first + second


def dert(r, al, s, be, x, tx, T, delta):
    a, b = bracket_parts(r, al, s, be, x, tx, T)
    L = mp.exp(ln_c(r, al, s, be, x)) * (a + b)
    return (al**r * be**s * delta ** (s - 1) * mp.gamma(r + x + 1) * mp.hyperu(s, s, delta * (be + T))
            / (mp.gamma(r) * (al + T) ** (r + x + 1) * L))


params = [
    ("paper", "0.553", "10.578", "0.606", "11.669"),
    ("fhl_dert", "0.55315", "10.57633", "0.60625", "11.67150"),
    ("clvtools", "0.5143", "2.8845", "0.2856", "14.1087"),
    ("alpha_big", "0.8", "40.0", "1.5", "2.0"),
    ("s_one", "1.2", "5.0", "1", "8.0"),
]
customers = [
    (0, "0", "38.86"), (2, "30.43", "38.86"), (26, "30.857143", "31"), (300, "78", "78"),
    (50, "70", "78"), (3000, "519", "520"), (221, "103.43", "103.57"), (254, "97.14", "97.29"),
    (161, "94.71", "98.0"), (204, "98.57", "99.43"),
]
delta = mp.log(mp.mpf("1.15")) / 52
print("params,r,alpha,s,beta,x,t_x,T,t,n,quantity,value")
for name, *ps in params:
    r, al, s, be = (mp.mpf(v) for v in ps)
    P = ",".join(ps)
    for t in ("1", "10", "39", "78"):
        tt = mp.mpf(t)
        print(f"{name},{P},,,,{t},,expected_purchases,{mp.nstr(E(r, al, s, be, tt), 20)}")
        for n in (0, 1, 3, 10):
            print(f"{name},{P},,,,{t},{n},pmf,{mp.nstr(pmf(r, al, s, be, n, tt), 20)}")
    for x, tx, T in customers:
        txm, Tm = mp.mpf(tx), mp.mpf(T)
        ll = ln_lik(r, al, s, be, x, txm, Tm)
        check = ln_lik_2f1(r, al, s, be, x, txm, Tm)
        assert abs(ll - check) < mp.mpf(10) ** -25 * max(1, abs(ll)), (name, x, ll, check)
        print(f"{name},{P},{x},{tx},{T},,,ln_likelihood,{mp.nstr(ll, 20)}")
        pa = p_alive(r, al, s, be, x, txm, Tm)
        print(f"{name},{P},{x},{tx},{T},,,p_alive,{mp.nstr(pa, 20)}")
        print(f"{name},{P},{x},{tx},{T},52,,p_alive_at,{mp.nstr(pa * ((be + Tm) / (be + Tm + 52)) ** s, 20)}")
        print(f"{name},{P},{x},{tx},{T},,,dert,{mp.nstr(dert(r, al, s, be, x, txm, Tm, delta), 20)}")
        for t in ("1", "39", "104"):
            tt = mp.mpf(t)
            ce = pa * E(r + x, al + Tm, s, be + Tm, tt)
            print(f"{name},{P},{x},{tx},{T},{t},,conditional_expected_purchases,{mp.nstr(ce, 20)}")
            mean = float(ce)
            for n in sorted({0, 1, max(1, int(mean)), max(1, int(2 * mean))}):
                cp = pa * pmf(r + x, al + Tm, s, be + Tm, n, tt) + ((1 - pa) if n == 0 else 0)
                print(f"{name},{P},{x},{tx},{T},{t},{n},conditional_pmf,{mp.nstr(cp, 20)}")
