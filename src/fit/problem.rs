//! The argmin adapter: the mean negative log-likelihood over log-parameters, with value and
//! gradient computed in one pass and cached (argmin asks for them separately).

use super::MaximumLikelihood;
use super::outcome::{Method, Termination};
use argmin::core::{
    CostFunction, Error as ArgminError, Executor, Gradient, State, TerminationReason,
    TerminationStatus,
};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::{DMatrix, DVector};
use std::cell::RefCell;

/// One evaluated point: φ, the unpenalised log-likelihood, the mean objective, its gradient
/// in φ and, when computed, its Hessian in φ.
struct Point {
    phi: Vec<f64>,
    ll: f64,
    f: f64,
    g: Vec<f64>,
    h: Option<DMatrix<f64>>,
}

pub(crate) struct LogProblem<'a, M: MaximumLikelihood> {
    data: &'a M::Data,
    pub(crate) n: f64,
    penalizer: f64,
    scales: Vec<f64>,
    kinds: Vec<super::ParamKind>,
    /// Values of the [`super::ParamKind::Whole`] parameters, held fixed whatever φ says.
    pinned: Vec<Option<f64>>,
    cache: RefCell<Option<Point>>,
}

impl<M: MaximumLikelihood> Clone for LogProblem<'_, M> {
    fn clone(&self) -> Self {
        LogProblem {
            data: self.data,
            n: self.n,
            penalizer: self.penalizer,
            scales: self.scales.clone(),
            kinds: self.kinds.clone(),
            pinned: self.pinned.clone(),
            cache: RefCell::new(None),
        }
    }
}

impl<'a, M: MaximumLikelihood> LogProblem<'a, M> {
    pub(crate) fn new(data: &'a M::Data, penalizer: f64) -> Self {
        LogProblem {
            data,
            n: M::n_customers(data),
            penalizer,
            scales: M::penalty_scales(data),
            kinds: M::kinds_for(data),
            pinned: vec![None; M::names_for(data).len()],
            cache: RefCell::new(None),
        }
    }

    /// Holds the [`super::ParamKind::Whole`] parameters at their values in `theta`.
    pub(crate) fn pin(mut self, theta: &[f64]) -> Self {
        for (i, k) in self.kinds.iter().enumerate() {
            if *k == super::ParamKind::Whole {
                self.pinned[i] = Some(theta[i]);
            }
        }
        self
    }

    /// θ from φ, parameter by parameter ([`super::ParamKind`]).
    pub(crate) fn natural(&self, phi: &[f64]) -> Vec<f64> {
        phi.iter()
            .zip(&self.kinds)
            .zip(&self.pinned)
            .map(|((p, k), pin)| pin.unwrap_or_else(|| k.to_natural(*p)))
            .collect()
    }

    /// Evaluates at φ, with the Hessian when `hessian` (`None` if the model has no analytic
    /// one). With θᵢ = θᵢ(φᵢ) (Jacobian Jᵢ = dθᵢ/dφᵢ, curvature Cᵢ = d²θᵢ/dφᵢ²: θ, θ for ln;
    /// 1, 0 for the identity; θ(1-θ), θ(1-θ)(1-2θ) for the logit) and the penalty λ Σ (sᵢθᵢ)²,
    /// the mean objective is f = -ℓ/n + λ Σ (sᵢθᵢ)², its gradient gᵢ = Jᵢ(-∂ℓ/∂θᵢ/n + 2λsᵢ²θᵢ)
    /// and its Hessian Hᵢⱼ = JᵢJⱼ(-∂²ℓ/∂θᵢ∂θⱼ/n + δᵢⱼ 2λsᵢ²) + δᵢⱼ Cᵢ(-∂ℓ/∂θᵢ/n + 2λsᵢ²θᵢ).
    /// A point where anything is not finite (a parameter under- or overflowing) gets
    /// f = +inf, which the line searches treat as "step too long".
    fn compute(&self, phi: &[f64], hessian: bool) -> Option<Point> {
        let k = phi.len();
        let theta = self.natural(phi);
        let jac: Vec<f64> = theta
            .iter()
            .zip(&self.kinds)
            .map(|(t, kd)| kd.jacobian(*t))
            .collect();
        let mut gt = vec![0.0; k];
        let mut ht = vec![0.0; k * k];
        let ll = if hessian {
            M::log_likelihood_hessian(&theta, self.data, &mut gt, &mut ht)?
        } else {
            M::log_likelihood_grad(&theta, self.data, Some(&mut gt))
        };
        let (n, lam, s) = (self.n, self.penalizer, &self.scales);
        let pen: f64 = theta
            .iter()
            .zip(s)
            .map(|(t, s)| (s * t).powi(2))
            .sum::<f64>()
            * lam;
        let f = -ll / n + pen;
        // d f / d θᵢ
        let dtheta: Vec<f64> = (0..k)
            .map(|i| -gt[i] / n + 2.0 * lam * s[i] * s[i] * theta[i])
            .collect();
        // a Whole parameter does not move: no gradient, and a unit curvature of its own (so
        // that Newton steps and the Hessian's inverse leave it alone)
        let whole = |i: usize| self.kinds[i] == super::ParamKind::Whole;
        let g: Vec<f64> = (0..k)
            .map(|i| if whole(i) { 0.0 } else { jac[i] * dtheta[i] })
            .collect();
        let h = hessian.then(|| {
            DMatrix::from_fn(k, k, |i, j| {
                if whole(i) || whole(j) {
                    return if i == j { 1.0 } else { 0.0 };
                }
                let mut v = jac[i] * jac[j] * (-ht[i * k + j] / n);
                if i == j {
                    v += jac[i] * jac[i] * 2.0 * lam * s[i] * s[i]
                        + self.kinds[i].curvature(theta[i]) * dtheta[i];
                }
                v
            })
        });
        let finite = f.is_finite()
            && g.iter().all(|v| v.is_finite())
            && h.as_ref().is_none_or(|h| h.iter().all(|v| v.is_finite()))
            && M::valid_for(&theta, self.data);
        Some(if finite {
            Point {
                phi: phi.to_vec(),
                ll,
                f,
                g,
                h,
            }
        } else {
            Point {
                phi: phi.to_vec(),
                ll,
                f: f64::INFINITY,
                g: vec![0.0; k],
                h: hessian.then(|| DMatrix::zeros(k, k)),
            }
        })
    }

