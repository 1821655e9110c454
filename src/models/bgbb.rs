//! BG/BB (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a Discrete-Time Noncontractual
//! Setting", *Marketing Science* 29(6), 1086–1108): customers who may transact at discrete
//! opportunities (a yearly fund-raiser, an annual conference).
//!
//! While alive, a customer transacts at each opportunity with probability p ~ Beta(α, β), and
//! becomes inactive at the start of each opportunity after the first with probability
//! θ ~ Beta(γ, δ). The data of a customer are x transactions in n opportunities after the first
//! (the birth, which is not counted), the last at opportunity t_x (0 when x = 0): a
//! [`DiscreteSummary`], per customer or per pattern with weights. Every quantity is a finite
//! sum of beta functions, or one Gauss hypergeometric function (DERT), so all are exact.
//!
//! Model name `bgbb`; parameters `alpha, beta, gamma, delta`. It is not a continuous-time
//! transaction model: it has its own input type and its own predictions (the inherent methods
//! of [`BgBbParams`]), fitted through the generic [`crate::fit::fit`].

use crate::data::TimeUnit;
use crate::error::{DataIssue, Error, Result, nonnegative_option, positive_parameter};
use crate::fit::{FitData, FromRfm, MaximumLikelihood};
use crate::special::{ln_beta, ln_gamma_diff, trigamma};
use statrs::function::gamma::{digamma, ln_gamma};
use std::collections::HashMap;

/// Discrete-time histories: per customer or per pattern, x transactions in n opportunities
/// after the first, the last at opportunity t_x, standing for `weight` customers. Built
/// through [`DiscreteSummary::new`], which validates every row, so a value of this type is
/// always a valid BG/BB input.
///
/// ```
/// use clv::models::bgbb::DiscreteSummary;
/// use clv::TimeUnit;
/// // three patterns of the donations data: (x, t_x, n) with how many donors have each
/// let s = DiscreteSummary::new(vec![0, 1, 6], vec![0, 1, 6], vec![6, 6, 6],
///     Some(vec![3464.0, 1091.0, 1203.0]), None, TimeUnit::Weeks)?;
/// assert_eq!(s.n_customers(), 5758.0);
/// assert!(DiscreteSummary::new(vec![3], vec![2], vec![6], None, None, TimeUnit::Weeks).is_err());
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteSummary {
    x: Vec<u32>,
    t_x: Vec<u32>,
    n: Vec<u32>,
    weight: Vec<f64>,
    ids: Option<Vec<String>>,
    unit: TimeUnit,
}

