//! Every transaction model behind one type: [`AnyParams`] predicts, [`AnyFitted`] is fitted by
//! model name, loads from any model file by its `model` field, and goes wherever a fitted model
//! goes (scoring, CLV, DERT, bootstrap intervals, diagnostics, segments, cohorts, simulation).
//!
//! An enum rather than a trait object: the model traits are not object-safe (associated data
//! types and constants, `Sized` plans), an enum is `Copy`, `Send + Sync` and matched
//! exhaustively (a new model that is not handled everywhere does not compile), and dispatch
//! costs one branch per call. Adding a model is one line in the `registry!` invocation at the
//! bottom of this file.

use crate::data::{Customer, FrequencyGroups, RfmSummary, TimeUnit};
use crate::error::{Error, Result};
#[cfg(feature = "serde")]
use crate::fit::ModelFile;
use crate::fit::{FitOptions, Fitted, MaximumLikelihood, fit};
use crate::models::TransactionModel;
use crate::models::cnbd::{BgCnbdParams, MbgCnbdParams};
use crate::models::{
    BgNbdParams, GgomNbdParams, MbgNbdParams, NbdParams, ParetoNbdParams, Schedule, SchedulePlan,
    Score, SpendModel,
};
use crate::sim::Simulate;
use crate::uncertainty::{BootstrapOptions, CustomerIntervals, intervals};
use crate::value::ClvOptions;