    /// Mean penalised negative log-likelihood at φ and its gradient in φ (cached: argmin asks
    /// for the cost and the gradient separately).
    pub(crate) fn eval(&self, phi: &[f64]) -> (f64, Vec<f64>) {
        if let Some(p) = self.cache.borrow().as_ref()
            && p.phi.as_slice() == phi
        {
            return (p.f, p.g.clone());
        }
        let p = self
            .compute(phi, false)
            .expect("the gradient always exists");
        let out = (p.f, p.g.clone());
        *self.cache.borrow_mut() = Some(p);
        out
    }

    /// The mean objective with its gradient and Hessian in φ, for models with an analytic
    /// Hessian; `None` otherwise.
    pub(crate) fn eval_hessian(&self, phi: &[f64]) -> Option<(f64, Vec<f64>, DMatrix<f64>)> {
        if let Some(p) = self.cache.borrow().as_ref()
            && p.phi.as_slice() == phi
            && let Some(h) = &p.h
        {
            return Some((p.f, p.g.clone(), h.clone()));
        }
        let p = self.compute(phi, true)?;
        let out = (p.f, p.g.clone(), p.h.clone().expect("asked for"));
        *self.cache.borrow_mut() = Some(p);
        Some(out)
    }

    /// The unpenalised total log-likelihood at φ.
    pub(crate) fn log_likelihood(&self, phi: &[f64]) -> f64 {
        if let Some(p) = self.cache.borrow().as_ref()
            && p.phi.as_slice() == phi
        {
            return p.ll;
        }
        M::log_likelihood_grad(&self.natural(phi), self.data, None)
    }
}

impl<M: MaximumLikelihood> CostFunction for LogProblem<'_, M> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, p: &DVector<f64>) -> Result<f64, ArgminError> {
        Ok(self.eval(p.as_slice()).0)
    }
}

impl<M: MaximumLikelihood> Gradient for LogProblem<'_, M> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, p: &DVector<f64>) -> Result<DVector<f64>, ArgminError> {
        Ok(DVector::from_vec(self.eval(p.as_slice()).1))
    }
}

/// Outcome of [`minimise`].
pub(crate) struct Run {
    pub phi: Vec<f64>,
    pub reason: Termination,
    pub iterations: u64,
    pub gradient_norm: f64,
    pub converged: bool,
    pub method: Method,
    pub starts_tried: usize,
}

struct Attempt {
    phi: Vec<f64>,
    cost: f64,
    iterations: u64,
    reason: Termination,
    solver_converged: bool,
}

