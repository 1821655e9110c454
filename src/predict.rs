//! Batch predictions over a summary, with the horizon validated once at the boundary.

use crate::data::{Customer, FrequencyGroups, RfmSummary};
use crate::error::{Error, Result, positive_option};
use crate::models::{Schedule, SchedulePlan, TransactionModel};

/// The longest horizon predictions accept, in any time unit: 10^15 units (about 3·10^12
/// years in days). Beyond it the predictions' intermediate quantities (the horizon over the
/// rate parameter, ...) approach the end of the f64 range.
pub const MAX_HORIZON: f64 = 1e15;

/// Checks a prediction horizon: finite, > 0 and at most [`MAX_HORIZON`].
///
/// ```
/// assert!(clv::predict::check_horizon(39.0).is_ok());
/// assert!(clv::predict::check_horizon(0.0).is_err());
/// assert!(clv::predict::check_horizon(f64::NAN).is_err());
/// assert!(clv::predict::check_horizon(1e300).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] unless `t` is finite, > 0 and at most [`MAX_HORIZON`].
pub fn check_horizon(t: f64) -> Result<f64> {
    let t = positive_option("horizon", t)?;
    if t > MAX_HORIZON {
        return Err(Error::InvalidOption {
            name: "horizon",
            reason: format!("must be at most {MAX_HORIZON:e}, got {t}"),
        });
    }
    Ok(t)
}

pub use crate::models::Score;

/// Scores every customer of `summary` for `horizon` (in the summary's time unit): P(alive),
/// E[Y(horizon)] and P(Y(horizon) = 0). Customers are scored in parallel through the model's
/// [`TransactionModel::plan`] (for BG/NBD, E\[Y\] tabulated per distinct frequency: relative
/// differences from the per-customer formulas typically 1e-12, at most 1e-8). An error names the first customer
/// whose scores are not finite.
///
/// ```
/// use clv::{BgNbdParams, RfmSummary, TimeUnit, predict::score};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let s = RfmSummary::new(vec!["a".into()], vec![2.0], vec![30.43], vec![38.86], TimeUnit::Weeks).unwrap();
/// let out = score(&m, &s, 39.0).unwrap();
/// assert!((out[0].expected_purchases - 1.226).abs() < 1e-3);
/// assert!(score(&m, &s, -1.0).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for an invalid horizon ([`check_horizon`]); [`Error::Numerical`]
/// naming the first customer whose scores are not finite.
pub fn score<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
    horizon: f64,
) -> Result<Vec<Score>> {
    let t = check_horizon(horizon)?;
    planned(model, summary, t, "scores", |plan, c| {
        let s = score_one(plan, model, c, t);
        s.is_finite().then_some(s)
    })
}

/// [`score`] for histories given as columns (a DataFrame's, a stream chunk's) rather than a
/// summary: every row is checked as [`RfmSummary::new`] checks it, in the pass that groups
/// the customers by frequency (the error names the first bad row), then scored on all cores
/// through the same plan over these customers' frequencies and ages, so the numbers equal
/// [`score`]'s on a summary of the same rows, bit for bit.
///
/// ```
/// use clv::{BgNbdParams, RfmSummary, TimeUnit, predict::{score, score_columns}};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let (x, t_x, t) = ([2.0, 0.0], [30.43, 0.0], [38.86, 38.86]);
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], x.to_vec(), t_x.to_vec(), t.to_vec(), TimeUnit::Weeks).unwrap();
/// assert_eq!(score_columns(&m, &x, &t_x, &t, 39.0).unwrap(), score(&m, &s, 39.0).unwrap());
/// assert!(score_columns(&m, &[1.0], &[5.0], &[3.0], 39.0).is_err()); // recency after T
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for columns of different lengths or an invalid horizon;
/// [`Error::InvalidData`] naming the 1-based row and field of the first invalid history;
/// otherwise as [`score`].
pub fn score_columns<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    x: &[f64],
    t_x: &[f64],
    t: &[f64],
    horizon: f64,
) -> Result<Vec<Score>> {
    let n = x.len();
    if t_x.len() != n || t.len() != n {
        return Err(Error::InvalidOption {
            name: "columns",
            reason: format!(
                "frequency, recency and T differ in length ({n}, {}, {})",
                t_x.len(),
                t.len()
            ),
        });
    }
    let h = check_horizon(horizon)?;
    // the rows are checked in the pass that groups them (the first bad row stops it)
    let mut bad: Option<usize> = None;
    let checked = (0..n).map_while(|i| {
        if Customer::is_valid(x[i], t_x[i], t[i]) {
            Some(Customer::new_unchecked(x[i], t_x[i], t[i]))
        } else {
            bad = Some(i);
            None
        }
    });
    let groups = FrequencyGroups::from_customers(checked);
    if let Some(i) = bad {
        // the error's words come from the constructor's check (`is_valid` is its predicate)
        return Err(Customer::check(x[i], t_x[i], t[i], Some(i + 1), None)
            .expect_err("is_valid and check agree (tested in customer.rs)"));
    }
    let groups = std::sync::Arc::new(groups);
    let customer = |i: usize| Customer::new_unchecked(x[i], t_x[i], t[i]);
    let schedules: std::sync::Arc<[Schedule]> = std::sync::Arc::from([Schedule::horizon(h)?]);
    let plan = model.plan(&groups, &schedules);
    par_collect(n, |i| {
        let c = customer(i);
        let s = score_one(plan.as_ref(), model, &c, h);
        if s.is_finite() {
            Ok(s)
        } else {
            Err(Error::Numerical {
                what: format!("scores of row {} ({c:?})", i + 1),
            })
        }
    })
}