macro_rules! registry {
    ($($variant:ident($ty:ty)),+ $(,)?) => {
        /// The parameters of any registered transaction model (more variants come with more
        /// models).
        #[derive(Debug, Clone, Copy, PartialEq)]
        #[non_exhaustive]
        pub enum AnyParams {
            $(
                #[doc = concat!("[`", stringify!($ty), "`].")]
                $variant($ty),
            )+
        }

        /// A fitted transaction model of any registered kind (more variants come with more
        /// models).
        ///
        /// ```
        /// use clv::{AnyFitted, FitOptions, TimeUnit, TransactionModel, io::read_summary_csv};
        /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
        /// let summary = read_summary_csv(path, TimeUnit::Weeks)?;
        /// for name in AnyFitted::MODELS {
        ///     let fitted = match AnyFitted::fit(name, &summary, &FitOptions::default()) {
        ///         // GGom/NBD's maximum on CDNOW is its Pareto/NBD boundary: no fit, a diagnosis
        ///         Err(clv::Error::OnBoundary { limit, .. }) => {
        ///             assert_eq!((name, limit), (&"ggomnbd", "pareto-nbd"));
        ///             continue;
        ///         }
        ///         // the Erlang-k models need litt, which a summary of (x, t_x, T) lacks
        ///         Err(clv::Error::NotIdentifiable { .. }) if name.ends_with("cnbd") => continue,
        ///         other => other?,
        ///     };
        ///     let scores = fitted.score(&summary, 39.0)?; // checks the summary's unit
        ///     assert!(scores[0].p_alive > 0.5);
        ///     assert!(fitted.params().expected_purchases(39.0) > 1.0);
        ///     // model files round-trip, whatever the model
        ///     let file = clv::fit::ModelFile::from_json(&fitted.to_model_file().to_json()?)?;
        ///     assert_eq!(AnyFitted::from_model_file(&file)?, fitted);
        /// }
        /// # Ok::<(), clv::Error>(())
        /// ```
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyFitted {
            $(
                #[doc = concat!("A fitted [`", stringify!($ty), "`].")]
                $variant(Fitted<$ty>),
            )+
        }

        impl AnyFitted {
            /// The model names (`clv fit --model NAME`, the `model` field of model files).
            pub const MODELS: &'static [&'static str] = &[$(<$ty as MaximumLikelihood>::MODEL),+];

            /// The parameter names of the model named `model`; `None` for a name that is not in
            /// [`MODELS`](Self::MODELS).
            pub fn parameter_names(model: &str) -> Option<&'static [&'static str]> {
                match model {
                    $(<$ty as MaximumLikelihood>::MODEL => Some(<$ty as MaximumLikelihood>::NAMES),)+
                    _ => None,
                }
            }

            /// Fits the model named `model` (one of [`MODELS`](Self::MODELS)).
            ///
            /// # Errors
            /// [`Error::InvalidOption`] for a name that is not in [`MODELS`](Self::MODELS); otherwise as
            /// [`crate::fit::fit`] (data that cannot identify the model, no convergence, a singular Hessian).
            pub fn fit(model: &str, summary: &RfmSummary, options: &FitOptions) -> Result<Self> {
                match model {
                    $(<$ty as MaximumLikelihood>::MODEL => Ok(AnyFitted::$variant(fit::<$ty>(summary, options)?)),)+
                    other => Err(unknown(other)),
                }
            }

            /// Loads a model file of any registered transaction model.
            ///
            /// # Errors
            /// [`Error::ModelFile`] for a file of another kind (a spend model) or one that does not load
            /// ([`ModelFile::to_fitted`]).
            #[cfg(feature = "serde")]
            pub fn from_model_file(file: &ModelFile) -> Result<Self> {
                match file.model.as_str() {
                    $(<$ty as MaximumLikelihood>::MODEL => Ok(AnyFitted::$variant(file.to_fitted()?)),)+
                    other => Err(Error::ModelFile {
                        reason: format!(
                            "holds a '{other}' model, not a transaction model ({})",
                            Self::MODELS.join(", ")
                        ),
                    }),
                }
            }

            /// The model file form.
            #[cfg(feature = "serde")]
            pub fn to_model_file(&self) -> ModelFile {
                match self { $(AnyFitted::$variant(f) => ModelFile::from_fitted(f),)+ }
            }

            /// The estimated parameters.
            pub fn params(&self) -> AnyParams {
                match self { $(AnyFitted::$variant(f) => AnyParams::$variant(*f.params()),)+ }
            }

            /// The model name (`"bgnbd"`, ...).
            pub fn model(&self) -> &'static str {
                match self { $(AnyFitted::$variant(_) => <$ty as MaximumLikelihood>::MODEL,)+ }
            }

            /// The model's name for people (`"BG/NBD"`, ...).
            pub fn label(&self) -> &'static str {
                match self { $(AnyFitted::$variant(_) => <$ty as MaximumLikelihood>::LABEL,)+ }
            }

            /// Parameter names.
            pub fn names(&self) -> &'static [&'static str] {
                match self { $(AnyFitted::$variant(_) => <$ty as MaximumLikelihood>::NAMES,)+ }
            }

            /// The estimates, in [`names`](Self::names) order.
            pub fn estimates(&self) -> Vec<f64> {
                match self { $(AnyFitted::$variant(f) => f.params().to_vec(),)+ }
            }

            /// Standard errors, when the Hessian was positive definite.
            pub fn standard_errors(&self) -> Option<Vec<f64>> {
                match self { $(AnyFitted::$variant(f) => f.standard_errors(),)+ }
            }

            /// The maximised log-likelihood.
            pub fn log_likelihood(&self) -> f64 {
                match self { $(AnyFitted::$variant(f) => f.log_likelihood(),)+ }
            }

            /// Number of customers fitted.
            pub fn n_customers(&self) -> f64 {
                match self { $(AnyFitted::$variant(f) => f.n_customers(),)+ }
            }

            /// Warnings about the fit.
            pub fn warnings(&self) -> &[crate::fit::FitWarning] {
                match self { $(AnyFitted::$variant(f) => f.warnings(),)+ }
            }

            /// The unit of the data it was fitted on.
            pub fn time_unit(&self) -> TimeUnit {
                match self { $(AnyFitted::$variant(f) => f.time_unit(),)+ }
            }

            /// Refuses a summary in another unit than the model's.
            ///
            /// # Errors
            /// [`Error::UnitMismatch`] when the summary is in another time unit than the model.
            pub fn check_unit(&self, summary: &RfmSummary) -> Result<()> {
                match self { $(AnyFitted::$variant(f) => f.check_unit(summary),)+ }
            }

            /// Akaike information criterion.
            pub fn aic(&self) -> f64 {
                match self { $(AnyFitted::$variant(f) => f.aic(),)+ }
            }

            /// Bayesian information criterion.
            pub fn bic(&self) -> f64 {
                match self { $(AnyFitted::$variant(f) => f.bic(),)+ }
            }

            /// Number of distinct histories the likelihood looped over.
            pub fn n_rows(&self) -> usize {
                match self { $(AnyFitted::$variant(f) => f.n_rows(),)+ }
            }

            /// How the optimiser ended.
            pub fn convergence(&self) -> &crate::fit::Convergence {
                match self { $(AnyFitted::$variant(f) => f.convergence(),)+ }
            }

            /// Wald intervals at `level` on the log scale ([`Fitted::confidence_intervals`]).
            pub fn confidence_intervals(&self, level: f64) -> Option<Vec<(f64, f64)>> {
                match self { $(AnyFitted::$variant(f) => f.confidence_intervals(level),)+ }
            }

            /// P(alive), E[Y(horizon)] and P(Y(horizon) = 0) of every customer
            /// ([`crate::predict::score`]), after checking that the summary is in the model's
            /// unit (the horizon is in that unit).
            ///
            /// # Errors
            /// [`Error::UnitMismatch`]; otherwise as [`crate::predict::score`].
            pub fn score(&self, summary: &RfmSummary, horizon: f64) -> Result<Vec<Score>> {
                self.check_unit(summary)?;
                crate::predict::score(&self.params(), summary, horizon)
            }

            /// Expected purchases in the summary's holdout window
            /// ([`crate::predict::holdout_expected`]), after checking the unit.
            ///
            /// # Errors
            /// [`Error::UnitMismatch`]; otherwise as [`crate::predict::holdout_expected`].
            pub fn holdout_expected(&self, summary: &RfmSummary) -> Result<Vec<f64>> {
                self.check_unit(summary)?;
                crate::predict::holdout_expected(&self.params(), summary)
            }

            /// Discounted CLV of every customer ([`crate::value::summary_values`]), after
            /// checking that the summary and the CLV options are in the model's unit.
            ///
            /// # Errors
            /// [`Error::UnitMismatch`] for a summary or options in another unit; otherwise as
            /// [`crate::value::summary_values`].
            pub fn values<S: SpendModel + Sync>(
                &self,
                spend: &S,
                summary: &RfmSummary,
                options: &ClvOptions,
            ) -> Result<Vec<f64>> {
                self.check_unit(summary)?;
                options.check_unit(self.time_unit(), &format!("the {} model", self.model()))?;
                crate::value::summary_values(&self.params(), spend, summary, options)
            }

            /// Bootstrap intervals ([`crate::uncertainty::intervals`]) after checking the
            /// summary's unit.
            ///
            /// # Errors
            /// [`Error::UnitMismatch`]; otherwise as [`crate::uncertainty::intervals`].
            pub fn intervals<S>(
                &self,
                spend: Option<&Fitted<S>>,
                summary: &RfmSummary,
                horizon: f64,
                clv: Option<&ClvOptions>,
                options: &BootstrapOptions,
            ) -> Result<Vec<CustomerIntervals>>
            where
                S: MaximumLikelihood + SpendModel + Sync,
            {
                self.check_unit(summary)?;
                match self {
                    $(AnyFitted::$variant(f) => intervals(f, spend, summary, horizon, clv, options),)+
                }
            }
        }

        impl AnyParams {
            /// The model name (`"bgnbd"`, ...), as [`AnyFitted::fit`] takes it.
            pub fn model(&self) -> &'static str {
                match self { $(AnyParams::$variant(_) => <$ty as MaximumLikelihood>::MODEL,)+ }
            }

            /// The Erlang order k of the inter-purchase times: `Some(k)` for the CNBD-k
            /// models (k chosen by likelihood), `None` for the models whose purchases are
            /// Poisson.
            pub fn erlang_order(&self) -> Option<u32> {
                match self {
                    AnyParams::BgCnbd(m) => Some(m.k()),
                    AnyParams::MbgCnbd(m) => Some(m.k()),
                    _ => None,
                }
            }
        }

        impl TransactionModel for AnyParams {
            fn expected_purchases(&self, t: f64) -> f64 {
                match self { $(AnyParams::$variant(m) => m.expected_purchases(t),)+ }
            }
            fn pmf(&self, n: u64, t: f64) -> f64 {
                match self { $(AnyParams::$variant(m) => m.pmf(n, t),)+ }
            }
            fn p_alive(&self, c: &Customer) -> f64 {
                match self { $(AnyParams::$variant(m) => m.p_alive(c),)+ }
            }
            fn conditional_expected_purchases(&self, c: &Customer, t: f64) -> f64 {
                match self { $(AnyParams::$variant(m) => m.conditional_expected_purchases(c, t),)+ }
            }
            fn conditional_pmf(&self, c: &Customer, n: u64, t: f64) -> f64 {
                match self { $(AnyParams::$variant(m) => m.conditional_pmf(c, n, t),)+ }
            }
            fn dert(&self, c: &Customer, delta: f64, horizon: Option<f64>) -> Result<f64> {
                match self { $(AnyParams::$variant(m) => TransactionModel::dert(m, c, delta, horizon),)+ }
            }
            fn prob_no_purchase_given(&self, p_alive: f64, c: &Customer, t: f64) -> f64 {
                match self { $(AnyParams::$variant(m) => m.prob_no_purchase_given(p_alive, c, t),)+ }
            }
            fn score(&self, c: &Customer, t: f64) -> Score {
                match self { $(AnyParams::$variant(m) => m.score(c, t),)+ }
            }
            fn conditional_expectations(&self, c: &Customer, ts: &[f64], out: &mut [f64]) -> f64 {
                match self { $(AnyParams::$variant(m) => m.conditional_expectations(c, ts, out),)+ }
            }
            fn plan(
                &self,
                groups: &std::sync::Arc<FrequencyGroups>,
                schedules: &std::sync::Arc<[Schedule]>,
            ) -> Box<dyn SchedulePlan> {
                match self { $(AnyParams::$variant(m) => m.plan(groups, schedules),)+ }
            }
        }

        impl Simulate for AnyParams {
            fn simulate(&self, ages: &[f64], unit: TimeUnit, seed: u64) -> Result<RfmSummary> {
                match self { $(AnyParams::$variant(m) => m.simulate(ages, unit, seed),)+ }
            }
        }

        impl crate::drivers::Levers for AnyParams {
            fn expectations_under(
                &self,
                c: &Customer,
                ts: &[f64],
                rate: f64,
                dropout: f64,
                out: &mut [f64],
            ) -> bool {
                match self {
                    $(AnyParams::$variant(m) => m.expectations_under(c, ts, rate, dropout, out),)+
                }
            }
        }

        impl crate::future::FuturePurchases for AnyParams {
            fn draw_future<R: rand::Rng + ?Sized>(
                &self,
                c: &Customer,
                p_alive: f64,
                horizon: f64,
                rng: &mut R,
                times: &mut Vec<f64>,
            ) -> Result<()> {
                match self {
                    $(AnyParams::$variant(m) => m.draw_future(c, p_alive, horizon, rng, times),)+
                }
            }
        }
    };
}

