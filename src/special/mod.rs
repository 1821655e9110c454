//! Special functions in log space: the Gauss hypergeometric function [`ln_hyp2f1`], signed log-gamma,
//! and the `log_add_exp` family of helpers the likelihoods are built from.
//!
//! `ln_gamma` and `digamma` are re-exported from `statrs` (they return NaN or infinities on bad
//! input, never panic); `ln_beta` is ours, because statrs' panics on a non-positive argument.
//! Everything the models need
//! beyond that lives here, so every model computes its likelihood with the same stable building
//! blocks.
//!
//! ```
//! use clv::special::{ln_hyp2f1, log_add_exp};
//! // 2F1(1, 1; 2; z) = -ln(1 - z) / z
//! let z = 0.5_f64;
//! let exact = (-(1.0 - z).ln() / z).ln();
//! assert!((ln_hyp2f1(1.0, 1.0, 2.0, z) - exact).abs() < 1e-14);
//! assert!((log_add_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
//! ```

mod chebyshev;
mod gamma;
mod hyp2f1;
mod logspace;
mod quadrature;

pub(crate) use chebyshev::{Chebyshev, Piecewise};
pub(crate) use gamma::{digamma_diff, trigamma_diff};
pub use gamma::{ln_beta, ln_gamma_diff, ln_gamma_signed, trigamma};
pub use hyp2f1::{ln_hyp2f1, ln_hyp2f1_signed};
pub(crate) use hyp2f1::{ln_hyp2f1_complement, ln_hyp2f1_with_loss};
pub use logspace::{
    SignedLog, frac_of_sum, ln1p_div, log_add_exp, log_sub_exp, log_sum_exp, log1m_exp, log1p_exp,
};
pub use quadrature::{adaptive_gauss_legendre, gauss_legendre};
pub(crate) use quadrature::{
    adaptive_vec, integrate_graded_to_one, integrate_near_features, rule20,
};
pub use statrs::function::gamma::{digamma, ln_gamma};
