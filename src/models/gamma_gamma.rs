//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
//! Using Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4);
//! Fader & Hardie, note 025 "The Gamma-Gamma Model of Monetary Value").
//!
//! A customer's transaction values are i.i.d. Gamma(p, ν); across customers ν ~ Gamma(q, v).
//! The model is fitted on the customers with at least one repeat purchase, from their number of
//! repeat transactions x and mean repeat-transaction value m̄; it assumes spend is independent
//! of purchase frequency.

use crate::data::RfmSummary;
use crate::data::summary::{every, spread_step, weighted_distinct};
use crate::error::{DataIssue, Error, Result, positive_parameter};
use crate::fit::{FromRfm, MaximumLikelihood};
use crate::special::trigamma;
use statrs::function::gamma::{digamma, ln_gamma};

/// Validated Gamma-Gamma parameters p, q, v (all finite and > 0).
///
/// ```
/// use clv::{GammaGammaParams, SpendModel};
/// // Fader & Hardie note 025, CDNOW
/// let m = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
/// assert!((m.population_mean_spend().unwrap() - 35.22).abs() < 0.01);
/// // customer 1 (x = 2, mean repeat spend 22.35): 24.65 at the unrounded estimates
/// assert!((m.conditional_expected_spend(2.0, 22.35).unwrap() - 24.65).abs() < 0.02);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawGammaGamma"))]
pub struct GammaGammaParams {
    p: f64,
    q: f64,
    v: f64,
}

#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
struct RawGammaGamma {
    p: f64,
    q: f64,
    v: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<RawGammaGamma> for GammaGammaParams {
    type Error = Error;
    fn try_from(r: RawGammaGamma) -> Result<Self> {
        GammaGammaParams::new(r.p, r.q, r.v)
    }
}

pub use super::SpendModel;

impl GammaGammaParams {
    /// Validates and builds. (q <= 1 is a valid model whose population mean spend is
    /// infinite: predictions that need it return an error.)
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a parameter that is not finite and > 0.
    pub fn new(p: f64, q: f64, v: f64) -> Result<Self> {
        Ok(GammaGammaParams {
            p: positive_parameter("p", p)?,
            q: positive_parameter("q", q)?,
            v: positive_parameter("v", v)?,
        })
    }
    /// Shape of the per-transaction spend distribution.
    pub fn p(&self) -> f64 {
        self.p
    }
    /// Shape of the distribution of the spend rate ν across customers.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Scale of the distribution of ν across customers.
    pub fn v(&self) -> f64 {
        self.v
    }

    /// Fits on the summary's customers with x > 0 (the summary needs monetary values); see
    /// [`crate::fit::fit`].
    ///
    /// ```
    /// use clv::{GammaGammaParams, FitOptions, io::read_summary_csv, TimeUnit};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary_with_transactions.csv");
    /// let s = read_summary_csv(path, TimeUnit::Weeks).unwrap();
    /// let f = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
    /// assert!((f.log_likelihood() + 4055.92).abs() < 0.01);
    /// ```
    ///
    /// # Errors
    /// As [`crate::fit::fit`]; the summary needs monetary values.
    pub fn fit(
        summary: &RfmSummary,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit(summary, options)
    }

    /// Fits the model to spend data built without a summary
    /// ([`SpendData::from_columns`]); `unit` labels the model (its parameters have no time
    /// unit, but a model file records the unit of the data it came from).
    ///
    /// ```
    /// use clv::{FitOptions, GammaGammaParams, TimeUnit};
    /// use clv::models::gamma_gamma::SpendData;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary_with_transactions.csv");
    /// let s = clv::io::read_summary_csv(path, TimeUnit::Weeks)?;
    /// let d = SpendData::from_columns(s.frequency(), s.monetary_value().unwrap(), None)?;
    /// let o = FitOptions::default();
    /// let f = GammaGammaParams::fit_data(&d, TimeUnit::Weeks, &o)?;
    /// assert_eq!(f, GammaGammaParams::fit(&s, &o)?); // the summary's fit, to the bit
    /// # Ok::<(), clv::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit_data(
        data: &SpendData,
        unit: crate::TimeUnit,
        options: &crate::fit::FitOptions,
    ) -> Result<crate::fit::Fitted<Self>> {
        crate::fit::fit_prepared(data, options, unit)
    }

