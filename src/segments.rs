//! Customer segments from the model's predictions: lifecycle stages (new / active / at risk /
//! likely churned), CLV tiers (top 1%, 10%, 50%, ...), RFM quintile scores, and a per-segment
//! summary of customers and predicted value.

use crate::data::RfmSummary;
use crate::error::{Error, Result, nonnegative_option};
use std::collections::BTreeMap;

/// A customer's lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Stage {
    /// First purchase recent: too little history to judge.
    New,
    /// Likely alive and buying.
    Active,
    /// P(alive) falling, or a long time since the last purchase.
    AtRisk,
    /// P(alive) low.
    LikelyChurned,
}

impl Stage {
    /// `"new"`, `"active"`, `"at risk"`, `"likely churned"`.
    pub fn label(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Active => "active",
            Stage::AtRisk => "at risk",
            Stage::LikelyChurned => "likely churned",
        }
    }
}

/// The thresholds that define the stages, in the summary's time unit:
/// - **new**: age T (time since the first purchase) <= `new_within`;
/// - **likely churned**: otherwise, P(alive) < `churned_below`, or a silence (T − t_x, the time
///   since the last purchase) longer than `churned_gaps` of the customer's expected gaps;
/// - **at risk**: otherwise, P(alive) < `active_from`, a silence longer than `at_risk_gaps`
///   expected gaps, or longer than `at_risk_after` time units when set;
/// - **active**: the rest.
///
/// The silence rule is what keeps a model's P(alive) from calling a customer active who has not
/// bought for many of their own inter-purchase times: BG/NBD gives every one-time buyer
/// P(alive) = 1 by construction. A customer's expected gap is `(t_x + g̃)/(x + 1)`, their own
/// mean gap t_x/x shrunk by one typical gap g̃ (all of it for a one-time buyer, whose own gap
/// is unknown), where g̃ is the median of t_x/x over the summary's repeat buyers (computed by
/// [`stages`](Self::stages)). Defaults: at risk beyond 2 expected gaps, likely churned beyond
/// 4.
///
/// ```
/// use clv::segments::{Stage, StageRules};
/// let rules = StageRules::new(4.0, 0.7, 0.3).unwrap().with_at_risk_after(26.0).unwrap();
/// assert_eq!(rules.stage(0.9, 30.0, 38.0), Stage::Active);
/// assert_eq!(rules.stage(0.9, 2.0, 38.0), Stage::AtRisk); // 36 units since the last purchase
/// assert_eq!(rules.stage(0.5, 30.0, 38.0), Stage::AtRisk);
/// assert_eq!(rules.stage(0.1, 30.0, 38.0), Stage::LikelyChurned);
/// assert_eq!(rules.stage(0.1, 0.0, 3.0), Stage::New);
/// // the silence rule: a gap of 5 expected, 12 silent: at risk; 25 silent: likely churned
/// assert_eq!(rules.stage_with_gap(0.95, 26.0, 38.0, 5.0), Stage::AtRisk);
/// assert_eq!(rules.stage_with_gap(1.0, 13.0, 38.0, 5.0), Stage::LikelyChurned);
/// assert!(StageRules::new(4.0, 0.3, 0.7).is_err()); // churned above active
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StageRules {
    new_within: f64,
    active_from: f64,
    churned_below: f64,
    at_risk_after: Option<f64>,
    at_risk_gaps: f64,
    churned_gaps: f64,
}

impl Default for StageRules {
    /// New within 4 time units (weeks for a weekly summary), active from P(alive) 0.7, likely
    /// churned below 0.3, at risk beyond 2 expected gaps of silence and likely churned beyond
    /// 4, no fixed recency rule.
    fn default() -> Self {
        StageRules {
            new_within: 4.0,
            active_from: 0.7,
            churned_below: 0.3,
            at_risk_after: None,
            at_risk_gaps: 2.0,
            churned_gaps: 4.0,
        }
    }
}

impl StageRules {
    /// Validated thresholds: `new_within >= 0`, `0 <= churned_below <= active_from <= 1`; the
    /// silence rule at its defaults (2 and 4 expected gaps).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for thresholds outside their domains (ages >= 0, probabilities in
    /// [0, 1], churned below active).
    pub fn new(new_within: f64, active_from: f64, churned_below: f64) -> Result<Self> {
        nonnegative_option("new_within", new_within)?;
        if !(0.0..=1.0).contains(&active_from)
            || !(0.0..=1.0).contains(&churned_below)
            || churned_below > active_from
        {
            return Err(Error::InvalidOption {
                name: "stage thresholds",
                reason: format!(
                    "need 0 <= churned_below ({churned_below}) <= active_from ({active_from}) <= 1"
                ),
            });
        }
        Ok(StageRules {
            new_within,
            active_from,
            churned_below,
            ..StageRules::default()
        })
    }

