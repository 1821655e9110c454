//! The crate's single error type.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in `clv`. Data errors name the row (1-based, as a user counts
/// lines in their file, header excluded) and/or the customer, and the offending field.
///
/// ```
/// use clv::{BgNbdParams, Error};
/// let err = BgNbdParams::new(-1.0, 4.4, 0.79, 2.4).unwrap_err();
/// assert!(matches!(err, Error::InvalidParameter { name: "r", .. }));
/// assert_eq!(err.to_string(), "invalid parameter r = -1: must be finite and > 0");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A model parameter outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name, as in the paper (`r`, `alpha`, ...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the domain is.
        reason: &'static str,
    },
    /// An option (horizon, penalizer, dates...) outside its domain.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// One input record is invalid.
    #[error("{}: {field} {issue}", location(*.row, .customer.as_deref()))]
    InvalidData {
        /// 1-based data row (header excluded), when the input has rows.
        row: Option<usize>,
        /// The customer id, when known.
        customer: Option<String>,
        /// The field (column) at fault.
        field: &'static str,
        /// What is wrong with it.
        issue: DataIssue,
    },
    /// A required column is missing from a CSV header.
    #[error("missing column '{wanted}'; columns found: {}", .found.join(", "))]
    MissingColumn {
        /// The column looked for (or the alternatives, `a|b`).
        wanted: String,
        /// The header as read.
        found: Vec<String>,
    },
    /// The data cannot identify the model's parameters (no repeat buyers, a single customer,
    /// every customer with the same history...): no fit is attempted, since any estimate would
    /// be an artefact of the optimiser's starting point.
    #[error("{model} cannot be fitted to these data: {reason}")]
    NotIdentifiable {
        /// The model (`"bgnbd"`, `"gamma_gamma"`).
        model: &'static str,
        /// Why, in terms of the data.
        reason: String,
    },
    /// There is nothing to fit or summarise.
    #[error("no data: {0}")]
    EmptyData(&'static str),
    /// Reading a file failed.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
        /// The operating system's error (its kind: not found, permission denied...), when
        /// there is one; also `std::error::Error::source`.
        #[source]
        source: Option<IoSource>,
    },
    /// A computation produced a non-finite value where a finite one was expected.
    #[error("numerical failure in {what}")]
    Numerical {
        /// What was being computed.
        what: String,
    },
    /// A model file that cannot be loaded: not JSON, another model, an unsupported
    /// `format_version`, a missing or unknown field, or a value outside its domain.
    #[error("invalid model file: {reason}")]
    ModelFile {
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The optimiser did not converge (and the caller did not allow unconverged fits).
    #[error("fit did not converge after {iterations} iterations: {reason}")]
    NotConverged {
        /// The optimiser's termination reason.
        reason: String,
        /// Iterations spent (over all starts).
        iterations: u64,
    },
    /// Two inputs measure time in different units (a summary in days scored with a model
    /// fitted in weeks, say): refused rather than silently misread.
    #[error("{what} is in {found} but {against} is in {expected}; {hint}")]
    UnitMismatch {
        /// What has the unexpected unit (`"the summary"`, ...).
        what: String,
        /// Its unit.
        found: crate::TimeUnit,
        /// What it was checked against (`"the model"`, ...).
        against: String,
        /// The unit expected.
        expected: crate::TimeUnit,
        /// How to fix it.
        hint: String,
    },
    /// The Hessian at the optimum is not positive definite, so there are no standard errors:
    /// the optimum is a saddle or a boundary (a parameter heading to 0 or infinity).
    #[error(
        "the Hessian at the optimum is not positive definite (parameters not identified): {detail}"
    )]
    SingularHessian {
        /// Which parameters look unidentified.
        detail: String,
    },
    /// The likelihood has no finite maximum: the named parameters run off to the edge of their
    /// domain (0 or infinity) while it keeps rising toward a supremum, and the data do not
    /// bound them (standard errors above their own size). There are no estimates to report.
    #[error(
        "the {model} likelihood has no finite maximum: {parameters} run off to the edge of \
         their domain, the log-likelihood rising toward {log_likelihood:.6}; the data do not \
         determine them (simplify the model, e.g. fewer covariates, or another model)"
    )]
    NoFiniteMaximum {
        /// The model fitted.
        model: &'static str,
        /// The parameters at the edge, with where they stopped: `"a = 2.0e12, b = 1.5e13"`.
        parameters: String,
        /// The log-likelihood where the fit stopped: the supremum, approached.
        log_likelihood: f64,
    },
    /// The likelihood's maximum lies on the boundary of the parameter space, where the model
    /// collapses to a simpler one (GGom/NBD with b, β → 0 is Pareto/NBD): its estimates there
    /// are not identified and standard errors would be meaningless, so there is no fit. Fit the
    /// limit model instead.
    #[error(
        "the {model} likelihood is maximised on the boundary {parameters} -> {toward}, where the \
         model is {limit} (log-likelihood {log_likelihood:.6}); fit {limit} instead"
    )]
    OnBoundary {
        /// The model fitted.
        model: &'static str,
        /// The parameters that go to the boundary, e.g. `"b, beta"`.
        parameters: &'static str,
        /// Where they go: `"0"` or `"infinity"`.
        toward: &'static str,
        /// The model it collapses to there (its name as [`crate::AnyFitted::fit`] takes it).
        limit: &'static str,
        /// The maximised log-likelihood, the limit model's.
        log_likelihood: f64,
    },
}

