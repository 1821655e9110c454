"""High-precision BG/CNBD-k and MBG/CNBD-k reference values (mpmath) for
tests/data/cnbd_reference.csv.

Run: python scripts/cnbd_reference.py > tests/data/cnbd_reference.csv   (needs mpmath; slow:
about 20 minutes per parameter set; `python scripts/cnbd_reference.py --no-header bg3` computes
one set, so the sets can run in parallel and be concatenated after the header)

Routes independent of the crate's. The crate integrates the purchase rate lambda out first
(negative binomial phase counts summed over N, or a roots-of-unity generating function
integrated over the dropout probability p) and writes DERT as a hypergeometric function. Here
every quantity is mp.quad over lambda of sums over purchases n of Poisson tails, with p
integrated out by Beta functions:
- given lambda, the phase count in a window of length t is Poisson(lambda t); a customer who has
  done j of the k phases of the current gap makes purchase n of the window once nk - j phases
  are done, and makes it only if it survived n - 1 dropout draws: probability
  R_n = B(a, c + n - 1)/B(a, c) under p ~ Beta(a, c);
- P(alive) from the model's definition (Platzer & Reutterer 2016, Reutterer et al. 2021),
  with lambda's moments as Gamma integrals:
  alive means (1 - p)^(x + m), died at the last purchase p (1 - p)^(x - 1 + m) (m = 1 for
  MBG/CNBD-k, whose customers also face a draw at the first purchase), with lambda's
  likelihood lambda^(kx) e^(-lambda t_x) times P(fewer than k phases in T - t_x) when alive;
  the phase state j at T then has weight (lambda (T - t_x))^j / j!;
- the pmf: the window allows Q = floor((N + j)/k) purchases, the customer makes
  min(Q, D) with P(D >= n) = R_n;
- DERT: the n-th purchase at a Gamma(nk - j, lambda) time S_n contributes
  R_n E[e^(-delta S_n); S_n <= H] = R_n y^(nk - j) P(nk - j, (lambda + delta) H),
  y = lambda/(lambda + delta) (P the regularized lower incomplete gamma, a Poisson tail), summed
  term by term for a finite H; for an infinite H the sum is y^(k - j) 2F1(1, c; a + c; y^k),
  evaluated by mpmath's hyp2f1.
"""
import mpmath as mp

mp.mp.dps = 20

DELTA = mp.mpf("0.05")

PARAMS = [
    # label, mbg, k, r, alpha, a, b
    ("bg3", 0, 3, "1.5", "9.0", "0.6", "3.0"),
    ("mbg2", 1, 2, "0.8", "5.0", "1.2", "2.5"),
    ("bg5", 0, 5, "3.0", "20.0", "0.9", "4.2"),
    ("mbg4", 1, 4, "2.2", "6.0", "0.45", "1.3"),
]
CUSTOMERS = [
    (0, "0", "38.86"),
    (2, "30.43", "38.86"),
    (26, "30.857143", "31"),
    (5, "10", "40"),
    (40, "70", "78"),
]
HORIZONS = ["1", "39", "104"]
COUNTS = [0, 1, 3]


def lam_quad(f, shape, rate, peaks=()):
    """E[f(lambda)] for lambda ~ Gamma(shape, rate), with breakpoints around the mode, and
    around each of `peaks` ((shape', rate') of a Gamma whose shape the integrand takes where
    it is concentrated far from the density's mode, as a far Poisson tail makes it), up to
    where the density is negligible."""
    mean = shape / rate
    sd = mp.sqrt(shape) / rate
    pts = set()
    for sh, rt in ((shape, rate),) + tuple(peaks):
        m, s = sh / rt, mp.sqrt(sh) / rt
        for z in (-8, -4, -2, -1, 0, 1, 2, 4, 8, 16, 32):
            if m + z * s > 0:
                pts.add(m + z * s)
    # the Gamma tail beyond is below e^-60 of the mass (the integrands grow at most polynomially)
    top = max(mean + 48 * sd, (shape + 60) / rate) + 80 / rate
    for sh, rt in peaks:
        top = max(top, (sh + 48 * mp.sqrt(sh) + 80) / rt)
    pts = [mp.mpf(0)] + sorted(p for p in pts if p < top) + [top]
    ln_norm = shape * mp.log(rate) - mp.loggamma(shape)
    return mp.quad(
        lambda l: f(l) * mp.exp(ln_norm + (shape - 1) * mp.log(l) - rate * l) if l > 0 else 0,
        pts,
    )


