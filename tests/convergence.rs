//! Non-convergence and degenerate fits: the fit report says how the optimiser ended, an
//! unconverged fit is an error unless allowed, a non-finite likelihood at a trial point is
//! absorbed by the line search, and degenerate data get a diagnosis instead of a number.

use clv::fit::{FromRfm, MaximumLikelihood, fit};
use clv::sim::simulate_bgnbd;
use clv::{BgNbdParams, Error, FitOptions, RfmSummary, TimeUnit};
use std::sync::atomic::{AtomicUsize, Ordering};

/// NaN evaluations per path (index: `HESSIAN as usize`): one counter each, because the two
/// tests run in parallel and a shared counter reset by one would hide the other's steps.
static NAN_EVALS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// One parameter θ with log-likelihood -100 (θ - 2)², undefined (NaN) above θ = 2.3: an
/// optimiser stepping past 2.3 must back off, not fail or return NaN. `HESSIAN` picks the
/// Newton path (analytic Hessian) or the L-BFGS path.
#[derive(Debug, Clone, Copy)]
struct Cliff<const HESSIAN: bool>(f64);

impl<const HESSIAN: bool> FromRfm for Cliff<HESSIAN> {
    fn prepare(_: &RfmSummary) -> clv::Result<()> {
        Ok(())
    }
}

impl<const HESSIAN: bool> MaximumLikelihood for Cliff<HESSIAN> {
    type Data = ();
    const LABEL: &'static str = "cliff";
    const MODEL: &'static str = "cliff";
    const NAMES: &'static [&'static str] = &["theta"];
    fn n_customers(_: &()) -> f64 {
        100.0
    }
    fn n_rows(_: &()) -> usize {
        1
    }
    fn from_slice(theta: &[f64]) -> clv::Result<Self> {
        Ok(Cliff(theta[0]))
    }
    fn to_vec(&self) -> Vec<f64> {
        vec![self.0]
    }
    fn starts(_: &()) -> Vec<Vec<f64>> {
        vec![vec![0.05]]
    }
    fn log_likelihood_grad(theta: &[f64], _: &(), grad: Option<&mut [f64]>) -> f64 {
        let t = theta[0];
        if t > 2.3 {
            NAN_EVALS[HESSIAN as usize].fetch_add(1, Ordering::Relaxed);
            if let Some(g) = grad {
                g[0] = f64::NAN;
            }
            return f64::NAN;
        }
        if let Some(g) = grad {
            g[0] = -200.0 * (t - 2.0);
        }
        -100.0 * (t - 2.0).powi(2)
    }
    fn log_likelihood_hessian(
        theta: &[f64],
        data: &(),
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        if !HESSIAN {
            return None;
        }
        hess[0] = if theta[0] > 2.3 { f64::NAN } else { -200.0 };
        Some(Self::log_likelihood_grad(theta, data, Some(grad)))
    }
}

fn one_row() -> RfmSummary {
    RfmSummary::new(
        vec!["a".into()],
        vec![1.0],
        vec![1.0],
        vec![2.0],
        TimeUnit::Weeks,
    )
    .unwrap()
}

fn cliff<const H: bool>() {
    NAN_EVALS[H as usize].store(0, Ordering::Relaxed);
    let f = fit::<Cliff<H>>(&one_row(), &FitOptions::default()).unwrap();
    assert!(
        NAN_EVALS[H as usize].load(Ordering::Relaxed) > 0,
        "the optimiser never stepped past the cliff, so this test tests nothing"
    );
    assert!((f.params().0 - 2.0).abs() < 1e-6, "{:?}", f.params());
    let c = f.convergence();
    assert!(c.converged && c.hessian_positive_definite, "{c:?}");
    assert!(f.log_likelihood().is_finite());
    // SE of θ: the Hessian of the log-likelihood is -200, so SE = 1/sqrt(200)
    let se = f.standard_errors().unwrap()[0];
    assert!((se - 200f64.sqrt().recip()).abs() < 1e-6 * se, "{se}");
}

#[test]
fn a_nan_likelihood_at_a_trial_point_is_handled_by_newton() {
    cliff::<true>();
}

#[test]
fn a_nan_likelihood_at_a_trial_point_is_handled_by_lbfgs() {
    cliff::<false>();
}

fn cdnow() -> RfmSummary {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap()
}

