//! Discounted customer lifetime value from any transaction model and any spend model, with
//! explicit units: the summary's [`TimeUnit`], a horizon and step in that unit, a discount rate
//! stated per a period you name (or per year of 365.25 days), and a profit margin. There is no
//! hidden "a month is 30 days" anywhere: a month is whatever period you pass.

use crate::data::{Customer, FrequencyGroups, RfmSummary, TimeUnit};
use crate::error::{Error, Result, nonnegative_option, positive_option};
use crate::models::{Schedule, SpendModel, TransactionModel};

/// Why CLV asks for a summary's monetary values.
pub(crate) const CLV_NEEDS_SPEND: &str = "CLV needs each customer's mean spend";

/// The most discounting steps a [`ClvOptions`] may have (a year in hours is 8,766).
pub const MAX_STEPS: usize = 100_000;

/// A discount rate, stored as a force of interest per day so that it can be applied to any
/// time unit.
///
/// ```
/// use clv::{clv::DiscountRate, TimeUnit};
/// let monthly = DiscountRate::per_period(0.01, 4.345, TimeUnit::Weeks).unwrap();
/// // one "month" of 4.345 weeks later, cash is worth 1/1.01
/// assert!((monthly.factor(4.345, TimeUnit::Weeks) - 1.0 / 1.01).abs() < 1e-15);
/// let yearly = DiscountRate::annual(0.1).unwrap();
/// assert!((yearly.factor(365.25, TimeUnit::Days) - 1.0 / 1.1).abs() < 1e-15);
/// assert!(DiscountRate::annual(-1.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountRate {
    force_per_day: f64,
}

impl DiscountRate {
    /// Effective rate `rate` (> -1) per period of `period` (> 0) units of `unit`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `rate` is finite and > -1 and `period` finite and > 0.
    pub fn per_period(rate: f64, period: f64, unit: TimeUnit) -> Result<Self> {
        if !(rate.is_finite() && rate > -1.0) {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: format!("must be finite and > -1, got {rate}"),
            });
        }
        positive_option("discount period", period)?;
        Ok(DiscountRate {
            force_per_day: rate.ln_1p() / (period * unit.days()),
        })
    }
    /// Effective rate per one `unit`.
    ///
    /// # Errors
    /// As [`per_period`](Self::per_period).
    pub fn per_unit(rate: f64, unit: TimeUnit) -> Result<Self> {
        Self::per_period(rate, 1.0, unit)
    }
    /// Effective annual rate, a year being 365.25 days.
    ///
    /// # Errors
    /// As [`per_period`](Self::per_period).
    pub fn annual(rate: f64) -> Result<Self> {
        Self::per_period(rate, 365.25, TimeUnit::Days)
    }
    /// Continuously compounded rate δ per `unit` (value factor e^{-δt}).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `delta` is finite.
    pub fn continuous(delta: f64, unit: TimeUnit) -> Result<Self> {
        if !delta.is_finite() {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: format!("must be finite, got {delta}"),
            });
        }
        Ok(DiscountRate {
            force_per_day: delta / unit.days(),
        })
    }
    /// No discounting.
    pub fn none() -> Self {
        DiscountRate { force_per_day: 0.0 }
    }
    /// The continuously compounded rate per `unit`.
    pub fn force(&self, unit: TimeUnit) -> f64 {
        self.force_per_day * unit.days()
    }
    /// Present value of 1 received `t` units of `unit` from now.
    pub fn factor(&self, t: f64, unit: TimeUnit) -> f64 {
        (-self.force(unit) * t).exp()
    }
}

/// How to value customers: horizon and step (in the summary's time unit), discounting and
/// margin.
///
/// ```
/// use clv::{clv::{ClvOptions, DiscountRate}, TimeUnit};
/// // lifetimes' customer_lifetime_value(time=12, discount_rate=0.01, freq="W"):
/// let month = 4.345;
/// let o = ClvOptions::new(12.0 * month, TimeUnit::Weeks).unwrap()
///     .with_step(month).unwrap()
///     .with_discount(DiscountRate::per_period(0.01, month, TimeUnit::Weeks).unwrap()).unwrap();
/// assert_eq!(o.steps(), 12);
/// assert!(ClvOptions::new(0.0, TimeUnit::Weeks).is_err());
/// // a growth rate whose factor overflows within the horizon is refused
/// let growth = DiscountRate::per_unit(-0.99, TimeUnit::Days).unwrap();
/// assert!(ClvOptions::new(1000.0, TimeUnit::Days).unwrap().with_discount(growth).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvOptions {
    horizon: f64,
    step: f64,
    unit: TimeUnit,
    discount: DiscountRate,
    margin: f64,
}

