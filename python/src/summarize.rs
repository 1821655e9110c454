//! Transaction logs summarised from columns: customers as integer codes (pandas' `factorize`,
//! in order of first appearance), times as nanoseconds since the epoch (`datetime64[ns]`),
//! amounts as floats. The crate's `SummaryBuilder` does the work, so the conventions are
//! exactly `clv summarize`'s.

use crate::errors::{IntoPy, bad_argument};
use chrono::NaiveDateTime;
use clv::{DataIssue, Error, Granularity, SummaryBuilder, SummaryOptions, TimeUnit};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A time unit from its token (`days`, `weeks`, `periods_of_<d>_days`, ...).
pub fn unit_of(text: &str) -> PyResult<TimeUnit> {
    TimeUnit::parse(text).ok_or_else(|| {
        bad_argument(format!(
            "unknown time unit '{text}': use 'days', 'weeks' or 'periods_of_<d>_days'"
        ))
    })
}

/// Days in a time unit, from its token (`days`, `weeks`, `periods_of_<d>_days`, and the
/// short forms `TimeUnit::parse` reads): for the SQL and Spark summaries, which must read a
/// unit as the crate does.
#[pyfunction]
pub fn unit_days(unit: &str) -> PyResult<f64> {
    Ok(unit_of(unit)?.days())
}

/// `datetime64[ns]` as a date-time; NaT (`i64::MIN`) is `None`.
pub fn time_of(ns: i64) -> Option<NaiveDateTime> {
    (ns != i64::MIN).then(|| chrono::DateTime::from_timestamp_nanos(ns).naive_utc())
}

/// Nanoseconds since the epoch of a date-time.
fn ns_of(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_nanos_opt().unwrap_or(i64::MIN)
}

/// A code as decimal text, written into `buf` (reused: no allocation per row) by the crate's
/// number writer (whole numbers below 10^15 as their digits; codes are row counts, far below).
fn code_text(code: i64, buf: &mut Vec<u8>) -> &str {
    buf.clear();
    clv::io::write_number(buf, code as f64);
    std::str::from_utf8(buf).expect("digits")
}

/// What summarising needs besides the columns.
struct Settings {
    options: SummaryOptions,
    skip_missing: bool,
}

/// The result before it becomes Python objects.
struct Out {
    summarized: clv::Summarized,
    missing_customer: usize,
}

fn run(codes: &[i64], times: &[i64], amounts: Option<&[f64]>, s: &Settings) -> clv::Result<Out> {
    let n = codes.len();
    let mut b = SummaryBuilder::new(s.options);
    let mut missing_customer = 0usize;
    let mut buf = Vec::with_capacity(20);
    // each usable row: (row, code, time, amount)
    let row = |i: usize| -> clv::Result<Option<(i64, NaiveDateTime, f64)>> {
        let code = codes[i];
        if code < 0 {
            if s.skip_missing {
                return Ok(None);
            }
            return Err(Error::InvalidData {
                row: Some(i + 1),
                customer: None,
                field: "customer",
                issue: DataIssue::Blank,
            });
        }
        let t = time_of(times[i]).ok_or(Error::InvalidData {
            row: Some(i + 1),
            customer: None,
            field: "date",
            issue: DataIssue::MissingField,
        })?;
        Ok(Some((code, t, amounts.map_or(0.0, |a| a[i]))))
    };
    for i in 0..n {
        match row(i)? {
            Some((code, t, a)) => b.push(i + 1, code_text(code, &mut buf), t, a)?,
            None => missing_customer += 1,
        }
    }
    if b.needs_replay() {
        // customers whose rows are out of time order: their rows again, now collected
        b.begin_replay();
        for i in 0..n {
            if let Some((code, t, a)) = row(i)? {
                b.replay(code_text(code, &mut buf), t, a);
            }
        }
    }
    Ok(Out {
        summarized: b.finish()?,
        missing_customer,
    })
}

fn codes_of(ids: &[String]) -> Vec<i64> {
    ids.iter()
        .map(|id| id.parse::<i64>().expect("codes are written as integers"))
        .collect()
}