/// P(alive) and E[Y(horizon)] for every customer of `summary`, as two columns: what
/// [`score`] computes without P(Y = 0), for pipelines that need only these two (the figures
/// lifetimes' `conditional_probability_alive` and
/// `conditional_expected_number_of_purchases_up_to_time` give). Parallel, through the model's
/// [`TransactionModel::plan`].
///
/// ```
/// use clv::{BgNbdParams, RfmSummary, TimeUnit, predict::alive_and_expected};
/// let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let s = RfmSummary::new(vec!["a".into()], vec![2.0], vec![30.43], vec![38.86], TimeUnit::Weeks).unwrap();
/// let (alive, expected) = alive_and_expected(&m, &s, 39.0).unwrap();
/// assert!((alive[0] - 0.72).abs() < 0.01 && (expected[0] - 1.226).abs() < 1e-3);
/// ```
///
/// # Errors
/// As [`score`].
pub fn alive_and_expected<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
    horizon: f64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let t = check_horizon(horizon)?;
    let pairs = planned(model, summary, t, "scores", |plan, c| {
        let (pa, e) = alive_and_mean(plan, c);
        (pa.is_finite() && e.is_finite()).then_some((pa, e))
    })?;
    Ok(pairs.into_iter().unzip())
}

/// `(0..n).map(f)` in parallel, in order, written straight into the output; on failure the
/// error of the first failing index, whatever the thread schedule.
pub(crate) fn par_collect<T: Send + Default + Clone>(
    n: usize,
    f: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    const CHUNK: usize = 4096;
    let mut out = vec![T::default(); n];
    let all_ok: Result<()> = crate::par::try_fill_chunks(&mut out, CHUNK, |k, chunk| {
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = f(k * CHUNK + j)?;
        }
        Ok(())
    });
    match all_ok {
        Ok(()) => Ok(out),
        Err(_) => (0..n).map(f).collect(),
    }
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
///
/// # Errors
/// [`Error::InvalidOption`] when the summary has no holdout; [`Error::Numerical`] naming the
/// first customer whose expectation is not finite.
pub fn holdout_expected<M: TransactionModel + Clone + Send + Sync + 'static>(
    model: &M,
    summary: &RfmSummary,
) -> Result<Vec<f64>> {
    let h = summary.holdout().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no holdout period (summarise with an observation end)".into(),
    })?;
    planned(
        model,
        summary,
        h.duration,
        "holdout expectation",
        |plan, c| {
            let e = alive_and_mean(plan, c).1;
            e.is_finite().then_some(e)
        },
    )
}

/// The three scores of `c` through a plan whose first schedule is the horizon `t`: the plan's
/// own [`SchedulePlan::score`] when it has one, else its P(alive) and E[Y] with P(Y(t) = 0)
/// from the plan or the model.
pub(crate) fn score_one<M: TransactionModel>(
    plan: &dyn SchedulePlan,
    model: &M,
    c: &Customer,
    t: f64,
) -> Score {
    plan.score(c, t).unwrap_or_else(|| {
        let mut e = [0.0; 2];
        let pa = plan.eval(c, &mut e);
        Score {
            p_alive: pa,
            expected_purchases: e[0],
            prob_no_purchase: plan
                .prob_no_purchase(c, pa, t)
                .unwrap_or_else(|| model.prob_no_purchase_given(pa, c, t)),
        }
    })
}

/// P(alive) and the planned horizon's E[Y] of `c`.
fn alive_and_mean(plan: &dyn SchedulePlan, c: &Customer) -> (f64, f64) {
    let mut e = 0.0;
    let pa = plan.eval(c, std::slice::from_mut(&mut e));
    (pa, e)
}

/// Every customer through one [`TransactionModel::plan`] for the single horizon `t`, in
/// parallel, mapped by `f`; `None` from `f` (a non-finite result) is an error naming `what`
/// and the first such customer.
fn planned<M: TransactionModel + Clone + Send + Sync + 'static, T: Send + Default + Clone>(
    model: &M,
    summary: &RfmSummary,
    t: f64,
    what: &str,
    f: impl Fn(&dyn SchedulePlan, &Customer) -> Option<T> + Sync,
) -> Result<Vec<T>> {
    let groups = std::sync::Arc::new(FrequencyGroups::new(summary));
    let schedules: std::sync::Arc<[Schedule]> = std::sync::Arc::from([Schedule::horizon(t)?]);
    let plan = model.plan(&groups, &schedules);
    par_collect(summary.len(), |i| {
        let c = summary.customer(i);
        f(plan.as_ref(), &c).ok_or_else(|| Error::Numerical {
            what: format!("{what} of customer {} ({c:?})", summary.ids()[i]),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BgNbdParams;

    #[test]
    fn score_columns_names_the_first_bad_row() {
        let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let x = [2.0, 0.0, 1.5, 3.0];
        let t_x = [30.43, 0.0, 5.0, 50.0];
        let t = [38.86, 38.86, 38.86, 38.86];
        match score_columns(&m, &x, &t_x, &t, 39.0) {
            Err(Error::InvalidData { row, field, .. }) => {
                assert_eq!((row, field), (Some(3), "frequency"))
            }
            other => panic!("{other:?}"),
        }
        assert!(score_columns(&m, &x[..2], &t_x[..2], &t[..1], 39.0).is_err());
        let ok = score_columns(&m, &x[..2], &t_x[..2], &t[..2], 39.0).unwrap();
        assert!((ok[0].expected_purchases - 1.226).abs() < 1e-3);
    }
}