impl DiscreteSummary {
    /// Validates and builds: equal lengths; t_x <= n; x <= t_x (x transactions need x distinct
    /// opportunities up to the last); t_x = 0 exactly when x = 0; weights (default 1) finite
    /// and > 0. `unit` is the length of one opportunity (it labels the model; every BG/BB
    /// horizon counts opportunities).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths or no rows;
    /// [`Error::InvalidData`] naming the row (1-based), the customer when ids are given, and
    /// the field.
    pub fn new(
        x: Vec<u32>,
        t_x: Vec<u32>,
        n: Vec<u32>,
        weight: Option<Vec<f64>>,
        ids: Option<Vec<String>>,
        unit: TimeUnit,
    ) -> Result<Self> {
        let len = x.len();
        let weight = weight.unwrap_or_else(|| vec![1.0; len]);
        let lengths_match = t_x.len() == len
            && n.len() == len
            && weight.len() == len
            && ids.as_ref().is_none_or(|i| i.len() == len);
        if !lengths_match {
            return Err(Error::InvalidOption {
                name: "discrete summary",
                reason: "the columns x, t_x, n (and weights, ids) must have the same length".into(),
            });
        }
        if len == 0 {
            return Err(Error::InvalidOption {
                name: "discrete summary",
                reason: "no rows".into(),
            });
        }
        for i in 0..len {
            let bad = |field: &'static str, issue: DataIssue| Error::InvalidData {
                row: Some(i + 1),
                customer: ids.as_ref().map(|v| v[i].clone()),
                field,
                issue,
            };
            let (xi, ti, ni) = (x[i], t_x[i], n[i]);
            if ti > ni {
                return Err(bad(
                    "recency",
                    DataIssue::RecencyAfterAge {
                        recency: f64::from(ti),
                        age: f64::from(ni),
                    },
                ));
            }
            if xi == 0 && ti != 0 {
                return Err(bad(
                    "recency",
                    DataIssue::RecencyWithoutRepeat(f64::from(ti)),
                ));
            }
            if xi > ti {
                return Err(bad(
                    "frequency",
                    DataIssue::MoreTransactionsThanOpportunities {
                        frequency: xi,
                        recency: ti,
                    },
                ));
            }
            let w = weight[i];
            if !w.is_finite() {
                return Err(bad("weights", DataIssue::NotFinite(w)));
            }
            if w <= 0.0 {
                return Err(bad("weights", DataIssue::NotPositive(w)));
            }
        }
        Ok(DiscreteSummary {
            x,
            t_x,
            n,
            weight,
            ids,
            unit,
        })
    }

    /// Number of rows (customers or patterns).
    pub fn len(&self) -> usize {
        self.x.len()
    }
    /// Whether there are no rows (never, for a validated summary).
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// Number of customers the rows stand for (the sum of the weights).
    pub fn n_customers(&self) -> f64 {
        self.weight.iter().sum()
    }
    /// Transactions x of each row.
    pub fn frequency(&self) -> &[u32] {
        &self.x
    }
    /// The opportunity t_x of the last transaction of each row (0 when x = 0).
    pub fn recency(&self) -> &[u32] {
        &self.t_x
    }
    /// The opportunities n after the first of each row.
    pub fn periods(&self) -> &[u32] {
        &self.n
    }
    /// The weight (number of customers) of each row.
    pub fn weights(&self) -> &[f64] {
        &self.weight
    }
    /// Customer or pattern ids, when given.
    pub fn ids(&self) -> Option<&[String]> {
        self.ids.as_deref()
    }
    /// The length of one opportunity.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// One row's history.
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn history(&self, i: usize) -> DiscreteHistory {
        DiscreteHistory {
            x: self.x[i],
            t_x: self.t_x[i],
            n: self.n[i],
        }
    }
}

/// One customer's discrete-time history: x transactions in the n opportunities after the
/// first, the last at opportunity t_x. Validated as [`DiscreteSummary::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DiscreteHistory {
    x: u32,
    t_x: u32,
    n: u32,
}

impl DiscreteHistory {
    /// Validates and builds (see [`DiscreteSummary::new`]).
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the field.
    pub fn new(x: u32, t_x: u32, n: u32) -> Result<Self> {
        let s = DiscreteSummary::new(vec![x], vec![t_x], vec![n], None, None, TimeUnit::Weeks)?;
        Ok(s.history(0))
    }
    /// Transactions x.
    pub fn frequency(&self) -> u32 {
        self.x
    }
    /// The opportunity of the last transaction.
    pub fn recency(&self) -> u32 {
        self.t_x
    }
    /// Opportunities after the first.
    pub fn periods(&self) -> u32 {
        self.n
    }
}

/// The distinct histories with their total weights, what the likelihood loops over.
#[derive(Debug, Clone)]
pub struct BgBbData {
    rows: Vec<(DiscreteHistory, f64)>,
    total: f64,
}

