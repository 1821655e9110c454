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

/// The variant's name, and the row, customer, field, issue, parameter or option name and
/// model of an error where they apply.
#[derive(Default)]
struct Fields {
    kind: &'static str,
    row: Option<usize>,
    customer: Option<String>,
    field: Option<&'static str>,
    issue: Option<String>,
    name: Option<&'static str>,
    model: Option<&'static str>,
}

fn fields(e: &clv::Error) -> Fields {
    use clv::Error as E;
    let only = |kind| Fields {
        kind,
        ..Fields::default()
    };
    let named = |kind, name: &&'static str| Fields {
        name: Some(*name),
        ..only(kind)
    };
    let of_model = |kind, model: &&'static str| Fields {
        model: Some(*model),
        ..only(kind)
    };
    match e {
        E::InvalidParameter { name, .. } => named("invalid_parameter", name),
        E::InvalidOption { name, .. } => named("invalid_option", name),
        E::InvalidData {
            row,
            customer,
            field,
            issue,
        } => Fields {
            row: *row,
            customer: customer.clone(),
            field: Some(*field),
            issue: Some(issue.to_string()),
            ..only("invalid_data")
        },
        E::MissingColumn { .. } => only("missing_column"),
        E::NotIdentifiable { model, .. } => of_model("not_identifiable", model),
        E::EmptyData(_) => only("empty_data"),
        E::Io { .. } => only("io"),
        E::Numerical { .. } => only("numerical"),
        E::ModelFile { .. } => only("model_file"),
        E::NotConverged { .. } => only("not_converged"),
        E::UnitMismatch { .. } => only("unit_mismatch"),
        E::SingularHessian { .. } => only("singular_hessian"),
        E::NoFiniteMaximum { model, .. } => of_model("no_finite_maximum", model),
        E::OnBoundary { model, .. } => of_model("on_boundary", model),
        _ => only("other"),
    }
}

/// The Python exception for `e`, its fields set as attributes.
pub fn to_py(e: clv::Error) -> PyErr {
    let f = fields(&e);
    let err = ClvError::new_err(e.to_string());
    Python::attach(|py| {
        let v = err.value(py);
        // setting attributes on a fresh exception instance does not fail
        let _ = v.setattr("kind", f.kind);
        let _ = v.setattr("row", f.row);
        let _ = v.setattr("customer", f.customer);
        let _ = v.setattr("field", f.field);
        let _ = v.setattr("issue", f.issue);
        let _ = v.setattr("name", f.name);
        let _ = v.setattr("model", f.model);
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