/// Summarises transactions given as columns; see the module docs. Returns a dict of arrays
/// (`code`, `frequency`, `recency`, `T`, `litt`, `first_purchase_ns`, `calibration_spend`,
/// and where they apply `monetary_value`, `frequency_holdout`, `monetary_value_holdout`) and
/// scalars (`duration_holdout`, `regularity`, `first_seen_in_holdout`,
/// `transactions_after_end`, `missing_customer`, `last_transaction_ns`).
#[pyfunction]
#[pyo3(signature = (codes, times_ns, amounts, calibration_end_ns, observation_end_ns, unit, granularity, skip_after_end, skip_missing))]
#[allow(clippy::too_many_arguments)]
pub fn summarize_codes<'py>(
    py: Python<'py>,
    codes: PyReadonlyArray1<'py, i64>,
    times_ns: PyReadonlyArray1<'py, i64>,
    amounts: Option<PyReadonlyArray1<'py, f64>>,
    calibration_end_ns: i64,
    observation_end_ns: Option<i64>,
    unit: &str,
    granularity: &str,
    skip_after_end: bool,
    skip_missing: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (codes, times) = (codes.as_slice()?, times_ns.as_slice()?);
    let amounts = match &amounts {
        Some(a) => Some(a.as_slice()?),
        None => None,
    };
    if times.len() != codes.len() || amounts.is_some_and(|a| a.len() != codes.len()) {
        return Err(bad_argument("the columns differ in length"));
    }
    let granularity = match granularity {
        "day" => Granularity::Day,
        "hour" => Granularity::Hour,
        "exact" => Granularity::Exact,
        other => {
            return Err(bad_argument(format!(
                "unknown granularity '{other}': use 'day', 'hour' or 'exact'"
            )));
        }
    };
    let end = time_of(calibration_end_ns).ok_or_else(|| bad_argument("calibration_end is NaT"))?;
    let mut options = SummaryOptions::new(end, unit_of(unit)?).with_granularity(granularity);
    if let Some(o) = observation_end_ns {
        let o = time_of(o).ok_or_else(|| bad_argument("observation_end is NaT"))?;
        options = options.with_observation_end(o).py()?;
    }
    if skip_after_end {
        options = options.skipping_lines_after_end();
    }
    let settings = Settings {
        options,
        skip_missing,
    };
    let out = py.detach(|| run(codes, times, amounts, &settings)).py()?;
    let Out {
        summarized,
        missing_customer,
    } = out;
    let s = &summarized.summary;
    let d = PyDict::new(py);
    d.set_item("code", PyArray1::from_vec(py, codes_of(s.ids())))?;
    d.set_item("frequency", PyArray1::from_slice(py, s.frequency()))?;
    d.set_item("recency", PyArray1::from_slice(py, s.recency()))?;
    d.set_item("T", PyArray1::from_slice(py, s.age()))?;
    if amounts.is_some()
        && let Some(m) = s.monetary_value()
    {
        d.set_item("monetary_value", PyArray1::from_slice(py, m))?;
    }
    if let Some(l) = s.litt() {
        d.set_item("litt", PyArray1::from_slice(py, l))?;
    }
    match s.holdout() {
        Some(h) => {
            d.set_item("frequency_holdout", PyArray1::from_slice(py, &h.frequency))?;
            if amounts.is_some() {
                d.set_item(
                    "monetary_value_holdout",
                    PyArray1::from_slice(py, &h.monetary_value),
                )?;
            }
            d.set_item("duration_holdout", h.duration)?;
        }
        None => d.set_item("duration_holdout", py.None())?,
    }
    let h = &summarized.history;
    d.set_item(
        "first_purchase_ns",
        PyArray1::from_vec(py, h.first_purchase.iter().map(|&t| ns_of(t)).collect()),
    )?;
    d.set_item(
        "calibration_spend",
        PyArray1::from_slice(py, &h.calibration_spend),
    )?;
    d.set_item(
        "first_seen_in_holdout",
        PyArray1::from_vec(py, codes_of(&summarized.first_seen_in_holdout)),
    )?;
    d.set_item(
        "regularity",
        summarized
            .regularity
            .map(|r| (r.k, r.interval.0, r.interval.1, r.customers)),
    )?;
    d.set_item("transactions_after_end", summarized.transactions_after_end)?;
    d.set_item("missing_customer", missing_customer)?;
    d.set_item(
        "last_transaction_ns",
        summarized.last_transaction.map(ns_of),
    )?;
    Ok(d)
}

/// Σ ln(v) over consecutive groups of `values` (`lengths[i]` values each), each sum a left
/// fold from 0 in the given order, as the summariser adds litt's terms: what Spark's `ln`
/// (Java's StrictMath, fdlibm) can round differently in the last bit.
#[pyfunction]
pub fn log_sums<'py>(
    py: Python<'py>,
    values: PyReadonlyArray1<'py, f64>,
    lengths: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (v, lengths) = (values.as_slice()?, lengths.as_slice()?);
    let mut out = Vec::with_capacity(lengths.len());
    let mut at = 0usize;
    for &n in lengths {
        let n = usize::try_from(n).map_err(|_| bad_argument("negative group length"))?;
        let group = v
            .get(at..at + n)
            .ok_or_else(|| bad_argument("the group lengths add up to more than the values"))?;
        out.push(group.iter().fold(0.0, |acc: f64, &g| acc + g.ln()));
        at += n;
    }
    Ok(PyArray1::from_vec(py, out))
}