impl ClvOptions {
    /// A horizon (> 0) in `unit`; one step, no discounting, margin 1.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an invalid horizon ([`crate::predict::check_horizon`]).
    pub fn new(horizon: f64, unit: TimeUnit) -> Result<Self> {
        let horizon = crate::predict::check_horizon(horizon)?;
        Ok(ClvOptions {
            horizon,
            step: horizon,
            unit,
            discount: DiscountRate::none(),
            margin: 1.0,
        })
    }
    /// Length of a discounting step (0 < step <= horizon, at most [`MAX_STEPS`] steps); the
    /// last step ends at the horizon.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless 0 < step <= horizon with at most [`MAX_STEPS`] steps.
    pub fn with_step(mut self, step: f64) -> Result<Self> {
        if !(step.is_finite() && step > 0.0 && step <= self.horizon) {
            return Err(Error::InvalidOption {
                name: "step",
                reason: format!("must be in (0, horizon = {}], got {step}", self.horizon),
            });
        }
        let steps = (self.horizon / step).ceil();
        if steps > MAX_STEPS as f64 {
            return Err(Error::InvalidOption {
                name: "step",
                reason: format!(
                    "{step} makes {steps:e} discounting steps over the horizon {} (at most \
                     {MAX_STEPS})",
                    self.horizon
                ),
            });
        }
        self.step = step;
        Ok(self)
    }
    /// The discount rate. A negative rate (growth) must keep the factor at the horizon
    /// finite.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when a negative rate (growth) makes the factor at the horizon
    /// infinite.
    pub fn with_discount(mut self, d: DiscountRate) -> Result<Self> {
        let f = d.factor(self.horizon, self.unit);
        if !f.is_finite() {
            return Err(Error::InvalidOption {
                name: "discount rate",
                reason: format!(
                    "a force of {} per {:?} grows without bound over the horizon {}",
                    d.force(self.unit),
                    self.unit,
                    self.horizon
                ),
            });
        }
        self.discount = d;
        Ok(self)
    }
    /// Profit margin applied to spend (finite, >= 0; 1 = revenue).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `m` is finite and >= 0.
    pub fn with_margin(mut self, m: f64) -> Result<Self> {
        self.margin = nonnegative_option("margin", m)?;
        Ok(self)
    }
    /// The profit margin applied to spend.
    pub fn margin(&self) -> f64 {
        self.margin
    }
    /// Number of discounting steps, ceil(horizon / step).
    pub fn steps(&self) -> usize {
        // guard against 12 * 4.345 / 4.345 = 12.000000000000002
        let n = self.horizon / self.step;
        let r = n.round();
        if (n - r).abs() < 1e-9 * r.max(1.0) {
            r as usize
        } else {
            n.ceil() as usize
        }
    }
    /// The time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Refuses options in another unit than `unit`, the unit of `model` (named in the error).
    ///
    /// # Errors
    /// [`Error::UnitMismatch`] when the units differ.
    pub fn check_unit(&self, unit: TimeUnit, model: &str) -> Result<()> {
        if self.unit == unit {
            return Ok(());
        }
        Err(Error::UnitMismatch {
            what: "the CLV options".into(),
            found: self.unit,
            against: model.into(),
            expected: unit,
            hint: "state the horizon and step in the model's unit".into(),
        })
    }
    /// The discounting schedule: step ends tᵢ = i·step (the last one at the horizon) with
    /// factors discount(tᵢ).
    ///
    /// ```
    /// use clv::{clv::{ClvOptions, DiscountRate}, TimeUnit};
    /// let o = ClvOptions::new(10.0, TimeUnit::Weeks).unwrap().with_step(4.0).unwrap()
    ///     .with_discount(DiscountRate::per_unit(0.01, TimeUnit::Weeks).unwrap()).unwrap();
    /// let s = o.schedule();
    /// assert_eq!(s.horizons(), &[4.0, 8.0, 10.0]);
    /// assert!((s.factors()[2] - 1.01f64.powi(-10)).abs() < 1e-15);
    /// ```
    pub fn schedule(&self) -> Schedule {
        let ts: Vec<f64> = (1..=self.steps()).map(|i| self.t(i)).collect();
        let factors = ts
            .iter()
            .map(|&t| self.discount.factor(t, self.unit))
            .collect();
        Schedule::new(ts, factors).expect("validated options give a valid schedule")
    }

