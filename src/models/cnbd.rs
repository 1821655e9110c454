//! The Erlang-k models of regular buyers: BG/CNBD-k (Platzer & Reutterer 2016, "Ticking Away
//! the Moments: Timing Regularity Helps to Better Predict Customer Activity", *Marketing
//! Science* 35(5), 779–799) and MBG/CNBD-k (Reutterer, Platzer & Schröder 2021, "Leveraging
//! purchase regularity for predicting customer behavior the easy way", *IJRM* 38(1), 194–215).
//!
//! While alive, a customer's inter-purchase times are Erlang-k with rate λ (k exponential
//! phases of rate λ each, so the purchase rate is λ/k and the gaps are more regular as k grows),
//! λ ~ Gamma(r, α) across customers; after each purchase the customer drops out with
//! probability p ~ Beta(a, b) (MBG/CNBD-k: also right after the first purchase). k = 1 is
//! BG/NBD (MBG/NBD). k is a whole number chosen by likelihood
//! ([`ParamKind::Whole`]), 1 to [`MAX_K`].
//!
//! The likelihood needs, besides (x, t_x, T), litt = Σ ln(inter-purchase times)
//! ([`RfmSummary::with_litt`]).
//!
//! Model names `bgcnbd` and `mbgcnbd`. Every prediction is
//! exact, from one structure: a
//! customer alive at T whose current gap has run T − t_x has completed j of its k phases with
//! posterior probability π_j ∝ (r+kx)_j ((T−t_x)/(α+T))^j / j!, and then λ ~ Gamma(r+kx+j, α+T).
//! The n-th future purchase needs nk − j more phases, whose count in (T, T+t] is negative
//! binomial once λ is integrated out, and is made if the customer survived n − 1 dropout draws
//! (probability B(a, b'+n−1)/B(a, b') under the posterior p ~ Beta(a, b'), b' = b+x, or b+x+1
//! for MBG/CNBD-k). Short windows are summed over the phase count (a geometric bound stops the
//! sum); long ones (beyond 1e4 expected phases for the expectation, 2e5 for the pmf, or where
//! the sum's first term would underflow) use an integral over p of a closed-form generating
//! function (a roots-of-unity filter of the negative binomial's) for the expectation and
//! incomplete beta functions for the pmf, so any horizon costs a bounded amount (the two routes
//! agree to 1e-11 where both apply).
//!
//! DERT over an infinite horizon is closed-form over p with one integral over λ
//! (E_λ[y^{k−j} ₂F₁(1, b'; a+b'; y^k)], y = λ/(λ+δ)); a finite horizon is that value when the
//! purchases beyond it are negligible, and otherwise integrated by parts over the expectation.
//! Registered in [`crate::AnyFitted`] as `bgcnbd` and `mbgcnbd`.

use crate::data::{CompressedRfm, Customer, RfmSummary};
use crate::error::{Error, Result, positive_parameter};
use crate::fit::{FromRfm, MaximumLikelihood, ParamKind};
use crate::models::TransactionModel;
use crate::special::{gauss_legendre, log_add_exp, trigamma};
use statrs::function::gamma::{digamma, ln_gamma};

/// The largest Erlang order tried by the fit.
pub const MAX_K: u32 = 8;

/// Validated CNBD-k parameters: the Erlang order k (a whole number in 1..=[`MAX_K`]) and
/// r, α, a, b (finite, > 0). `MBG` = true is MBG/CNBD-k (dropout also at the first purchase).
/// Use the aliases [`BgCnbdParams`] and [`MbgCnbdParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CnbdParams<const MBG: bool> {
    k: u32,
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

/// BG/CNBD-k (Platzer & Reutterer 2016).
///
/// ```
/// use clv::models::cnbd::BgCnbdParams;
/// use clv::{BgNbdParams, Customer, TransactionModel};
/// // k = 1 is BG/NBD
/// let c = BgCnbdParams::new(1, 0.243, 4.414, 0.793, 2.426).unwrap();
/// let b = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let cust = Customer::new(2.0, 30.43, 38.86).unwrap();
/// assert!((c.p_alive(&cust) - b.p_alive(&cust)).abs() < 1e-14);
/// ```
pub type BgCnbdParams = CnbdParams<false>;
/// MBG/CNBD-k (Reutterer, Platzer & Schröder 2021).
pub type MbgCnbdParams = CnbdParams<true>;

#[cfg(feature = "serde")]
impl<const MBG: bool> serde::Serialize for CnbdParams<MBG> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CnbdParams", 5)?;
        st.serialize_field("k", &self.k)?;
        st.serialize_field("r", &self.r)?;
        st.serialize_field("alpha", &self.alpha)?;
        st.serialize_field("a", &self.a)?;
        st.serialize_field("b", &self.b)?;
        st.end()
    }
}

#[cfg(feature = "serde")]
impl<'de, const MBG: bool> serde::Deserialize<'de> for CnbdParams<MBG> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            k: f64,
            r: f64,
            alpha: f64,
            a: f64,
            b: f64,
        }
        let p = Raw::deserialize(d)?;
        CnbdParams::from_slice(&[p.k, p.r, p.alpha, p.a, p.b]).map_err(serde::de::Error::custom)
    }
}

