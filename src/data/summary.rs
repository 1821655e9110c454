//! The columnar RFM summary and its compressed (weighted) form.

use super::{Customer, TimeUnit};
use crate::error::{DataIssue, Error, Result, positive_option};
use std::collections::HashSet;

/// Per-customer holdout-period observations, aligned with the calibration rows of an
/// [`RfmSummary`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Holdout {
    /// Purchase occasions in the holdout window (all of them are repeat purchases).
    pub frequency: Vec<f64>,
    /// Mean value per holdout purchase occasion (0 when there was none).
    pub monetary_value: Vec<f64>,
    /// Length of the holdout window, in the summary's time unit.
    pub duration: f64,
}

/// One row per customer: id, frequency `x`, recency `t_x`, age `T`, optionally the mean value
/// of the repeat purchases and holdout observations. Every row is validated on construction
/// ([`Customer::new`] rules, unique ids, monetary values finite and >= 0).
///
/// ```
/// use clv::{RfmSummary, TimeUnit};
/// let s = RfmSummary::new(
///     vec!["a".into(), "b".into(), "c".into()],
///     vec![0.0, 2.0, 2.0],
///     vec![0.0, 30.43, 30.43],
///     vec![38.86, 38.86, 38.86],
///     TimeUnit::Weeks,
/// ).unwrap();
/// assert_eq!(s.len(), 3);
/// let c = s.compress();
/// assert_eq!(c.len(), 2); // the two identical rows merged with weight 2
/// assert_eq!(c.total_weight(), 3.0);
/// ```
///
/// Deserialising goes through the same validation (ragged columns or x = −3 in JSON are an
/// error, not a summary that panics later):
///
/// ```
/// use clv::RfmSummary;
/// let bad = r#"{"ids":["a"],"frequency":[-3.0],"recency":[0.0],"T":[5.0],"monetary_value":null,"holdout":null,"unit":"weeks"}"#;
/// assert!(serde_json::from_str::<RfmSummary>(bad).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawSummary"))]
pub struct RfmSummary {
    ids: Vec<String>,
    #[cfg_attr(feature = "serde", serde(rename = "frequency"))]
    x: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(rename = "recency"))]
    t_x: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(rename = "T"))]
    t: Vec<f64>,
    monetary_value: Option<Vec<f64>>,
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    litt: Option<Vec<f64>>,
    holdout: Option<Holdout>,
    unit: TimeUnit,
}

/// The serialised form of an [`RfmSummary`], validated by `try_from`.
#[cfg(feature = "serde")]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
struct RawSummary {
    ids: Vec<String>,
    #[cfg_attr(feature = "serde", serde(alias = "x"))]
    frequency: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(alias = "t_x"))]
    recency: Vec<f64>,
    #[cfg_attr(feature = "serde", serde(rename = "T", alias = "t"))]
    age: Vec<f64>,
    monetary_value: Option<Vec<f64>>,
    #[cfg_attr(feature = "serde", serde(default))]
    litt: Option<Vec<f64>>,
    holdout: Option<Holdout>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<RawSummary> for RfmSummary {
    type Error = Error;
    fn try_from(r: RawSummary) -> Result<Self> {
        let mut s = RfmSummary::new(r.ids, r.frequency, r.recency, r.age, r.unit)?;
        if let Some(m) = r.monetary_value {
            s = s.with_monetary_value(m)?;
        }
        if let Some(h) = r.holdout {
            s = s.with_holdout(h)?;
        }
        if let Some(l) = r.litt {
            s = s.with_litt(l)?;
        }
        Ok(s)
    }
}