    /// End of step `i` (1-based).
    fn t(&self, i: usize) -> f64 {
        if i >= self.steps() {
            self.horizon
        } else {
            i as f64 * self.step
        }
    }
}

/// Discounted expected purchases over the horizon, discrete scheme:
/// Σᵢ (E[Y(tᵢ)] - E[Y(tᵢ₋₁)]) · discount(tᵢ), tᵢ = i·step (each step's purchases discounted
/// from the step's end, as lifetimes does): the value of [`ClvOptions::schedule`].
pub fn discounted_purchases<T: TransactionModel>(tm: &T, c: &Customer, o: &ClvOptions) -> f64 {
    let s = o.schedule();
    let mut e = vec![0.0; s.horizons().len()];
    tm.conditional_expectations(c, s.horizons(), &mut e);
    s.value(&e)
}

/// One customer's CLV = margin × E[spend per purchase | history] × discounted expected
/// purchases ([`discounted_purchases`]). Errors when the spend model has no finite mean
/// (Gamma-Gamma with q <= 1) instead of returning an infinite or negative value.
///
/// ```
/// use clv::{BgNbdParams, GammaGammaParams, Customer, TimeUnit};
/// use clv::value::{customer_value, ClvOptions, DiscountRate};
/// let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
/// let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
/// let o = ClvOptions::new(52.0, TimeUnit::Weeks).unwrap().with_step(1.0).unwrap()
///     .with_discount(DiscountRate::annual(0.1).unwrap()).unwrap().with_margin(0.3).unwrap();
/// let v = customer_value(&bg, &gg, &Customer::new(2.0, 30.43, 38.86).unwrap(), 22.35, &o).unwrap();
/// assert!(v > 0.0 && v.is_finite());
/// let heavy = GammaGammaParams::new(6.0, 0.9, 15.0).unwrap(); // q <= 1
/// assert!(customer_value(&bg, &heavy, &Customer::new(0.0, 0.0, 10.0).unwrap(), 0.0, &o).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidParameter`] when the spend model has no finite mean (q <= 1);
/// [`Error::InvalidData`] for an invalid mean spend; [`Error::Numerical`] when the value is not
/// finite.
pub fn customer_value<T: TransactionModel, S: SpendModel>(
    tm: &T,
    sm: &S,
    c: &Customer,
    mean_spend: f64,
    o: &ClvOptions,
) -> Result<f64> {
    value(sm, c, mean_spend, discounted_purchases(tm, c, o), o)
}

/// CLV from the discounted expected purchases `dp`.
pub(crate) fn value<S: SpendModel>(
    sm: &S,
    c: &Customer,
    mean_spend: f64,
    dp: f64,
    o: &ClvOptions,
) -> Result<f64> {
    let spend = sm.conditional_expected_spend(c.frequency(), mean_spend)?;
    let v = o.margin * spend * dp;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::Numerical {
            what: format!("CLV of {c:?}"),
        })
    }
}

/// [`customer_value`] for every customer of a summary (which needs monetary values and must be
/// in the options' time unit); errors name the first failing customer. Customers are valued in
/// parallel through the transaction model's [`TransactionModel::plan`] (for BG/NBD, tabulated
/// per distinct frequency: relative differences from [`customer_value`] typically 1e-12, at
/// most 1e-8 in the property tests).
///
/// # Errors
/// [`Error::InvalidOption`] when the summary is in another unit than the options or has no
/// monetary values; otherwise as [`customer_value`], naming the first failing customer.
pub fn summary_values<T: TransactionModel + Clone + Send + Sync + 'static, S: SpendModel + Sync>(
    tm: &T,
    sm: &S,
    s: &RfmSummary,
    o: &ClvOptions,
) -> Result<Vec<f64>> {
    if s.unit() != o.unit {
        return Err(Error::InvalidOption {
            name: "time unit",
            reason: format!(
                "the summary is in {:?} but the CLV options in {:?}",
                s.unit(),
                o.unit
            ),
        });
    }
    let m = s.require_monetary_value(CLV_NEEDS_SPEND)?;
    let groups = std::sync::Arc::new(FrequencyGroups::new(s));
    let schedules: std::sync::Arc<[Schedule]> = std::sync::Arc::from([o.schedule()]);
    let plan = tm.plan(&groups, &schedules);
    let one = |i: usize| {
        let c = s.customer(i);
        let mut dp = 0.0;
        plan.eval(&c, std::slice::from_mut(&mut dp));
        value(sm, &c, m[i], dp, o).map_err(|e| e.for_customer(&s.ids()[i]))
    };
    crate::predict::par_collect(s.len(), one)
}