def r_n(a, c, n):
    """P(survive n - 1 dropout draws) under p ~ Beta(a, c)."""
    return mp.exp(mp.log(mp.beta(a, c + n - 1)) - mp.log(mp.beta(a, c)))


def pois_tails(mu, m_max):
    """[P(Poisson(mu) >= m) for m in 0..m_max], summed from the far tail down (no 1 - sum)."""
    top = int(mu + 30 * mp.sqrt(mu) + 80)
    top = max(top, m_max + 1)
    pmf = [mp.mpf(0)] * (top + 1)
    pmf[0] = mp.exp(-mu)
    for i in range(1, top + 1):
        pmf[i] = pmf[i - 1] * mu / i
    tails = [mp.mpf(0)] * (top + 2)
    for i in range(top, -1, -1):
        tails[i] = tails[i + 1] + pmf[i]
    return tails[: m_max + 1]


class State:
    """A customer alive at the start of a window: lambda ~ Gamma(shape + j, rate) with weight
    w_j for each phase state j, p ~ Beta(a, c); prob = P(alive) (times the first draw's
    survival for a new MBG customer)."""

    def __init__(self, k, a, c, shape, rate, weights, prob):
        self.k, self.a, self.c = k, a, c
        self.shape, self.rate, self.weights, self.prob = shape, rate, weights, prob

    def mix(self, f, phases=(), t=0):
        """sum_j w_j E[f(lambda, j)] with lambda ~ Gamma(shape + j, rate); `phases` lists phase
        counts m whose Poisson tail P(N >= m - j) in a window of length t the integrand
        carries (it then peaks near Gamma(shape + m, rate + t))."""
        return sum(
            w
            * lam_quad(
                lambda l: f(l, j),
                self.shape + j,
                self.rate,
                tuple((self.shape + m, self.rate + t) for m in phases if m > 0),
            )
            for j, w in enumerate(self.weights)
            if w != 0
        )

    def n_max(self, t):
        # purchases possible in the window: far beyond the Poisson mean of the fastest state
        mu = (self.shape + self.k + 40 * mp.sqrt(self.shape + self.k)) / self.rate * t
        return int(mu / self.k) + 60

    def expected(self, t):
        a, c, k = self.a, self.c, self.k
        n_max = self.n_max(t)
        R = [None] + [r_n(a, c, n) for n in range(1, n_max + 2)]

        def given(l, j):
            tails = pois_tails(l * t, n_max * k)
            return mp.fsum(R[n] * tails[n * k - j] for n in range(1, n_max + 1))

        return self.mix(given)

    def pmf(self, n, t):
        a, c, k = self.a, self.c, self.k
        rn, rn1 = r_n(a, c, n), r_n(a, c, n + 1)

        def given(l, j):
            tails = pois_tails(l * t, (n + 1) * k)
            ge = lambda q: tails[max(q * k - j, 0)]  # P(Q >= q)
            if n == 0:
                return 1 - ge(1)
            return (rn - rn1) * ge(n + 1) + rn * (ge(n) - ge(n + 1))

        return self.mix(given, (n * k, (n + 1) * k), t)

    def dert(self, delta, h):
        a, c, k = self.a, self.c, self.k

        def given(l, j):
            y = l / (l + delta)
            yk = y**k
            if h is None:
                # sum_n R_n y^(nk - j) in closed form (mpmath's own 2F1)
                return y ** (k - j) * mp.hyp2f1(1, c, a + c, yk)
            mu = (l + delta) * h
            tails = pois_tails(mu, int(mu + 30 * mp.sqrt(mu) + 80))
            total, n, rn = mp.mpf(0), 1, mp.mpf(1)
            while n * k - j < len(tails):
                m = n * k - j
                total += rn * y**m * tails[m]
                rn *= (c + n - 1) / (a + c + n - 1)
                n += 1
            # beyond, P(Poisson(mu) >= m) < e^-60: the rest is below that over 1 - y^k
            return total

        return self.mix(given)


