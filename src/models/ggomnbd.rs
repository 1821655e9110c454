//! The GGom/NBD model (Bemmaor & Glady 2012, "Modeling Purchasing Behavior with Sudden 'Death':
//! A Flexible Customer Lifetime Model", *Management Science* 58(5), 1012–1021).
//!
//! While alive, a customer buys at Poisson rate λ ~ Gamma(r, α). Their lifetime τ has a
//! Gompertz distribution, `P(τ > t | η) = exp(-η (e^{bt} - 1))`, with η ~ Gamma(s, β), so that
//! across customers `S(t) = (β / (β + e^{bt} - 1))^s`. As b → 0 with β/b fixed, `e^{bt} - 1 ≈ bt`
//! and S(t) → (β_P/(β_P + t))^s with β_P = β/b: the model becomes Pareto/NBD. That limit is
//! a boundary of the parameter space, and on CDNOW the maximum lies there: the fit reports it
//! as [`Error::OnBoundary`] naming b and β, with Pareto/NBD's log-likelihood, instead of
//! estimates whose standard errors would be meaningless.
//!
//! Nothing here has a closed form: the likelihood's "died between t_x and T" term and every
//! prediction are one-dimensional integrals, computed by Gauss–Legendre quadrature on panels
//! that follow the integrand's scale (an adaptive vector quadrature for the likelihood and its gradient, to
//! 1e-12 relative; geometric panels from 0 for the predictions, to 1e-13 per panel).

use crate::data::{CompressedRfm, Customer, RfmSummary};
use crate::error::{Error, Result, nonnegative_option, positive_parameter};
use crate::fit::{FitOptions, FromRfm, MaximumLikelihood};
use crate::models::TransactionModel;
use crate::special::{adaptive_gauss_legendre, adaptive_vec, log_add_exp, trigamma};
use statrs::function::gamma::{digamma, ln_gamma};