impl RfmSummary {
    /// Builds and validates a summary from columns of equal length.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths; [`Error::EmptyData`] for no
    /// customer; [`Error::InvalidData`] naming the row, customer and field of an invalid history
    /// or a duplicate id.
    pub fn new(
        ids: Vec<String>,
        x: Vec<f64>,
        t_x: Vec<f64>,
        t: Vec<f64>,
        unit: TimeUnit,
    ) -> Result<Self> {
        Self::check_shape(&ids, &x, &t_x, &t)?;
        let mut seen = HashSet::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if !seen.insert(id.as_str()) {
                return Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: Some(id.clone()),
                    field: "customer_id",
                    issue: DataIssue::Duplicate,
                });
            }
        }
        Self::with_distinct_ids(ids, x, t_x, t, unit)
    }

    /// Columns of one length, at least one customer.
    fn check_shape(ids: &[String], x: &[f64], t_x: &[f64], t: &[f64]) -> Result<()> {
        let n = ids.len();
        if x.len() != n || t_x.len() != n || t.len() != n {
            return Err(Error::InvalidOption {
                name: "summary columns",
                reason: format!(
                    "columns differ in length (ids {n}, x {}, t_x {}, T {})",
                    x.len(),
                    t_x.len(),
                    t.len()
                ),
            });
        }
        if n == 0 {
            return Err(Error::EmptyData("the summary has no customers"));
        }
        Ok(())
    }

    /// [`new`](Self::new) for ids that are distinct by construction (the keys of a map): the
    /// rows are validated, the ids not compared.
    pub(crate) fn with_distinct_ids(
        ids: Vec<String>,
        x: Vec<f64>,
        t_x: Vec<f64>,
        t: Vec<f64>,
        unit: TimeUnit,
    ) -> Result<Self> {
        Self::check_shape(&ids, &x, &t_x, &t)?;
        for i in 0..ids.len() {
            Customer::check(x[i], t_x[i], t[i], Some(i + 1), Some(&ids[i]))?;
        }
        Ok(Self::from_parts(ids, x, t_x, t, unit))
    }

    /// A summary from columns whose rows the caller has already validated (each with
    /// `Customer::check`) and whose ids it checks for duplicates itself (the block readers
    /// check them across the whole file).
    #[cfg(feature = "csv")]
    pub(crate) fn from_checked_rows(
        ids: Vec<String>,
        x: Vec<f64>,
        t_x: Vec<f64>,
        t: Vec<f64>,
        unit: TimeUnit,
    ) -> Result<Self> {
        Self::check_shape(&ids, &x, &t_x, &t)?;
        Ok(Self::from_parts(ids, x, t_x, t, unit))
    }

    fn from_parts(
        ids: Vec<String>,
        x: Vec<f64>,
        t_x: Vec<f64>,
        t: Vec<f64>,
        unit: TimeUnit,
    ) -> Self {
        RfmSummary {
            ids,
            x,
            t_x,
            t,
            monetary_value: None,
            litt: None,
            holdout: None,
            unit,
        }
    }

    /// Attaches each customer's litt, the sum of the logarithms of their x inter-purchase
    /// times in the calibration period (in the summary's time unit): what the Erlang-k models
    /// (BG/CNBD-k, MBG/CNBD-k) need beyond (x, t_x, T). `clv summarize` and
    /// [`crate::SummaryBuilder`] compute it.
    ///
    /// ```
    /// use clv::{RfmSummary, TimeUnit};
    /// // gaps of 2 and 3 weeks: litt = ln 2 + ln 3
    /// let s = RfmSummary::new(vec!["a".into()], vec![2.0], vec![5.0], vec![8.0], TimeUnit::Weeks)?
    ///     .with_litt(vec![6f64.ln()])?;
    /// assert_eq!(s.litt().unwrap()[0], 6f64.ln());
    /// // 2 gaps summing to 5 weeks have at most ln 2.5 + ln 2.5: a litt in days is refused
    /// assert!(s.clone().with_litt(vec![(14.0f64 * 21.0).ln()]).is_err());
    /// # Ok::<(), clv::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a column of another length; [`Error::InvalidData`] naming the
    /// row of a value that is not finite, not 0 for x = 0, or above x·ln(t_x/x) (the largest
    /// sum of x log-gaps that add up to t_x; 1e-9 relative slack for rounding).
    pub fn with_litt(mut self, litt: Vec<f64>) -> Result<Self> {
        if litt.len() != self.len() {
            return Err(Error::InvalidOption {
                name: "litt",
                reason: format!("has {} values for {} customers", litt.len(), self.len()),
            });
        }
        for (i, &l) in litt.iter().enumerate() {
            if !l.is_finite() {
                return Err(self.row_error(i, "litt", DataIssue::NotFinite(l)));
            }
            let x = self.x[i];
            let max = if x == 0.0 {
                0.0
            } else {
                x * (self.t_x[i] / x).ln()
            };
            let bad = if x == 0.0 {
                l != 0.0
            } else {
                l > max + 1e-9 * max.abs().max(1.0)
            };
            if bad {
                return Err(self.row_error(i, "litt", DataIssue::LittImpossible { litt: l, max }));
            }
        }
        self.litt = Some(litt);
        Ok(self)
    }

    /// The sums of log inter-purchase times, when attached ([`with_litt`](Self::with_litt)).
    pub fn litt(&self) -> Option<&[f64]> {
        self.litt.as_deref()
    }

    /// Attaches the mean repeat-purchase value per customer (finite, >= 0; 0 for x = 0).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a column of another length; [`Error::InvalidData`] naming the
    /// row of a value that is not finite or is negative.
    pub fn with_monetary_value(mut self, m: Vec<f64>) -> Result<Self> {
        self.check_column("monetary_value", &m)?;
        self.monetary_value = Some(m);
        Ok(self)
    }

    /// Attaches holdout observations (frequencies whole numbers >= 0, values >= 0,
    /// duration > 0).
    ///
    /// # Errors
    /// As [`with_monetary_value`](Self::with_monetary_value), for fractional holdout frequencies
    /// and a duration that is not finite and > 0.
    pub fn with_holdout(mut self, h: Holdout) -> Result<Self> {
        self.check_column("frequency_holdout", &h.frequency)?;
        self.check_column("monetary_value_holdout", &h.monetary_value)?;
        if let Some(i) = h.frequency.iter().position(|v| v.fract() != 0.0) {
            return Err(self.row_error(
                i,
                "frequency_holdout",
                DataIssue::NotInteger(h.frequency[i]),
            ));
        }
        positive_option("duration_holdout", h.duration)?;
        self.holdout = Some(h);
        Ok(self)
    }

    fn row_error(&self, i: usize, field: &'static str, issue: DataIssue) -> Error {
        Error::InvalidData {
            row: Some(i + 1),
            customer: Some(self.ids[i].clone()),
            field,
            issue,
        }
    }

    fn check_column(&self, field: &'static str, v: &[f64]) -> Result<()> {
        if v.len() != self.len() {
            return Err(Error::InvalidOption {
                name: field,
                reason: format!("has {} values for {} customers", v.len(), self.len()),
            });
        }
        for (i, &m) in v.iter().enumerate() {
            if !m.is_finite() {
                return Err(self.row_error(i, field, DataIssue::NotFinite(m)));
            }
            if m < 0.0 {
                return Err(self.row_error(i, field, DataIssue::Negative(m)));
            }
        }
        Ok(())
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// Always false: a summary has at least one customer.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// Customer ids, in input order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }
    /// Frequencies `x`.
    pub fn frequency(&self) -> &[f64] {
        &self.x
    }
    /// Recencies `t_x`.
    pub fn recency(&self) -> &[f64] {
        &self.t_x
    }
    /// Ages `T`.
    pub fn age(&self) -> &[f64] {
        &self.t
    }
    /// Mean repeat-purchase values, when known.
    pub fn monetary_value(&self) -> Option<&[f64]> {
        self.monetary_value.as_deref()
    }
    /// The monetary values, or an error saying that `purpose` needs them.
    /// The customers at `idx` (in that order), with their monetary values when the summary
    /// has them: one covariate pattern's customers, for the models with covariates.
    pub(crate) fn subset(&self, idx: &[usize]) -> Result<RfmSummary> {
        let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let sub = RfmSummary::new(
            idx.iter().map(|&i| self.ids()[i].clone()).collect(),
            pick(self.frequency()),
            pick(self.recency()),
            pick(self.age()),
            self.unit(),
        )?;
        match self.monetary_value() {
            Some(m) => sub.with_monetary_value(pick(m)),
            None => Ok(sub),
        }
    }
    pub(crate) fn require_monetary_value(&self, purpose: &str) -> Result<&[f64]> {
        self.monetary_value().ok_or_else(|| Error::InvalidOption {
            name: "summary",
            reason: format!("has no monetary_value column: {purpose}"),
        })
    }
    /// Holdout observations, when the summary was built with an observation end.
    pub fn holdout(&self) -> Option<&Holdout> {
        self.holdout.as_ref()
    }
    /// The time unit of recency and age.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// Customer `i` (panics if out of range, like slice indexing).
    pub fn customer(&self, i: usize) -> Customer {
        // every row was validated in `RfmSummary::new`
        Customer::new_unchecked(self.x[i], self.t_x[i], self.t[i])
    }
    /// All customers, in order.
    pub fn customers(&self) -> impl ExactSizeIterator<Item = Customer> + '_ {
        (0..self.len()).map(|i| self.customer(i))
    }

    /// Merges identical `(x, t_x, T)` rows into weighted rows: fitting cost then grows with the
    /// number of distinct histories, not customers. With 200,000 customers or more, a random
    /// sample of 16,384 histories decides first: when it holds fewer than 32 pairs of
    /// identical ones (under uniform duplication, fewer than about 1.24 customers a distinct
    /// history: merging would save under a fifth of the rows), the customers are only grouped
    /// by frequency (a counting sort), each a row of weight 1 — the same likelihood, without
    /// a sort of every history that would save little.
    pub fn compress(&self) -> CompressedRfm {
        let keys: Vec<(u64, u64, u64)> = (0..self.len())
            .map(|i| {
                (
                    key_bits(self.x[i]),
                    key_bits(self.t_x[i]),
                    key_bits(self.t[i]),
                )
            })
            .collect();
        CompressedRfm::from_keys(keys)
    }
}

