//! A scorer for services: built once from a fitted model and a horizon (and, for CLV, a spend
//! model and valuation options), owned, `Send + Sync + 'static`, scoring one customer per call
//! or whole columns of plain numbers, at the speed of the batch tables.
//!
//! ```
//! use clv::{AnyFitted, FitOptions, GammaGammaParams, TimeUnit, io::read_summary_csv};
//! use clv::value::{ClvOptions, DiscountRate};
//! use clv::scorer::Scorer;
//!
//! let dir = env!("CARGO_MANIFEST_DIR");
//! let s = read_summary_csv(format!("{dir}/data/cdnow_customers_summary_with_transactions.csv"), TimeUnit::Weeks)?;
//! let model = AnyFitted::fit("bgnbd", &s, &FitOptions::default())?;
//! let spend = GammaGammaParams::fit(&s, &FitOptions::default())?;
//! let options = ClvOptions::new(52.0, TimeUnit::Weeks)?
//!     .with_step(1.0)?
//!     .with_discount(DiscountRate::annual(0.1)?)?;
//! let scorer = Scorer::builder(&model, 39.0)?.clv(&spend, options)?.build();
//!
//! // one customer (x, t_x, T), as a request handler would
//! let sc = scorer.score(2.0, 30.43, 38.86)?;
//! assert!(sc.p_alive > 0.7 && sc.expected_purchases > 1.2);
//! let clv = scorer.value(2.0, 30.43, 38.86, 22.35)?;
//! assert!(clv > 0.0);
//!
//! // a batch from plain columns: no RfmSummary, no String ids
//! let scores = scorer.score_columns(&[2.0, 0.0], &[30.43, 0.0], &[38.86, 38.86])?;
//! assert_eq!(scores[0], sc);
//! // a bad row is an error naming it
//! assert!(scorer.score_columns(&[1.0], &[5.0], &[3.0]).is_err());
//! # Ok::<(), clv::Error>(())
//! ```

use crate::data::{Customer, FrequencyGroups, TimeUnit};
use crate::error::{Error, Result};
use crate::fit::Fitted;
use crate::models::{
    AnyFitted, AnyParams, GammaGammaParams, Schedule, SchedulePlan, Score, SpendModel,
    TransactionModel,
};
use crate::value::ClvOptions;
use std::sync::Arc;

/// Frequencies tabulated by default: 0..=200.
pub const DEFAULT_MAX_FREQUENCY: u32 = 200;
/// Ages tabulated by default, in days (about ten years); converted to the model's unit.
pub const DEFAULT_MAX_AGE_DAYS: f64 = 3652.5;

/// Builds a [`Scorer`]: the model and horizon, then optionally CLV and the range the tables
/// cover.
#[derive(Debug, Clone)]
pub struct ScorerBuilder {
    model: AnyParams,
    unit: TimeUnit,
    horizon: f64,
    clv: Option<(GammaGammaParams, ClvOptions)>,
    max_frequency: u32,
    max_age: f64,
}

impl ScorerBuilder {
    /// Adds discounted CLV (`Scorer::value`): the spend model and the valuation options, which
    /// must be in the transaction model's time unit and give a finite mean spend (q > 1).
    ///
    /// # Errors
    /// [`Error::UnitMismatch`] when `options` are in another unit than the model;
    /// [`Error::InvalidParameter`] when the spend model has no finite mean (q <= 1).
    pub fn clv(mut self, spend: &Fitted<GammaGammaParams>, options: ClvOptions) -> Result<Self> {
        options.check_unit(self.unit, &format!("the {} model", self.model.model()))?;
        spend.params().population_mean_spend()?;
        self.clv = Some((*spend.params(), options));
        Ok(self)
    }

    /// The frequencies (0..=`max_frequency`) and ages (0..=`max_age`, in the model's unit) the
    /// tables cover; customers outside are scored directly (correct, slower). Building costs
    /// about 30-60 direct evaluations per frequency.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `max_age` is not finite and > 0.
    pub fn coverage(mut self, max_frequency: u32, max_age: f64) -> Result<Self> {
        self.max_age = crate::error::positive_option("max_age", max_age)?;
        self.max_frequency = max_frequency;
        Ok(self)
    }

    /// Builds the tables.
    pub fn build(self) -> Scorer {
        let groups = Arc::new(FrequencyGroups::covering(self.max_frequency, self.max_age));
        let mut schedules = vec![Schedule::horizon(self.horizon).expect("checked by builder")];
        if let Some((_, o)) = &self.clv {
            schedules.push(o.schedule());
        }
        let schedules: Arc<[Schedule]> = schedules.into();
        let plan = self.model.plan(&groups, &schedules);
        Scorer {
            model: self.model,
            unit: self.unit,
            horizon: self.horizon,
            clv: self.clv,
            plan,
        }
    }
}