/// Validated GGom/NBD parameters: r, α (the Gamma purchase-rate heterogeneity), b (the
/// Gompertz scale, per time unit), s, β (the Gamma heterogeneity of the Gompertz η), all finite
/// and > 0.
///
/// ```
/// use clv::{Customer, GgomNbdParams, ParetoNbdParams, TransactionModel};
/// // near b = 0 with β/b = 11.669 the model is Pareto/NBD
/// let g = GgomNbdParams::new(0.553, 10.578, 1e-7, 0.606, 11.669e-7).unwrap();
/// let p = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
/// let c = Customer::new(2.0, 30.43, 38.86).unwrap();
/// assert!((g.p_alive(&c) - p.p_alive(&c)).abs() < 1e-5);
/// assert!((g.expected_purchases(39.0) - p.expected_purchases(39.0)).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawGgomNbd"))]
pub struct GgomNbdParams {
    r: f64,
    alpha: f64,
    b: f64,
    s: f64,
    beta: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawGgomNbd {
    r: f64,
    alpha: f64,
    b: f64,
    s: f64,
    beta: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawGgomNbd> for GgomNbdParams {
    type Error = Error;
    fn try_from(p: RawGgomNbd) -> Result<Self> {
        GgomNbdParams::new(p.r, p.alpha, p.b, p.s, p.beta)
    }
}

/// ln(β + e^y - 1) for y >= 0 without overflow.
#[inline]
fn ln_beta_e(beta: f64, y: f64) -> f64 {
    if y > 30.0 {
        y + ((beta - 1.0) * (-y).exp()).ln_1p()
    } else {
        (beta + y.exp_m1()).ln()
    }
}

impl GgomNbdParams {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(r: f64, alpha: f64, b: f64, s: f64, beta: f64) -> Result<Self> {
        Ok(GgomNbdParams {
            r: positive_parameter("r", r)?,
            alpha: positive_parameter("alpha", alpha)?,
            b: positive_parameter("b", b)?,
            s: positive_parameter("s", s)?,
            beta: positive_parameter("beta", beta)?,
        })
    }
    /// Shape of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate parameter of the Gamma distribution of purchase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Gompertz scale b (per time unit): how fast the dropout hazard grows with age.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Shape of the Gamma distribution of the Gompertz η.
    pub fn s(&self) -> f64 {
        self.s
    }
    /// Rate parameter of the Gamma distribution of the Gompertz η.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Fits the model by maximum likelihood; see [`crate::fit::fit`].
    ///
    /// # Errors
    /// As [`crate::fit::fit`]; [`Error::OnBoundary`] when the maximum lies at b, β → 0 (the
    /// model is then Pareto/NBD, which is what to fit).
    pub fn fit(summary: &RfmSummary, options: &FitOptions) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// ln of one customer's likelihood (Bemmaor & Glady 2012), derived from the model's
    /// definition as for Pareto/NBD:
    ///
    /// `L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^{-(r+x)} (β + e^{bT} - 1)^{-s} + s b I ]`, with
    /// `I = ∫_{t_x}^T e^{bτ} (α+τ)^{-(r+x)} (β + e^{bτ} - 1)^{-(s+1)} dτ`.
    ///
    /// The first term is "alive at T", the second "died at some τ between the last purchase
    /// and T" (the Gompertz density averaged over η). In log space, the integral scaled by its
    /// integrand at t_x; checked against mpmath quadrature (`scripts/ggomnbd_reference.py`).
    pub fn ln_likelihood(&self, c: &Customer) -> f64 {
        let p = self.to_array();
        let mut sums = Sums {
            ll: row(&p, c.frequency(), c.recency(), c.age(), None, None),
            ..Sums::default()
        };
        add_parameter_terms(&p, 1.0, &mut sums);
        sums.ll
    }

    /// Sum of [`ln_likelihood`](Self::ln_likelihood) over a summary.
    pub fn log_likelihood(&self, summary: &RfmSummary) -> f64 {
        ll_grad(&self.to_array(), &summary.compress(), None)
    }

    fn to_array(self) -> [f64; 5] {
        [self.r, self.alpha, self.b, self.s, self.beta]
    }

    /// e^{bT}/(β + e^{bT} - 1) = 1/(1 + (β-1) e^{-bT}), in (0, max(1, 1/β)].
    fn q(&self, tt: f64) -> f64 {
        1.0 / (1.0 + (self.beta - 1.0) * (-self.b * tt).exp())
    }

    /// ln S(u | alive at T) = -s ln[(β + e^{b(T+u)} - 1)/(β + e^{bT} - 1)]
    /// = -s ln(1 + q(T) (e^{bu} - 1)): the posterior of η given alive at T is
    /// Gamma(s, β + e^{bT} - 1). Written without the difference of two large logarithms (b·T
    /// in the thousands would leave rounding noise of 1e-11 in S).
    fn ln_survival(&self, tt: f64, u: f64) -> f64 {
        -self.s * (self.q(tt) * (self.b * u).exp_m1()).ln_1p()
    }

    /// The dropout hazard at T given alive, s b e^{bT}/(β + e^{bT} - 1): 1/hazard is the scale
    /// of the first integration panel.
    fn hazard(&self, tt: f64) -> f64 {
        self.s * self.b * self.q(tt)
    }

    /// ∫_0^t of f on panels [0, h], [h, 2h], [2h, 4h], ... (h from the hazard at T), each by
    /// adaptive Gauss–Legendre: a power-law or super-exponential decay is resolved at every
    /// scale. `t = ∞` stops once a panel adds less than 1e-17 of the total (f decreasing).
    fn integrate(&self, tt: f64, t: f64, f: impl Fn(f64) -> f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let h0 = (0.5 / self.hazard(tt)).min(t).max(t.min(1.0) * 1e-12);
        let mut total = adaptive_gauss_legendre(&f, 0.0, h0, 1e-13);
        let mut lo = h0;
        for _ in 0..2000 {
            if lo >= t {
                break;
            }
            let hi = (2.0 * lo).min(t);
            let v = adaptive_gauss_legendre(&f, lo, hi, 1e-13);
            total += v;
            if t.is_infinite() && (v <= 1e-17 * total.abs() || v == 0.0) {
                break;
            }
            lo = hi;
        }
        total
    }

    /// P(alive at T | x, t_x, T): the likelihood's "alive" term over the whole likelihood.
    fn p_alive_of(&self, c: &Customer) -> f64 {
        let tm = terms(&self.to_array(), c.frequency(), c.recency(), c.age(), 0);
        let lse = log_add_exp(tm.l1, tm.l2);
        (tm.l1 - lse).exp().min(1.0)
    }

    /// E[count in (0, t]] given alive at T (T = 0, x = 0: a new customer): the posterior
    /// purchase rate (r+x)/(α+T) times the expected time alive, ∫_0^t S(u | alive at T) du.
    fn mean_given_alive(&self, x: f64, tt: f64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        let rate = (self.r + x) / (self.alpha + tt);
        rate * self.integrate(tt, t, |u| self.ln_survival(tt, u).exp())
    }

    /// P(n purchases in (0, t] | alive at T) = NB(n; r+x, α+T, t) S(t) + ∫_0^t NB(n; r+x, α+T, τ)
    /// f(τ) dτ, with f the lifetime density given alive at T: the customer dies at τ having
    /// bought n times (a negative binomial count over τ) or survives t.
    fn pmf_given_alive(&self, x: f64, tt: f64, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        if t == 0.0 {
            return if n == 0 { 1.0 } else { 0.0 };
        }
        let (r, al) = (self.r + x, self.alpha + tt);
        let nf = n as f64;
        let coef = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let ln_nb = |tau: f64| {
            let l = coef - r * (tau / al).ln_1p();
            if n == 0 {
                l
            } else if tau == 0.0 {
                f64::NEG_INFINITY
            } else {
                l - nf * (al / tau).ln_1p()
            }
        };
        // the hazard at T + u: s b e^{b(T+u)}/(β + e^{b(T+u)} - 1) = s b q(T+u)
        let ln_sb = (self.s * self.b).ln();
        let ln_h = |u: f64| ln_sb + self.q(tt + u).ln();
        let survive = (ln_nb(t) + self.ln_survival(tt, t)).exp();
        let die = self.integrate(tt, t, |tau| {
            (ln_nb(tau) + self.ln_survival(tt, tau) + ln_h(tau)).exp()
        });
        (survive + die).min(1.0)
    }

    /// Discounted expected residual transactions with continuous discounting:
    /// `P(alive) · (r+x)/(α+T) · ∫_0^H e^{-δu} S(u | alive at T) du` (`None`: H = ∞, needs
    /// δ > 0 unless b makes the lifetime finite: it is integrable either way, but δ = 0 forever
    /// is refused as for the other models).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite rate, an invalid horizon, or an
    /// infinite horizon without discounting; [`Error::Numerical`] when the value is not finite.
    pub fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        nonnegative_option("continuous discount rate", delta)?;
        let h = match horizon {
            Some(h) => crate::predict::check_horizon(h)?,
            None if delta > 0.0 => f64::INFINITY,
            None => {
                return Err(Error::InvalidOption {
                    name: "continuous discount rate",
                    reason: "an infinite horizon needs a discount rate > 0".into(),
                });
            }
        };
        let tt = c.age();
        let rate = (self.r + c.frequency()) / (self.alpha + tt);
        let v = self.p_alive_of(c)
            * rate
            * self.integrate(tt, h, |u| (self.ln_survival(tt, u) - delta * u).exp());
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Numerical {
                what: format!("DERT of {c:?}"),
            })
        }
    }
}