/// A non-negative finite float as a key that orders like the float (+ 0.0 turns -0.0 into 0.0).
pub(crate) fn key_bits(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

/// `(x, t_x, T)` rows with weights (how many customers share each), in ascending frequency:
/// what the likelihoods iterate over. Identical histories are merged into one row, unless a
/// random sample of a large summary shows too few of them to repay the sort (see
/// [`RfmSummary::compress`]); then every customer is a row of weight 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompressedRfm {
    pub(crate) x: Vec<f64>,
    pub(crate) t_x: Vec<f64>,
    pub(crate) t: Vec<f64>,
    pub(crate) weight: Vec<f64>,
}

impl CompressedRfm {
    /// The distinct `(x, t_x, T)` keys (bit patterns of valid histories) with their counts,
    /// sorted. The key column is given back to the allocator as the rows are built from its
    /// end, so the peak memory is about the larger of the two, not their sum.
    pub(crate) fn from_keys(mut keys: Vec<(u64, u64, u64)>) -> CompressedRfm {
        if keys.len() >= MERGE_SAMPLED_ABOVE
            && sampled_pairs(&keys) < MERGE_MIN_PAIRS
            && let Some(c) = Self::grouped_by_frequency(&mut keys)
        {
            return c;
        }
        Self::merged(keys)
    }