    /// ln of one repeat buyer's likelihood (note 025, eq. 5):
    /// `ln[Γ(px+q)/(Γ(px)Γ(q)) · v^q m̄^{px-1} x^{px} / (v + x m̄)^{px+q}]`.
    pub fn ln_likelihood(&self, x: f64, mean_spend: f64) -> f64 {
        let d = SpendData {
            x: vec![x],
            m: vec![mean_spend],
            weight: vec![1.0],
        };
        ll_grad_hess(&[self.p, self.q, self.v], &d, None, None)
    }
}

impl SpendModel for GammaGammaParams {
    /// p·v/(q-1), finite only for q > 1.
    fn population_mean_spend(&self) -> Result<f64> {
        if self.q <= 1.0 {
            return Err(Error::Numerical {
                what: format!(
                    "Gamma-Gamma population mean spend: q = {} <= 1 makes it infinite (the spend distribution is too heavy-tailed)",
                    self.q
                ),
            });
        }
        Ok(self.p * self.v / (self.q - 1.0))
    }

    /// Note 025, eq. 6: `p (v + x m̄) / (p x + q - 1)`, a weighted average of the population
    /// mean and the customer's own mean m̄ (weight px/(px+q-1)).
    fn conditional_expected_spend(&self, x: f64, mean_spend: f64) -> Result<f64> {
        if !(x.is_finite() && x >= 0.0 && x.fract() == 0.0) {
            return Err(Error::InvalidData {
                row: None,
                customer: None,
                field: "frequency",
                issue: DataIssue::NotInteger(x),
            });
        }
        if x == 0.0 {
            return self.population_mean_spend();
        }
        if !(mean_spend.is_finite() && mean_spend >= 0.0) {
            return Err(Error::InvalidData {
                row: None,
                customer: None,
                field: "monetary_value",
                issue: if mean_spend.is_finite() {
                    DataIssue::Negative(mean_spend)
                } else {
                    DataIssue::NotFinite(mean_spend)
                },
            });
        }
        let den = self.p * x + self.q - 1.0;
        if den <= 0.0 {
            return Err(Error::Numerical {
                what: format!(
                    "Gamma-Gamma conditional spend: p·x + q - 1 = {den} <= 0 (q too small)"
                ),
            });
        }
        let e = self.p * (self.v + x * mean_spend) / den;
        if e.is_finite() {
            Ok(e)
        } else {
            Err(Error::Numerical {
                what: format!("Gamma-Gamma conditional spend of x = {x}, mean spend {mean_spend}"),
            })
        }
    }
}

/// Repeat buyers' (x, m̄) pairs, identical pairs merged with weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendData {
    pub(crate) x: Vec<f64>,
    pub(crate) m: Vec<f64>,
    pub(crate) weight: Vec<f64>,
}

impl SpendData {
    /// Repeat transactions of each pair (> 0).
    pub fn frequency(&self) -> &[f64] {
        &self.x
    }
    /// Mean repeat-transaction value of each pair (> 0).
    pub fn mean_spend(&self) -> &[f64] {
        &self.m
    }
    /// Customers with each pair.
    pub fn weight(&self) -> &[f64] {
        &self.weight
    }