impl<const MBG: bool> CnbdParams<MBG> {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0, or a k
    /// outside 1..=[`MAX_K`].
    pub fn new(k: u32, r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        if !(1..=MAX_K).contains(&k) {
            return Err(Error::InvalidParameter {
                name: "k",
                value: f64::from(k),
                reason: "must be a whole number in 1..=8 (MAX_K)",
            });
        }
        Ok(CnbdParams {
            k,
            r: positive_parameter("r", r)?,
            alpha: positive_parameter("alpha", alpha)?,
            a: positive_parameter("a", a)?,
            b: positive_parameter("b", b)?,
        })
    }
    /// The Erlang order: each inter-purchase time is the sum of k exponential phases.
    pub fn k(&self) -> u32 {
        self.k
    }
    /// Shape of the Gamma distribution of phase rates λ.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate parameter of the Gamma distribution of phase rates.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// First shape of the Beta distribution of dropout probabilities.
    pub fn a(&self) -> f64 {
        self.a
    }
    /// Second shape of the Beta distribution of dropout probabilities.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// Fits the model by maximum likelihood for each k in 1..=[`MAX_K`], keeping the best (the
    /// fit's warnings list each k's log-likelihood); see [`crate::fit::fit`].
    ///
    /// # Errors
    /// As [`crate::fit::fit`]; [`Error::NotIdentifiable`] for a summary without litt.
    pub fn fit(
        summary: &RfmSummary,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// ln of one customer's likelihood (Platzer & Reutterer 2016; Reutterer et al. 2021):
    ///
    /// `L = ((k-1)!)^{-x} e^{(k-1) litt} · B(a, b'+x)/B(a, b) · Γ(r+kx) α^r/(Γ(r) (α+T)^{r+kx})
    ///   · [ Σ_{j<k} (r+kx)_j u^j / j! + δ · a/(b'+x-1) ((α+T)/(α+t_x))^{r+kx} ]`,
    ///
    /// u = (T − t_x)/(α+T): alive at T with the current gap unfinished (its Erlang survival
    /// integrated over λ), or dropped out right after the last purchase. BG/CNBD-k: b' = b and
    /// δ = 1{x > 0}; MBG/CNBD-k: b' = b + 1 and δ = 1.
    pub fn ln_likelihood(&self, c: &Customer, litt: f64) -> f64 {
        let rows = CnbdData {
            rfm: CompressedRfm {
                x: vec![c.frequency()],
                t_x: vec![c.recency()],
                t: vec![c.age()],
                weight: vec![1.0],
            },
            litt: vec![litt],
        };
        ll_grad_hess::<MBG>(&self.to_array(), &rows, None, None)
    }

    fn to_array(self) -> [f64; 5] {
        [f64::from(self.k), self.r, self.alpha, self.a, self.b]
    }

    /// b' (the Beta's second shape at x = 0 in the formulas): b, or b + 1 for MBG/CNBD-k.
    fn b_shift(&self) -> f64 {
        if MBG { self.b + 1.0 } else { self.b }
    }

    /// ln S1 and ln S2 of the likelihood's bracket (S1 = -∞ when absent).
    fn ln_terms(&self, c: &Customer) -> (f64, f64) {
        let (x, tx, t) = (c.frequency(), c.recency(), c.age());
        let s = self.r + f64::from(self.k) * x;
        let sum: f64 = self.s2_terms(c).iter().sum();
        let ln_s1 = if x > 0.0 || MBG {
            self.a.ln() - (self.b_shift() + x - 1.0).ln()
                + s * ((t - tx) / (self.alpha + tx)).ln_1p()
        } else {
            f64::NEG_INFINITY
        };
        (ln_s1, sum.ln())
    }

    /// P(alive at T | x, t_x, T): S2/(S1 + S2), the likelihood's "alive" term over the whole
    /// (Platzer & Reutterer 2016, the same Bayes step as BG/NBD's P(alive)).
    pub fn p_alive(&self, c: &Customer) -> f64 {
        let (l1, l2) = self.ln_terms(c);
        (l2 - log_add_exp(l1, l2)).exp().min(1.0)
    }
}

/// Distinct (x, t_x, T, litt) rows with weights: the (x, t_x, T) rows of every model, split by
/// litt, sorted by x first.
#[derive(Debug, Clone, Default)]
pub struct CnbdData {
    rfm: CompressedRfm,
    litt: Vec<f64>,
}

impl CnbdData {
    fn from_summary(s: &RfmSummary, model: &'static str) -> Result<Self> {
        let Some(litt) = s.litt() else {
            return Err(Error::NotIdentifiable {
                model,
                reason: "the summary has no litt column (the sum of log inter-purchase times): \
                         summarise the transaction log with clv summarize, which writes it"
                    .into(),
            });
        };
        let bits = |v: f64| (v + 0.0).to_bits();
        // (x, t_x, T) order like their bits (finite, >= 0); litt only needs equality
        let keys: Vec<(u64, u64, u64, u64)> = (0..s.len())
            .map(|i| {
                (
                    bits(s.frequency()[i]),
                    bits(s.recency()[i]),
                    bits(s.age()[i]),
                    litt[i].to_bits(),
                )
            })
            .collect();
        let mut d = CnbdData::default();
        for ((x, tx, t, l), w) in crate::data::weighted_distinct(keys) {
            d.rfm.x.push(f64::from_bits(x));
            d.rfm.t_x.push(f64::from_bits(tx));
            d.rfm.t.push(f64::from_bits(t));
            d.rfm.weight.push(w);
            d.litt.push(f64::from_bits(l));
        }
        super::check_identifiable(&d.rfm, model)?;
        Ok(d)
    }
}

/// Index of (i, j), i <= j, in the row-major upper triangle of the 4×4 block of (r, α, a, b).
const fn tri(i: usize, j: usize) -> usize {
    i * 4 - i * (i + 1) / 2 + j
}

/// Total log-likelihood over the rows with, if asked, its gradient and Hessian in
/// (k, r, α, a, b) (k's entries 0: it is not a continuous parameter). Per row,
/// ln L = const + base + log_add_exp(ln S1, ln S2) with
/// base = lnΓ(r+kx) − lnΓ(r) + r ln α − (r+kx) ln(α+T) + ln B(a, b+x') − ln B(a, b) (x' = x, or
/// x + 1 for MBG/CNBD-k), ln S1 = ln a − ln(b'+x−1) + (r+kx) ln((α+T)/(α+t_x)), and
/// S2 = Σ_{j<k} c_j, c_j = (r+kx)_j u^j / j!, u = (T−t_x)/(α+T): d ln c_j/dr = Σ_{i<j} 1/(s+i),
/// d ln c_j/dα = −j/(α+T).
fn ll_grad_hess<const MBG: bool>(
    theta: &[f64],
    d: &CnbdData,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let kk = theta[0].round().max(1.0) as usize;
    let k = kk as f64;
    let (r, alpha, a, b) = (theta[1], theta[2], theta[3], theta[4]);
    let bs = if MBG { b + 1.0 } else { b };
    let want_h = hess.is_some();
    let want_g = grad.is_some() || want_h;
    let ln_fact = ln_gamma(k); // ln (k-1)!
    // terms that depend only on the parameters, hoisted out of the row loop
    let ln_alpha = alpha.ln();
    let common = -ln_gamma(r) + r * ln_alpha + ln_gamma(a + b) - ln_gamma(b);
    let (dg_r, dg_ab, dg_b) = if want_g {
        (digamma(r), digamma(a + b), digamma(b))
    } else {
        (0.0, 0.0, 0.0)
    };
    let (tg_r, tg_ab, tg_b) = if want_h {
        (trigamma(r), trigamma(a + b), trigamma(b))
    } else {
        (0.0, 0.0, 0.0)
    };
    let (mut ll, mut g, mut h) = (0.0, [0.0; 4], [0.0; 10]);
    let mut c = vec![0.0; kk];
    let mut hr = vec![0.0; kk];
    let mut hr2 = vec![0.0; kk];
    // rows are sorted by x: the terms that depend on x only are computed once per distinct x
    let mut last_x = f64::NAN;
    let (mut base_x, mut dg_s, mut dg_abx, mut dg_bx) = (0.0, 0.0, 0.0, 0.0);
    let (mut tg_s, mut tg_abx, mut tg_bx) = (0.0, 0.0, 0.0);
    let rows = &d.rfm;
    for i in 0..rows.len() {
        let (x, tx, t, litt, w) = (rows.x[i], rows.t_x[i], rows.t[i], d.litt[i], rows.weight[i]);
        let s = r + k * x;
        let xs = if MBG { x + 1.0 } else { x };
        if x != last_x {
            last_x = x;
            base_x = ln_gamma(s) + ln_gamma(b + xs) - ln_gamma(a + b + xs);
            if want_g {
                (dg_s, dg_abx, dg_bx) = (digamma(s), digamma(a + b + xs), digamma(b + xs));
            }
            if want_h {
                (tg_s, tg_abx, tg_bx) = (trigamma(s), trigamma(a + b + xs), trigamma(b + xs));
            }
        }
        let big_a = alpha + t;
        let ln_a_t = big_a.ln();
        let base = base_x + common - s * ln_a_t;
        let cst = (k - 1.0) * litt - x * ln_fact;
        // S2 and its derivatives
        let u = (t - tx) / big_a;
        c[0] = 1.0;
        hr[0] = 0.0;
        hr2[0] = 0.0;
        for j in 1..kk {
            let jf = j as f64;
            c[j] = c[j - 1] * (s + jf - 1.0) * u / jf;
            hr[j] = hr[j - 1] + 1.0 / (s + jf - 1.0);
            hr2[j] = hr2[j - 1] + 1.0 / ((s + jf - 1.0) * (s + jf - 1.0));
        }
        let s2: f64 = c.iter().sum();
        let l2 = s2.ln();
        let has_s1 = x > 0.0 || MBG;
        let l1 = if has_s1 {
            a.ln() - (bs + x - 1.0).ln() + s * ((t - tx) / (alpha + tx)).ln_1p()
        } else {
            f64::NEG_INFINITY
        };
        let lse = log_add_exp(l1, l2);
        ll += w * (cst + base + lse);
        if !want_g {
            continue;
        }
        let (w1, w2) = ((l1 - lse).exp(), (l2 - lse).exp());
        // gradients of ln S2 (g2) and ln S1 (g1) in (r, α, a, b)
        let sum_c_hr: f64 = c.iter().zip(&hr).map(|(c, h)| c * h).sum();
        let sum_c_j: f64 = c.iter().enumerate().map(|(j, c)| j as f64 * c).sum();
        let g2 = [sum_c_hr / s2, -sum_c_j / (big_a * s2), 0.0, 0.0];
        let ln_ratio = ((t - tx) / (alpha + tx)).ln_1p();
        let (ia, ib) = (1.0 / big_a, 1.0 / (alpha + tx));
        let g1 = if has_s1 {
            [ln_ratio, s * (ia - ib), 1.0 / a, -1.0 / (bs + x - 1.0)]
        } else {
            [0.0; 4]
        };
        let gb = [
            dg_s - dg_r + ln_alpha - ln_a_t,
            r / alpha - s * ia,
            dg_ab - dg_abx,
            dg_bx - dg_abx + dg_ab - dg_b,
        ];
        for q in 0..4 {
            g[q] += w * (gb[q] + w1 * g1[q] + w2 * g2[q]);
        }
        if want_h {
            let mut h2 = [0.0; 10];
            let sum_rr: f64 = (0..kk).map(|j| c[j] * (hr[j] * hr[j] - hr2[j])).sum();
            let sum_ra: f64 = (0..kk).map(|j| c[j] * hr[j] * (-(j as f64) * ia)).sum();
            let sum_aa: f64 = (0..kk)
                .map(|j| {
                    let jf = j as f64;
                    c[j] * (jf * jf + jf) * ia * ia
                })
                .sum();
            h2[tri(0, 0)] = sum_rr / s2 - g2[0] * g2[0];
            h2[tri(0, 1)] = sum_ra / s2 - g2[0] * g2[1];
            h2[tri(1, 1)] = sum_aa / s2 - g2[1] * g2[1];
            let mut h1 = [0.0; 10];
            if has_s1 {
                h1[tri(0, 1)] = ia - ib;
                h1[tri(1, 1)] = s * (ib * ib - ia * ia);
                h1[tri(2, 2)] = -1.0 / (a * a);
                h1[tri(3, 3)] = 1.0 / ((bs + x - 1.0) * (bs + x - 1.0));
            }
            let mut hb = [0.0; 10];
            hb[tri(0, 0)] = tg_s - tg_r;
            hb[tri(0, 1)] = 1.0 / alpha - ia;
            hb[tri(1, 1)] = -r / (alpha * alpha) + s * ia * ia;
            hb[tri(2, 2)] = tg_ab - tg_abx;
            hb[tri(2, 3)] = tg_ab - tg_abx;
            hb[tri(3, 3)] = tg_bx - tg_abx + tg_ab - tg_b;
            let dg: [f64; 4] = std::array::from_fn(|q| g1[q] - g2[q]);
            for p in 0..4 {
                for q in p..4 {
                    let id = tri(p, q);
                    h[id] += w * (hb[id] + w1 * h1[id] + w2 * h2[id] + w1 * w2 * dg[p] * dg[q]);
                }
            }
        }
    }
    if let Some(out) = grad {
        out[0] = 0.0;
        out[1..].copy_from_slice(&g);
    }
    if let Some(out) = hess {
        out.iter_mut().for_each(|v| *v = 0.0);
        for p in 0..4 {
            for q in 0..4 {
                out[5 * (p + 1) + (q + 1)] = h[tri(p.min(q), p.max(q))];
            }
        }
    }
    ll
}

impl<const MBG: bool> MaximumLikelihood for CnbdParams<MBG> {
    type Data = CnbdData;
    const LABEL: &'static str = if MBG { "MBG/CNBD-k" } else { "BG/CNBD-k" };
    const MODEL: &'static str = if MBG { "mbgcnbd" } else { "bgcnbd" };
    const NAMES: &'static [&'static str] = &["k", "r", "alpha", "a", "b"];

