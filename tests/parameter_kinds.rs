//! Parameter kinds in the fit path: a real (identity), a positive (log) and a probability
//! (logit) parameter fitted through the same machinery as the models, against their closed-form
//! maximum-likelihood estimates and standard errors, by Newton (analytic Hessian) and by L-BFGS
//! (central-difference Hessian); and intervals that stay inside each domain.
//!
//! The toy model reads a summary as two samples: yᵢ = Tᵢ - 50 ~ Normal(μ, σ²) with μ real and
//! σ > 0, and zᵢ = 1{xᵢ > 0} ~ Bernoulli(p). MLEs: μ̂ = ȳ, σ̂² = mean((y - ȳ)²), p̂ = z̄;
//! SEs: σ̂/√n, σ̂/√(2n), √(p̂(1-p̂)/n).

use clv::fit::{MaximumLikelihood, ParamKind, fit};
use clv::{FitOptions, RfmSummary, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Toy<const HESSIAN: bool>([f64; 3]);

struct Samples {
    y: Vec<f64>,
    z: Vec<f64>,
}

impl<const HESSIAN: bool> MaximumLikelihood for Toy<HESSIAN> {
    type Data = Samples;
    const LABEL: &'static str = "toy";
    const MODEL: &'static str = "toy";
    const NAMES: &'static [&'static str] = &["mu", "sigma", "p"];
    fn kinds() -> Vec<ParamKind> {
        vec![ParamKind::Real, ParamKind::Positive, ParamKind::Probability]
    }
    fn prepare(s: &RfmSummary) -> clv::Result<Samples> {
        Ok(Samples {
            y: s.age().iter().map(|t| t - 50.0).collect(),
            z: s.frequency()
                .iter()
                .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
                .collect(),
        })
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

fn check<M: MaximumLikelihood>() {
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