    /// The repeat buyers of a summary with monetary values; customers with x = 0 carry no
    /// information on spend and are left out (by the model's definition, not silently: the
    /// count is `n_customers`). A repeat buyer with mean value 0 is an error naming them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] without monetary values; [`Error::InvalidData`] naming a repeat
    /// buyer whose mean spend is 0; [`Error::NotIdentifiable`] with fewer than two distinct repeat
    /// buyers' spends.
    pub fn from_summary(s: &RfmSummary) -> Result<Self> {
        let m = s.require_monetary_value(
            "the Gamma-Gamma model needs each customer's mean repeat-transaction value",
        )?;
        let mut keys: Vec<(u64, u64)> = Vec::new();
        for (i, (&x, &mv)) in s.frequency().iter().zip(m).enumerate() {
            if x == 0.0 {
                continue;
            }
            if mv <= 0.0 {
                return Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: Some(s.ids()[i].clone()),
                    field: "monetary_value",
                    issue: DataIssue::NotPositive(mv),
                });
            }
            // positive finite floats order like their bit patterns
            keys.push((x.to_bits(), mv.to_bits()));
        }
        Self::from_distinct(weighted_distinct(keys), s.len())
    }

    /// Frequencies and mean repeat-transaction values as columns (lifetimes'
    /// `GammaGammaFitter.fit(frequency, monetary_value, weights)`), with optional weights (how
    /// many customers share each row). Rows with x = 0 are left out, as in
    /// [`from_summary`](Self::from_summary); identical rows are merged, their weights added.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths; [`Error::InvalidData`] naming
    /// the row (1-based) and field of a frequency that is not a whole number >= 0, a mean value
    /// that is not finite, or 0 for a repeat buyer, or a weight that is not finite and > 0;
    /// [`Error::NotIdentifiable`] as [`from_summary`](Self::from_summary).
    pub fn from_columns(x: &[f64], m: &[f64], weight: Option<&[f64]>) -> Result<Self> {
        if m.len() != x.len() || weight.is_some_and(|w| w.len() != x.len()) {
            return Err(Error::InvalidOption {
                name: "spend columns",
                reason: "frequency, monetary_value (and weights) must have the same length".into(),
            });
        }
        let bad = |i: usize, field, issue| Error::InvalidData {
            row: Some(i + 1),
            customer: None,
            field,
            issue,
        };
        let mut rows: Vec<((u64, u64), f64)> = Vec::new();
        for i in 0..x.len() {
            let w = weight.map_or(1.0, |w| w[i]);
            if !w.is_finite() {
                return Err(bad(i, "weight", DataIssue::NotFinite(w)));
            }
            if w <= 0.0 {
                return Err(bad(i, "weight", DataIssue::NotPositive(w)));
            }
            let (xi, mi) = (x[i], m[i]);
            if !xi.is_finite() {
                return Err(bad(i, "frequency", DataIssue::NotFinite(xi)));
            }
            if xi < 0.0 {
                return Err(bad(i, "frequency", DataIssue::Negative(xi)));
            }
            if xi.fract() != 0.0 {
                return Err(bad(i, "frequency", DataIssue::NotInteger(xi)));
            }
            if !mi.is_finite() {
                return Err(bad(i, "monetary_value", DataIssue::NotFinite(mi)));
            }
            if xi == 0.0 {
                continue;
            }
            if mi <= 0.0 {
                return Err(bad(i, "monetary_value", DataIssue::NotPositive(mi)));
            }
            rows.push((((xi + 0.0).to_bits(), mi.to_bits()), w));
        }
        rows.sort_unstable_by_key(|r| r.0);
        let mut merged: Vec<((u64, u64), f64)> = Vec::with_capacity(rows.len());
        for (k, w) in rows {
            match merged.last_mut() {
                Some((last, sum)) if *last == k => *sum += w,
                _ => merged.push((k, w)),
            }
        }
        Self::from_distinct(merged, x.len())
    }

    /// The merged `(x, m̄)` keys with their weights, checked for what the model needs.
    fn from_distinct(rows: Vec<((u64, u64), f64)>, customers: usize) -> Result<Self> {
        let not_identifiable = |reason: String| Error::NotIdentifiable {
            model: "gamma_gamma",
            reason,
        };
        if rows.is_empty() {
            return Err(not_identifiable(format!(
                "none of the {customers} customers made a repeat purchase, and spend is \
                 modelled on repeat transactions"
            )));
        }
        let mut d = SpendData::default();
        for ((x, m), w) in rows {
            d.x.push(f64::from_bits(x));
            d.m.push(f64::from_bits(m));
            d.weight.push(w);
        }
        let buyers: f64 = d.weight.iter().sum();
        if d.m.iter().all(|&m| m == d.m[0]) {
            return Err(not_identifiable(if buyers == 1.0 {
                "a single repeat buyer says nothing about how spend varies".into()
            } else {
                format!(
                    "all {} repeat buyers have the same mean spend ({}), so spend shows no \
                     variation to model",
                    buyers, d.m[0]
                )
            }));
        }
        Ok(d)
    }
}