    fn kinds() -> Vec<ParamKind> {
        vec![
            ParamKind::Whole,
            ParamKind::Positive,
            ParamKind::Positive,
            ParamKind::Positive,
            ParamKind::Positive,
        ]
    }
    fn n_customers(data: &CnbdData) -> f64 {
        data.rfm.total_weight()
    }
    fn n_rows(data: &CnbdData) -> usize {
        data.rfm.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [k, r, alpha, a, b] => {
                if !(k.fract() == 0.0 && *k >= 1.0 && *k <= f64::from(MAX_K)) {
                    return Err(Error::InvalidParameter {
                        name: "k",
                        value: *k,
                        reason: "must be a whole number in 1..=8 (MAX_K)",
                    });
                }
                CnbdParams::new(*k as u32, *r, *alpha, *a, *b)
            }
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        self.to_array().to_vec()
    }
    /// For each k in 1..=[`MAX_K`] the BG/NBD starts with α scaled by k (the phase rate is k
    /// times the purchase rate).
    fn starts(data: &CnbdData) -> Vec<Vec<f64>> {
        let m = data.rfm.mean_age();
        (1..=MAX_K)
            .flat_map(|k| {
                let k = f64::from(k);
                [
                    vec![k, 1.0, k, 1.0, 1.0],
                    vec![k, 0.5, 0.1 * m, 0.8, 2.5],
                    vec![k, 2.0, m / k, 2.0, 5.0],
                ]
            })
            .collect()
    }
    fn log_likelihood_grad(theta: &[f64], data: &CnbdData, grad: Option<&mut [f64]>) -> f64 {
        ll_grad_hess::<MBG>(theta, data, grad, None)
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &CnbdData,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess::<MBG>(theta, data, Some(grad), Some(hess)))
    }
    /// α is a time: penalised as α/max(T), as BG/NBD's.
    fn penalty_scales(data: &CnbdData) -> Vec<f64> {
        vec![0.0, 1.0, data.rfm.age_scale(), 1.0, 1.0]
    }
}

impl<const MBG: bool> FromRfm for CnbdParams<MBG> {
    fn prepare(summary: &RfmSummary) -> Result<CnbdData> {
        CnbdData::from_summary(summary, Self::MODEL)
    }
}