    /// The distinct keys with their counts, sorted (see [`from_keys`](Self::from_keys)).
    pub(crate) fn merged(mut keys: Vec<(u64, u64, u64)>) -> CompressedRfm {
        crate::par::sort_unstable(&mut keys);
        // distinct keys in place, with their counts beside them
        let mut weight: Vec<f64> = Vec::new();
        let mut m = 0usize;
        for i in 0..keys.len() {
            if m > 0 && keys[m - 1] == keys[i] {
                *weight.last_mut().expect("m > 0") += 1.0;
            } else {
                keys[m] = keys[i];
                m += 1;
                weight.push(1.0);
            }
        }
        keys.truncate(m);
        keys.shrink_to_fit();
        let (mut x, mut t_x, mut t) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        // from the end, shrinking the keys as they are used (a large allocation shrinks in
        // place), then reversed
        const STEP: usize = 1 << 16;
        while let Some((a, b, c)) = keys.pop() {
            x.push(f64::from_bits(a));
            t_x.push(f64::from_bits(b));
            t.push(f64::from_bits(c));
            if keys.len().is_multiple_of(STEP) {
                keys.shrink_to_fit();
            }
        }
        x.reverse();
        t_x.reverse();
        t.reverse();
        CompressedRfm { x, t_x, t, weight }
    }