    /// Also at risk: more than `after` time units since the last purchase.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `after` is finite and >= 0.
    pub fn with_at_risk_after(mut self, after: f64) -> Result<Self> {
        self.at_risk_after = Some(nonnegative_option("at_risk_after", after)?);
        Ok(self)
    }

    /// The silence rule: at risk beyond `at_risk` expected gaps since the last purchase, likely
    /// churned beyond `churned` (`f64::INFINITY` turns a rule off).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `0 < at_risk <= churned` (NaN refused).
    pub fn with_silence_gaps(mut self, at_risk: f64, churned: f64) -> Result<Self> {
        if !(at_risk > 0.0 && churned >= at_risk) {
            return Err(Error::InvalidOption {
                name: "silence gaps",
                reason: format!("need 0 < at risk ({at_risk}) <= likely churned ({churned})"),
            });
        }
        self.at_risk_gaps = at_risk;
        self.churned_gaps = churned;
        Ok(self)
    }

    /// The stage of one customer with P(alive) `p_alive`, recency `t_x` and age `t`, without
    /// the silence rule (no expected gap given); see [`stage_with_gap`](Self::stage_with_gap).
    pub fn stage(&self, p_alive: f64, t_x: f64, t: f64) -> Stage {
        self.stage_with_gap(p_alive, t_x, t, f64::INFINITY)
    }

    /// The stage of one customer whose expected inter-purchase gap is `gap` (infinite: no
    /// silence rule).
    pub fn stage_with_gap(&self, p_alive: f64, t_x: f64, t: f64, gap: f64) -> Stage {
        let silence = t - t_x;
        let silent_for = |gaps: f64| gap.is_finite() && gap > 0.0 && silence > gaps * gap;
        if t <= self.new_within {
            Stage::New
        } else if p_alive < self.churned_below || silent_for(self.churned_gaps) {
            Stage::LikelyChurned
        } else if p_alive < self.active_from
            || silent_for(self.at_risk_gaps)
            || self.at_risk_after.is_some_and(|d| silence > d)
        {
            Stage::AtRisk
        } else {
            Stage::Active
        }
    }

    /// The expected inter-purchase gap of each customer of `summary`:
    /// `(t_x + g̃)/(x + 1)` with g̃ the median of t_x/x over its repeat buyers (infinite, so no
    /// silence rule, when it has none).
    pub fn expected_gaps(summary: &RfmSummary) -> Vec<f64> {
        let mut own: Vec<f64> = (0..summary.len())
            .filter(|&i| summary.frequency()[i] > 0.0)
            .map(|i| summary.recency()[i] / summary.frequency()[i])
            .collect();
        own.sort_by(f64::total_cmp);
        let typical = match own.len() {
            0 => return vec![f64::INFINITY; summary.len()],
            n if n % 2 == 1 => own[n / 2],
            n => 0.5 * (own[n / 2 - 1] + own[n / 2]),
        };
        (0..summary.len())
            .map(|i| (summary.recency()[i] + typical) / (summary.frequency()[i] + 1.0))
            .collect()
    }

    /// The stage of every customer of `summary`, given their P(alive) (same order), with the
    /// silence rule on [`expected_gaps`](Self::expected_gaps).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a P(alive) column not aligned with the summary.
    pub fn stages(&self, summary: &RfmSummary, p_alive: &[f64]) -> Result<Vec<Stage>> {
        aligned("p_alive", p_alive.len(), summary.len())?;
        let gaps = Self::expected_gaps(summary);
        Ok((0..summary.len())
            .map(|i| {
                self.stage_with_gap(p_alive[i], summary.recency()[i], summary.age()[i], gaps[i])
            })
            .collect())
    }
}

fn aligned(name: &'static str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name,
            reason: format!("has {got} values for {want} customers"),
        })
    }
}