impl<const MBG: bool> CnbdParams<MBG> {
    /// `ages.len()` simulated customers (ids `0..n`, ages T, first purchase at 0), with litt:
    /// each draws a phase rate λ ~ Gamma(r, rate α) and p ~ Beta(a, b); MBG/CNBD-k customers
    /// drop out at time 0 with probability p; then Erlang-k gaps (k exponential phases of rate
    /// λ) follow one another until T, with a dropout draw after each purchase. Seeded.
    ///
    /// ```
    /// use clv::models::cnbd::BgCnbdParams;
    /// let m = BgCnbdParams::new(3, 1.5, 6.0, 0.5, 3.0).unwrap();
    /// let ages = clv::sim::uniform_ages(300, 10.0, 78.0, 1).unwrap();
    /// let s = m.simulate(&ages, clv::TimeUnit::Weeks, 7).unwrap();
    /// assert_eq!(s.len(), 300);
    /// assert!(s.litt().is_some());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for ages that are not finite and >= 0.
    pub fn simulate(&self, ages: &[f64], unit: crate::TimeUnit, seed: u64) -> Result<RfmSummary> {
        use rand::Rng;
        use rand_distr::{Beta, Distribution, Gamma};
        let lambda = Gamma::new(self.r, 1.0 / self.alpha).map_err(crate::sim::invalid)?;
        let dropout = Beta::new(self.a, self.b).map_err(crate::sim::invalid)?;
        crate::sim::simulate_customers_with_litt(ages, unit, seed, |rng, t| {
            if !(t.is_finite() && t >= 0.0) {
                return Err(crate::sim::invalid(format!(
                    "age {t} is not finite and >= 0"
                )));
            }
            let l: f64 = lambda.sample(rng);
            let p: f64 = dropout.sample(rng);
            let (mut count, mut last, mut sum_ln) = (0u64, 0.0f64, 0.0f64);
            let alive_at_start = !(MBG && rng.random::<f64>() < p);
            if alive_at_start && l > 0.0 {
                let gap = Gamma::new(f64::from(self.k), 1.0 / l).map_err(crate::sim::invalid)?;
                let mut now = 0.0;
                loop {
                    let g: f64 = gap.sample(rng);
                    now += g;
                    if now > t || g <= 0.0 {
                        break;
                    }
                    count += 1;
                    sum_ln += g.ln();
                    last = now;
                    if rng.random::<f64>() < p {
                        break;
                    }
                }
            }
            Ok((count, last, sum_ln))
        })
    }
}

/// Expected purchases, and the probability of exactly `n`, in a window of length t for a
/// customer alive at its start: `weights[j]` is the probability that j phases of the current
/// gap are done; given j the phase rate is Gamma(`shape` + j, rate `rate`) and the phase count
/// N in the window is negative binomial (P(N = 0) = (rate/(rate+t))^{shape+j}, then
/// P(N = m+1) = P(N = m) (shape+j+m)/(m+1) · t/(rate+t)). Q = ⌊(N + j)/k⌋ purchases are then
/// possible, and with the dropout probability p ~ Beta(a, c) drawn after each purchase,
/// E[count | Q] = Σ_{n≤Q} R_n and P(count = n | Q) = R_n − R_{n+1} (n < Q), R_Q (n = Q), with
/// R_n = B(a, c+n−1)/B(a, c). The sum over N runs until the remaining NB mass times the
/// largest value it could carry is below 1e-16 of the sum (a geometric bound past the mode).
#[derive(Clone, Copy)]
struct Window {
    /// Erlang order.
    k: usize,
    /// Beta shapes of the dropout probability.
    a: f64,
    c: f64,
    /// Gamma shape (before adding j) and rate of the phase rate.
    shape: f64,
    rate: f64,
}

fn window_sums(win: &Window, weights: &[f64], t: f64, n: Option<u64>) -> f64 {
    let Window {
        k,
        a,
        c,
        shape,
        rate,
    } = *win;
    if t == 0.0 {
        return match n {
            None => 0.0,
            Some(0) => 1.0,
            Some(_) => 0.0,
        };
    }
    let z = t / (rate + t);
    let ln_1mz = -(t / rate).ln_1p();
    // R_n by recurrence R_{n+1} = R_n (c+n-1)/(a+c+n-1), and their running sums H(q)
    let mut r = vec![1.0f64];
    let mut h = vec![0.0f64, 1.0];
    let grow = |q: usize, r: &mut Vec<f64>, h: &mut Vec<f64>| {
        while r.len() < q + 1 {
            let i = r.len() as f64; // r[i] = R_{i+1}
            let next = r[r.len() - 1] * (c + i - 1.0) / (a + c + i - 1.0);
            r.push(next);
            let s = h[h.len() - 1] + next;
            h.push(s);
        }
    };
    let mut total = 0.0;
    for (j, &w) in weights.iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        let sigma = shape + j as f64;
        let mut p_m = (sigma * ln_1mz).exp();
        let (mut acc, mut m) = (0.0f64, 0usize);
        loop {
            let q = (m + j) / k;
            grow(q + 1, &mut r, &mut h);
            let v = match n {
                None => h[q],
                Some(n) => {
                    let n = n as usize;
                    if n > q {
                        0.0
                    } else if n == 0 {
                        if q == 0 { 1.0 } else { 0.0 }
                    } else if n == q {
                        r[n - 1]
                    } else {
                        r[n - 1] - r[n]
                    }
                }
            };
            acc += p_m * v;
            let ratio = (sigma + m as f64) / (m as f64 + 1.0) * z;
            // past the mode the NB terms fall at least geometrically (ratio < 1, decreasing);
            // the values grow by at most 1 per k phases
            if ratio < 1.0 {
                let tail_mass = p_m * ratio / (1.0 - ratio);
                let tail_value = v + 1.0 + (m as f64) / (k as f64 * (1.0 - ratio));
                if tail_mass * tail_value <= 1e-16 * acc.abs().max(1e-300) || p_m == 0.0 {
                    break;
                }
            }
            p_m *= ratio;
            m += 1;
        }
        total += w * acc;
    }
    total
}

/// Whether [`window_sums`] serves this window: at most `limit` expected phases, and its
/// first term P(N = 0) = (rate/(rate+t))^{shape+j} representable for every
/// phase state j it sums over (the sum starts there; a heavy buyer's long window would start
/// from an underflowed 0 and stay there).
fn phase_sum_applies(win: &Window, weights: &[f64], t: f64, limit: f64) -> bool {
    let phases = (win.shape + win.k as f64) * t / win.rate;
    let last_shape = win.shape + weights.len().saturating_sub(1) as f64;
    phases <= limit && -last_shape * (t / win.rate).ln_1p() > -700.0
}

/// E[purchases in a window | alive]: the exact phase sum while the expected number of phases
/// is at most [`SUM_PHASES`], the p-integral (agreeing to 1e-11) beyond, so the cost stays
/// bounded for any horizon.
fn expectation(win: &Window, weights: &[f64], t: f64) -> f64 {
    if phase_sum_applies(win, weights, t, SUM_PHASES) {
        window_sums(win, weights, t, None)
    } else {
        window_expectation(win, weights, t)
    }
}

/// P(n purchases in a window | alive): the exact phase sum for short windows (accurate in the
/// far tails too), incomplete beta functions beyond [`LONG_WINDOW_PHASES`] expected phases.
fn probability(win: &Window, weights: &[f64], t: f64, n: u64) -> f64 {
    if phase_sum_applies(win, weights, t, LONG_WINDOW_PHASES) {
        window_sums(win, weights, t, Some(n))
    } else {
        window_pmf(win, weights, t, n)
    }
}