    /// Every key a row of weight 1, grouped by frequency in ascending order (a stable counting
    /// sort, the keys given back to the allocator as they are placed); `None` (keys untouched)
    /// when the largest frequency is too large for a table of counts.
    fn grouped_by_frequency(keys: &mut Vec<(u64, u64, u64)>) -> Option<CompressedRfm> {
        let n = keys.len();
        let max_x = keys.iter().map(|k| f64::from_bits(k.0)).fold(0.0, f64::max);
        if max_x > (n as f64).max(1e6) {
            return None;
        }
        let mut ends = vec![0usize; max_x as usize + 2];
        for k in keys.iter() {
            ends[f64::from_bits(k.0) as usize + 1] += 1;
        }
        for i in 1..ends.len() {
            ends[i] += ends[i - 1];
        }
        // ends[x + 1] is now where frequency x's rows end
        let (mut x, mut t_x, mut t) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        const STEP: usize = 1 << 16;
        while let Some((a, b, c)) = keys.pop() {
            let slot = &mut ends[f64::from_bits(a) as usize + 1];
            *slot -= 1;
            x[*slot] = f64::from_bits(a);
            t_x[*slot] = f64::from_bits(b);
            t[*slot] = f64::from_bits(c);
            if keys.len().is_multiple_of(STEP) {
                keys.shrink_to_fit();
            }
        }
        Some(CompressedRfm {
            x,
            t_x,
            t,
            weight: vec![1.0; n],
        })
    }