/// Scores customers with one fitted transaction model for one horizon (and, when built with
/// [`ScorerBuilder::clv`], values them): owned, `Send + Sync + 'static`, built once
/// ([`Scorer::builder`]) and shared by every request. Inputs are plain numbers in the model's
/// time unit, validated on every call; results equal [`crate::predict::score`] and
/// [`crate::value::summary_values`] on the same customers.
pub struct Scorer {
    model: AnyParams,
    unit: TimeUnit,
    horizon: f64,
    clv: Option<(GammaGammaParams, ClvOptions)>,
    plan: Box<dyn SchedulePlan>,
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("model", &self.model)
            .field("unit", &self.unit)
            .field("horizon", &self.horizon)
            .field("clv", &self.clv)
            .finish_non_exhaustive()
    }
}

impl Scorer {
    /// Starts a scorer for `model` and a `horizon` (> 0, in the model's time unit), with the
    /// default coverage ([`DEFAULT_MAX_FREQUENCY`], [`DEFAULT_MAX_AGE_DAYS`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a horizon that is not finite and > 0.
    pub fn builder(model: &AnyFitted, horizon: f64) -> Result<ScorerBuilder> {
        let horizon = crate::predict::check_horizon(horizon)?;
        let unit = model.time_unit();
        Ok(ScorerBuilder {
            model: model.params(),
            unit,
            horizon,
            clv: None,
            max_frequency: DEFAULT_MAX_FREQUENCY,
            max_age: DEFAULT_MAX_AGE_DAYS / unit.days(),
        })
    }

    /// The time unit of every input and of the horizon.
    pub fn time_unit(&self) -> TimeUnit {
        self.unit
    }

    /// The horizon of [`score`](Self::score).
    pub fn horizon(&self) -> f64 {
        self.horizon
    }

    /// P(alive), E[Y(horizon)] and P(Y(horizon) = 0) of one customer with `x` repeat purchases,
    /// the last at `t_x`, observed for `t`.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the field for an invalid customer (negative, not finite,
    /// fractional x, t_x > T, t_x > 0 with x = 0); [`Error::Numerical`] if a score is not
    /// finite.
    pub fn score(&self, x: f64, t_x: f64, t: f64) -> Result<Score> {
        self.score_customer(&Customer::new(x, t_x, t)?)
    }

    fn score_customer(&self, c: &Customer) -> Result<Score> {
        let s = crate::predict::score_one(self.plan.as_ref(), &self.model, c, self.horizon);
        if s.is_finite() {
            Ok(s)
        } else {
            Err(Error::Numerical {
                what: format!("scores of {c:?}"),
            })
        }
    }

    /// Discounted CLV of one customer with mean repeat spend `mean_spend`
    /// ([`crate::value::customer_value`]).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when the scorer was built without CLV; [`Error::InvalidData`]
    /// for an invalid customer or a mean spend that is not finite and >= 0 (> 0 for a repeat
    /// buyer); [`Error::Numerical`] if the value is not finite.
    pub fn value(&self, x: f64, t_x: f64, t: f64, mean_spend: f64) -> Result<f64> {
        self.value_customer(&Customer::new(x, t_x, t)?, mean_spend)
    }

    fn value_customer(&self, c: &Customer, mean_spend: f64) -> Result<f64> {
        let Some((spend, o)) = &self.clv else {
            return Err(Error::InvalidOption {
                name: "scorer",
                reason: "built without CLV: add it with ScorerBuilder::clv".into(),
            });
        };
        let mut out = [0.0; 2];
        self.plan.eval(c, &mut out);
        crate::value::value(spend, c, mean_spend, out[1], o)
    }

    /// [`score`](Self::score) for columns of equal length, in parallel, in order.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for columns of different lengths; otherwise the error of the
    /// first failing row, with its 1-based `row`.
    pub fn score_columns(&self, x: &[f64], t_x: &[f64], t: &[f64]) -> Result<Vec<Score>> {
        same_length(&[x.len(), t_x.len(), t.len()])?;
        crate::predict::par_collect(x.len(), |i| {
            let c = Customer::check(x[i], t_x[i], t[i], Some(i + 1), None)?;
            self.score_customer(&c).map_err(|e| e.at_row(i + 1))
        })
    }

    /// [`value`](Self::value) for columns of equal length, in parallel, in order.
    ///
    /// # Errors
    /// As [`score_columns`](Self::score_columns), and as [`value`](Self::value).
    pub fn value_columns(
        &self,
        x: &[f64],
        t_x: &[f64],
        t: &[f64],
        mean_spend: &[f64],
    ) -> Result<Vec<f64>> {
        same_length(&[x.len(), t_x.len(), t.len(), mean_spend.len()])?;
        crate::predict::par_collect(x.len(), |i| {
            let c = Customer::check(x[i], t_x[i], t[i], Some(i + 1), None)?;
            self.value_customer(&c, mean_spend[i])
                .map_err(|e| e.at_row(i + 1))
        })
    }
}