impl<const MBG: bool> CnbdParams<MBG> {
    /// The phase weights π_j (j < k) of a customer alive at T: ∝ (r+kx)_j u^j / j!,
    /// u = (T − t_x)/(α+T) (the terms of the likelihood's S2).
    fn phase_weights(&self, c: &Customer) -> Vec<f64> {
        let mut w = self.s2_terms(c);
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        w
    }

    /// The terms c_j = (r+kx)_j u^j / j!, j < k, u = (T − t_x)/(α+T), of the likelihood's S2
    /// (their sum) and of the phase weights (their shares).
    fn s2_terms(&self, c: &Customer) -> Vec<f64> {
        let s = self.r + f64::from(self.k) * c.frequency();
        let u = (c.age() - c.recency()) / (self.alpha + c.age());
        let mut w = vec![1.0];
        for j in 1..self.k {
            let jf = f64::from(j);
            let prev = w[w.len() - 1];
            w.push(prev * (s + jf - 1.0) * u / jf);
        }
        w
    }

    /// The window of a new customer (just made the first purchase: no phase done; for
    /// MBG/CNBD-k having survived the first dropout draw, so p ~ Beta(a, b+1)).
    fn new_customer_window(&self) -> Window {
        Window {
            k: self.k as usize,
            a: self.a,
            c: self.b_shift(),
            shape: self.r,
            rate: self.alpha,
        }
    }

    /// The window of a customer alive at T: phase rate Gamma(r+kx+j, α+T), p ~ Beta(a, b'+x).
    fn alive_window(&self, c: &Customer) -> Window {
        Window {
            k: self.k as usize,
            a: self.a,
            c: self.b_shift() + c.frequency(),
            shape: self.r + f64::from(self.k) * c.frequency(),
            rate: self.alpha + c.age(),
        }
    }

    /// The probability that a new customer survives the first draw: b/(a+b) for MBG/CNBD-k,
    /// 1 for BG/CNBD-k.
    fn survives_first(&self) -> f64 {
        if MBG { self.b / (self.a + self.b) } else { 1.0 }
    }

    /// Discounted expected residual transactions, `P(alive) ∫_0^H e^{-δτ} dm(τ)` with m the
    /// expected purchases given alive. A finite horizon by parts: `P(alive) [e^{-δH} m(H) +
    /// δ ∫_0^H e^{-δτ} m(τ) dτ]` on panels graded in τ = s u/(1−u), s = (α+T)/(r+kx+k) (the time
    /// of about one phase). An infinite horizon in closed form over the dropout probability and
    /// one integral over the phase rate (`y^{k−j} ₂F₁(1, b'; a+b'; y^k)`, y = λ/(λ+δ)), whose
    /// cost does not depend on δ; a finite horizon takes that value when δH > 30 and the
    /// purchases after H, at most e^{−δH} E\[λ\]/δ, are below 1e-17 of it.
    ///
    /// ```
    /// use clv::{BgCnbdParams, Customer};
    /// let m = BgCnbdParams::new(3, 1.5, 9.0, 0.6, 3.0)?;
    /// let c = Customer::new(2.0, 30.43, 38.86)?;
    /// let year = m.dert(&c, 0.1 / 52.0, Some(52.0))?;
    /// let forever = m.dert(&c, 0.1 / 52.0, None)?;
    /// assert!(0.0 < year && year < forever);
    /// # Ok::<(), clv::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a negative or non-finite rate, an invalid horizon, or an
    /// infinite horizon without discounting; [`Error::Numerical`] when the value is not finite.
    pub fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        crate::error::nonnegative_option("continuous discount rate", delta)?;
        let h = match horizon {
            Some(h) => Some(crate::predict::check_horizon(h)?),
            None if delta > 0.0 => None,
            None => {
                return Err(Error::InvalidOption {
                    name: "continuous discount rate",
                    reason: "an infinite horizon needs a discount rate > 0".into(),
                });
            }
        };
        let win = self.alive_window(c);
        let weights = self.phase_weights(c);
        let m = |t: f64| expectation(&win, &weights, t);
        let pa = self.p_alive(c);
        // over a finite horizon with δH <= 1e-16, e^{-δτ} is 1 to rounding on (0, H]
        let negligible = h.is_some_and(|h| delta * h <= 1e-16);
        let v = if delta == 0.0 || negligible {
            pa * m(h.expect("a finite horizon without discounting"))
        } else {
            let scale = win.rate / (win.shape + win.k as f64);
            let f = |u: f64| {
                if u >= 1.0 {
                    return 0.0;
                }
                let tau = scale * u / (1.0 - u);
                let d = (-delta * tau).exp();
                if d == 0.0 {
                    0.0
                } else {
                    delta * d * m(tau) * scale / ((1.0 - u) * (1.0 - u))
                }
            };
            // the purchases after H add at most e^{−δH} E[λ]/δ to the infinite-horizon value
            // (the purchase rate is at most the phase rate λ, whose mean is at most
            // (shape + k)/rate): where that is below 1e-17 of it, the finite horizon is the
            // infinite one
            let far = h.filter(|&h| delta * h > 30.0).and_then(|h| {
                let inf = dert_infinite(&win, &weights, delta);
                let tail = (-delta * h).exp() * (win.shape + win.k as f64) / (win.rate * delta);
                (tail <= 1e-17 * inf).then_some(inf)
            });
            match (h, far) {
                (_, Some(inf)) => pa * inf,
                (Some(h), None) => {
                    let end_term = (-delta * h).exp() * m(h);
                    pa * (crate::special::integrate_graded_to_one(
                        f,
                        h / (scale + h),
                        delta * scale,
                    ) + end_term)
                }
                (None, _) => pa * dert_infinite(&win, &weights, delta),
            }
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Numerical {
                what: format!("DERT of {c:?}"),
            })
        }
    }
}

impl<const MBG: bool> TransactionModel for CnbdParams<MBG> {
    /// See the inherent [`CnbdParams::dert`].
    fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
        CnbdParams::dert(self, c, delta, horizon)
    }

    /// E[X(t)] for a new customer: the exact sum (or, for long windows, the
    /// p-integral) of the module documentation, times the chance of surviving the first draw
    /// for MBG/CNBD-k.
    fn expected_purchases(&self, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        self.survives_first() * expectation(&self.new_customer_window(), &[1.0], t)
    }

    /// P(X(t) = n) for a new customer; MBG/CNBD-k adds the first-draw dropouts at n = 0.
    fn pmf(&self, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        let s = self.survives_first();
        let alive = s * probability(&self.new_customer_window(), &[1.0], t, n);
        (if n == 0 { (1.0 - s) + alive } else { alive }).min(1.0)
    }

    /// S2/(S1 + S2) (the inherent [`CnbdParams::p_alive`]).
    fn p_alive(&self, c: &Customer) -> f64 {
        CnbdParams::p_alive(self, c)
    }

    /// E[Y(t) | x, t_x, T] = P(alive) · Σ_j π_j E[purchases in (T, T+t] | alive, j phases done]
    /// with the phase rate Gamma(r+kx+j, α+T) and p ~ Beta(a, b+x) (b+x+1 for MBG/CNBD-k).
    fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        self.p_alive(c) * expectation(&self.alive_window(c), &self.phase_weights(c), t)
    }

    /// P(Y(t) = n | x, t_x, T): P(alive) times the window's pmf given alive, plus 1 − P(alive)
    /// at n = 0.
    fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64 {
        if !super::valid_t(t) {
            return f64::NAN;
        }
        let pa = self.p_alive(c);
        let v = pa * probability(&self.alive_window(c), &self.phase_weights(c), t, n);
        (if n == 0 { v + (1.0 - pa) } else { v }).min(1.0)
    }
}

