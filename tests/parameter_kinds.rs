//! Parameter kinds in the fit path: a real (identity), a positive (log) and a probability
//! (logit) parameter fitted through the same machinery as the models, against their closed-form
//! maximum-likelihood estimates and standard errors, by Newton (analytic Hessian) and by L-BFGS
//! (central-difference Hessian); and intervals that stay inside each domain.
//!
//! The toy model reads a summary as two samples: yᵢ = Tᵢ - 50 ~ Normal(μ, σ²) with μ real and
//! σ > 0, and zᵢ = 1{xᵢ > 0} ~ Bernoulli(p). MLEs: μ̂ = ȳ, σ̂² = mean((y - ȳ)²), p̂ = z̄;
//! SEs: σ̂/√n, σ̂/√(2n), √(p̂(1-p̂)/n).

use clv::fit::{FromRfm, MaximumLikelihood, ParamKind, fit};
use clv::{FitOptions, RfmSummary, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Toy<const HESSIAN: bool>([f64; 3]);

struct Samples {
    y: Vec<f64>,
    z: Vec<f64>,
}

impl<const HESSIAN: bool> FromRfm for Toy<HESSIAN> {
    fn prepare(s: &RfmSummary) -> clv::Result<Samples> {
        Ok(Samples {
            y: s.age().iter().map(|t| t - 50.0).collect(),
            z: s.frequency()
                .iter()
                .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
                .collect(),
        })
    }
}

impl<const HESSIAN: bool> MaximumLikelihood for Toy<HESSIAN> {
    type Data = Samples;
    const LABEL: &'static str = "toy";
    const MODEL: &'static str = "toy";
    const NAMES: &'static [&'static str] = &["mu", "sigma", "p"];
    fn kinds() -> Vec<ParamKind> {
        vec![ParamKind::Real, ParamKind::Positive, ParamKind::Probability]
    }
    fn n_customers(d: &Samples) -> f64 {
        d.y.len() as f64
    }
    fn n_rows(d: &Samples) -> usize {
        d.y.len()
    }
    fn from_slice(t: &[f64]) -> clv::Result<Self> {
        let ok = t.len() == 3 && t[0].is_finite() && t[1] > 0.0 && t[2] > 0.0 && t[2] < 1.0;
        if ok {
            Ok(Toy([t[0], t[1], t[2]]))
        } else {
            Err(clv::Error::InvalidOption {
                name: "toy",
                reason: format!("{t:?}"),
            })
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        self.0.to_vec()
    }
    fn starts(_: &Samples) -> Vec<Vec<f64>> {
        vec![vec![0.0, 1.0, 0.5]]
    }
    fn log_likelihood_grad(t: &[f64], d: &Samples, grad: Option<&mut [f64]>) -> f64 {
        let (mu, sigma, p) = (t[0], t[1], t[2]);
        let mut ll = 0.0;
        let mut g = [0.0; 3];
        for (&y, &z) in d.y.iter().zip(&d.z) {
            let e = y - mu;
            ll +=
                -sigma.ln() - e * e / (2.0 * sigma * sigma) + z * p.ln() + (1.0 - z) * (-p).ln_1p();
            g[0] += e / (sigma * sigma);
            g[1] += -1.0 / sigma + e * e / sigma.powi(3);
            g[2] += z / p - (1.0 - z) / (1.0 - p);
        }
        if let Some(out) = grad {
            out.copy_from_slice(&g);
        }
        ll
    }
    fn log_likelihood_hessian(
        t: &[f64],
        d: &Samples,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        if !HESSIAN {
            return None;
        }
        let ll = Self::log_likelihood_grad(t, d, Some(grad));
        let (mu, sigma, p) = (t[0], t[1], t[2]);
        hess.fill(0.0);
        for (&y, &z) in d.y.iter().zip(&d.z) {
            let e = y - mu;
            hess[0] -= 1.0 / (sigma * sigma);
            hess[1] -= 2.0 * e / sigma.powi(3);
            hess[4] += 1.0 / (sigma * sigma) - 3.0 * e * e / sigma.powi(4);
            hess[8] -= z / (p * p) + (1.0 - z) / ((1.0 - p) * (1.0 - p));
        }
        hess[3] = hess[1];
        Some(ll)
    }
}

fn sample() -> RfmSummary {
    let n = 400;
    RfmSummary::new(
        (0..n).map(|i| i.to_string()).collect(),
        (0..n).map(|i| if i % 10 < 3 { 1.0 } else { 0.0 }).collect(),
        vec![0.0; n],
        (0..n)
            .map(|i| 40.0 + 10.0 * (1.7 * i as f64).sin())
            .collect(),
        TimeUnit::Weeks,
    )
    .unwrap()
}

fn check<M: FromRfm>() {
    let s = sample();
    let n = s.len() as f64;
    let y: Vec<f64> = s.age().iter().map(|t| t - 50.0).collect();
    let mu = y.iter().sum::<f64>() / n;
    let sigma = (y.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n).sqrt();
    let p = 0.3;
    let f = fit::<M>(&s, &FitOptions::default()).unwrap();
    let got = f.params().to_vec();
    assert!(mu < 0.0, "the real parameter must be negative here: {mu}");
    let want_se = [
        sigma / n.sqrt(),
        sigma / (2.0 * n).sqrt(),
        (p * (1.0 - p) / n).sqrt(),
    ];
    // the gradient tolerance (1e-9 on the mean objective) leaves each estimate within about
    // 1e-9/curvature of the optimum: far below 1e-5 standard errors
    for ((g, w), se) in got.iter().zip([mu, sigma, p]).zip(want_se) {
        assert!((g - w).abs() < 1e-5 * se, "{got:?} vs {mu} {sigma} {p}");
    }
    let se = f.standard_errors().unwrap();
    for (g, w) in se.iter().zip(want_se) {
        assert!((g / w - 1.0).abs() < 1e-5, "SE {g} vs {w}");
    }
    let ci = f.confidence_intervals(0.95).unwrap();
    // real: symmetric; probability: inside (0, 1) and asymmetric on the logit scale
    assert!(((ci[0].0 + ci[0].1) / 2.0 - got[0]).abs() < 1e-12);
    assert!(ci[1].0 > 0.0 && ci[1].0 < sigma && sigma < ci[1].1);
    assert!(ci[2].0 > 0.0 && ci[2].1 < 1.0 && ci[2].0 < p && p < ci[2].1);
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
}

#[test]
fn real_positive_and_probability_parameters_fit_by_newton() {
    check::<Toy<true>>();
    let f = fit::<Toy<true>>(&sample(), &FitOptions::default()).unwrap();
    assert_eq!(f.convergence().method, clv::fit::Method::Newton);
}

#[test]
fn real_positive_and_probability_parameters_fit_by_lbfgs() {
    check::<Toy<false>>();
}

#[test]
fn a_start_outside_a_probability_is_refused() {
    let opts = FitOptions::default()
        .with_start(vec![0.0, 1.0, 1.5])
        .unwrap();
    assert!(matches!(
        fit::<Toy<true>>(&sample(), &opts),
        Err(clv::Error::InvalidOption { name: "start", .. })
    ));
    // a negative start is fine for the real parameter
    let opts = FitOptions::default()
        .with_start(vec![-5.0, 1.0, 0.5])
        .unwrap();
    assert!(fit::<Toy<true>>(&sample(), &opts).is_ok());
}

/// A Whole parameter (the Erlang order's kind): y ~ Normal(k + θ, 1) with k a whole number the
/// optimiser does not move and θ real, plus a penalty-free preference for k = 3 through the
/// second sample z ~ Normal(k, 1). For each k the MLE of θ is ȳ - k; the likelihood over k is
/// maximised at the whole number nearest z̄. The fit tries the k its starts give (1..=5), keeps
/// the best, reports each k's log-likelihood, and gives k no standard error (it is conditioned
/// on), θ the closed-form one, 1/√n.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WholeToy<const HESSIAN: bool>([f64; 2]);

impl<const HESSIAN: bool> FromRfm for WholeToy<HESSIAN> {
    fn prepare(s: &RfmSummary) -> clv::Result<Samples> {
        Ok(Samples {
            y: s.age().iter().map(|t| t - 50.0).collect(),
            z: s.recency().to_vec(),
        })
    }
}

impl<const HESSIAN: bool> MaximumLikelihood for WholeToy<HESSIAN> {
    type Data = Samples;
    const LABEL: &'static str = "whole toy";
    const MODEL: &'static str = "whole-toy";
    const NAMES: &'static [&'static str] = &["k", "theta"];
    fn kinds() -> Vec<ParamKind> {
        vec![ParamKind::Whole, ParamKind::Real]
    }
    fn n_customers(d: &Samples) -> f64 {
        d.y.len() as f64
    }
    fn n_rows(d: &Samples) -> usize {
        d.y.len()
    }
    fn from_slice(t: &[f64]) -> clv::Result<Self> {
        if t.len() == 2 && t[0] >= 1.0 && t[0].fract() == 0.0 && t[1].is_finite() {
            Ok(WholeToy([t[0], t[1]]))
        } else {
            Err(clv::Error::InvalidOption {
                name: "whole toy",
                reason: format!("{t:?}"),
            })
        }
    }
    fn to_vec(&self) -> Vec<f64> {
        self.0.to_vec()
    }
    fn starts(_: &Samples) -> Vec<Vec<f64>> {
        (1..=5).map(|k| vec![k as f64, 0.0]).collect()
    }
    fn log_likelihood_grad(t: &[f64], d: &Samples, grad: Option<&mut [f64]>) -> f64 {
        let (k, theta) = (t[0], t[1]);
        let mut ll = 0.0;
        let mut g = 0.0;
        for (&y, &z) in d.y.iter().zip(&d.z) {
            ll += -0.5 * (y - k - theta).powi(2) - 0.5 * (z - k).powi(2);
            g += y - k - theta;
        }
        if let Some(out) = grad {
            // no derivative in k: it is not a continuous parameter
            out[0] = 0.0;
            out[1] = g;
        }
        ll
    }
    fn log_likelihood_hessian(
        t: &[f64],
        d: &Samples,
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        if !HESSIAN {
            return None;
        }
        hess.copy_from_slice(&[0.0, 0.0, 0.0, -(d.y.len() as f64)]);
        Some(Self::log_likelihood_grad(t, d, Some(grad)))
    }
}