/// Index of (i, j), i <= j, in the upper triangle of a 5×5 matrix stored row by row.
const fn tri(i: usize, j: usize) -> usize {
    // rows of lengths 5, 4, 3, 2, 1
    i * 5 - i * (i + 1) / 2 + j
}

/// The two log terms of a row's likelihood bracket (without the common factor) and, by
/// `level` (0 value, 1 gradient, 2 Hessian), their derivatives in (r, α, b, s, β): alive,
/// l1 = -(r+x) ln(α+T) - s ln(β+e^{bT}-1), and dead between t_x and T, l2 = ln(s b I)
/// (-∞ when t_x = T), I = ∫ g. The integrals of g's derivatives come from the same panels:
/// ∂I = ∫ g ∂ln g and ∂²I = ∫ g (∂ln g ∂ln g + ∂² ln g).
#[derive(Default)]
struct Terms {
    l1: f64,
    l2: f64,
    g1: [f64; 5],
    g2: [f64; 5],
    h1: [f64; 15],
    h2: [f64; 15],
}

fn terms(p: &[f64; 5], x: f64, tx: f64, t: f64, level: u8) -> Terms {
    let [r, alpha, b, s, beta] = *p;
    let rx = r + x;
    let ln_at = (alpha + t).ln();
    let ln_bet = ln_beta_e(beta, b * t);
    let mut out = Terms {
        l1: -rx * ln_at - s * ln_bet,
        l2: f64::NEG_INFINITY,
        ..Terms::default()
    };
    if level >= 1 {
        // d ln(β + e^{bT} - 1)/db = T e^{bT}/(β + e^{bT} - 1) = T q
        let q = 1.0 / (1.0 + (beta - 1.0) * (-b * t).exp());
        let inv_be = (-ln_bet).exp();
        out.g1 = [-ln_at, -rx / (alpha + t), -s * t * q, -ln_bet, -s * inv_be];
        if level >= 2 {
            let h = &mut out.h1;
            h[tri(0, 1)] = -1.0 / (alpha + t);
            h[tri(1, 1)] = rx / ((alpha + t) * (alpha + t));
            h[tri(2, 2)] = -s * t * t * q * (1.0 - q);
            h[tri(2, 3)] = -t * q;
            h[tri(2, 4)] = s * t * q * inv_be;
            h[tri(3, 4)] = -inv_be;
            h[tri(4, 4)] = s * inv_be * inv_be;
        }
    }
    if tx >= t {
        return out;
    }
    let ln_g = |tau: f64| b * tau - rx * (alpha + tau).ln() - (s + 1.0) * ln_beta_e(beta, b * tau);
    let g0 = ln_g(tx);
    let q_tx = 1.0 / (1.0 + (beta - 1.0) * (-b * tx).exp());
    // ln g and its first derivatives at τ, and (level 2) its second derivatives
    let parts = |tau: f64, d: &mut [f64; 5], dd: &mut [f64; 15], level: u8| -> f64 {
        // ln g(τ) - ln g(t_x) from the differences themselves: for b·t_x or t_x in the
        // thousands, subtracting the two logarithms would leave 1e-11 of rounding noise
        let dt = tau - tx;
        let g = (b * dt
            - rx * (dt / (alpha + tx)).ln_1p()
            - (s + 1.0) * (q_tx * (b * dt).exp_m1()).ln_1p())
        .exp();
        if level >= 1 {
            let la = (alpha + tau).ln();
            let lb = ln_beta_e(beta, b * tau);
            let q = 1.0 / (1.0 + (beta - 1.0) * (-b * tau).exp());
            let (ia, ib) = (1.0 / (alpha + tau), (-lb).exp());
            *d = [
                -la,
                -rx * ia,
                tau * (1.0 - (s + 1.0) * q),
                -lb,
                -(s + 1.0) * ib,
            ];
            if level >= 2 {
                dd[tri(0, 1)] = -ia;
                dd[tri(1, 1)] = rx * ia * ia;
                dd[tri(2, 2)] = -(s + 1.0) * tau * tau * q * (1.0 - q);
                dd[tri(2, 3)] = -tau * q;
                dd[tri(2, 4)] = (s + 1.0) * tau * q * ib;
                dd[tri(3, 4)] = -ib;
                dd[tri(4, 4)] = (s + 1.0) * ib * ib;
            }
        }
        g
    };
    let (i0, gi, hi) = match level {
        0 => {
            let f = |tau: f64, o: &mut [f64; 1]| {
                o[0] = parts(tau, &mut [0.0; 5], &mut [0.0; 15], 0);
            };
            (adaptive_vec(&f, tx, t, 1e-12)[0], [0.0; 5], [0.0; 15])
        }
        1 => {
            let f = |tau: f64, o: &mut [f64; 6]| {
                let mut d = [0.0; 5];
                o[0] = parts(tau, &mut d, &mut [0.0; 15], 1);
                for k in 0..5 {
                    o[k + 1] = o[0] * d[k];
                }
            };
            let v = adaptive_vec(&f, tx, t, 1e-12);
            let mut gi = [0.0; 5];
            gi.copy_from_slice(&v[1..]);
            (v[0], gi, [0.0; 15])
        }
        _ => {
            let f = |tau: f64, o: &mut [f64; 21]| {
                let (mut d, mut dd) = ([0.0; 5], [0.0; 15]);
                let g = parts(tau, &mut d, &mut dd, 2);
                o[0] = g;
                for k in 0..5 {
                    o[k + 1] = g * d[k];
                }
                for i in 0..5 {
                    for j in i..5 {
                        o[6 + tri(i, j)] = g * (d[i] * d[j] + dd[tri(i, j)]);
                    }
                }
            };
            let v = adaptive_vec(&f, tx, t, 1e-12);
            let (mut gi, mut hi) = ([0.0; 5], [0.0; 15]);
            gi.copy_from_slice(&v[1..6]);
            hi.copy_from_slice(&v[6..]);
            (v[0], gi, hi)
        }
    };
    out.l2 = s.ln() + b.ln() + g0 + i0.ln();
    if level >= 1 {
        let inv = 1.0 / i0;
        let m: [f64; 5] = std::array::from_fn(|k| gi[k] * inv);
        out.g2 = m;
        out.g2[2] += 1.0 / b;
        out.g2[3] += 1.0 / s;
        if level >= 2 {
            for i in 0..5 {
                for j in i..5 {
                    out.h2[tri(i, j)] = hi[tri(i, j)] * inv - m[i] * m[j];
                }
            }
            out.h2[tri(2, 2)] -= 1.0 / (b * b);
            out.h2[tri(3, 3)] -= 1.0 / (s * s);
        }
    }
    out
}

