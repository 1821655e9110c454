"""High-precision MBG/NBD reference values (mpmath, 30 digits) for
tests/data/mbgnbd_reference.csv.

Run: python scripts/mbgnbd_reference.py > tests/data/mbgnbd_reference.csv
Only needs mpmath. Routes independent of the crate's (which writes every prediction as BG/NBD's
at b + 1): the likelihood from Batislam et al.'s closed form, checked against mp.quad over the
dropout probability p of the lambda-integrated individual likelihood; E[X(t)] and the
conditional expectation by mp.quad over p of E[count | p] = (1 - (1 + p t/alpha)^-r)/p times
the survival of the first dropout draw; the pmf by mp.quad over p of the model's definition
(die at the n-th purchase, or survive it); DERT by mp.quad over p of the closed-form
tau-integral (a Tricomi U function).
"""
import mpmath as mp

mp.mp.dps = 30


def pquad(f, a, b):
    """Integral of f(p) Beta(p; a, b) over (0, 1): the upper half in q = 1 - p, so that the
    density's singularity at p = 1 is resolved (1 - p would round to 0 there)."""
    pts = [0] + [mp.mpf(2) ** -k for k in range(30, 0, -1)]
    lower = mp.quad(lambda p: f(p) * p ** (a - 1) * (1 - p) ** (b - 1), pts)
    upper = mp.quad(lambda q: f(1 - q) * (1 - q) ** (a - 1) * q ** (b - 1), pts)
    return (lower + upper) / mp.beta(a, b)


def ln_lik(r, al, a, b, x, tx, T):
    A1 = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al)
    A2 = mp.log(mp.beta(a, b + x + 1) / mp.beta(a, b))
    return A1 + A2 + mp.log((al + T) ** (-(r + x)) + a / (b + x) * (al + tx) ** (-(r + x)))


def ln_lik_quad(r, al, a, b, x, tx, T):
    # given p: alive (1-p)^(x+1) NB-part at T, or died at t_x: p (1-p)^x NB-part at t_x
    g = lambda u: mp.exp(mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) - (r + x) * mp.log(al + u))
    return mp.log(pquad(lambda p: (1 - p) ** (x + 1) * g(T) + p * (1 - p) ** x * g(tx), a, b))


def p_alive(r, al, a, b, x, tx, T):
    return 1 / (1 + a / (b + x) * ((al + T) / (al + tx)) ** (r + x))


def mean_given_alive(r, al, a, b, t):
    """E[count in (0, t]] for a customer alive at 0 whose p ~ Beta(a, b), lambda ~ Gamma(r, al)."""
    return pquad(lambda p: (1 - (1 + p * t / al) ** (-r)) / p, a, b)


def E(r, al, a, b, t):
    # survive the first draw (1 - p), then alive
    return pquad(lambda p: (1 - p) * (1 - (1 + p * t / al) ** (-r)) / p, a, b)


def nb(r, al, j, t):
    return mp.exp(mp.loggamma(r + j) - mp.loggamma(r) - mp.loggamma(j + 1)) * (al / (al + t)) ** r * (t / (al + t)) ** j


def far_tail(r, al, n, t):
    """sum_{j >= n} NB(j), term by term until the terms no longer count (mp.nsum's
    extrapolation is wrong by 1.5% on such tails)."""
    total, j = mp.mpf(0), n
    while True:
        term = nb(r, al, j, t)
        total += term
        if j > n + 10 and term < total * mp.mpf(10) ** -35:
            return total
        j += 1


def pmf_given_alive(r, al, a, b, n, t):
    """P(n purchases in (0, t]) for a customer alive at 0: survive n purchases, or die at the n-th."""
    p_n = nb(r, al, n, t)
    # P(count >= n) under the NB: 1 - sum_{j<n} NB(j) cancels catastrophically in the far
    # tail (1e-24 at 30 digits), so it is summed directly when small
    head = mp.fsum(nb(r, al, j, t) for j in range(n))
    tail = 1 - head if head < mp.mpf("0.5") else far_tail(r, al, n, t)
    if n == 0:
        return pquad(lambda p: p_n, a, b)
    return pquad(lambda p: (1 - p) ** n * p_n + p * (1 - p) ** (n - 1) * tail, a, b)