/// The `std::io::Error` behind an [`Error::Io`], shared so that `Error` stays `Clone`, and
/// compared by kind and message.
///
/// ```
/// let err = clv::io::read_summary_csv("/no/such/file.csv", clv::TimeUnit::Weeks).unwrap_err();
/// let clv::Error::Io { source: Some(src), .. } = &err else { panic!("{err:?}") };
/// assert_eq!(src.kind(), std::io::ErrorKind::NotFound);
/// assert!(std::error::Error::source(&err).is_some());
/// ```
#[derive(Debug, Clone)]
pub struct IoSource(std::sync::Arc<std::io::Error>);

impl IoSource {
    /// Wraps an error.
    pub fn new(e: std::io::Error) -> Self {
        IoSource(std::sync::Arc::new(e))
    }
    /// A copy of `e` (kind and message; `std::io::Error` is not `Clone`).
    pub fn copy_of(e: &std::io::Error) -> Self {
        Self::new(std::io::Error::new(e.kind(), e.to_string()))
    }
    /// The kind of I/O error.
    pub fn kind(&self) -> std::io::ErrorKind {
        self.0.kind()
    }
    /// The error itself.
    pub fn get(&self) -> &std::io::Error {
        &self.0
    }
}

impl PartialEq for IoSource {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl std::fmt::Display for IoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn location(row: Option<usize>, customer: Option<&str>) -> String {
    match (row, customer) {
        (Some(r), Some(c)) => format!("row {r} (customer {c})"),
        (Some(r), None) => format!("row {r}"),
        (None, Some(c)) => format!("customer {c}"),
        (None, None) => "input".to_string(),
    }
}

/// What is wrong with one field of one record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataIssue {
    /// NaN or infinite.
    NotFinite(f64),
    /// Negative where only >= 0 makes sense.
    Negative(f64),
    /// Zero or negative where only > 0 makes sense (e.g. the mean spend of a repeat buyer).
    NotPositive(f64),
    /// A count that is not a whole number.
    NotInteger(f64),
    /// Recency (time of last repeat purchase) later than the customer's age T.
    RecencyAfterAge {
        /// t_x.
        recency: f64,
        /// T.
        age: f64,
    },
    /// Recency > 0 although the customer made no repeat purchase (x = 0).
    RecencyWithoutRepeat(f64),
    /// A negative amount (a return or cancellation), with how many lines of the file have
    /// one.
    NegativeAmounts {
        /// The first line's amount.
        amount: f64,
        /// Lines with a negative amount in the whole file.
        lines: usize,
    },
    /// A cohort count larger than the period before's (survivors cannot increase).
    MoreAliveThanBefore {
        /// The count.
        alive: f64,
        /// The count of the period before.
        before: f64,
    },
    /// More transactions than opportunities up to the last one (discrete time: x
    /// transactions need x distinct opportunities among 1..=t_x).
    MoreTransactionsThanOpportunities {
        /// x.
        frequency: u32,
        /// t_x.
        recency: u32,
    },
    /// A sum of log inter-purchase times (`litt`) that no gaps can have: above x·ln(t_x/x)
    /// (the largest, for x equal gaps; a litt in another time unit than the summary exceeds
    /// it by x·ln of the unit ratio), or not 0 without repeat purchases.
    LittImpossible {
        /// The litt given.
        litt: f64,
        /// Its largest possible value, x·ln(t_x/x) (0 for x = 0).
        max: f64,
    },
    /// A transaction dated after the observation end.
    AfterObservationEnd {
        /// The transaction's date.
        date: String,
        /// The end of observation.
        end: String,
    },
    /// A transaction after the calibration end, with no observation end to place it in.
    AfterCalibrationEnd {
        /// The transaction's date.
        date: String,
        /// The calibration end.
        end: String,
    },
    /// The text could not be parsed.
    Unparseable {
        /// The text found.
        text: String,
        /// What was expected.
        expected: String,
    },
    /// The same customer appears twice in a summary.
    Duplicate,
    /// Too few fields on the line.
    MissingField,
    /// An empty field where a value is required (e.g. a blank customer id).
    Blank,
    /// The bytes are not valid UTF-8 (at `valid_up_to` bytes into the field).
    NotUtf8 {
        /// How many leading bytes of the field are valid UTF-8.
        valid_up_to: usize,
    },
    /// A line longer than the readers accept ([`crate::io::MAX_LINE_BYTES`]): not a
    /// transaction log or summary (a binary file, or a file without line ends).
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for DataIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataIssue::NotFinite(v) => write!(f, "is not finite ({v})"),
            DataIssue::Negative(v) => write!(f, "is negative ({v})"),
            DataIssue::NotPositive(v) => write!(f, "must be > 0 (got {v})"),
            DataIssue::NotInteger(v) => write!(f, "is not a whole number ({v})"),
            DataIssue::RecencyAfterAge { recency, age } => {
                write!(f, "recency {recency} is later than the age T = {age}")
            }
            DataIssue::LittImpossible { litt, max } => write!(
                f,
                "litt (the sum of log inter-purchase times) is {litt} but x gaps summing to t_x \
                 allow at most {max} (is it in the summary's time unit?)"
            ),
            DataIssue::NegativeAmounts { amount, lines } => write!(
                f,
                "is negative ({amount}), the first of {lines} lines with a negative amount \
                 (returns or cancellations): drop them with --returns drop (Returns::Drop)"
            ),
            DataIssue::MoreAliveThanBefore { alive, before } => write!(
                f,
                "is {alive}, more than the {before} of the period before (a cohort can only shrink)"
            ),
            DataIssue::MoreTransactionsThanOpportunities { frequency, recency } => write!(
                f,
                "is {frequency}, more transactions than the {recency} opportunities up to the \
                 last one"
            ),
            DataIssue::RecencyWithoutRepeat(v) => {
                write!(
                    f,
                    "recency is {v} > 0 but frequency is 0 (recency must be 0 without repeat purchases)"
                )
            }
            DataIssue::AfterObservationEnd { date, end } => {
                write!(f, "{date} is after the observation end {end}")
            }
            DataIssue::AfterCalibrationEnd { date, end } => write!(
                f,
                "{date} is after the calibration end {end} and no observation end was given"
            ),
            DataIssue::Unparseable { text, expected } => {
                write!(f, "'{text}' cannot be parsed as {expected}")
            }
            DataIssue::Duplicate => write!(f, "appears more than once"),
            DataIssue::MissingField => write!(f, "is missing (too few fields on the line)"),
            DataIssue::Blank => write!(f, "is empty"),
            DataIssue::NotUtf8 { valid_up_to } => write!(
                f,
                "is not valid UTF-8 (invalid byte after {valid_up_to} bytes; re-encode the file as UTF-8)"
            ),
            DataIssue::LineTooLong { limit } => write!(
                f,
                "is longer than {limit} bytes without a line end (not a text table?)"
            ),
        }
    }
}