/// One row's log-likelihood and, if asked, its gradient and the upper triangle of its Hessian,
/// without the terms that depend on the parameters only ([`add_parameter_terms`] adds them
/// once for all rows).
fn row(
    p: &[f64; 5],
    x: f64,
    tx: f64,
    t: f64,
    grad: Option<&mut [f64; 5]>,
    hess: Option<&mut [f64; 15]>,
) -> f64 {
    let r = p[0];
    let level = if hess.is_some() {
        2
    } else {
        u8::from(grad.is_some())
    };
    let tm = terms(p, x, tx, t, level);
    let lse = log_add_exp(tm.l1, tm.l2);
    let (w1, w2) = ((tm.l1 - lse).exp(), (tm.l2 - lse).exp());
    if let Some(g) = grad {
        *g = std::array::from_fn(|k| w1 * tm.g1[k] + w2 * tm.g2[k]);
        g[0] += digamma(r + x);
    }
    if let Some(h) = hess {
        // log-sum-exp: w1 H1 + w2 H2 + w1 w2 (g1 - g2)(g1 - g2)ᵀ, plus the common terms
        let dg: [f64; 5] = std::array::from_fn(|k| tm.g1[k] - tm.g2[k]);
        for i in 0..5 {
            for j in i..5 {
                let k = tri(i, j);
                h[k] = w1 * tm.h1[k] + w2 * tm.h2[k] + w1 * w2 * dg[i] * dg[j];
            }
        }
        h[tri(0, 0)] += trigamma(r + x);
    }
    ln_gamma(r + x) + lse
}