impl FitData<BgBbParams> for DiscreteSummary {
    fn prepare(&self) -> Result<BgBbData> {
        let mut index: HashMap<DiscreteHistory, usize> = HashMap::new();
        let mut rows: Vec<(DiscreteHistory, f64)> = Vec::new();
        for i in 0..self.len() {
            let h = self.history(i);
            match index.get(&h) {
                Some(&j) => rows[j].1 += self.weight[i],
                None => {
                    index.insert(h, rows.len());
                    rows.push((h, self.weight[i]));
                }
            }
        }
        let total = self.n_customers();
        if rows.iter().all(|(h, _)| h.x == 0) {
            return Err(Error::NotIdentifiable {
                model: BgBbParams::MODEL,
                reason: format!(
                    "none of the {total} customers transacted after the first opportunity, so \
                     the transaction and dropout probabilities cannot be told apart"
                ),
            });
        }
        if rows.len() < 2 {
            return Err(Error::NotIdentifiable {
                model: BgBbParams::MODEL,
                reason: "every customer has the same history".into(),
            });
        }
        Ok(BgBbData { rows, total })
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
}

/// Validated BG/BB parameters: α, β of the Beta distribution of the transaction probability p
/// and γ, δ of the Beta distribution of the dropout probability θ, all finite and > 0.
///
/// ```
/// use clv::models::bgbb::{BgBbParams, DiscreteHistory};
/// // Fader, Hardie & Shang (2010), the donations data
/// let m = BgBbParams::new(1.204, 0.750, 0.657, 2.783)?;
/// let h = DiscreteHistory::new(4, 5, 6)?;
/// assert!((m.conditional_expected_transactions(&h, 10)? - 3.627858).abs() < 1e-3);
/// assert!((m.expected_transactions(10)? - 3.179805).abs() < 1e-3);
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawBgBb"))]
pub struct BgBbParams {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawBgBb {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawBgBb> for BgBbParams {
    type Error = Error;
    fn try_from(p: RawBgBb) -> Result<Self> {
        BgBbParams::new(p.alpha, p.beta, p.gamma, p.delta)
    }
}

/// The largest horizon (opportunities) the predictions sum over term by term.
pub const MAX_OPPORTUNITIES: u32 = 1_000_000;

fn check_opportunities(m: u32) -> Result<u32> {
    if m > MAX_OPPORTUNITIES {
        return Err(Error::InvalidOption {
            name: "opportunities",
            reason: format!("at most {MAX_OPPORTUNITIES}, got {m}"),
        });
    }
    Ok(m)
}

impl BgBbParams {
    /// Validates and builds.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self> {
        Ok(BgBbParams {
            alpha: positive_parameter("alpha", alpha)?,
            beta: positive_parameter("beta", beta)?,
            gamma: positive_parameter("gamma", gamma)?,
            delta: positive_parameter("delta", delta)?,
        })
    }
    /// α of the transaction probability's Beta distribution.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// β of the transaction probability's Beta distribution.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// γ of the dropout probability's Beta distribution.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    /// δ of the dropout probability's Beta distribution.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// Fits the model by maximum likelihood ([`crate::fit::fit`]) to a discrete summary.
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit(
        summary: &DiscreteSummary,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// The terms of the likelihood (FHS 2010, eq. 5), as ln values:
    /// `L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)` (alive through opportunity n)
    /// `+ Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)` (inactive from
    /// opportunity t_x + i + 1 on).
    fn ln_terms(&self, h: &DiscreteHistory) -> impl Iterator<Item = f64> + '_ {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (x, t, n) = (f64::from(h.x), f64::from(h.t_x), f64::from(h.n));
        let base = -ln_beta(a, b) - ln_beta(g, d);
        let alive = ln_beta(a + x, b + n - x) + ln_beta(g, d + n) + base;
        std::iter::once(alive).chain((0..h.n - h.t_x).map(move |i| {
            let i = f64::from(i);
            ln_beta(a + x, b + t - x + i) + ln_beta(g + 1.0, d + t + i) + base
        }))
    }

    /// ln of one customer's likelihood (FHS 2010, eq. 5).
    pub fn ln_likelihood(&self, h: &DiscreteHistory) -> f64 {
        crate::special::log_sum_exp(&self.ln_terms(h).collect::<Vec<_>>())
    }

    /// P(alive at opportunity n + m | x, t_x, n) (FHS 2010, eq. 11 for m = 1):
    /// `B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+m)/B(γ,δ) / L`. m = 0 is P(alive at n), the
    /// probability of having survived every dropout draw so far.
    pub fn p_alive(&self, h: &DiscreteHistory, m: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (x, n) = (f64::from(h.x), f64::from(h.n));
        let ln = ln_beta(a + x, b + n - x) + ln_beta(g, d + n + f64::from(m))
            - ln_beta(a, b)
            - ln_beta(g, d)
            - self.ln_likelihood(h);
        ln.exp().min(1.0)
    }