fn unknown(model: &str) -> Error {
    Error::InvalidOption {
        name: "model",
        reason: format!(
            "'{model}' is not a transaction model; choose one of {}",
            AnyFitted::MODELS.join(", ")
        ),
    }
}

// The registration: one line per transaction model.
registry! {
    BgNbd(BgNbdParams),
    ParetoNbd(ParetoNbdParams),
    MbgNbd(MbgNbdParams),
    Nbd(NbdParams),
    GgomNbd(GgomNbdParams),
    BgCnbd(BgCnbdParams),
    MbgCnbd(MbgCnbdParams),
}

impl AnyFitted {
    /// Fits the model named `model` to histories already compressed
    /// ([`crate::fit::fit_compressed`]): for the models whose likelihood iterates over the
    /// distinct `(x, t_x, T)` rows. `None` for a model that needs more of the summary (the
    /// Erlang-k models need litt) or a name that is not a model.
    ///
    /// # Errors
    /// As [`crate::fit::fit`].
    pub fn fit_compressed(
        model: &str,
        data: &crate::CompressedRfm,
        unit: TimeUnit,
        options: &FitOptions,
    ) -> Option<Result<Self>> {
        use crate::fit::fit_compressed as f;
        Some(match model {
            <BgNbdParams as MaximumLikelihood>::MODEL => {
                f::<BgNbdParams>(data, unit, options).map(AnyFitted::BgNbd)
            }
            <ParetoNbdParams as MaximumLikelihood>::MODEL => {
                f::<ParetoNbdParams>(data, unit, options).map(AnyFitted::ParetoNbd)
            }
            <MbgNbdParams as MaximumLikelihood>::MODEL => {
                f::<MbgNbdParams>(data, unit, options).map(AnyFitted::MbgNbd)
            }
            <NbdParams as MaximumLikelihood>::MODEL => {
                f::<NbdParams>(data, unit, options).map(AnyFitted::Nbd)
            }
            <GgomNbdParams as MaximumLikelihood>::MODEL => {
                f::<GgomNbdParams>(data, unit, options).map(AnyFitted::GgomNbd)
            }
            _ => return None,
        })
    }
}