impl<const MBG: bool> crate::sim::Simulate for CnbdParams<MBG> {
    /// See the inherent [`CnbdParams::simulate`] (the summary carries litt).
    fn simulate(&self, ages: &[f64], unit: crate::TimeUnit, seed: u64) -> Result<RfmSummary> {
        CnbdParams::simulate(self, ages, unit, seed)
    }
}

/// Expected phases above which [`window_pmf`] takes the pmf from incomplete beta functions
/// instead of summing over the phase count (whose cost grows with it; the sum stays accurate
/// in the far tails of the pmf).
const LONG_WINDOW_PHASES: f64 = 2e5;

/// Expected phases above which [`window_expectation`] integrates over p instead of summing
/// over the phase count: about where the p-integral (a fixed ~2,000 points) becomes the
/// cheaper of the two.
const SUM_PHASES: f64 = 1e4;

/// h(p) = Σ_j π_j (1 − G_j(w))/p with G_j(w) = E[w^⌊(N_j+j)/k⌋], w = 1 − p, for N_j negative
/// binomial with shape σ_j = `shape` + j and P(N = m+1)/P(N = m) = (σ_j+m)/(m+1)·z: the expected
/// purchases when each is followed by a dropout draw with probability p, mixed over the phase
/// weights π_j. For w <= 1/2 by the direct sum over N ([`direct_given_p`]); for w > 1/2 in
/// closed form by a roots-of-unity filter: with ω = w^{1/k}, ζ = e^{2πi/k}, vₗ = ωζˡ and the NB
/// generating function P_j(v) = ((1−z)/(1−vz))^{σ_j}, `G_j = (1/k) Σₗ Aₗ vₗ^j P_j(vₗ)`,
/// Aₗ = (1 − 1/w)/(1 − 1/vₗ) (from ⌊M/k⌋k = M − (M mod k) and 1{M ≡ ρ} = (1/k) Σₗ ζ^{l(M−ρ)}).
/// Since (1/k) Σₗ Aₗ = 1, `1 − G_j = (1/k) Σₗ Aₗ (1 − vₗ^j P_j(vₗ))`; the real term l = 0 is
/// evaluated with expm1 so that p E[Q] ≪ 1 loses nothing, and for l > 0 the j-dependence is a
/// power, vₗ^j P_j(vₗ) = P_0(vₗ) (vₗ (1−z)/(1−vₗz))^j, so all phase states cost one complex
/// logarithm and exponential per root, and conjugate roots (l, k − l) share one evaluation. `one_minus_z` = 1 − z and `w` = 1 − p are passed so
/// that neither carries cancellation.
#[allow(clippy::too_many_arguments)]
fn expected_given_p(
    k: usize,
    weights: &[f64],
    shape: f64,
    z: f64,
    one_minus_z: f64,
    p: f64,
    w: f64,
) -> f64 {
    use nalgebra::Complex;
    if w <= 0.5 {
        let sum: f64 = weights
            .iter()
            .enumerate()
            .filter(|&(_, &wj)| wj != 0.0)
            .map(|(j, &wj)| wj * direct_given_p(k, j, shape + j as f64, z, one_minus_z, w))
            .sum();
        return sum / p;
    }
    let ln_1mz = one_minus_z.ln();
    let kf = k as f64;
    let ln_omega = (-p).ln_1p() / kf;
    let omega = ln_omega.exp();
    let one_minus_omega = -ln_omega.exp_m1();
    let total_weight: f64 = weights.iter().sum();
    let one = Complex::new(1.0, 0.0);
    let mut h = 0.0;
    for l in 0..k {
        if l == 0 {
            // real: A₀/p = ω/(w(1 − ω)), exponent σ_j(ln(1−z) − ln(1 − ωz)) + j ln ω, where
            // 1 − ωz = (1 − z) + (1 − ω)z: the difference of logarithms is
            // −ln1p((1 − ω) z/(1 − z)), exact even when ω is within 1e-13 of 1
            let d = (one_minus_omega * z / one_minus_z).ln_1p();
            let mixed: f64 = weights
                .iter()
                .enumerate()
                .map(|(j, &wj)| {
                    let e = -(shape + j as f64) * d + j as f64 * ln_omega;
                    wj * -e.exp_m1()
                })
                .sum();
            h += omega / (w * one_minus_omega) * mixed;
        } else if 2 * l <= k {
            // roots l and k − l are conjugate (the weights are real): their real parts are
            // equal, so each pair is computed once
            let pair = if 2 * l == k { 1.0 } else { 2.0 };
            let theta = 2.0 * std::f64::consts::PI * l as f64 / kf;
            let v = Complex::from_polar(omega, theta);
            let one_minus_vz = one - v * z;
            let base = Complex::new(ln_1mz, 0.0) - one_minus_vz.ln();
            let p0 = (base * shape).exp();
            // v (1 − z)/(1 − vz): the factor each further phase state contributes
            let step = v * one_minus_z / one_minus_vz;
            // Σ_j π_j step^j by Horner
            let poly = weights
                .iter()
                .rev()
                .fold(Complex::new(0.0, 0.0), |acc, &wj| acc * step + wj);
            // Aₗ/p = −(1/w)/(1 − 1/vₗ)
            let a_over_p = Complex::new(-1.0 / w, 0.0) / (one - v.inv());
            h += pair * (a_over_p * (Complex::new(total_weight, 0.0) - p0 * poly)).re;
        }
    }
    (h / kf).max(0.0)
}

/// 1 − G(w) = 1 − Σ_m P(N = m) w^⌊(m+j)/k⌋ for one phase state (see [`expected_given_p`]), by
/// the direct sum in log space (P(N = 0) may underflow), for w <= 1/2 where w^Q falls fast.
fn direct_given_p(k: usize, j: usize, sigma: f64, z: f64, one_minus_z: f64, w: f64) -> f64 {
    let ln_w = w.ln();
    // In a long window the NB mass sits far beyond the few phases where w^Q still matters:
    // with m* the first phase count whose Q makes w^Q <= e^{-40}, G <= P(N <= m*) + e^{-40},
    // and below the mode P(N <= m*) <= (m*+1) P(N = m*). When that is below 1e-18, 1 − G is 1
    // to rounding and the sum (hundreds of terms, each a logarithm and an exponential) is
    // skipped.
    let q_star = (40.0 / -ln_w).ceil();
    let m_star = (q_star * k as f64 - j as f64).max(0.0);
    let mode = (sigma - 1.0) * z / one_minus_z;
    if m_star < mode {
        let ln_pm = ln_gamma(sigma + m_star) - ln_gamma(sigma) - ln_gamma(m_star + 1.0)
            + sigma * one_minus_z.ln()
            + m_star * z.ln();
        if ln_pm + (m_star + 1.0).ln() < (1e-18f64).ln() {
            return 1.0;
        }
    }
    let (mut g, mut ln_pm, mut m) = (0.0f64, sigma * one_minus_z.ln(), 0usize);
    let ln_z = z.ln();
    loop {
        let q = ((m + j) / k) as f64;
        let q_ln_w = if q == 0.0 { 0.0 } else { q * ln_w };
        let term = (ln_pm + q_ln_w).exp();
        g += term;
        // the rest is below 1e-17 of the sum past the NB mode, and below w^q (a bound on
        // every later term times the remaining NB mass) at any point: stop once that is
        // below 1e-17 of 1 − g, which bounds 1 − G from above
        let ratio = (sigma + m as f64) / (m as f64 + 1.0) * z;
        let rest_negligible = q_ln_w < (1e-17 * (1.0 - g)).ln();
        if (ratio < 1.0 && term <= 1e-17 * g.max(1e-300))
            || rest_negligible
            || q_ln_w < -745.0
            || m > 100_000
        {
            break;
        }
        ln_pm += (sigma + m as f64).ln() - (m as f64 + 1.0).ln() + ln_z;
        m += 1;
    }
    1.0 - g.min(1.0)
}