def pmf(r, al, a, b, n, t):
    alive = pquad(lambda p: (1 - p), a, b)  # b/(a+b), by quadrature
    # given survival of the first draw, p ~ Beta(a, b+1)
    v = alive * pmf_given_alive(r, al, a, b + 1, n, t)
    return v + (1 - alive) if n == 0 else v


def dert(r, al, a, b, x, tx, T, delta):
    s, be = r + x, al + T
    def inner(p):
        # int_0^inf e^{-delta tau} s/be (1 + p tau/be)^{-(s+1)} d tau
        #   = s/p int_0^inf e^{-(delta be/p) w} (1 + w)^{-(s+1)} dw = s/p U(1, 1-s, delta be/p)
        return s / p * mp.hyperu(1, 1 - s, delta * be / p)
    return p_alive(r, al, a, b, x, tx, T) * pquad(inner, a, b + x + 1)


params = [
    ("cdnow", "0.524838", "6.182992", "0.891356", "1.613999"),
    ("a_big", "2.5", "3.0", "4.0", "8.0"),
    ("a_small", "1.2", "0.8", "0.3", "0.4"),
]
customers = [
    (0, "0", "38.86"), (2, "30.43", "38.86"), (26, "30.857143", "31"), (300, "78", "78"),
    (50, "70", "78"), (3000, "519", "520"), (1, "1", "60"),
]
delta = mp.log(mp.mpf("1.15")) / 52
print("params,r,alpha,a,b,x,t_x,T,t,n,quantity,value")
for name, *ps in params:
    r, al, a, b = (mp.mpf(v) for v in ps)
    P = ",".join(ps)
    for t in ("1", "10", "39", "78"):
        tt = mp.mpf(t)
        print(f"{name},{P},,,,{t},,expected_purchases,{mp.nstr(E(r, al, a, b, tt), 20)}")
        for n in (0, 1, 3, 10):
            print(f"{name},{P},,,,{t},{n},pmf,{mp.nstr(pmf(r, al, a, b, n, tt), 20)}")
    for x, tx, T in customers:
        txm, Tm = mp.mpf(tx), mp.mpf(T)
        ll = ln_lik(r, al, a, b, x, txm, Tm)
        if x <= 300:
            check = ln_lik_quad(r, al, a, b, x, txm, Tm)
            assert abs(ll - check) < mp.mpf(10) ** -10 * max(1, abs(ll)), (name, x, ll, check)
        print(f"{name},{P},{x},{tx},{T},,,ln_likelihood,{mp.nstr(ll, 20)}")
        pa = p_alive(r, al, a, b, x, txm, Tm)
        print(f"{name},{P},{x},{tx},{T},,,p_alive,{mp.nstr(pa, 20)}")
        if x <= 50:  # mpmath's U does not converge for the posteriors of x >= 300
            print(f"{name},{P},{x},{tx},{T},,,dert,{mp.nstr(dert(r, al, a, b, x, txm, Tm, delta), 20)}")
        for t in ("1", "39", "104"):
            tt = mp.mpf(t)
            ce = pa * mean_given_alive(r + x, al + Tm, a, b + x + 1, tt)
            print(f"{name},{P},{x},{tx},{T},{t},,conditional_expected_purchases,{mp.nstr(ce, 20)}")
            mean = float(ce)
            for n in sorted({0, 1, max(1, int(mean)), max(1, int(2 * mean))}):
                cp = pa * pmf_given_alive(r + x, al + Tm, a, b + x + 1, n, tt) + ((1 - pa) if n == 0 else 0)
                print(f"{name},{P},{x},{tx},{T},{t},{n},conditional_pmf,{mp.nstr(cp, 20)}")