fn same_length(lens: &[usize]) -> Result<()> {
    if lens.windows(2).all(|w| w[0] == w[1]) {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name: "columns",
            reason: format!("must have the same length, got {lens:?}"),
        })
    }
}

// `Scorer` is meant to be shared across threads and kept for a service's lifetime.
const _: () = {
    const fn assert_service<T: Send + Sync + 'static>() {}
    assert_service::<Scorer>();
};

// the tests read CDNOW's log
#[cfg(all(test, feature = "csv"))]
mod tests {
    use super::*;
    use crate::FitOptions;
    use crate::value::DiscountRate;

    /// CDNOW from its log: monetary values for the CLV, litt for the Erlang-k models.
    fn cdnow() -> crate::RfmSummary {
        crate::data::cdnow_log_summary()
    }

    /// Every model: the scorer's scores and CLV equal the batch functions' on CDNOW.
    #[test]
    fn matches_the_batch_functions() {
        let s = cdnow();
        let spend = GammaGammaParams::fit(&s, &FitOptions::default()).unwrap();
        let o = ClvOptions::new(52.0, TimeUnit::Weeks)
            .unwrap()
            .with_step(1.0)
            .unwrap()
            .with_discount(DiscountRate::annual(0.1).unwrap())
            .unwrap();
        for name in AnyFitted::MODELS {
            let f = match AnyFitted::fit(name, &s, &FitOptions::default()) {
                // GGom/NBD's CDNOW maximum is its Pareto/NBD boundary: no fit (its direct
                // plan is the one NBD's scoring tests)
                Err(Error::OnBoundary { .. }) if *name == "ggomnbd" => continue,
                other => other.unwrap(),
            };
            let scorer = Scorer::builder(&f, 39.0)
                .unwrap()
                .clv(&spend, o)
                .unwrap()
                .build();
            let want = f.score(&s, 39.0).unwrap();
            let got = scorer
                .score_columns(s.frequency(), s.recency(), s.age())
                .unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g.p_alive - w.p_alive).abs() <= 1e-12,
                    "{name}: {g:?} {w:?}"
                );
                let rel = (g.expected_purchases / w.expected_purchases - 1.0).abs();
                assert!(rel <= 1e-10, "{name}: {g:?} {w:?}");
                assert!((g.prob_no_purchase - w.prob_no_purchase).abs() <= 1e-12);
            }
            let want = f.values(spend.params(), &s, &o).unwrap();
            let m = s.monetary_value().unwrap();
            let got = scorer
                .value_columns(s.frequency(), s.recency(), s.age(), m)
                .unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!((g / w - 1.0).abs() <= 1e-10, "{name}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn bad_input_is_a_typed_error_naming_the_row() {
        let f = AnyFitted::fit("bgnbd", &cdnow(), &FitOptions::default()).unwrap();
        let scorer = Scorer::builder(&f, 39.0).unwrap().build();
        let err = scorer
            .score_columns(&[1.0, 2.0], &[1.0, 5.0], &[3.0, 4.0])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2: recency recency 5 is later than the age T = 4"
        );
        assert!(scorer.score(f64::NAN, 0.0, 1.0).is_err());
        assert!(scorer.score_columns(&[1.0], &[1.0, 2.0], &[3.0]).is_err());
        assert!(matches!(
            scorer.value(1.0, 1.0, 3.0, 10.0),
            Err(Error::InvalidOption { name: "scorer", .. })
        ));
        assert!(Scorer::builder(&f, -1.0).is_err());
        assert!(
            Scorer::builder(&f, 39.0)
                .unwrap()
                .coverage(10, 0.0)
                .is_err()
        );
        let days = ClvOptions::new(52.0, TimeUnit::Days).unwrap();
        let spend = GammaGammaParams::fit(&cdnow(), &FitOptions::default()).unwrap();
        assert!(matches!(
            Scorer::builder(&f, 39.0).unwrap().clv(&spend, days),
            Err(Error::UnitMismatch { .. })
        ));
    }

    /// Customers beyond the tables' coverage are scored directly, to the same values.
    #[test]
    fn customers_outside_the_coverage_are_scored_directly() {
        let f = AnyFitted::fit("pareto-nbd", &cdnow(), &FitOptions::default()).unwrap();
        let small = Scorer::builder(&f, 39.0)
            .unwrap()
            .coverage(2, 40.0)
            .unwrap()
            .build();
        let wide = Scorer::builder(&f, 39.0).unwrap().build();
        for (x, tx, t) in [(1.0, 3.0, 38.0), (30.0, 60.0, 70.0), (500.0, 100.0, 120.0)] {
            let (a, b) = (
                small.score(x, tx, t).unwrap(),
                wide.score(x, tx, t).unwrap(),
            );
            assert!((a.p_alive - b.p_alive).abs() <= 1e-12);
            assert!((a.expected_purchases / b.expected_purchases - 1.0).abs() <= 1e-10);
        }
    }
}