/// Σ_j π_j E[min(Q_j, D)] over a long window: E_p[h(p)] under p ~ Beta(a, c), h from
/// [`expected_given_p`] (all phase states at once), integrated over p on dyadic panels toward 0
/// and toward 1 (20-point Gauss–Legendre each). Below p₀ with p₀·E[Q_j] < 1e-12 for every j
/// the integrand is Σ_j π_j E[Q_j] to ~1e-12 relative and that sliver is taken as
/// h(p₀)·I_{p₀}(a, c); above 1 − 1e-15, h(1)·(1 − I_{1−1e-15}(a, c)).
fn window_expectation(win: &Window, weights: &[f64], t: f64) -> f64 {
    window_expectation_scaled(win, weights, t, 1.0)
}

/// [`window_expectation`] with every dropout probability multiplied by `d` (0 < d <= 1):
/// ∫ h(dp) Beta(p; a, c) dp, h's argument and its complement 1 − dp formed without
/// cancellation.
fn window_expectation_scaled(win: &Window, weights: &[f64], t: f64, d: f64) -> f64 {
    use statrs::function::beta::{beta_reg, ln_beta};
    let Window {
        k,
        a,
        c,
        shape,
        rate,
    } = *win;
    let z = t / (rate + t);
    let one_minus_z = rate / (rate + t);
    let ln_b = ln_beta(a, c);
    // the largest E[Q_j] among the phase states present
    let mean_q = weights
        .iter()
        .enumerate()
        .filter(|&(_, &wj)| wj != 0.0)
        .map(|(j, _)| (((shape + j as f64) * t / rate) + j as f64) / k as f64)
        .fold(0.0, f64::max);
    // h(p) and the Beta density, from p and w = 1 − p both exact
    let h = |p: f64, w: f64| expected_given_p(k, weights, shape, z, one_minus_z, p, w);
    let dens = |p: f64, w: f64| ((a - 1.0) * p.ln() + (c - 1.0) * w.ln() - ln_b).exp();
    let f = |p: f64| h(d * p, 1.0 - d * p) * dens(p, 1.0 - p);
    let mut s = 0.0;
    // toward 0
    let mut hi = 0.5;
    loop {
        let lo = 0.5 * hi;
        if lo * mean_q < 1e-12 || lo < 1e-300 {
            let p0 = hi;
            s += h(d * p0, 1.0 - d * p0) * beta_reg(a, c, p0);
            break;
        }
        s += gauss_legendre(f, lo, hi);
        hi = lo;
    }
    // toward 1, in q = 1 − p
    // 1 − d(1 − q) = (1 − d) + dq, exact for d = 1
    let g = |q: f64| h(d * (1.0 - q), (1.0 - d) + d * q) * dens(1.0 - q, q);
    let mut qhi = 0.5;
    loop {
        let qlo = 0.5 * qhi;
        if qlo < 1e-15 {
            // mass above 1 − qhi: I_{qhi}(c, a) by symmetry
            s += h(d, 1.0 - d) * beta_reg(c, a, qhi);
            break;
        }
        s += gauss_legendre(g, qlo, qhi);
        qhi = qlo;
    }
    s
}

/// P(exactly n purchases) in a window, for any length, from O(k) incomplete beta functions:
/// with Q_j possible purchases, P(n) = Σ_j π_j [(R_n − R_{n+1}) P(Q_j > n) + R_n P(Q_j = n)]
/// for n >= 1 and Σ_j π_j P(Q_j = 0) for n = 0, where P(Q_j >= q) = P(N_j >= qk − j) =
/// I_z(qk − j, σ + j) (the negative binomial's tail).
fn window_pmf(win: &Window, weights: &[f64], t: f64, n: u64) -> f64 {
    use statrs::function::beta::beta_reg;
    let Window {
        k,
        a,
        c,
        shape,
        rate,
    } = *win;
    if t == 0.0 {
        return if n == 0 { 1.0 } else { 0.0 };
    }
    let z = t / (rate + t);
    let nf = n as f64;
    // R_n = B(a, c+n−1)/B(a, c), in log-gamma form
    let ln_r =
        |m: f64| ln_gamma(c + m - 1.0) - ln_gamma(a + c + m - 1.0) + ln_gamma(a + c) - ln_gamma(c);
    let mut total = 0.0;
    for (j, &wj) in weights.iter().enumerate() {
        if wj == 0.0 {
            continue;
        }
        let sigma = shape + j as f64;
        // P(Q >= q)
        let at_least = |q: u64| {
            let m = q as f64 * k as f64 - j as f64;
            if m <= 0.0 { 1.0 } else { beta_reg(m, sigma, z) }
        };
        let v = if n == 0 {
            1.0 - at_least(1)
        } else {
            let (ge_n, ge_n1) = (at_least(n), at_least(n + 1));
            let (rn, rn1) = (ln_r(nf).exp(), ln_r(nf + 1.0).exp());
            (rn - rn1) * ge_n1 + rn * (ge_n - ge_n1)
        };
        total += wj * v;
    }
    total.clamp(0.0, 1.0)
}