    /// Histories with weights, as a warehouse hands them over after grouping identical
    /// `(x, t_x, T)` rows and counting them (the weight of a row is how many customers share
    /// it; whole numbers are not required). Each row is checked as [`RfmSummary::new`] checks
    /// it; rows that are still identical are merged, their weights added. Without weights
    /// (every weight 1) this is [`RfmSummary::compress`] of the same columns.
    ///
    /// ```
    /// use clv::CompressedRfm;
    /// let c = CompressedRfm::from_weighted(
    ///     vec![0.0, 2.0, 0.0],
    ///     vec![0.0, 5.0, 0.0],
    ///     vec![9.0, 9.0, 9.0],
    ///     Some(vec![120.0, 3.0, 80.0]),
    /// )?;
    /// assert_eq!(c.len(), 2);
    /// assert_eq!(c.weight(), &[200.0, 3.0]);
    /// assert_eq!(c.total_weight(), 203.0);
    /// assert!(CompressedRfm::from_weighted(vec![1.0], vec![2.0], vec![1.0], None).is_err());
    /// # Ok::<(), clv::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths; [`Error::EmptyData`] for no
    /// rows; [`Error::InvalidData`] naming the row (1-based) and field of an invalid history or
    /// a weight that is not finite and > 0.
    pub fn from_weighted(
        x: Vec<f64>,
        t_x: Vec<f64>,
        t: Vec<f64>,
        weight: Option<Vec<f64>>,
    ) -> Result<CompressedRfm> {
        let n = x.len();
        if t_x.len() != n || t.len() != n || weight.as_ref().is_some_and(|w| w.len() != n) {
            return Err(Error::InvalidOption {
                name: "compressed histories",
                reason: format!(
                    "columns differ in length (x {n}, t_x {}, T {}{})",
                    t_x.len(),
                    t.len(),
                    weight
                        .as_ref()
                        .map(|w| format!(", weight {}", w.len()))
                        .unwrap_or_default()
                ),
            });
        }
        if n == 0 {
            return Err(Error::EmptyData("no histories"));
        }
        for i in 0..n {
            Customer::check(x[i], t_x[i], t[i], Some(i + 1), None)?;
        }
        let keys = move |i: usize| (key_bits(x[i]), key_bits(t_x[i]), key_bits(t[i]));
        let Some(weight) = weight.filter(|w| w.iter().any(|&v| v != 1.0)) else {
            return Ok(CompressedRfm::from_keys((0..n).map(keys).collect()));
        };
        for (i, &w) in weight.iter().enumerate() {
            if !(w.is_finite() && w > 0.0) {
                return Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: None,
                    field: "weight",
                    issue: if w.is_finite() {
                        DataIssue::NotPositive(w)
                    } else {
                        DataIssue::NotFinite(w)
                    },
                });
            }
        }
        let mut rows: Vec<((u64, u64, u64), f64)> = (0..n).map(|i| (keys(i), weight[i])).collect();
        rows.sort_unstable_by_key(|r| r.0);
        let mut out = CompressedRfm::default();
        for (k, w) in rows {
            match out.x.len() {
                m if m > 0
                    && (
                        key_bits(out.x[m - 1]),
                        key_bits(out.t_x[m - 1]),
                        key_bits(out.t[m - 1]),
                    ) == k =>
                {
                    out.weight[m - 1] += w;
                }
                _ => {
                    out.x.push(f64::from_bits(k.0));
                    out.t_x.push(f64::from_bits(k.1));
                    out.t.push(f64::from_bits(k.2));
                    out.weight.push(w);
                }
            }
        }
        Ok(out)
    }

    /// Frequencies, ascending.
    pub fn frequency(&self) -> &[f64] {
        &self.x
    }
    /// Recencies.
    pub fn recency(&self) -> &[f64] {
        &self.t_x
    }
    /// Ages.
    pub fn age(&self) -> &[f64] {
        &self.t
    }
    /// Number of customers with each history.
    pub fn weight(&self) -> &[f64] {
        &self.weight
    }
    /// Number of distinct rows.
    pub fn len(&self) -> usize {
        self.x.len()
    }
    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    /// Number of customers (sum of weights).
    pub fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }
    /// The customers' mean age T (weighted), or 1 when it is not positive: a starting scale
    /// for the time-valued parameters.
    pub(crate) fn mean_age(&self) -> f64 {
        let n = self.total_weight();
        let m = self
            .t
            .iter()
            .zip(&self.weight)
            .map(|(t, w)| t * w)
            .sum::<f64>()
            / n;
        if m > 0.0 { m } else { 1.0 }
    }
    /// 1 / max T (1 when every T is 0): the penalty scale that makes a time-valued parameter
    /// scale-free (lifetimes' convention).
    pub(crate) fn age_scale(&self) -> f64 {
        let max_t = self.t.iter().copied().fold(0.0, f64::max);
        if max_t > 0.0 { 1.0 / max_t } else { 1.0 }
    }
    /// Every k-th row, k = ⌈len / rows⌉ (so at most about `rows` rows, in the same order and
    /// spread over all frequencies); all rows when there are no more than `rows`.
    ///
    /// ```
    /// use clv::{RfmSummary, TimeUnit};
    /// let n = 100;
    /// let s = RfmSummary::new((0..n).map(|i| i.to_string()).collect(), vec![1.0; n],
    ///     (0..n).map(|i| i as f64 * 0.1).collect(), vec![20.0; n], TimeUnit::Weeks).unwrap();
    /// let sub = s.compress().spread_subsample(10);
    /// assert_eq!(sub.len(), 10);
    /// assert_eq!(sub.recency()[1], 1.0);
    /// ```
    pub fn spread_subsample(&self, rows: usize) -> CompressedRfm {
        let k = spread_step(self.len(), rows);
        CompressedRfm {
            x: every(&self.x, k),
            t_x: every(&self.t_x, k),
            t: every(&self.t, k),
            weight: every(&self.weight, k),
        }
    }
}

/// Summaries this large decide by a sample whether merging identical histories pays.
const MERGE_SAMPLED_ABOVE: usize = 200_000;
/// The fewest identical pairs among [`MERGE_SAMPLE`] sampled histories that make merging pay.
const MERGE_MIN_PAIRS: usize = 32;
/// Histories sampled.
const MERGE_SAMPLE: usize = 1 << 14;