/// Above this absolute correlation between x and m̄ the model's independence assumption is
/// flagged (the usual rule of thumb for "not negligible").
pub const CORRELATION_WARNING: f64 = 0.3;

/// Weighted Pearson correlation between the number of repeat transactions and the mean
/// repeat-transaction value over repeat buyers: the Gamma-Gamma model assumes it is ~0
/// (Fader, Hardie & Lee 2005 report 0.11 on CDNOW). NaN when either has no spread.
///
/// ```
/// use clv::models::gamma_gamma::{frequency_spend_correlation, SpendData};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary_with_transactions.csv");
/// let s = clv::io::read_summary_csv(path, clv::TimeUnit::Weeks).unwrap();
/// let r = frequency_spend_correlation(&SpendData::from_summary(&s).unwrap());
/// assert!((r - 0.11).abs() < 0.01);
/// ```
pub fn frequency_spend_correlation(d: &SpendData) -> f64 {
    let n: f64 = d.weight.iter().sum();
    let mean = |v: &[f64]| v.iter().zip(&d.weight).map(|(a, w)| a * w).sum::<f64>() / n;
    let (mx, mm) = (mean(&d.x), mean(&d.m));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..d.x.len() {
        let (dx, dm, w) = (d.x[i] - mx, d.m[i] - mm, d.weight[i]);
        sxy += w * dx * dm;
        sxx += w * dx * dx;
        syy += w * dm * dm;
    }
    sxy / (sxx * syy).sqrt()
}

/// Total log-likelihood over repeat buyers and, if asked, its gradient and Hessian (row-major
/// 3×3) in (p, q, v). Per customer (note 025, eq. 3 in logs):
/// `lnΓ(px+q) - lnΓ(px) + (px-1) ln m̄ + px ln x - (px+q) ln(v+x m̄) + q ln v - lnΓ(q)`,
/// whose second derivatives are x²(ψ₁(px+q) - ψ₁(px)), xψ₁(px+q), -x/(v+x m̄) for (p,p),
/// (p,q), (p,v); ψ₁(px+q) - ψ₁(q), 1/v - 1/(v+x m̄) for (q,q), (q,v); and
/// (px+q)/(v+x m̄)² - q/v² for (v,v).
fn ll_grad_hess(
    theta: &[f64],
    d: &SpendData,
    grad: Option<&mut [f64]>,
    hess: Option<&mut [f64]>,
) -> f64 {
    let (p, q, v) = (theta[0], theta[1], theta[2]);
    let ln_v = v.ln();
    let const_q = q * ln_v - ln_gamma(q);
    let want_hess = hess.is_some();
    let want = grad.is_some() || want_hess;
    let (mut ll, mut g, mut h, mut n) = (0.0, [0.0; 3], [0.0; 9], 0.0);
    // Rows are sorted by x (`SpendData::from_summary`): the terms that depend only on x and the
    // parameters are computed once per distinct x.
    let mut last_x = f64::NAN;
    let (mut px, mut ln_x, mut lg, mut dg, mut dg_diff) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut tg, mut tg_diff) = (0.0, 0.0);
    for i in 0..d.x.len() {
        let (x, m, w) = (d.x[i], d.m[i], d.weight[i]);
        if x != last_x {
            last_x = x;
            px = p * x;
            ln_x = x.ln();
            lg = ln_gamma(px + q) - ln_gamma(px);
            if want {
                dg = digamma(px + q);
                dg_diff = dg - digamma(px);
            }
            if want_hess {
                tg = trigamma(px + q);
                tg_diff = tg - trigamma(px);
            }
        }
        let (ln_m, vxm) = (m.ln(), v + x * m);
        let ln_vxm = vxm.ln();
        ll += w * (lg + (px - 1.0) * ln_m + px * ln_x - (px + q) * ln_vxm);
        n += w;
        if want {
            let ivxm = 1.0 / vxm;
            g[0] += w * x * (dg_diff + ln_m + ln_x - ln_vxm);
            g[1] += w * (dg - ln_vxm);
            g[2] += w * (-(px + q) * ivxm);
            if want_hess {
                h[0] += w * x * x * tg_diff;
                h[1] += w * x * tg;
                h[2] += -w * x * ivxm;
                h[4] += w * tg;
                h[5] += -w * ivxm;
                h[8] += w * (px + q) * ivxm * ivxm;
            }
        }
    }
    if let Some(out) = grad {
        out[0] = g[0];
        out[1] = g[1] + n * (ln_v - digamma(q));
        out[2] = g[2] + n * q / v;
    }
    if let Some(out) = hess {
        h[4] -= n * trigamma(q);
        h[5] += n / v;
        h[8] -= n * q / (v * v);
        for i in 0..3 {
            for j in 0..3 {
                out[3 * i + j] = h[3 * i.min(j) + i.max(j)];
            }
        }
    }
    ll + n * const_q
}