fn lbfgs<M: MaximumLikelihood>(
    p: &LogProblem<'_, M>,
    phi0: &[f64],
    max_iters: u64,
    tol_grad: f64,
) -> Option<Attempt> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tol_grad)
        .ok()?
        .with_tolerance_cost(0.0)
        .ok()?;
    let res = Executor::new(p.clone(), solver)
        .configure(|s| {
            s.param(DVector::from_column_slice(phi0))
                .max_iters(max_iters)
        })
        .run()
        .ok()?;
    let st = res.state();
    let phi = st.get_best_param()?.as_slice().to_vec();
    let (reason, solver_converged) = match st.get_termination_status() {
        TerminationStatus::Terminated(TerminationReason::SolverConverged) => {
            (Termination::GradientTolerance, true)
        }
        TerminationStatus::Terminated(TerminationReason::MaxItersReached) => {
            (Termination::IterationLimit, false)
        }
        _ => (Termination::SolverStopped, false),
    };
    Some(Attempt {
        cost: p.eval(&phi).0,
        phi,
        iterations: st.get_iter(),
        reason,
        solver_converged,
    })
}

/// Newton's method with the analytic Hessian, for models that have one: the step solves
/// (H + μI) p = -g with the smallest μ in {0, 1e-8, 1e-7, ...}·(1 + max |Hᵢᵢ|) that makes the
/// matrix positive definite (a Levenberg–Marquardt shift where the objective is not convex),
/// is capped at 5 in every log-parameter, and is halved until the Armijo condition holds.
/// Near the optimum the steps are pure Newton steps and converge quadratically.
fn newton<M: MaximumLikelihood>(
    p: &LogProblem<'_, M>,
    phi0: &[f64],
    max_iters: u64,
    tol_grad: f64,
) -> Option<Attempt> {
    let k = phi0.len();
    let mut phi = phi0.to_vec();
    let (mut f, mut g, mut h) = p.eval_hessian(&phi)?;
    if !f.is_finite() {
        return None;
    }
    let mut iterations = 0;
    let mut reason = Termination::IterationLimit;
    let mut converged = false;
    while iterations < max_iters {
        if norm(&g) <= tol_grad {
            converged = true;
            reason = Termination::GradientTolerance;
            break;
        }
        iterations += 1;
        let scale = 1.0 + h.diagonal().amax();
        let gv = DVector::from_column_slice(&g);
        let mut step = None;
        for e in std::iter::once(None).chain((-8..=8).map(Some)) {
            let mu = e.map_or(0.0, |e| scale * 10f64.powi(e));
            let shifted = &h + DMatrix::identity(k, k) * mu;
            if let Some(c) = shifted.cholesky() {
                step = Some(-c.solve(&gv));
                break;
            }
        }
        let Some(mut d) = step else {
            reason = Termination::NoPositiveDefiniteShift;
            break;
        };
        let cap = d.amax();
        if cap > 5.0 {
            d *= 5.0 / cap;
        }
        let slope = gv.dot(&d);
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..50 {
            let trial: Vec<f64> = phi.iter().zip(d.iter()).map(|(x, s)| x + t * s).collect();
            let (ft, gt, ht) = p.eval_hessian(&trial)?;
            if ft.is_finite() && ft <= f + 1e-4 * t * slope {
                accepted = Some((trial, ft, gt, ht));
                break;
            }
            t *= 0.5;
        }
        let Some((x, ft, gt, ht)) = accepted else {
            reason = Termination::LineSearchFailed;
            break;
        };
        let stalled = ft >= f;
        (phi, f, g, h) = (x, ft, gt, ht);
        if stalled {
            // no further decrease in f64: a stationary point if the gradient is small
            reason = Termination::NoFurtherDecrease;
            break;
        }
    }
    Some(Attempt {
        phi,
        cost: f,
        iterations,
        reason,
        solver_converged: converged,
    })
}

fn nelder_mead<M: MaximumLikelihood>(
    p: &LogProblem<'_, M>,
    phi0: &[f64],
    max_iters: u64,
) -> Option<Attempt> {
    let mut simplex = vec![DVector::from_column_slice(phi0)];
    for i in 0..phi0.len() {
        let mut v = phi0.to_vec();
        v[i] += 0.5;
        simplex.push(DVector::from_vec(v));
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-13).ok()?;
    // Nelder–Mead needs many more (cheaper) iterations than L-BFGS.
    let res = Executor::new(p.clone(), solver)
        .configure(|s| s.max_iters(max_iters.saturating_mul(20)))
        .run()
        .ok()?;
    let st = res.state();
    let phi = st.get_best_param()?.as_slice().to_vec();
    Some(Attempt {
        cost: p.eval(&phi).0,
        phi,
        iterations: st.get_iter(),
        reason: Termination::NelderMeadEnded,
        solver_converged: false,
    })
}