/// Pairs of identical keys among about [`MERGE_SAMPLE`] keys at distinct random positions
/// (with a fixed seed: the same summary always decides the same way).
fn sampled_pairs(keys: &[(u64, u64, u64)]) -> usize {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut at: Vec<usize> = (0..MERGE_SAMPLE)
        .map(|_| {
            // splitmix64
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z % keys.len() as u64) as usize
        })
        .collect();
    // distinct positions: a position drawn twice is not a pair of identical histories
    at.sort_unstable();
    at.dedup();
    let mut sample: Vec<(u64, u64, u64)> = at.into_iter().map(|i| keys[i]).collect();
    sample.sort_unstable();
    sample.windows(2).filter(|w| w[0] == w[1]).count()
}

/// The distinct keys in sorted order, each with how many times it occurs (a parallel sort, then
/// one pass): the weighted rows the likelihoods iterate over.
pub(crate) fn weighted_distinct<K: Ord + Copy + Send>(mut keys: Vec<K>) -> Vec<(K, f64)> {
    crate::par::sort_unstable(&mut keys);
    let mut out: Vec<(K, f64)> = Vec::new();
    for k in keys {
        match out.last_mut() {
            Some((last, w)) if *last == k => *w += 1.0,
            _ => out.push((k, 1.0)),
        }
    }
    out
}

/// The stride that keeps about `rows` of `len` rows: ⌈len / rows⌉, at least 1.
pub(crate) fn spread_step(len: usize, rows: usize) -> usize {
    len.div_ceil(rows.max(1)).max(1)
}

/// Every `k`-th value of `v`, from the first.
pub(crate) fn every(v: &[f64], k: usize) -> Vec<f64> {
    v.iter().step_by(k).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{FitOptions, MaximumLikelihood, fit_compressed};
    use crate::sim::{simulate_bgnbd, uniform_ages};
    use crate::{BgNbdParams, TimeUnit};

    fn keys(s: &RfmSummary) -> Vec<(u64, u64, u64)> {
        (0..s.len())
            .map(|i| (key_bits(s.x[i]), key_bits(s.t_x[i]), key_bits(s.t[i])))
            .collect()
    }

    /// A large summary of distinct continuous-time histories is grouped, not merged; the same
    /// customers with weekly times are merged; either way the likelihood is the merged one's.
    #[test]
    fn large_summaries_merge_only_when_it_pays() {
        let truth = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let n = 250_000;
        let s = simulate_bgnbd(
            &truth,
            &uniform_ages(n, 1.0, 78.0, 3).unwrap(),
            TimeUnit::Weeks,
            4,
        )
        .unwrap();
        let grouped = s.compress();
        assert_eq!(grouped.len(), n);
        assert!(grouped.weight().iter().all(|&w| w == 1.0));
        assert!(grouped.frequency().windows(2).all(|w| w[0] <= w[1]));
        let merged = CompressedRfm::merged(keys(&s));
        assert_eq!(merged.total_weight(), n as f64);
        let theta = [0.25, 4.0, 0.8, 2.5];
        let (a, b) = (
            BgNbdParams::log_likelihood_grad(&theta, &grouped, None),
            BgNbdParams::log_likelihood_grad(&theta, &merged, None),
        );
        assert!((a - b).abs() <= 1e-10 * b.abs(), "{a} {b}");
        let opts = FitOptions::default();
        let (fa, fb) = (
            fit_compressed::<BgNbdParams>(&grouped, TimeUnit::Weeks, &opts).unwrap(),
            fit_compressed::<BgNbdParams>(&merged, TimeUnit::Weeks, &opts).unwrap(),
        );
        for (p, q) in fa.params().to_vec().iter().zip(fb.params().to_vec()) {
            assert!((p - q).abs() <= 1e-6 * q.abs(), "{p} {q}");
        }
        // weekly times: many customers share a history, and merging pays
        let weekly = RfmSummary::new(
            s.ids().to_vec(),
            s.frequency().to_vec(),
            s.recency().iter().map(|v| v.floor()).collect(),
            s.age().iter().map(|v| v.floor()).collect(),
            TimeUnit::Weeks,
        )
        .unwrap();
        let c = weekly.compress();
        assert!(c.len() < n / 4, "{}", c.len());
        assert_eq!(c, CompressedRfm::merged(keys(&weekly)));
    }
}