    /// Σ_{i=1}^{m} E[(1−θ)^i] for θ ~ Beta(γ, d0): the expected number of the next m
    /// opportunities survived. With A = d0 + 1 and g = γ − 1 it is
    /// `d0 · (Γ(A)/Γ(A+g) − Γ(A+m)/Γ(A+m+g)) Γ(A+g)/(g Γ(A))` (a telescoping sum), written
    /// `d0 (−expm1(D))/g` with `D = ln Γ(A+m) − ln Γ(A+m+g) − ln Γ(A) + ln Γ(A+g)` from
    /// [`ln_gamma_diff`] (no cancellation near γ = 1), and `d0 (ψ(A+m) − ψ(A))` at γ = 1.
    fn survived(&self, d0: f64, m: u32) -> f64 {
        if m == 0 {
            return 0.0;
        }
        let g = self.gamma - 1.0;
        let a = d0 + 1.0;
        let mf = f64::from(m);
        if g == 0.0 {
            return d0 * (digamma(a + mf) - digamma(a));
        }
        let dd = -ln_gamma_diff(a + mf, g) + ln_gamma_diff(a, g);
        d0 * -dd.exp_m1() / g
    }

    /// E[X(n)]: expected transactions in the first n opportunities after the first, for a
    /// new customer (FHS 2010, eq. 7): `α/(α+β) · Σ_{i=1}^{n} E[(1−θ)^i]`, θ ~ Beta(γ, δ).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for n above [`MAX_OPPORTUNITIES`].
    pub fn expected_transactions(&self, n: u32) -> Result<f64> {
        let n = check_opportunities(n)?;
        Ok(self.alpha / (self.alpha + self.beta) * self.survived(self.delta, n))
    }

