//! Batch predictions over a summary, with the horizon validated once at the boundary.

use crate::data::RfmSummary;
use crate::error::{Error, Result, positive_option};
use crate::models::TransactionModel;

/// Checks a prediction horizon: finite and > 0.
///
/// ```
/// assert!(clv::predict::check_horizon(39.0).is_ok());
/// assert!(clv::predict::check_horizon(0.0).is_err());
/// assert!(clv::predict::check_horizon(f64::NAN).is_err());
/// ```
pub fn check_horizon(t: f64) -> Result<f64> {
    positive_option("horizon", t)
}

pub use crate::models::Score;

/// Scores every customer of `summary` for `horizon` (in the summary's time unit).
///
/// ```
/// use clv::{BgNbdParams, RfmSummary, TimeUnit, predict::score};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let s = RfmSummary::new(vec!["a".into()], vec![2.0], vec![30.43], vec![38.86], TimeUnit::Weeks).unwrap();
/// let out = score(&m, &s, 39.0).unwrap();
/// assert!((out[0].expected_purchases - 1.226).abs() < 1e-3);
/// assert!(score(&m, &s, -1.0).is_err());
/// ```
pub fn score<M: TransactionModel>(
    model: &M,
    summary: &RfmSummary,
    horizon: f64,
) -> Result<Vec<Score>> {
    let t = check_horizon(horizon)?;
    summary
        .customers()
        .enumerate()
        .map(|(i, c)| {
            let s = model.score(&c, t);
            if s.p_alive.is_finite()
                && s.expected_purchases.is_finite()
                && s.prob_no_purchase.is_finite()
            {
                Ok(s)
            } else {
                Err(Error::Numerical {
                    what: format!("scores of customer {} ({c:?})", summary.ids()[i]),
                })
            }
        })
        .collect()
}

/// Expected purchases of each customer in the summary's holdout window (for validation against
/// the observed `frequency_holdout`); an error when the summary has no holdout.
///
/// ```
/// use clv::{BgNbdParams, RfmSummary, TimeUnit, Holdout, predict::holdout_expected};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let s = RfmSummary::new(vec!["a".into()], vec![2.0], vec![30.43], vec![38.86], TimeUnit::Weeks).unwrap()
///     .with_holdout(Holdout { frequency: vec![1.0], monetary_value: vec![0.0], duration: 39.0 }).unwrap();
/// assert!((holdout_expected(&m, &s).unwrap()[0] - 1.226).abs() < 1e-3);
/// ```
pub fn holdout_expected<M: TransactionModel>(model: &M, summary: &RfmSummary) -> Result<Vec<f64>> {
    let h = summary.holdout().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no holdout period (summarise with an observation end)".into(),
    })?;
    summary
        .customers()
        .enumerate()
        .map(|(i, c)| {
            let e = model.conditional_expected_purchases(&c, h.duration);
            if e.is_finite() {
                Ok(e)
            } else {
                Err(Error::Numerical {
                    what: format!(
                        "holdout expectation of customer {} ({c:?})",
                        summary.ids()[i]
                    ),
                })
            }
        })
        .collect()
}