impl MaximumLikelihood for GammaGammaParams {
    type Data = SpendData;
    const LABEL: &'static str = "Gamma-Gamma";
    const MODEL: &'static str = "gamma_gamma";
    const NAMES: &'static [&'static str] = &["p", "q", "v"];

    fn n_customers(d: &SpendData) -> f64 {
        d.weight.iter().sum()
    }
    fn n_rows(d: &SpendData) -> usize {
        d.x.len()
    }
    fn from_slice(theta: &[f64]) -> Result<Self> {
        match theta {
            [p, q, v] => GammaGammaParams::new(*p, *q, *v),
            _ => Err(crate::models::wrong_length(Self::NAMES, theta.len())),
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        vec![self.p, self.q, self.v]
    }
    fn starts(d: &SpendData) -> Vec<Vec<f64>> {
        let n: f64 = d.weight.iter().sum();
        let mean = d.m.iter().zip(&d.weight).map(|(m, w)| m * w).sum::<f64>() / n;
        vec![
            vec![1.0, 1.0, 1.0],
            vec![5.0, 3.0, mean.max(1e-3)],
            vec![10.0, 5.0, 2.0 * mean.max(1e-3)],
        ]
    }
    fn log_likelihood_grad(theta: &[f64], data: &SpendData, grad: Option<&mut [f64]>) -> f64 {
        ll_grad_hess(theta, data, grad, None)
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &SpendData,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(ll_grad_hess(theta, data, Some(grad), Some(hess)))
    }
    fn subsample(data: &SpendData, rows: usize) -> Option<SpendData> {
        let k = spread_step(data.x.len(), rows);
        Some(SpendData {
            x: every(&data.x, k),
            m: every(&data.m, k),
            weight: every(&data.weight, k),
        })
    }
    /// The frequency–spend correlation (always reported), flagged when above
    /// [`CORRELATION_WARNING`]; and q <= 1, where the population mean spend is infinite.
    fn fit_warnings(data: &SpendData, params: &Self) -> Vec<crate::fit::FitWarning> {
        use crate::fit::FitWarning;
        let r = frequency_spend_correlation(data);
        let mut w = vec![FitWarning::FrequencySpendCorrelation { correlation: r }];
        if r.abs() > CORRELATION_WARNING {
            w.push(FitWarning::SpendDependsOnFrequency {
                correlation: r,
                threshold: CORRELATION_WARNING,
            });
        }
        if params.q <= 1.0 {
            w.push(FitWarning::InfiniteMeanSpend { q: params.q });
        }
        w
    }
}

impl FromRfm for GammaGammaParams {
    fn prepare(summary: &RfmSummary) -> Result<SpendData> {
        SpendData::from_summary(summary)
    }
}