// every test reads CDNOW
#[cfg(all(test, feature = "csv"))]
mod tests {
    use super::*;

    #[test]
    fn compressed_fits_are_the_summary_fits() {
        let s = crate::data::cdnow_log_summary();
        let opts = FitOptions::default();
        let c = s.compress();
        for name in AnyFitted::MODELS {
            match AnyFitted::fit_compressed(name, &c, s.unit(), &opts) {
                None => assert!(name.ends_with("cnbd")),
                Some(got) => match (got, AnyFitted::fit(name, &s, &opts)) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                    (a, b) => panic!("{name}: {a:?} against {b:?}"),
                },
            }
        }
    }

    /// Every model fits CDNOW summarised from its log (with litt, which the Erlang-k models
    /// need), except GGom/NBD, whose maximum there is its Pareto/NBD boundary.
    #[test]
    #[cfg(feature = "serde")]
    fn every_model_fits_and_loads_back_by_name() {
        let s = crate::data::cdnow_log_summary();
        for name in AnyFitted::MODELS {
            let f = match AnyFitted::fit(name, &s, &FitOptions::default()) {
                Err(Error::OnBoundary { .. }) if *name == "ggomnbd" => continue,
                other => other.unwrap(),
            };
            assert_eq!(f.model(), *name);
            let json = f.to_model_file().to_json().unwrap();
            let back = AnyFitted::from_model_file(&ModelFile::from_json(&json).unwrap()).unwrap();
            assert_eq!(back.params(), f.params());
            assert_eq!(back.time_unit(), TimeUnit::Weeks);
            let c = s.customer(0);
            assert!(back.params().p_alive(&c) > 0.0);
        }
        assert!(AnyFitted::fit("nope", &s, &FitOptions::default()).is_err());
    }

    #[test]
    fn batch_functions_refuse_another_unit() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary.csv"
        );
        let weeks = crate::io::read_summary_csv(path, TimeUnit::Weeks).unwrap();
        let days = crate::io::read_summary_csv(path, TimeUnit::Days).unwrap();
        let f = AnyFitted::fit("pareto-nbd", &weeks, &FitOptions::default()).unwrap();
        assert_eq!(f.score(&weeks, 39.0).unwrap().len(), weeks.len());
        let err = f.score(&days, 39.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the summary is in days but the pareto-nbd model is in weeks; summarise the log \
             again in the model's unit, or refit the model on this summary"
        );
        let gg = crate::GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        let o = ClvOptions::new(52.0, TimeUnit::Days).unwrap();
        assert!(matches!(
            f.values(&gg, &weeks, &o),
            Err(Error::UnitMismatch { .. })
        ));
        assert!(matches!(
            f.holdout_expected(&days),
            Err(Error::UnitMismatch { .. })
        ));
    }
}