fn whole_case<const H: bool>() {
    // y = T - 50 with mean 7.5, z = t_x with mean 3.2: k = 3, θ = 4.5
    let n = 40;
    let s = RfmSummary::new(
        (0..n).map(|i| i.to_string()).collect(),
        vec![1.0; n],
        (0..n)
            .map(|i| 3.2 + if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect(),
        (0..n)
            .map(|i| 57.5 + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect(),
        TimeUnit::Weeks,
    )
    .unwrap();
    let f = fit::<WholeToy<H>>(&s, &FitOptions::default()).unwrap();
    assert_eq!(f.params().0[0], 3.0);
    assert!((f.params().0[1] - 4.5).abs() < 1e-9, "{:?}", f.params());
    let se = f.standard_errors().unwrap();
    assert_eq!(se[0], 0.0);
    assert!((se[1] - 1.0 / (n as f64).sqrt()).abs() < 1e-9, "{se:?}");
    let ci = f.confidence_intervals(0.95).unwrap();
    assert_eq!(ci[0], (3.0, 3.0));
    let w = f
        .warnings()
        .iter()
        .find(|w| w.code() == "chosen_by_likelihood")
        .unwrap();
    let text = w.to_string();
    assert!(
        text.starts_with("k = 3 chosen by likelihood (log-likelihood by k: 1: "),
        "{text}"
    );
    assert!(text.contains(", 5: "), "{text}");
    // the log-likelihood at k = 3 is the best of those listed
    let clv::fit::FitWarning::ChosenByLikelihood { tried, .. } = w else {
        unreachable!()
    };
    let best = tried
        .iter()
        .map(|(_, ll)| ll.unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(best, f.log_likelihood());
    assert_eq!(tried.len(), 5);
    // model files keep k, its zero standard error and the note
    let json = clv::fit::ModelFile::from_fitted(&f).to_json().unwrap();
    let back: clv::fit::Fitted<WholeToy<H>> = clv::fit::ModelFile::from_json(&json)
        .unwrap()
        .to_fitted()
        .unwrap();
    assert_eq!(back.params(), f.params());
    assert_eq!(back.warnings(), f.warnings());
    assert_eq!(back.standard_errors().unwrap()[0], 0.0);
}

#[test]
fn a_whole_parameter_is_chosen_by_likelihood_with_newton() {
    whole_case::<true>();
}

#[test]
fn a_whole_parameter_is_chosen_by_likelihood_with_lbfgs() {
    whole_case::<false>();
}