    /// P(X(n) = k): the distribution of the number of transactions in the first n
    /// opportunities for a new customer (FHS 2010, eq. 8):
    /// `C(n,k) B(α+k, β+n−k)/B(α,β) · B(γ, δ+n)/B(γ,δ)
    /// + Σ_{i=k}^{n−1} C(i,k) B(α+k, β+i−k)/B(α,β) · B(γ+1, δ+i)/B(γ,δ)`; 0 for k > n.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for n above [`MAX_OPPORTUNITIES`].
    pub fn pmf(&self, k: u32, n: u32) -> Result<f64> {
        let n = check_opportunities(n)?;
        if k > n {
            return Ok(0.0);
        }
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let kf = f64::from(k);
        let base = -ln_beta(a, b) - ln_beta(g, d);
        let ln_choose = |i: f64| ln_gamma(i + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(i - kf + 1.0);
        let nf = f64::from(n);
        let mut terms =
            vec![ln_choose(nf) + ln_beta(a + kf, b + nf - kf) + ln_beta(g, d + nf) + base];
        terms.extend((k..n).map(|i| {
            let i = f64::from(i);
            ln_choose(i) + ln_beta(a + kf, b + i - kf) + ln_beta(g + 1.0, d + i) + base
        }));
        Ok(crate::special::log_sum_exp(&terms).exp().min(1.0))
    }

    /// P(alive at n) ([`p_alive`](Self::p_alive) with m = 0) and the expected transactions
    /// in the next m opportunities
    /// ([`conditional_expected_transactions`](Self::conditional_expected_transactions)) for
    /// many customers: each distinct history is computed once (customers with n
    /// opportunities share at most (n+1)(n+2)/2 histories), the distinct ones on all cores,
    /// so a batch costs a lookup per customer.
    ///
    /// ```
    /// use clv::models::bgbb::{BgBbParams, DiscreteHistory};
    /// let m = BgBbParams::new(1.2, 0.75, 0.66, 2.78)?;
    /// let h = [DiscreteHistory::new(3, 4, 6)?, DiscreteHistory::new(0, 0, 6)?, DiscreteHistory::new(3, 4, 6)?];
    /// let out = m.alive_and_expected(&h, 5)?;
    /// assert_eq!(out[0], out[2]);
    /// assert_eq!(out[1], (m.p_alive(&h[1], 0), m.conditional_expected_transactions(&h[1], 5)?));
    /// # Ok::<(), clv::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`conditional_expected_transactions`](Self::conditional_expected_transactions).
    pub fn alive_and_expected(
        &self,
        histories: &[DiscreteHistory],
        m: u32,
    ) -> Result<Vec<(f64, f64)>> {
        let key = |h: &DiscreteHistory| (h.x, h.t_x, h.n);
        let mut distinct: Vec<DiscreteHistory> = Vec::new();
        let mut at: rustc_hash::FxHashMap<(u32, u32, u32), usize> = Default::default();
        let slots: Vec<usize> = histories
            .iter()
            .map(|h| {
                *at.entry(key(h)).or_insert_with(|| {
                    distinct.push(*h);
                    distinct.len() - 1
                })
            })
            .collect();
        let values = crate::par::map_slice(&distinct, |h| -> Result<(f64, f64)> {
            Ok((
                self.p_alive(h, 0),
                self.conditional_expected_transactions(h, m)?,
            ))
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        Ok(slots.into_iter().map(|k| values[k]).collect())
    }

    /// Expected transactions in the next m opportunities given the history (FHS 2010,
    /// eq. 13): `P(alive at n) · (α+x)/(α+β+n) · Σ_{i=1}^{m} E[(1−θ)^i]` with the posterior
    /// θ ~ Beta(γ, δ+n).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for m above [`MAX_OPPORTUNITIES`].
    pub fn conditional_expected_transactions(&self, h: &DiscreteHistory, m: u32) -> Result<f64> {
        let m = check_opportunities(m)?;
        let (x, n) = (f64::from(h.x), f64::from(h.n));
        let p = (self.alpha + x) / (self.alpha + self.beta + n);
        Ok(self.p_alive(h, 0) * p * self.survived(self.delta + n, m))
    }

    /// P(k transactions in the next m opportunities | history) (FHS 2010, eq. 12): dead at n,
    /// none; alive at n (posterior p ~ Beta(α+x, β+n−x), θ ~ Beta(γ, δ+n)), the customer
    /// survives i of the m opportunities (i < m: E[(1−θ)^i θ]; i = m: E[(1−θ)^m]) and
    /// transacts in k of those i: `Σ_{i=k}^{m} C(i,k) B(α+x+k, β+n−x+i−k)/B(α+x, β+n−x) · w_i`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for m above [`MAX_OPPORTUNITIES`].
    pub fn conditional_pmf(&self, h: &DiscreteHistory, k: u32, m: u32) -> Result<f64> {
        let m = check_opportunities(m)?;
        let pa = self.p_alive(h, 0);
        let dead = if k == 0 { 1.0 - pa } else { 0.0 };
        if k > m {
            return Ok(dead);
        }
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (x, n, kf) = (f64::from(h.x), f64::from(h.n), f64::from(k));
        let (a1, b1, d1) = (a + x, b + n - x, d + n);
        let ln_b1 = ln_beta(a1, b1);
        let ln_g1 = ln_beta(g, d1);
        let ln_choose = |i: f64| ln_gamma(i + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(i - kf + 1.0);
        let terms: Vec<f64> = (k..=m)
            .map(|i| {
                let i = f64::from(i);
                let survive = if i < f64::from(m) {
                    ln_beta(g + 1.0, d1 + i) - ln_g1
                } else {
                    ln_beta(g, d1 + i) - ln_g1
                };
                ln_choose(i) + ln_beta(a1 + kf, b1 + i - kf) - ln_b1 + survive
            })
            .collect();
        let alive = crate::special::log_sum_exp(&terms).exp();
        Ok((pa * alive + dead).min(1.0))
    }

    /// Discounted expected residual transactions at discount rate `d` per opportunity
    /// (FHS 2010, eq. 14): the transaction at opportunity n + i is discounted by (1+d)^{−i},
    /// `DERT = B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/(B(γ,δ)(1+d))
    /// · ₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a rate that is not finite and > 0 (undiscounted, the
    /// expected number of future transactions is infinite when γ <= 1).
    pub fn dert(&self, h: &DiscreteHistory, d: f64) -> Result<f64> {
        nonnegative_option("discount rate", d)?;
        if d == 0.0 {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: "DERT over an infinite horizon needs a discount rate > 0".into(),
            });
        }
        let (a, b, g, dl) = (self.alpha, self.beta, self.gamma, self.delta);
        let (x, n) = (f64::from(h.x), f64::from(h.n));
        let z = 1.0 / (1.0 + d);
        let one_minus_z = d / (1.0 + d);
        let ln = ln_beta(a + x + 1.0, b + n - x) - ln_beta(a, b) + ln_beta(g, dl + n + 1.0)
            - ln_beta(g, dl)
            + z.ln()
            + crate::special::ln_hyp2f1_complement(
                1.0,
                dl + n + 1.0,
                g + dl + n + 1.0,
                z,
                one_minus_z,
            )
            - self.ln_likelihood(h);
        let v = ln.exp();
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::Numerical {
                what: format!("BG/BB DERT of {h:?} at a discount rate of {d:e}"),
            })
        }
    }
}

/// Per-row log-likelihood, gradient and Hessian (row-major 4×4) in (α, β, γ, δ), by log-sum-exp
/// over the likelihood's terms, each `ln B(α+c₁, β+c₂) + ln B(γ+c₃, δ+c₄)` (the common
/// −ln B(α,β) − ln B(γ,δ) added once per row).
fn ll_grad_hess(
    theta: &[f64],
    data: &BgBbData,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let (a, b, g, d) = (theta[0], theta[1], theta[2], theta[3]);
    let want_hess = hess.is_some();
    let want_grad = grad.is_some() || want_hess;
    let mut ll = 0.0;
    let mut gr = [0.0f64; 4];
    let mut he = [0.0f64; 16];
    // derivatives of ln B(u, v) in (u, v)
    let dlb = |u: f64, v: f64| {
        let s = digamma(u + v);
        (digamma(u) - s, digamma(v) - s)
    };
    let d2lb = |u: f64, v: f64| {
        let s = trigamma(u + v);
        (trigamma(u) - s, -s, trigamma(v) - s)
    };
    // per-row buffers, allocated once for the whole pass
    let (mut shifts, mut ws) = (Vec::new(), Vec::new());
    for (h, w) in &data.rows {
        let (x, t, n) = (f64::from(h.x), f64::from(h.t_x), f64::from(h.n));
        // (c1, c2, c3, c4) of each term
        shifts.clear();
        shifts.push((x, n - x, 0.0, n));
        shifts.extend((0..h.n - h.t_x).map(|i| {
            let i = f64::from(i);
            (x, t - x + i, 1.0, t + i)
        }));
        ws.clear();
        ws.extend(
            shifts
                .iter()
                .map(|&(c1, c2, c3, c4)| ln_beta(a + c1, b + c2) + ln_beta(g + c3, d + c4)),
        );
        let top = ws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        ws.iter_mut().for_each(|l| *l = (*l - top).exp());
        let total: f64 = ws.iter().sum();
        ll += w * (top + total.ln());
        if !want_grad {
            continue;
        }
        let mut mean = [0.0f64; 4];
        let mut second = [0.0f64; 16];
        for (&(c1, c2, c3, c4), &wk) in shifts.iter().zip(&ws) {
            let p = wk / total;
            let (ga, gb) = dlb(a + c1, b + c2);
            let (gg, gd) = dlb(g + c3, d + c4);
            let gk = [ga, gb, gg, gd];
            for i in 0..4 {
                mean[i] += p * gk[i];
            }
            if want_hess {
                let (haa, hab, hbb) = d2lb(a + c1, b + c2);
                let (hgg, hgd, hdd) = d2lb(g + c3, d + c4);
                second[0] += p * haa;
                second[1] += p * hab;
                second[4] += p * hab;
                second[5] += p * hbb;
                second[10] += p * hgg;
                second[11] += p * hgd;
                second[14] += p * hgd;
                second[15] += p * hdd;
                for i in 0..4 {
                    for j in 0..4 {
                        second[4 * i + j] += p * gk[i] * gk[j];
                    }
                }
            }
        }
        for i in 0..4 {
            gr[i] += w * mean[i];
        }
        if want_hess {
            for i in 0..4 {
                for j in 0..4 {
                    he[4 * i + j] += w * (second[4 * i + j] - mean[i] * mean[j]);
                }
            }
        }
    }
    // the common −ln B(α,β) − ln B(γ,δ), once per customer
    let total_w = data.total;
    ll -= total_w * (ln_beta(a, b) + ln_beta(g, d));
    if want_grad {
        let (ga, gb) = dlb(a, b);
        let (gg, gd) = dlb(g, d);
        let common = [ga, gb, gg, gd];
        for i in 0..4 {
            gr[i] -= total_w * common[i];
        }
        if want_hess {
            let (haa, hab, hbb) = d2lb(a, b);
            let (hgg, hgd, hdd) = d2lb(g, d);
            for (idx, v) in [
                (0, haa),
                (1, hab),
                (4, hab),
                (5, hbb),
                (10, hgg),
                (11, hgd),
                (14, hgd),
                (15, hdd),
            ] {
                he[idx] -= total_w * v;
            }
        }
        if let Some(out) = grad {
            out.copy_from_slice(&gr);
        }
        if let Some(out) = hess {
            out.copy_from_slice(&he);
        }
    }
    ll
}

impl MaximumLikelihood for BgBbParams {
    type Data = BgBbData;
    const MODEL: &'static str = "bgbb";
    const LABEL: &'static str = "BG/BB";
    const NAMES: &'static [&'static str] = &["alpha", "beta", "gamma", "delta"];

