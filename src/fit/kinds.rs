//! Parameter kinds: how a natural parameter θ maps to the unconstrained φ the optimiser moves
//! in. Positive parameters are fitted in φ = ln θ, unbounded real ones (covariate
//! coefficients) in φ = θ, probabilities in φ = logit θ; the covariance, the Wald intervals and
//! the bootstrap draws are built on the same scale.

/// The domain of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ParamKind {
    /// θ > 0, fitted as φ = ln θ.
    Positive,
    /// Any real θ, fitted as φ = θ.
    Real,
    /// 0 < θ < 1, fitted as φ = ln(θ/(1-θ)).
    Probability,
    /// A whole number >= 1 that the optimiser does not move: a structural choice, such as the
    /// Erlang order k of the CNBD-k models. The fit tries each value the model's starts give,
    /// keeps the best likelihood and reports the others ([`crate::fit::FitWarning::ChosenByLikelihood`]);
    /// its standard error is 0 (it is conditioned on, not estimated with an error).
    Whole,
}

impl ParamKind {
    /// θ from φ.
    ///
    /// ```
    /// use clv::fit::ParamKind;
    /// assert_eq!(ParamKind::Positive.to_natural(0.0), 1.0);
    /// assert_eq!(ParamKind::Real.to_natural(-3.0), -3.0);
    /// assert_eq!(ParamKind::Probability.to_natural(0.0), 0.5);
    /// let p = ParamKind::Probability;
    /// assert!((p.to_natural(p.to_free(0.2).unwrap()) - 0.2).abs() < 1e-15);
    /// assert!(p.to_free(1.5).is_none());
    /// ```
    pub fn to_natural(self, phi: f64) -> f64 {
        match self {
            ParamKind::Positive => phi.exp(),
            ParamKind::Real | ParamKind::Whole => phi,
            ParamKind::Probability => {
                // 1/(1+e^{-φ}) without overflow for either sign
                if phi >= 0.0 {
                    1.0 / (1.0 + (-phi).exp())
                } else {
                    let e = phi.exp();
                    e / (1.0 + e)
                }
            }
        }
    }

    /// φ from θ; `None` outside the domain (or not finite).
    pub fn to_free(self, theta: f64) -> Option<f64> {
        if !theta.is_finite() {
            return None;
        }
        match self {
            ParamKind::Positive => (theta > 0.0).then(|| theta.ln()),
            ParamKind::Real => Some(theta),
            ParamKind::Probability => {
                (theta > 0.0 && theta < 1.0).then(|| theta.ln() - (-theta).ln_1p())
            }
            ParamKind::Whole => (theta >= 1.0 && theta.fract() == 0.0).then_some(theta),
        }
    }

    /// dθ/dφ at θ.
    pub fn jacobian(self, theta: f64) -> f64 {
        match self {
            ParamKind::Positive => theta,
            ParamKind::Real | ParamKind::Whole => 1.0,
            ParamKind::Probability => theta * (1.0 - theta),
        }
    }

    /// d²θ/dφ² at θ.
    pub fn curvature(self, theta: f64) -> f64 {
        match self {
            ParamKind::Positive => theta,
            ParamKind::Real | ParamKind::Whole => 0.0,
            ParamKind::Probability => theta * (1.0 - theta) * (1.0 - 2.0 * theta),
        }
    }

    /// Whether θ looks like it is heading to the edge of its domain (0 or ∞ for positive
    /// parameters, 0 or 1 for probabilities, ±∞ for real ones): the optimum is on a boundary.
    pub(crate) fn at_boundary(self, theta: f64) -> bool {
        let edge = super::fitted::BOUNDARY;
        match self {
            ParamKind::Positive => theta < edge || theta > 1.0 / edge,
            ParamKind::Real => theta.abs() > 1.0 / edge,
            ParamKind::Probability => theta < edge || theta > 1.0 - edge,
            ParamKind::Whole => false,
        }
    }
}