fn norm(g: &[f64]) -> f64 {
    g.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// The largest gradient norm (mean objective, log-parameters) accepted as a stationary point.
const GRAD_ACCEPT: f64 = 1e-6;

/// L-BFGS from each start in turn until one converges; if none does, Nelder–Mead from the best
/// point found, polished by L-BFGS.
pub(crate) fn minimise<M: MaximumLikelihood>(
    p: &LogProblem<'_, M>,
    starts: &[Vec<f64>],
    max_iters: u64,
    tol_grad: f64,
) -> Run {
    let mut best: Option<Attempt> = None;
    let mut iterations = 0;
    let mut tried = 0;
    let accept = |a: &Attempt| {
        let g = norm(&p.eval(&a.phi).1);
        a.cost.is_finite()
            && (g <= GRAD_ACCEPT || (a.solver_converged && g <= 1e3 * GRAD_ACCEPT.max(tol_grad)))
    };
    for s in starts {
        tried += 1;
        // with the Hessian where the model has one: Newton starts from the same point, so
        // the evaluation is not repeated
        let start = match p.eval_hessian(s) {
            Some((f, _, _)) => f,
            None => p.eval(s).0,
        };
        if !start.is_finite() {
            continue;
        }
        // a converged attempt from this start ends the search
        let success = |a: Attempt, iterations: u64, method: Method| Run {
            gradient_norm: norm(&p.eval(&a.phi).1),
            phi: a.phi,
            reason: a.reason,
            iterations,
            converged: true,
            method,
            starts_tried: tried,
        };
        if let Some(a) = newton(p, s, max_iters, tol_grad) {
            iterations += a.iterations;
            if accept(&a) {
                return success(a, iterations, Method::Newton);
            }
        }
        if let Some(a) = lbfgs(p, s, max_iters, tol_grad) {
            iterations += a.iterations;
            if accept(&a) {
                return success(a, iterations, Method::Lbfgs);
            }
            if best.as_ref().is_none_or(|b| a.cost < b.cost) {
                best = Some(a);
            }
        }
    }
    // Fallback: derivative-free search from the best point (or the first start), then polish.
    let from = best
        .as_ref()
        .map(|b| b.phi.clone())
        .unwrap_or_else(|| starts[0].clone());
    let mut method = Method::NelderMead;
    let mut last = nelder_mead(p, &from, max_iters);
    if let Some(nm) = &last {
        iterations += nm.iterations;
        if let Some(pol) = lbfgs(p, &nm.phi, max_iters, tol_grad) {
            iterations += pol.iterations;
            if pol.cost <= nm.cost {
                method = Method::NelderMeadLbfgs;
                last = Some(pol);
            }
        }
    }
    let chosen = match (last, best) {
        (Some(l), Some(b)) => {
            if l.cost <= b.cost {
                l
            } else {
                b
            }
        }
        (Some(l), None) => l,
        (None, Some(b)) => b,
        (None, None) => Attempt {
            phi: from,
            cost: f64::INFINITY,
            iterations: 0,
            reason: Termination::NoFiniteStart,
            solver_converged: false,
        },
    };
    let g = norm(&p.eval(&chosen.phi).1);
    let converged = chosen.cost.is_finite() && g <= GRAD_ACCEPT;
    Run {
        converged,
        reason: if chosen.reason == Termination::NoFiniteStart {
            Termination::NoFiniteStart
        } else if converged {
            Termination::FallbackStationary
        } else {
            Termination::FallbackNotStationary
        },
        phi: chosen.phi,
        iterations,
        gradient_norm: g,
        method,
        starts_tried: tried,
    }
}

/// Hessian of the *total* penalised negative log-likelihood in φ: the analytic one when the
/// model has it, else central differences of the analytic gradient (step 1e-4 in ln θ:
/// truncation ~1e-8, rounding ~1e-12 relative).
pub(crate) fn hessian_phi<M: MaximumLikelihood>(
    p: &LogProblem<'_, M>,
    phi: &[f64],
) -> DMatrix<f64> {
    if let Some((f, _, h)) = p.eval_hessian(phi)
        && f.is_finite()
    {
        return h * p.n;
    }
    let k = phi.len();
    let h = 1e-4;
    let mut m = DMatrix::zeros(k, k);
    for j in 0..k {
        if p.kinds[j] == super::ParamKind::Whole {
            m[(j, j)] = p.n;
            continue;
        }
        let mut up = phi.to_vec();
        let mut dn = phi.to_vec();
        up[j] += h;
        dn[j] -= h;
        let (gu, gd) = (p.eval(&up).1, p.eval(&dn).1);
        for i in 0..k {
            m[(i, j)] = p.n * (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    (&m + m.transpose()) * 0.5
}