    fn n_customers(data: &BgBbData) -> f64 {
        data.total
    }
    fn n_rows(data: &BgBbData) -> usize {
        data.rows.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [a, b, g, d] => BgBbParams::new(*a, *b, *g, *d),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        vec![self.alpha, self.beta, self.gamma, self.delta]
    }
    fn starts(_data: &BgBbData) -> Vec<Vec<f64>> {
        vec![
            vec![1.0, 1.0, 1.0, 1.0],
            vec![0.5, 0.5, 0.5, 2.0],
            vec![2.0, 1.0, 0.5, 5.0],
        ]
    }
    fn log_likelihood_grad(theta: &[f64], data: &BgBbData, grad: Option<&mut [f64]>) -> f64 {
        ll_grad_hess(theta, data, grad, None)
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &BgBbData,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess(theta, data, Some(grad), Some(hess)))
    }
}

impl FromRfm for BgBbParams {
    /// An RFM summary whose values are whole numbers (one written by `clv summarize
    /// --discrete`, in opportunities): frequency = x, recency = t_x, T = n, each customer
    /// weighing 1.
    fn prepare(summary: &crate::RfmSummary) -> Result<BgBbData> {
        let whole = |v: f64, i: usize, field: &'static str| -> Result<u32> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(v as u32)
            } else {
                Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: Some(summary.ids()[i].clone()),
                    field,
                    issue: DataIssue::NotInteger(v),
                })
            }
        };
        let len = summary.len();
        let (mut x, mut t, mut n) = (
            Vec::with_capacity(len),
            Vec::with_capacity(len),
            Vec::with_capacity(len),
        );
        for i in 0..len {
            x.push(whole(summary.frequency()[i], i, "frequency")?);
            t.push(whole(summary.recency()[i], i, "recency")?);
            n.push(whole(summary.age()[i], i, "T")?);
        }
        let d = DiscreteSummary::new(x, t, n, None, Some(summary.ids().to_vec()), summary.unit())?;
        FitData::<BgBbParams>::prepare(&d)
    }
}