/// Adds `n` times the log-likelihood terms that depend on the parameters only,
/// −lnΓ(r) + r ln α + s ln β, and their derivatives, to `sums`.
fn add_parameter_terms(p: &[f64; 5], n: f64, sums: &mut Sums) {
    let [r, alpha, _, s, beta] = *p;
    sums.ll += n * (-ln_gamma(r) + r * alpha.ln() + s * beta.ln());
    sums.g[0] += n * (alpha.ln() - digamma(r));
    sums.g[1] += n * r / alpha;
    sums.g[3] += n * beta.ln();
    sums.g[4] += n * s / beta;
    sums.h[tri(0, 0)] -= n * trigamma(r);
    sums.h[tri(0, 1)] += n / alpha;
    sums.h[tri(1, 1)] -= n * r / (alpha * alpha);
    sums.h[tri(3, 4)] += n / beta;
    sums.h[tri(4, 4)] -= n * s / (beta * beta);
}

/// Rows from which the likelihood is summed in parallel (each row is an integral).
const PARALLEL_ROWS: usize = 256;
const CHUNK_ROWS: usize = 64;

/// Sums of the rows' log-likelihoods, gradients and Hessian upper triangles.
#[derive(Default)]
struct Sums {
    ll: f64,
    g: [f64; 5],
    h: [f64; 15],
}

