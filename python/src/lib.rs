//! The native half of the `clv` Python package: thin wrappers over the `clv` crate that take
//! and give numpy arrays (no Python object per row) and release the GIL while Rust works. The
//! Python half (`python/python/clv/`) turns DataFrames into these arrays and back.

mod covariates;
mod errors;
mod model;
mod summarize;

use pyo3::prelude::*;

/// The `clv._clv` extension module.
#[pymodule]
fn _clv(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ClvError", m.py().get_type::<errors::ClvError>())?;
    m.add("TRANSACTION_MODELS", clv::AnyFitted::MODELS.to_vec())?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(summarize::summarize_codes, m)?)?;
    m.add_function(wrap_pyfunction!(summarize::log_sums, m)?)?;
    m.add_function(wrap_pyfunction!(summarize::unit_days, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_transactions, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_spend, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_transactions_cov, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_spend_cov, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_bgbb, m)?)?;
    m.add_function(wrap_pyfunction!(model::fit_sbg, m)?)?;
    m.add_function(wrap_pyfunction!(model::parameter_names, m)?)?;
    m.add_function(wrap_pyfunction!(model::compare_models, m)?)?;
    Ok(())
}
