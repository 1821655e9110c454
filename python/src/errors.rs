//! `clv::Error` as a Python exception that keeps the typed error's fields.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pyo3::create_exception!(
    _clv,
    ClvError,
    PyValueError,
    "An error from clv, with the typed error's fields as attributes: `kind` (the variant: \
     'invalid_data', 'invalid_parameter', 'not_identifiable', ...), `row` (1-based, or None), \
     `customer`, `field`, `issue` (what is wrong with the field), `name` (of a parameter or \
     option) and `model` (None where they do not apply)."
);

/// The variant's name, the row, the customer, the field, the issue, the parameter or option
/// name and the model of an error (each where it applies).
type Fields = (
    &'static str,
    Option<usize>,
    Option<String>,
    Option<&'static str>,
    Option<String>,
    Option<&'static str>,
    Option<&'static str>,
);

fn fields(e: &clv::Error) -> Fields {
    use clv::Error as E;
    let none = |kind| (kind, None, None, None, None, None, None);
    match e {
        E::InvalidParameter { name, .. } => (
            "invalid_parameter",
            None,
            None,
            None,
            None,
            Some(*name),
            None,
        ),
        E::InvalidOption { name, .. } => {
            ("invalid_option", None, None, None, None, Some(*name), None)
        }
        E::InvalidData {
            row,
            customer,
            field,
            issue,
        } => (
            "invalid_data",
            *row,
            customer.clone(),
            Some(*field),
            Some(issue.to_string()),
            None,
            None,
        ),
        E::MissingColumn { .. } => none("missing_column"),
        E::NotIdentifiable { model, .. } => (
            "not_identifiable",
            None,
            None,
            None,
            None,
            None,
            Some(*model),
        ),
        E::EmptyData(_) => none("empty_data"),
        E::Io { .. } => none("io"),
        E::Numerical { .. } => none("numerical"),
        E::ModelFile { .. } => none("model_file"),
        E::NotConverged { .. } => none("not_converged"),
        E::UnitMismatch { .. } => none("unit_mismatch"),
        E::SingularHessian { .. } => none("singular_hessian"),
        E::NoFiniteMaximum { model, .. } => (
            "no_finite_maximum",
            None,
            None,
            None,
            None,
            None,
            Some(*model),
        ),
        E::OnBoundary { model, .. } => ("on_boundary", None, None, None, None, None, Some(*model)),
        _ => none("other"),
    }
}

/// The Python exception for `e`, its fields set as attributes.
pub fn to_py(e: clv::Error) -> PyErr {
    let (kind, row, customer, field, issue, name, model) = fields(&e);
    let err = ClvError::new_err(e.to_string());
    Python::attach(|py| {
        let v = err.value(py);
        // setting attributes on a fresh exception instance does not fail
        let _ = v.setattr("kind", kind);
        let _ = v.setattr("row", row);
        let _ = v.setattr("customer", customer);
        let _ = v.setattr("field", field);
        let _ = v.setattr("issue", issue);
        let _ = v.setattr("name", name);
        let _ = v.setattr("model", model);
    });
    err
}

/// `clv::Result` into `PyResult`.
pub trait IntoPy<T> {
    /// The value, or the error as a [`ClvError`].
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for clv::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A `ValueError` for an argument the Python side should have checked.
pub fn bad_argument(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