impl Error {
    /// Puts the 1-based `row` into an error raised for one row of a batch: a data error that
    /// names no row gets it, a numerical failure says it; other errors are unchanged.
    ///
    /// ```
    /// let e = clv::Customer::new(1.0, 5.0, 3.0).unwrap_err().at_row(7);
    /// assert!(matches!(e, clv::Error::InvalidData { row: Some(7), .. }));
    /// ```
    pub fn at_row(self, row: usize) -> Self {
        match self {
            Error::InvalidData {
                row: None,
                customer,
                field,
                issue,
            } => Error::InvalidData {
                row: Some(row),
                customer,
                field,
                issue,
            },
            Error::Numerical { what } => Error::Numerical {
                what: format!("row {row}: {what}"),
            },
            other => other,
        }
    }

    /// Names the customer a numerical failure happened for (other errors already say what they
    /// are about).
    pub(crate) fn for_customer(self, id: &str) -> Self {
        match self {
            Error::Numerical { what } => Error::Numerical {
                what: format!("{what} (customer {id})"),
            },
            other => other,
        }
    }
}

/// A model parameter: finite and > 0.
pub(crate) fn positive_parameter(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            reason: "must be finite and > 0",
        })
    }
}

/// An option that must be finite and > 0.
pub(crate) fn positive_option(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidOption {
            name,
            reason: format!("must be finite and > 0, got {value}"),
        })
    }
}

/// An option that must be finite and >= 0.
pub(crate) fn nonnegative_option(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidOption {
            name,
            reason: format!("must be finite and >= 0, got {value}"),
        })
    }
}