def new_customer(mbg, k, r, al, a, b):
    prob = b / (a + b) if mbg else mp.mpf(1)
    return State(k, a, b + mbg, r, al, [mp.mpf(1)], prob)


def alive_state(mbg, k, r, al, a, b, x, tx, T):
    """Posterior of a customer with history (x, t_x, T): P(alive) by quadrature over lambda of
    the alive and dead likelihoods, and the alive customer's phase weights."""
    u = T - tx

    # E over the prior lambda ~ Gamma(r, al) of lambda^e e^(-lambda s): a Gamma integral
    # (quadrature over the prior would miss a heavy buyer's peak, far out in its tail)
    def gamma_moment(e, s):
        return mp.exp(mp.loggamma(r + e) - mp.loggamma(r) + r * mp.log(al) - (r + e) * mp.log(al + s))

    # alive: lambda^(kx) e^(-lambda T) (lambda u)^j / j! for the j phases done since t_x
    terms = [gamma_moment(k * x + j, T) * u**j / mp.factorial(j) for j in range(k)]
    alive = r_n(a, b, x + mbg + 1) * mp.fsum(terms)
    if x + mbg >= 1:
        # died at the last purchase: p (1 - p)^(x - 1 + m), lambda's likelihood up to t_x
        died = mp.beta(a + 1, b + x - 1 + mbg) / mp.beta(a, b) * gamma_moment(k * x, tx)
    else:
        died = mp.mpf(0)
    pa = alive / (alive + died)
    total = mp.fsum(terms)
    weights = [t / total for t in terms]
    return State(k, a, b + x + mbg, r + k * x, al + T, weights, pa)


def main():
    import sys

    # optional: the labels to compute (e.g. one per process); the header only without labels
    # is never wanted, so `--no-header` drops it for concatenating parallel runs
    # `--skip FILE`: rows already in FILE (an interrupted run's output) are not recomputed
    argv = sys.argv[1:]
    done = set()
    if "--skip" in argv:
        i = argv.index("--skip")
        with open(argv[i + 1]) as f:
            done = {line.rsplit(",", 1)[0] for line in f if line.strip()}
        del argv[i : i + 2]
    args = [a for a in argv if a != "--no-header"]
    if "--no-header" not in argv:
        print("params,mbg,k,r,alpha,a,b,x,t_x,T,t,n,quantity,value")

    def emit(key, compute):
        if key not in done:
            print(f"{key},{mp.nstr(compute(), 20)}")

    for label, mbg, k, *rest in PARAMS:
        if args and label not in args:
            continue
        r, al, a, b = (mp.mpf(v) for v in rest)
        head = f"{label},{mbg},{k},{rest[0]},{rest[1]},{rest[2]},{rest[3]}"
        s = new_customer(mbg, k, r, al, a, b)
        for t in HORIZONS:
            tt = mp.mpf(t)
            emit(f"{head},,,,{t},,expected_purchases", lambda: s.prob * s.expected(tt))
            for n in COUNTS:
                emit(
                    f"{head},,,,{t},{n},pmf",
                    lambda: s.prob * s.pmf(n, tt) + (1 - s.prob if n == 0 else 0),
                )
        for x, tx, T in CUSTOMERS:
            st = alive_state(mbg, k, r, al, a, b, x, mp.mpf(tx), mp.mpf(T))
            cust = f"{head},{x},{tx},{T}"
            emit(f"{cust},,,p_alive", lambda: st.prob)
            for t in HORIZONS:
                tt = mp.mpf(t)
                emit(
                    f"{cust},{t},,conditional_expected_purchases",
                    lambda: st.prob * st.expected(tt),
                )
                for n in COUNTS:
                    emit(
                        f"{cust},{t},{n},conditional_pmf",
                        lambda: st.prob * st.pmf(n, tt) + (1 - st.prob if n == 0 else 0),
                    )
            for h in ("52", None):
                emit(
                    f"{cust},{h or ''},,dert",
                    lambda: st.prob * st.dert(DELTA, None if h is None else mp.mpf(h)),
                )

if __name__ == "__main__":
    main()