/// CLV tiers: with `top = [0.01, 0.1, 0.5]` the tiers are "top 1%", "top 10%", "top 50%" and
/// "bottom 50%", the best tier first. A customer is in the first tier whose value threshold
/// (the value at rank ⌈f·n⌉ from the top) they reach, so equal values share a tier and a tier
/// can hold slightly more than its share when values tie. Returns each customer's tier index
/// (0 = best) and the tier labels.
///
/// ```
/// use clv::segments::clv_tiers;
/// let values: Vec<f64> = (1..=100).map(f64::from).collect();
/// let (tier, labels) = clv_tiers(&values, &[0.01, 0.1, 0.5]).unwrap();
/// assert_eq!(labels, ["top 1%", "top 10%", "top 50%", "bottom 50%"]);
/// assert_eq!((tier[99], tier[90], tier[89], tier[50], tier[49]), (0, 1, 2, 2, 3));
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for tier fractions that are not increasing in (0, 1] or values
/// that are not finite.
pub fn clv_tiers(values: &[f64], top: &[f64]) -> Result<(Vec<usize>, Vec<String>)> {
    if top.is_empty()
        || top.iter().any(|f| !(*f > 0.0 && *f < 1.0))
        || top.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(Error::InvalidOption {
            name: "tiers",
            reason: format!("need increasing fractions in (0, 1), got {top:?}"),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidOption {
            name: "values",
            reason: format!("value {i} is not finite ({})", values[i]),
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let n = values.len();
    let thresholds: Vec<f64> = top
        .iter()
        .map(|f| {
            let k = ((f * n as f64).ceil() as usize).clamp(1, n.max(1));
            sorted.get(k - 1).copied().unwrap_or(f64::INFINITY)
        })
        .collect();
    let tiers = values
        .iter()
        .map(|v| {
            thresholds
                .iter()
                .position(|t| v >= t)
                .unwrap_or(thresholds.len())
        })
        .collect();
    let pct = |f: f64| format!("{}%", (f * 1e4).round() / 100.0);
    let mut labels: Vec<String> = top.iter().map(|f| format!("top {}", pct(*f))).collect();
    labels.push(format!("bottom {}", pct(1.0 - top[top.len() - 1])));
    Ok((tiers, labels))
}

/// RFM scores, 1 (worst) to 5 (best), by quintile among the customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RfmScore {
    /// Recency: less time since the last purchase (T - t_x) scores higher.
    pub r: u8,
    /// Frequency: more repeat purchases score higher.
    pub f: u8,
    /// Monetary: higher mean spend scores higher (`None` without a spend column).
    pub m: Option<u8>,
}

/// Quintile score of each value: 1 + ⌊5 · (share of customers strictly below)⌋, so ties share
/// a score and the scores do not depend on the order of the rows.
fn quintiles(v: &[f64]) -> Vec<u8> {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    v.iter()
        .map(|x| {
            let below = sorted.partition_point(|s| s < x) as f64;
            (1.0 + (5.0 * below / n).floor()).min(5.0) as u8
        })
        .collect()
}

/// RFM quintile scores of every customer of `summary`.
///
/// ```
/// use clv::{segments::rfm_scores, RfmSummary, TimeUnit};
/// let s = RfmSummary::new((0..5).map(|i| i.to_string()).collect(),
///     vec![0.0, 1.0, 2.0, 3.0, 4.0], vec![0.0, 5.0, 10.0, 20.0, 30.0], vec![30.0; 5], TimeUnit::Weeks).unwrap();
/// let r = rfm_scores(&s);
/// assert_eq!((r[0].r, r[0].f, r[4].r, r[4].f), (1, 1, 5, 5));
/// assert_eq!(r[0].m, None);
/// ```
pub fn rfm_scores(summary: &RfmSummary) -> Vec<RfmScore> {
    let since_last: Vec<f64> = summary
        .age()
        .iter()
        .zip(summary.recency())
        .map(|(t, tx)| -(t - tx))
        .collect();
    let r = quintiles(&since_last);
    let f = quintiles(summary.frequency());
    let m = summary.monetary_value().map(quintiles);
    (0..summary.len())
        .map(|i| RfmScore {
            r: r[i],
            f: f[i],
            m: m.as_ref().map(|m| m[i]),
        })
        .collect()
}

/// One segment's size and predicted value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SegmentRow {
    /// The segment.
    pub segment: String,
    /// Customers in it.
    pub customers: usize,
    /// Sum of their predicted values.
    pub total_value: f64,
    /// Mean predicted value.
    pub mean_value: f64,
    /// Their share of the total predicted value.
    pub value_share: f64,
}

/// Customers and predicted value per segment, in the order of `K` (stages in lifecycle
/// order, tiers best first...), labelled by `label`.
///
/// ```
/// use clv::segments::{segment_summary, Stage};
/// let rows = segment_summary(&[Stage::Active, Stage::New, Stage::Active], &[10.0, 1.0, 5.0], |s| s.label().into()).unwrap();
/// assert_eq!(rows[0].segment, "new");
/// assert_eq!((rows[1].customers, rows[1].total_value), (2, 15.0));
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for columns of different lengths.
pub fn segment_summary<K: Ord + Copy>(
    keys: &[K],
    values: &[f64],
    label: impl Fn(K) -> String,
) -> Result<Vec<SegmentRow>> {
    aligned("values", values.len(), keys.len())?;
    let mut groups: BTreeMap<K, (usize, f64)> = BTreeMap::new();
    for (k, v) in keys.iter().zip(values) {
        let e = groups.entry(*k).or_default();
        e.0 += 1;
        e.1 += v;
    }
    let total: f64 = values.iter().sum();
    Ok(groups
        .into_iter()
        .map(|(k, (n, v))| SegmentRow {
            segment: label(k),
            customers: n,
            total_value: v,
            mean_value: v / n as f64,
            value_share: if total > 0.0 { v / total } else { 0.0 },
        })
        .collect())
}