fn ll_grad_hess(
    theta: &[f64],
    d: &CompressedRfm,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let p = [theta[0], theta[1], theta[2], theta[3], theta[4]];
    let want_h = hess.is_some();
    let want_g = grad.is_some() || want_h;
    let mut sums = super::sum_rows(
        d.len(),
        PARALLEL_ROWS,
        CHUNK_ROWS,
        |rows| {
            let mut acc = Sums::default();
            let (mut gi, mut hi) = ([0.0; 5], [0.0; 15]);
            for i in rows {
                let w = d.weight[i];
                acc.ll += w * row(
                    &p,
                    d.x[i],
                    d.t_x[i],
                    d.t[i],
                    want_g.then_some(&mut gi),
                    want_h.then_some(&mut hi),
                );
                if want_g {
                    acc.g.iter_mut().zip(&gi).for_each(|(a, v)| *a += w * v);
                }
                if want_h {
                    acc.h.iter_mut().zip(&hi).for_each(|(a, v)| *a += w * v);
                }
            }
            acc
        },
        |acc, c| {
            acc.ll += c.ll;
            acc.g.iter_mut().zip(&c.g).for_each(|(a, v)| *a += v);
            acc.h.iter_mut().zip(&c.h).for_each(|(a, v)| *a += v);
        },
    );
    add_parameter_terms(&p, d.total_weight(), &mut sums);
    if let Some(out) = grad {
        out.copy_from_slice(&sums.g);
    }
    if let Some(out) = hess {
        for i in 0..5 {
            for j in 0..5 {
                out[5 * i + j] = sums.h[tri(i.min(j), i.max(j))];
            }
        }
    }
    sums.ll
}

fn ll_grad(theta: &[f64], d: &CompressedRfm, grad: Option<&mut [f64]>) -> f64 {
    ll_grad_hess(theta, d, grad, None)
}

impl MaximumLikelihood for GgomNbdParams {
    type Data = CompressedRfm;
    const LABEL: &'static str = "GGom/NBD";
    const MODEL: &'static str = "ggomnbd";
    const NAMES: &'static [&'static str] = &["r", "alpha", "b", "s", "beta"];

    fn n_customers(data: &CompressedRfm) -> f64 {
        data.total_weight()
    }
    fn n_rows(data: &CompressedRfm) -> usize {
        data.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [r, alpha, b, s, beta] => GgomNbdParams::new(*r, *alpha, *b, *s, *beta),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        self.to_array().to_vec()
    }
    fn starts(data: &CompressedRfm) -> Vec<Vec<f64>> {
        let mean_t = data.mean_age();
        vec![
            vec![0.5, 0.1 * mean_t, 1.0 / mean_t, 1.0, 1.0],
            vec![1.0, 1.0, 0.1 / mean_t, 0.5, 0.1],
        ]
    }
    fn log_likelihood_grad(theta: &[f64], data: &CompressedRfm, grad: Option<&mut [f64]>) -> f64 {
        ll_grad(theta, data, grad)
    }
    fn subsample(data: &CompressedRfm, rows: usize) -> Option<CompressedRfm> {
        Some(data.spread_subsample(rows))
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &CompressedRfm,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess(theta, data, Some(grad), Some(hess)))
    }
    /// Rows are integrals: large data are first fitted on a subsample from 20,000 rows on.
    fn subsample_above() -> usize {
        20_000
    }
    /// α and 1/b are times: penalised as α/max(T) and b·max(T).
    fn penalty_scales(data: &CompressedRfm) -> Vec<f64> {
        let m = data.age_scale();
        vec![1.0, m, 1.0 / m, 1.0, 1.0]
    }
    /// b, β → 0 with β/b fixed is Pareto/NBD (β_P = β/b): its maximum on the same data,
    /// computed when the optimum found is near that boundary (the Gompertz curvature over the
    /// data's span, b·max(T), below 0.1): an optimum with a material curvature is inside.
    fn boundary_limit(
        data: &CompressedRfm,
        options: &FitOptions,
        theta: &[f64],
    ) -> Option<Result<crate::fit::BoundaryLimit>> {
        if theta[2] / data.age_scale() >= 0.1 {
            return None;
        }
        Some(
            crate::fit::fit_prepared::<super::ParetoNbdParams>(
                data,
                options,
                crate::TimeUnit::Weeks,
            )
            .map(|f| crate::fit::BoundaryLimit {
                parameters: "b, beta",
                toward: "0",
                limit: "pareto-nbd",
                log_likelihood: f.log_likelihood(),
            }),
        )
    }
}