#[test]
fn unconverged_fit_is_an_error_unless_allowed() {
    let s = cdnow();
    let opts = FitOptions::default().with_max_iters(2).unwrap();
    match BgNbdParams::fit(&s, &opts) {
        Err(Error::NotConverged { iterations, reason }) => {
            assert!(iterations > 0);
            assert!(reason.contains("gradient norm"), "{reason}");
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
    let f = BgNbdParams::fit(&s, &opts.allow_unconverged(true)).unwrap();
    let c = f.convergence();
    assert!(!c.converged);
    assert!(c.gradient_norm > 1e-9 && c.gradient_norm.is_finite());
    assert!(c.iterations > 0);
    assert_eq!(f.warnings()[0].code(), "not_converged");
    assert_eq!(f.warnings()[0].severity(), clv::fit::Severity::Warning);
    assert!(
        f.warnings()[0]
            .to_string()
            .starts_with("the fit did not converge"),
        "{:?}",
        f.warnings()
    );
    // and the result is not the starting point
    assert_ne!(f.params().to_vec(), vec![1.0, 1.0, 1.0, 1.0]);
    // the converged fit reports how it ended
    let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    let c = f.convergence();
    assert!(c.converged && c.hessian_positive_definite);
    assert_eq!(
        (c.reason, c.method),
        (
            clv::fit::Termination::GradientTolerance,
            clv::fit::Method::Newton
        )
    );
    assert!(c.gradient_norm <= 1e-9);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
}

/// Customers who all buy regularly up to the end of observation: nobody seems to drop out, so
/// the likelihood is maximal with the dropout probability a/(a+b) heading to 0 (a → 0 or
/// b → ∞, which the likelihood cannot tell apart).
fn nobody_churns() -> RfmSummary {
    let n = 500;
    let t: Vec<f64> = (0..n).map(|i| 20.0 + (i % 13) as f64).collect();
    RfmSummary::new(
        (0..n).map(|i| i.to_string()).collect(),
        (0..n).map(|i| (i % 7 + 1) as f64).collect(),
        t.iter().map(|t| t - 0.5).collect(),
        t,
        TimeUnit::Weeks,
    )
    .unwrap()
}

#[test]
fn a_fit_on_the_boundary_is_an_error_or_an_explicit_warning() {
    let s = nobody_churns();
    match BgNbdParams::fit(&s, &FitOptions::default()) {
        Err(Error::SingularHessian { detail }) => {
            assert!(
                detail.starts_with("parameters at a boundary: a = ")
                    || detail.starts_with("parameters at a boundary: b = "),
                "{detail}"
            )
        }
        Err(Error::NoFiniteMaximum { parameters, .. }) => {
            assert!(
                parameters.starts_with("a = ") || parameters.starts_with("b = "),
                "{parameters}"
            )
        }
        other => panic!("expected a typed diagnosis, got {other:?}"),
    }
    let f = BgNbdParams::fit(&s, &FitOptions::default().allow_unconverged(true)).unwrap();
    let (a, b) = (f.params().a(), f.params().b());
    assert!(a / (a + b) < 1e-6, "{a} {b}");
    assert!(
        f.warnings()
            .iter()
            .any(|w| matches!(w.code(), "no_standard_errors" | "boundary")
                && (w.to_string().contains("a = ") || w.to_string().contains("b = "))),
        "{:?}",
        f.warnings()
    );
}

#[test]
fn identical_ages_are_a_single_cohort_and_fit_fine() {
    // Everyone observed for the same T (one acquisition cohort) is not degenerate: x and t_x
    // still identify all four parameters. Simulated truth recovered within 4 SE.
    let truth = [0.243, 4.414, 0.793, 2.426];
    let m = BgNbdParams::new(truth[0], truth[1], truth[2], truth[3]).unwrap();
    let s = simulate_bgnbd(&m, &vec![39.0; 20_000], TimeUnit::Weeks, 7).unwrap();
    let f = BgNbdParams::fit(&s, &FitOptions::default()).unwrap();
    let se = f.standard_errors().unwrap();
    for (i, (got, want)) in f.params().to_vec().iter().zip(truth).enumerate() {
        assert!((got - want).abs() < 4.0 * se[i], "{i}: {got} vs {want}");
    }
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
}

/// A start outside a parameter's domain is refused when the fit knows the domains (a start of
/// 0 for a positive parameter), naming each parameter's kind.
#[test]
fn a_start_outside_the_domain_is_refused_by_the_fit() {
    let s = nobody_churns();
    let opts = FitOptions::default()
        .with_start(vec![1.0, 0.0, 1.0, 1.0])
        .unwrap();
    match BgNbdParams::fit(&s, &opts) {
        Err(Error::InvalidOption {
            name: "start",
            reason,
        }) => assert_eq!(
            reason,
            "[1.0, 0.0, 1.0, 1.0] is outside the parameter domains (r: Positive, alpha: \
             Positive, a: Positive, b: Positive)"
        ),
        other => panic!("expected InvalidOption, got {other:?}"),
    }
}