/// DERT over an infinite horizon given alive, in closed form over p and one integral over λ:
/// the n-th future purchase comes after Gamma(nk − j, λ) time, so E[e^{−δ S_n} | λ] = y^{nk−j}
/// with y = λ/(λ+δ), and Σ_n R_n y^{nk−j} = y^{k−j} ₂F₁(1, c; a+c; y^k). Integrated over
/// λ = v/rate, v ~ Gamma(σ_j, 1), σ_j = shape + j, mixed over the phase weights π_j: one
/// integral in s = ln v whose integrand is the Gamma(σ_0) density times
/// `y^k ₂F₁(1, c; a+c; y^k) Σ_j π_j (v/y)^j Γ(σ_0)/Γ(σ_j)` (so the hypergeometric function is
/// evaluated once per node for all phase states), by `integrate_near_features`: panels as
/// wide as the density's spread (1/√σ_0 in s, at most 1) at its mode, half a unit where y turns
/// from ∝ λ^k to 1 (at s = ln(δ·rate)), graded away from both. The range runs from where the
/// integrand is below e^{−40} of its scale on the left (v^σ and y^k both fall there) to
/// v = σ_0 + k + 15√(σ_0+k) + 100 on the right, beyond which the Gamma(σ_0 + k) tail (which
/// bounds the integrand: y <= 1 and the hypergeometric factor grows at most like a power of
/// v) is below e^{−50}. Its cost does not depend on δ.
fn dert_infinite(win: &Window, weights: &[f64], delta: f64) -> f64 {
    let Window {
        k,
        a,
        c,
        shape,
        rate,
    } = *win;
    // λ = v/rate with v ~ Gamma(σ, 1): y = λ/(λ+δ) = v/(v + δ·rate)
    let eps = delta * rate;
    let lg = ln_gamma(shape);
    // ln(π_j Γ(σ_0)/Γ(σ_j)), −∞ for an absent phase state
    let ln_mix: Vec<f64> = weights
        .iter()
        .enumerate()
        .map(|(j, &wj)| wj.ln() + lg - ln_gamma(shape + j as f64))
        .collect();
    let f = |s: f64| {
        let v = s.exp();
        let ln_y = -(eps / v).ln_1p();
        // y^k and 1 − y^k both without cancellation: 1 − y^k ~ kδ/λ may be 1e-10, and the
        // hypergeometric factor behaves like (1 − y^k)^{a−1} there
        let yk = (k as f64 * ln_y).exp();
        let one_minus_yk = -(k as f64 * ln_y).exp_m1();
        let ln_f = crate::special::ln_hyp2f1_complement(1.0, c, a + c, yk, one_minus_yk);
        let head = shape * s - v - lg + k as f64 * ln_y + ln_f;
        let step = s - ln_y;
        let mix: f64 = ln_mix
            .iter()
            .enumerate()
            .map(|(j, &l)| (head + l + j as f64 * step).exp())
            .sum();
        if mix.is_finite() { mix } else { 0.0 }
    };
    let top = shape + k as f64;
    let s_hi = (top + 15.0 * top.sqrt() + 100.0).ln();
    let s_lo = eps.ln().min(shape.ln()).min(0.0) - 40.0 / shape.min(1.0);
    let mode = (shape + 0.5 * k as f64).ln();
    let features = [(mode, shape.sqrt().recip().min(1.0)), (eps.ln(), 0.5)];
    crate::special::integrate_near_features(f, s_lo, s_hi, &features)
}

/// CNBD-k given alive at T, with d = T − t_x since the last purchase: j of the k phases of the
/// current gap are done with probability ∝ Γ(r + kx + j)/(α + T)^{r+kx+j} · d^j/j!, and given
/// j, λ ~ Gamma(r + kx + j, α + T) (Platzer & Reutterer 2016, the Erlang-k likelihood times the
/// probability of j phases since t_x); p ~ Beta(a, b + x) (BG), Beta(a, b + x + 1) (MBG). The
/// next purchase ends phase k of the current gap, later ones every k phases, each followed by
/// a dropout draw.
impl<const MBG: bool> crate::future::FuturePurchases for CnbdParams<MBG> {
    fn draw_future<R: rand::Rng + ?Sized>(
        &self,
        c: &Customer,
        p_alive: f64,
        horizon: f64,
        rng: &mut R,
        times: &mut Vec<f64>,
    ) -> Result<()> {
        use crate::future::{alive, beta, gamma};
        if !alive(p_alive, rng) {
            return Ok(());
        }
        let (x, tt) = (c.frequency(), c.age());
        let d = (tt - c.recency()).max(0.0);
        let k = self.k as usize;
        let shape = self.r + f64::from(self.k) * x;
        let ln_rate = (self.alpha + tt).ln();
        let lw: Vec<f64> = (0..k)
            .map(|j| {
                let j_f = j as f64;
                let ln_d = if j == 0 { 0.0 } else { j_f * d.ln() };
                ln_gamma(shape + j_f) - (shape + j_f) * ln_rate + ln_d - ln_gamma(j_f + 1.0)
            })
            .collect();
        let top = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = lw.iter().map(|l| (l - top).exp()).collect();
        let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
        let mut j = 0;
        while j + 1 < k && u >= w[j] {
            u -= w[j];
            j += 1;
        }
        let lambda = gamma(shape + j as f64, self.alpha + tt, rng)?;
        let p = beta(self.a, self.b + x + if MBG { 1.0 } else { 0.0 }, rng)?;
        if lambda.is_nan() || lambda <= 0.0 {
            return Ok(());
        }
        // the phases left in the current gap, then k per gap
        let mut now = gamma((k - j) as f64, lambda, rng)?;
        let gap =
            rand_distr::Gamma::new(f64::from(self.k), 1.0 / lambda).map_err(crate::sim::invalid)?;
        while now <= horizon {
            times.push(now);
            if rng.random::<f64>() < p {
                break;
            }
            now += rand_distr::Distribution::sample(&gap, rng);
        }
        Ok(())
    }
}

/// CNBD-k levers: from T on, the phase rate λ → cλ runs the purchase clock c times faster
/// (the purchases and the dropout draws after them alike: the window of length ct), and
/// p → dp is mixed over the Beta(a, b + x) posterior of p by the p-integral
/// E\[count\] = ∫ h(dp) Beta(p) dp of the long-window expectation.
impl<const MBG: bool> crate::drivers::Levers for CnbdParams<MBG> {
    fn expectations_under(
        &self,
        c: &Customer,
        ts: &[f64],
        rate: f64,
        dropout: f64,
        out: &mut [f64],
    ) -> bool {
        let pa = self.p_alive(c);
        let win = self.alive_window(c);
        let weights = self.phase_weights(c);
        for (o, &t) in out.iter_mut().zip(ts) {
            *o = pa * window_expectation_scaled(&win, &weights, rate * t, dropout);
        }
        true
    }
}

#[cfg(test)]
mod long_window_tests {
    use super::*;

    /// The p-integral of the roots-of-unity generating function, and the pmf from incomplete
    /// beta functions, against the exact phase sums, where both are cheap: 1e-11 relative over Erlang orders 1..8, a below and above 1, c
    /// below 1, several phase weights and windows from short to 5e4 expected phases (the p-integral
    /// serves expectations beyond [`SUM_PHASES`] = 1e4).
    #[test]
    fn matches_the_exact_sums() {
        let mut worst = 0.0f64;
        for &(k, a, c, shape, rate) in &[
            (1usize, 0.793, 2.426, 0.243, 4.414),
            (2, 0.6, 3.0, 1.5, 6.0),
            (3, 0.3, 0.7, 0.8, 9.0),
            (8, 2.5, 12.0, 40.0, 50.0),
            (5, 1.0, 1.0, 3.0, 2.0),
        ] {
            let win = Window {
                k,
                a,
                c,
                shape,
                rate,
            };
            let weights: Vec<f64> = (0..k).map(|j| 1.0 / (1.0 + j as f64)).collect();
            let total: f64 = weights.iter().sum();
            let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
            for t in [0.5, 39.0, 500.0, 5000.0, 50_000.0] {
                let exact = window_sums(&win, &weights, t, None);
                let long = window_expectation(&win, &weights, t);
                let rel = (long / exact - 1.0).abs();
                worst = worst.max(rel);
                assert!(
                    rel < 1e-9,
                    "k {k} a {a} c {c} t {t}: {long} vs {exact} ({rel:e})"
                );
            }
        }
        eprintln!("worst relative difference {worst:e}");
    }
}