impl FromRfm for GgomNbdParams {
    fn prepare(summary: &RfmSummary) -> Result<CompressedRfm> {
        super::prepare_rfm(summary, Self::MODEL)
    }
}

impl TransactionModel for GgomNbdParams {
    /// See the inherent [`GgomNbdParams::dert`].
    fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        GgomNbdParams::dert(self, c, delta, horizon)
    }
    /// E[X(t)] = (r/α) ∫_0^t (β/(β + e^{bu} - 1))^s du: the mean rate times the expected time
    /// alive in (0, t].
    fn expected_purchases(&self, t: f64) -> f64 {
        self.mean_given_alive(0.0, 0.0, t)
    }
    /// P(X(t) = n): die at τ < t after n purchases, or survive t having made n.
    fn pmf(&self, n: u64, t: f64) -> f64 {
        self.pmf_given_alive(0.0, 0.0, n, t)
    }
    /// The likelihood's alive term over the likelihood (Bayes' theorem).
    fn p_alive(&self, c: &Customer) -> f64 {
        self.p_alive_of(c)
    }
    /// P(alive) · (r+x)/(α+T) · ∫_0^t S(u | alive at T) du, with η | alive ~ Gamma(s, β+e^{bT}-1).
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64 {
        self.p_alive_of(c) * self.mean_given_alive(c.frequency(), c.age(), t)
    }
    /// P(alive) · P(n | alive at T) + (1 - P(alive)) · 1{n = 0}.
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64 {
        self.conditional_pmf_given(self.p_alive_of(c), c, n, t)
    }
    /// The conditional pmf at 0 for a known P(alive) (its integral is not redone).
    fn prob_no_purchase_given(&self, p_alive: f64, c: &Customer, t: f64) -> f64 {
        self.conditional_pmf_given(p_alive, c, 0, t)
    }
    /// P(alive), an integral, computed once for the three scores.
    fn score(&self, c: &Customer, t: f64) -> crate::models::Score {
        let pa = self.p_alive_of(c);
        crate::models::Score {
            p_alive: pa,
            expected_purchases: pa * self.mean_given_alive(c.frequency(), c.age(), t),
            prob_no_purchase: self.conditional_pmf_given(pa, c, 0, t),
        }
    }
    /// P(alive) computed once for all horizons.
    fn conditional_expectations(&self, c: &Customer, ts: &[f64], out: &mut [f64]) -> f64 {
        let pa = self.p_alive_of(c);
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = pa * self.mean_given_alive(c.frequency(), c.age(), t);
        }
        pa
    }
}

impl GgomNbdParams {
    /// P(alive)·P(n | alive at T) + (1 − P(alive))·1{n = 0} for a known P(alive).
    fn conditional_pmf_given(&self, pa: f64, c: &Customer, n: u64, t: f64) -> f64 {
        let alive = pa * self.pmf_given_alive(c.frequency(), c.age(), n, t);
        if n == 0 { alive + (1.0 - pa) } else { alive }
    }
}

impl crate::sim::Simulate for GgomNbdParams {
    /// Each customer draws λ ~ Gamma(r, rate α), η ~ Gamma(s, rate β) and a Gompertz lifetime
    /// τ = ln(1 + E/η)/b with E ~ Exp(1); purchases arrive at rate λ until min(τ, T).
    ///
    /// ```
    /// use clv::{GgomNbdParams, sim::{Simulate, uniform_ages}};
    /// let m = GgomNbdParams::new(0.5, 10.0, 0.05, 1.0, 2.0).unwrap();
    /// let s = m.simulate(&uniform_ages(500, 1.0, 78.0, 1).unwrap(), clv::TimeUnit::Weeks, 42).unwrap();
    /// assert_eq!(s.len(), 500);
    /// ```
    fn simulate(&self, ages: &[f64], unit: crate::TimeUnit, seed: u64) -> Result<RfmSummary> {
        use rand_distr::{Distribution, Exp1, Gamma};
        let lambda = Gamma::new(self.r, 1.0 / self.alpha).map_err(crate::sim::invalid)?;
        let eta = Gamma::new(self.s, 1.0 / self.beta).map_err(crate::sim::invalid)?;
        crate::sim::simulate_customers(ages, unit, seed, |r, t| {
            let l: f64 = lambda.sample(r);
            let h: f64 = eta.sample(r);
            let e: f64 = Exp1.sample(r);
            let death = if h > 0.0 {
                (e / h).ln_1p() / self.b
            } else {
                f64::INFINITY
            };
            crate::sim::poisson_purchases(l, death.min(t), r, |_| false)
        })
    }
}

/// GGom/NBD given alive at T: λ ~ Gamma(r + x, α + T), η ~ Gamma(s, β + e^{bT} − 1)
/// (Bemmaor & Glady 2012: S(t | η) = exp(−η(e^{bt} − 1))), a residual lifetime u with
/// S(T + u | η)/S(T | η) = exp(−η e^{bT}(e^{bu} − 1)), drawn by inversion as
/// u = ln(1 + E e^{−bT}/η)/b with E ~ Exp(1); Poisson purchases while alive.
impl crate::future::FuturePurchases for GgomNbdParams {
    fn draw_future<R: rand::Rng + ?Sized>(
        &self,
        c: &Customer,
        p_alive: f64,
        horizon: f64,
        rng: &mut R,
        times: &mut Vec<f64>,
    ) -> Result<()> {
        use crate::future::{alive, gamma, poisson_times};
        if !alive(p_alive, rng) {
            return Ok(());
        }
        let tt = c.age();
        let lambda = gamma(self.r + c.frequency(), self.alpha + tt, rng)?;
        let eta = gamma(self.s, self.beta + (self.b * tt).exp_m1(), rng)?;
        let e = -(1.0 - rng.random::<f64>()).ln();
        let life = (e * (-self.b * tt).exp() / eta).ln_1p() / self.b;
        poisson_times(lambda, horizon, life, 0.0, rng, times)
    }
}

/// GGom/NBD levers: E[Y(t)] = P(alive)·(r+x)/(α+T)·∫_0^t S(u | alive) du is linear in λ
/// (λ → cλ: × c); η → dη from T on (the hazard × d) makes the survival given alive
/// (1 + d·q(T)(e^{bu} − 1))^{−s} (the Gamma(s, β + e^{bT} − 1) posterior of η, mixed over).
impl crate::drivers::Levers for GgomNbdParams {
    fn expectations_under(
        &self,
        c: &Customer,
        ts: &[f64],
        rate: f64,
        dropout: f64,
        out: &mut [f64],
    ) -> bool {
        let (x, tt) = (c.frequency(), c.age());
        let pa = self.p_alive_of(c);
        let lambda = (self.r + x) / (self.alpha + tt);
        let q = self.q(tt);
        for (o, &t) in out.iter_mut().zip(ts) {
            let alive_time = self.integrate(tt, t, |u| {
                (-self.s * (dropout * q * (self.b * u).exp_m1()).ln_1p()).exp()
            });
            *o = pa * rate * lambda * alive_time;
        }
        true
    }
}
