//! Reading RFM summaries and transaction logs from delimited text (feature `csv`, on by
//! default).

use super::dates::DateParser;
use super::line_guard::{LineGuard, from_csv, from_io};
use super::time::Stamp;
use super::{RfmSummary, SummaryBuilder, TimeUnit};
use crate::error::{DataIssue, Error, Result};
use chrono::NaiveDateTime;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub use super::line_guard::MAX_LINE_BYTES;
pub use super::numfmt::{format_number, write_csv_field, write_number};

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
        source: Some(crate::error::IoSource::new(e)),
    }
}

fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    open_input(path)
}

/// Opens a file for reading, decompressing gzip and zstd transparently: a file that starts
/// with the gzip magic bytes (1f 8b) or zstd's (28 b5 2f fd) is read through a decoder,
/// whatever its name (a `.csv.gz`, a `.csv.zst` or a renamed one); anything else as it is.
/// Every reader of this module opens files this way.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or its first bytes cannot be read.
pub fn open_input(path: impl AsRef<Path>) -> Result<Box<dyn Read + Send>> {
    use std::io::{Seek, SeekFrom};
    let path = path.as_ref();
    let mut f = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match f.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(path, e)),
        }
    }
    f.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    if got >= 2 && magic[..2] == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::new(f),
        )))
    } else if got == 4 && magic == super::zstd::MAGIC {
        Ok(Box::new(super::zstd::ZstdFrames::new(
            std::io::BufReader::new(f),
        )))
    } else {
        Ok(Box::new(f))
    }
}

pub(crate) fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h.trim() == *n))
}

pub(crate) fn require(header: &[String], names: &[&str]) -> Result<usize> {
    find(header, names).ok_or_else(|| Error::MissingColumn {
        wanted: names.join("|"),
        found: header.to_vec(),
    })
}

/// The header of a CSV reader, BOM and blanks trimmed; an empty file is [`Error::EmptyData`].
fn csv_header<R: Read>(rdr: &mut csv::Reader<R>, what: &str) -> Result<Vec<String>> {
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| from_csv(&e, what, None, |_| "header"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::EmptyData("the file is empty (no header line)"));
    }
    Ok(header)
}

fn parse_f64(text: &str, row: usize, customer: &str, field: &'static str) -> Result<f64> {
    super::numfmt::read_number(super::trim(text).as_bytes()).ok_or_else(|| Error::InvalidData {
        row: Some(row),
        customer: Some(customer.to_string()),
        field,
        issue: DataIssue::Unparseable {
            text: text.to_string(),
            expected: "a number".into(),
        },
    })
}

/// The customer id of a summary record: column `ci` (a blank one is an error), or the row
/// number when the file has no id column.
fn record_id(rec: &csv::StringRecord, ci: Option<usize>, row: usize) -> Result<String> {
    match ci {
        Some(j) => {
            let id = rec.get(j).unwrap_or("").trim();
            if id.is_empty() {
                return Err(Error::InvalidData {
                    row: Some(row),
                    customer: None,
                    field: "customer_id",
                    issue: DataIssue::Blank,
                });
            }
            Ok(id.to_string())
        }
        None => Ok(row.to_string()),
    }
}

/// Field `j` of a record as a number, errors naming the row, customer and field.
fn record_f64(
    rec: &csv::StringRecord,
    j: usize,
    row: usize,
    id: &str,
    name: &'static str,
) -> Result<f64> {
    let text = rec.get(j).ok_or_else(|| Error::InvalidData {
        row: Some(row),
        customer: Some(id.to_string()),
        field: name,
        issue: DataIssue::MissingField,
    })?;
    parse_f64(text, row, id, name)
}

/// The time unit a summary file is read in. A file written by `clv summarize` records its unit
/// in a `time_unit` column (the same token on every row, see [`TimeUnit::token`]); a file from
/// elsewhere usually records none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SummaryUnit {
    /// The file must be in this unit: one that records another is an
    /// [`Error::UnitMismatch`]; one that records none is read in it.
    Expect(TimeUnit),
    /// The unit the file records, or this one when it records none.
    RecordedOr(TimeUnit),
}

impl From<TimeUnit> for SummaryUnit {
    fn from(u: TimeUnit) -> Self {
        SummaryUnit::Expect(u)
    }
}

/// Reads a lifetimes-style RFM summary CSV from a file. See [`read_summary`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened (with the operating system's error); otherwise
/// as [`read_summary`].
pub fn read_summary_csv(
    path: impl AsRef<Path>,
    unit: impl Into<SummaryUnit>,
) -> Result<RfmSummary> {
    read_summary_csv_noting_unit(path, unit).map(|(s, _)| s)
}

/// [`read_summary_csv`], also returning the unit the file records in its `time_unit` column
/// (`None` when it has none, and the summary is in the unit `unit` gives): for a caller that
/// tells its user when a foreign file was read in an assumed unit.
///
/// ```
/// use clv::{io::{read_summary_csv_noting_unit, SummaryUnit}, TimeUnit};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let (s, recorded) = read_summary_csv_noting_unit(path, SummaryUnit::RecordedOr(TimeUnit::Weeks))?;
/// assert_eq!((s.unit(), recorded), (TimeUnit::Weeks, None));
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`read_summary_csv`].
pub fn read_summary_csv_noting_unit(
    path: impl AsRef<Path>,
    unit: impl Into<SummaryUnit>,
) -> Result<(RfmSummary, Option<TimeUnit>)> {
    let path = path.as_ref();
    read_summary_noting_unit(open(path)?, unit.into()).map_err(|e| with_path(path, e))
}

/// Names the file in an I/O error raised while reading it.
fn with_path(path: &Path, e: Error) -> Error {
    match e {
        Error::Io {
            message, source, ..
        } => Error::Io {
            path: path.display().to_string(),
            message,
            source,
        },
        other => other,
    }
}

/// Reads an RFM summary from CSV text with a header.
///
/// Columns (any order, extra columns ignored): `frequency` (or BTYD's `x`, lifetimes'
/// `frequency_cal`), `recency` (`t_x`, `recency_cal`), `T` (`t`, `T_cal`); optional
/// `monetary_value` (`zbar`, `m_x`, `monetary_value_cal`), an id column (`customer_id`, `ID`,
/// `id`, `cust`; otherwise the row number), `litt` (the sum of log inter-purchase times, for
/// the Erlang-k models), the holdout columns `frequency_holdout`,
/// `monetary_value_holdout`, `duration_holdout`, and `time_unit` (the unit the times are in, as
/// `clv summarize` records it; see [`SummaryUnit`] for how it is checked against `unit`, which
/// may be a plain [`TimeUnit`] to expect). A UTF-8 BOM, CRLF line ends and quoted fields
/// are accepted. Every row is validated; the first invalid one is reported by row, customer and
/// field (a blank customer id, invalid UTF-8 and a line over [`MAX_LINE_BYTES`] included).
///
/// ```
/// use clv::{io::read_summary, TimeUnit};
/// let text = "ID,x,t_x,T\n1,2,30.43,38.86\n2,0,0,38.86\n";
/// let s = read_summary(text.as_bytes(), TimeUnit::Weeks).unwrap();
/// assert_eq!(s.ids(), &["1", "2"]);
/// let bad = "frequency,recency,T\n0,3,38\n";
/// let err = read_summary(bad.as_bytes(), TimeUnit::Weeks).unwrap_err();
/// assert_eq!(err.to_string(), "row 1 (customer 1): recency recency is 3 > 0 but frequency is 0 (recency must be 0 without repeat purchases)");
/// // a summary that records its unit is read in it, and refused where another is expected
/// use clv::io::SummaryUnit;
/// let days = "customer_id,frequency,recency,T,time_unit\na,1,3,10,days\n";
/// let s = read_summary(days.as_bytes(), SummaryUnit::RecordedOr(TimeUnit::Weeks)).unwrap();
/// assert_eq!(s.unit(), TimeUnit::Days);
/// assert!(matches!(read_summary(days.as_bytes(), TimeUnit::Weeks), Err(clv::Error::UnitMismatch { .. })));
/// // lifetimes' calibration_and_holdout_data output, as it is
/// let lt = "customer_id,frequency_cal,recency_cal,T_cal,monetary_value_cal,frequency_holdout,\
///           monetary_value_holdout,duration_holdout\nx,2,30.0,38.0,20.5,1,26.0,39\n";
/// let s = read_summary(lt.as_bytes(), TimeUnit::Weeks).unwrap();
/// assert_eq!((s.frequency()[0], s.holdout().unwrap().frequency[0]), (2.0, 1.0));
/// ```
///
/// # Errors
/// [`Error::MissingColumn`], [`Error::EmptyData`], [`Error::InvalidData`] naming the row,
/// customer and field of the first invalid value, [`Error::UnitMismatch`] for a recorded unit
/// other than the one expected.
pub fn read_summary(reader: impl Read, unit: impl Into<SummaryUnit>) -> Result<RfmSummary> {
    read_summary_noting_unit(reader, unit.into()).map(|(s, _)| s)
}

/// [`read_summary`] with the unit the file records, if any.
fn read_summary_noting_unit(
    reader: impl Read,
    unit: SummaryUnit,
) -> Result<(RfmSummary, Option<TimeUnit>)> {
    super::summary_csv::read_all(reader, unit)
}

/// Reads only the customers' histories `(x, t_x, T)` of a summary CSV, compressed to the
/// distinct rows with their counts: what the fits of BG/NBD, Pareto/NBD, MBG/NBD, NBD and
/// GGom/NBD iterate over ([`crate::fit::fit_compressed`]), in about 24 bytes per customer at
/// the peak instead of a whole [`RfmSummary`] with its ids. Also returns the unit the times
/// are in and the unit the file records (`None` when it records none).
///
/// Every row is validated as [`read_summary`] validates it, duplicate ids included, with the
/// same errors (a suspected duplicate id is confirmed by reading the file again with
/// [`read_summary_csv`], which names both rows).
///
/// ```
/// use clv::{io::{read_summary_compressed, SummaryUnit}, TimeUnit};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let (c, unit, recorded) = read_summary_compressed(path, SummaryUnit::RecordedOr(TimeUnit::Weeks))?;
/// assert_eq!((c.total_weight(), c.len(), unit, recorded), (2357.0, 1016, TimeUnit::Weeks, None));
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`read_summary_csv`].
pub fn read_summary_compressed(
    path: impl AsRef<Path>,
    unit: impl Into<SummaryUnit>,
) -> Result<(crate::CompressedRfm, TimeUnit, Option<TimeUnit>)> {
    use super::summary_csv::{DuplicateCheck, read_compressed};
    let path = path.as_ref();
    let unit = unit.into();
    // plain text: about 30 bytes a row at the least; a compressed file gives no hint
    let hint = std::fs::metadata(path)
        .map(|m| (m.len() / 30) as usize)
        .unwrap_or(0);
    let input = open(path)?;
    let hint = if input_is_plain(path) { hint } else { 0 };
    let (c, read_unit, recorded, check) =
        read_compressed(input, unit, hint).map_err(|e| with_path(path, e))?;
    if check == DuplicateCheck::Suspect {
        // the exact check names the rows; a hash collision between distinct ids passes it
        read_summary_csv(path, unit)?;
    }
    Ok((c, read_unit, recorded))
}

/// Reads a summary CSV in chunks of whole rows (about 1 MiB of text each) on all cores:
/// `work` runs on each chunk (a summary of its own, validated as [`read_summary`] validates)
/// in parallel, and `consume` (on a thread of its own) gets the results in file order. For scoring files larger than
/// memory: a few chunks are in flight at a time, whatever the file's size. Returns the number
/// of customers and the unit the file records (`None` when it records none; the chunks are
/// then in the unit `unit` gives).
///
/// Rows are numbered in errors as in the whole file. Holdout durations and units must agree
/// across chunks, as across rows. Duplicate ids are found across chunks too, but only at the
/// end (every chunk may have been consumed by then): a caller that writes as it consumes
/// should write to a temporary file and keep it only on success.
///
/// ```
/// use clv::{io::{for_each_summary_chunk, SummaryUnit}, TimeUnit};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let mut repeaters = 0;
/// let (n, _) = for_each_summary_chunk(
///     path,
///     SummaryUnit::RecordedOr(TimeUnit::Weeks),
///     |chunk| Ok(chunk.frequency().iter().filter(|&&x| x > 0.0).count()),
///     |k| { repeaters += k; Ok(()) },
/// )?;
/// assert_eq!((n, repeaters), (2357, 946));
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`read_summary_csv`], and the errors of `work` and `consume` (the first in file order).
pub fn for_each_summary_chunk<T: Send>(
    path: impl AsRef<Path>,
    unit: impl Into<SummaryUnit>,
    work: impl Fn(&RfmSummary) -> Result<T> + Sync + Send,
    consume: impl FnMut(T) -> Result<()> + Send,
) -> Result<(usize, Option<TimeUnit>)> {
    use super::summary_csv::{DuplicateCheck, for_each_chunk};
    let path = path.as_ref();
    let unit = unit.into();
    let (n, recorded, check) =
        for_each_chunk(open(path)?, unit, work, consume).map_err(|e| with_path(path, e))?;
    if check == DuplicateCheck::Suspect {
        read_summary_csv(path, unit)?;
    }
    Ok((n, recorded))
}

/// Writes a summary as CSV, the format [`read_summary`] reads and `clv summarize` writes:
/// `customer_id,frequency,recency,T`, then `monetary_value`, `litt` and the holdout columns
/// (`frequency_holdout,monetary_value_holdout,duration_holdout`) where the summary has them,
/// and `time_unit`. Numbers in their shortest round-tripping form ([`write_number`]), so the
/// file reads back to the same summary bit for bit. Rows are formatted on all cores in chunks
/// and written in order through a temporary file in the same folder, renamed into place at
/// the end (a failed write leaves no partial file).
///
/// ```
/// use clv::{io::{read_summary_csv, write_summary_csv, SummaryUnit}, TimeUnit};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/cdnow_customers_summary.csv");
/// let s = read_summary_csv(path, TimeUnit::Weeks)?;
/// let out = std::env::temp_dir().join(format!("clv-doc-write-{}.csv", std::process::id()));
/// write_summary_csv(&out, &s)?;
/// assert_eq!(read_summary_csv(&out, TimeUnit::Weeks)?, s);
/// # std::fs::remove_file(&out).unwrap();
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] naming the file when it cannot be written.
pub fn write_summary_csv(path: impl AsRef<Path>, summary: &RfmSummary) -> Result<()> {
    use std::io::Write;
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::Io {
        path: path.display().to_string(),
        message: "not a file path".into(),
        source: None,
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut header = String::from("customer_id,frequency,recency,T");
        if summary.monetary_value().is_some() {
            header.push_str(",monetary_value");
        }
        if summary.litt().is_some() {
            header.push_str(",litt");
        }
        if summary.holdout().is_some() {
            header.push_str(",frequency_holdout,monetary_value_holdout,duration_holdout");
        }
        header.push_str(",time_unit\n");
        w.write_all(header.as_bytes())
            .map_err(|e| io_error(&tmp, e))?;
        let unit = summary.unit().token();
        // the holdout duration is the same on every row: written once
        let duration = summary.holdout().map(|h| {
            let mut d = Vec::new();
            write_number(&mut d, h.duration);
            d
        });
        const ROWS: usize = 1 << 14;
        let chunks = summary.len().div_ceil(ROWS);
        let mut k = 0usize;
        let next = || -> Result<Option<usize>> {
            k += 1;
            Ok((k <= chunks).then_some(k - 1))
        };
        // written chunks' buffers, for the next chunks (no fresh pages for every chunk)
        let spares: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
        let format = |c: usize| -> Vec<u8> {
            let mut out = spares
                .lock()
                .ok()
                .and_then(|mut v| v.pop())
                .unwrap_or_else(|| Vec::with_capacity(ROWS * 120));
            out.clear();
            // recency and T repeat (whole days, weeks, periods): their texts are kept
            let mut times = super::numfmt::NumberCache::new();
            for i in c * ROWS..((c + 1) * ROWS).min(summary.len()) {
                write_csv_field(&mut out, &summary.ids()[i]);
                out.push(b',');
                write_number(&mut out, summary.frequency()[i]);
                out.push(b',');
                times.write(&mut out, summary.recency()[i]);
                out.push(b',');
                times.write(&mut out, summary.age()[i]);
                let mut num = |v: f64| {
                    out.push(b',');
                    write_number(&mut out, v);
                };
                if let Some(m) = summary.monetary_value() {
                    num(m[i]);
                }
                if let Some(l) = summary.litt() {
                    num(l[i]);
                }
                if let Some(h) = summary.holdout() {
                    num(h.frequency[i]);
                    num(h.monetary_value[i]);
                }
                if let Some(d) = &duration {
                    out.push(b',');
                    out.extend_from_slice(d);
                }
                out.push(b',');
                out.extend_from_slice(unit.as_bytes());
                out.push(b'\n');
            }
            out
        };
        crate::par::pipeline(next, 2 * crate::par::threads(), format, |bytes| {
            w.write_all(&bytes).map_err(|e| io_error(&tmp, e))?;
            if let Ok(mut v) = spares.lock() {
                v.push(bytes);
            }
            Ok(())
        })?;
        w.flush().map_err(|e| io_error(&tmp, e))
    })();
    match written {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_error(path, e)
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Whether the file at `path` is read as it is (not through a decompressor).
fn input_is_plain(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut magic).unwrap_or(0);
    !(n >= 2 && magic[..2] == [0x1f, 0x8b] || n == 4 && magic == super::zstd::MAGIC)
}

/// Which column of a transaction file holds a field: by header name, or by 1-based position
/// (for files without a header, such as the CDNOW `.txt` logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Header name.
    Name(String),
    /// 1-based position.
    Position(usize),
}

impl Column {
    fn resolve(&self, header: Option<&[String]>) -> Result<usize> {
        match (self, header) {
            (Column::Position(p), _) if *p >= 1 => Ok(p - 1),
            (Column::Name(n), Some(h)) => require(h, &[n.as_str()]),
            (c, h) => Err(Error::InvalidOption {
                name: "column",
                reason: match h {
                    None => format!("{c:?} needs a header; use a 1-based position"),
                    Some(_) => format!("{c:?} is not a valid column (positions start at 1)"),
                },
            }),
        }
    }
}

/// Field separator of a transaction file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// A single byte, e.g. `b','`.
    Byte(u8),
    /// Runs of spaces or tabs (leading blanks ignored), as in the CDNOW `.txt` files.
    Whitespace,
}

/// What to do with a line whose amount is negative (a return or a cancellation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Returns {
    /// Stop with an error naming the first such line and counting them all (the default:
    /// nothing is dropped unless asked).
    #[default]
    Error,
    /// Leave such lines out (counted in [`LineCounts::returns_dropped`]). A dropped return
    /// leaves the purchase it undoes in: use [`Net`](Self::Net) for cancelled orders.
    Drop,
    /// Subtract each return from the purchase it undoes (same invoice, else the same day,
    /// else the latest earlier purchase of the customer); a purchase netted to zero or below
    /// is no purchase. The exact rules are in [`crate::data::returns`]'s docs, repeated in
    /// `docs/cli.md`. Holds every line in memory until the end of the file.
    Net,
}

/// Lines a reader used or left out, by reason: the data-quality account of a run. `read` is
/// `used` plus every reason a line was left out ([`left_out`](Self::left_out)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LineCounts {
    /// Data lines read.
    pub read: usize,
    /// Lines passed on (to the summariser).
    pub used: usize,
    /// Lines without a customer id, skipped with [`TransactionFormat::skip_missing_customer`].
    pub missing_customer: usize,
    /// Lines with a negative amount, dropped with [`Returns::Drop`].
    pub returns_dropped: usize,
    /// Lines with an amount of exactly 0 (free items, zero prices), dropped with
    /// [`TransactionFormat::drop_zero_amounts`].
    pub zero_dropped: usize,
    /// Return lines subtracted from a purchase ([`Returns::Net`]); not used themselves.
    pub returns_netted: usize,
    /// Return lines with no purchase to net against ([`Returns::Net`]), left out.
    pub returns_unmatched: usize,
    /// Purchase lines left out because returns netted their purchase to zero or below
    /// ([`Returns::Net`]).
    pub netted_out: usize,
    /// Purchases whose amount returns lowered but left above zero ([`Returns::Net`]): their
    /// lines are used, with a changed amount (counted in purchases, not lines).
    pub purchases_reduced: usize,
    /// Lines dated after the summary's last day (the observation end, else the calibration
    /// end), skipped when the options ask for it
    /// ([`SummaryOptions::skipping_lines_after_end`](crate::SummaryOptions::skipping_lines_after_end)).
    pub after_end: usize,
}

impl LineCounts {
    /// Lines left out, all reasons together: `read − used`.
    pub fn left_out(&self) -> usize {
        self.missing_customer
            + self.returns_dropped
            + self.zero_dropped
            + self.returns_netted
            + self.returns_unmatched
            + self.netted_out
            + self.after_end
    }
}

/// The account in words, reasons with a count of zero left out: "1000 lines read, 900 used;
/// left out: 60 without a customer id, 40 returns netted against their purchase".
impl std::fmt::Display for LineCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} lines read, {} used", self.read, self.used)?;
        let reasons = [
            (self.missing_customer, "without a customer id"),
            (self.returns_dropped, "with a negative amount (dropped)"),
            (self.returns_netted, "returns netted against their purchase"),
            (
                self.returns_unmatched,
                "returns with no purchase to net against",
            ),
            (self.netted_out, "in purchases returns netted to zero"),
            (self.zero_dropped, "with a zero amount"),
            (self.after_end, "dated after the summary's end"),
        ];
        let mut first = true;
        for (n, why) in reasons.iter().filter(|r| r.0 > 0) {
            write!(f, "{}{n} {why}", if first { "; left out: " } else { ", " })?;
            first = false;
        }
        if self.purchases_reduced > 0 {
            let n = self.purchases_reduced;
            let s = if n == 1 { "" } else { "s" };
            write!(f, "; {n} purchase{s} lowered by returns")?;
        }
        Ok(())
    }
}

/// Layout of a transaction file.
///
/// ```
/// use clv::io::{TransactionFormat, Column};
/// let f = TransactionFormat::csv("id", "date", None);
/// assert_eq!(f.customer, Column::Name("id".into()));
/// let cdnow = TransactionFormat::cdnow_sample();
/// assert!(!cdnow.has_header);
/// // invoice lines: the amount of a line is quantity × unit price
/// use clv::io::read_transactions_from;
/// use clv::{SummaryBuilder, SummaryOptions, TimeUnit};
/// let text = "id,date,qty,price\na,2024-01-01,2,5.0\na,2024-01-08,3,2.5\n";
/// let mut lines = TransactionFormat::csv("id", "date", Some("price"));
/// lines.quantity = Some(Column::Name("qty".into()));
/// let end = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
/// let mut b = SummaryBuilder::new(SummaryOptions::new(end, TimeUnit::Days));
/// read_transactions_from(text.as_bytes(), &lines, &mut b)?;
/// let s = b.finish()?.summary;
/// assert_eq!(s.monetary_value().unwrap(), &[7.5]); // the repeat purchase: 3 × 2.5
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionFormat {
    /// Customer id column.
    pub customer: Column,
    /// Date or date-time column.
    pub date: Column,
    /// Amount column; without one every transaction has amount 0. With [`quantity`](Self::quantity)
    /// it is the unit price.
    pub amount: Option<Column>,
    /// Quantity column: when set, a line's amount is quantity × the amount column (a unit
    /// price), as in invoice-line exports (`Quantity`, `Price`).
    pub quantity: Option<Column>,
    /// Invoice (order) column: lines of one invoice are one purchase when netting returns
    /// ([`Returns::Net`]), and [`cancel_prefix`](Self::cancel_prefix) looks at it.
    pub invoice: Option<Column>,
    /// Invoices starting with this text are cancellations (`C` in many retail exports): their
    /// lines are returns whatever the sign of their amount, handled by
    /// [`returns`](Self::returns). Needs [`invoice`](Self::invoice).
    pub cancel_prefix: Option<String>,
    /// Skip (and count) lines without a customer id instead of stopping at the first.
    pub skip_missing_customer: bool,
    /// What to do with negative amounts.
    pub returns: Returns,
    /// Leave out (and count) lines whose amount is exactly 0 instead of counting them as
    /// purchases (a zero-price line is often a free item, not a purchase occasion). Ignored
    /// without an amount column.
    pub drop_zero_amounts: bool,
    /// Numbers use a decimal comma (`12,50`; a `.` is then a thousands separator and dropped:
    /// `1.234,50` is 1234.5), as in many European exports.
    pub decimal_comma: bool,
    /// chrono format string (`%Y%m%d`, `%Y-%m-%d %H:%M:%S`, ...); `None` tries the common ones.
    pub date_format: Option<String>,
    /// Field separator.
    pub delimiter: Delimiter,
    /// Whether the first line is a header.
    pub has_header: bool,
}

impl TransactionFormat {
    /// A comma-separated file with a header and the named columns.
    pub fn csv(customer: &str, date: &str, amount: Option<&str>) -> Self {
        TransactionFormat {
            customer: Column::Name(customer.into()),
            date: Column::Name(date.into()),
            amount: amount.map(|a| Column::Name(a.into())),
            quantity: None,
            invoice: None,
            cancel_prefix: None,
            skip_missing_customer: false,
            returns: Returns::Error,
            drop_zero_amounts: false,
            decimal_comma: false,
            date_format: None,
            delimiter: Delimiter::Byte(b','),
            has_header: true,
        }
    }

    /// `CDNOW_sample.txt`: no header, blanks between fields, columns master id, sample id,
    /// date (`%Y%m%d`), number of CDs, dollar value; the sample id (column 2) is the customer.
    pub fn cdnow_sample() -> Self {
        TransactionFormat {
            customer: Column::Position(2),
            date: Column::Position(3),
            amount: Some(Column::Position(5)),
            quantity: None,
            invoice: None,
            cancel_prefix: None,
            skip_missing_customer: false,
            returns: Returns::Error,
            drop_zero_amounts: false,
            decimal_comma: false,
            date_format: Some("%Y%m%d".into()),
            delimiter: Delimiter::Whitespace,
            has_header: false,
        }
    }

    /// `CDNOW_master.txt`: a header line, blanks between fields, columns customer id, date,
    /// number of CDs, dollar value.
    pub fn cdnow_master() -> Self {
        TransactionFormat {
            customer: Column::Position(1),
            date: Column::Position(2),
            amount: Some(Column::Position(4)),
            quantity: None,
            invoice: None,
            cancel_prefix: None,
            skip_missing_customer: false,
            returns: Returns::Error,
            drop_zero_amounts: false,
            decimal_comma: false,
            date_format: Some("%Y%m%d".into()),
            delimiter: Delimiter::Whitespace,
            has_header: true,
        }
    }
}

/// Parses a date or date-time with `format`, or with the common unambiguous formats
/// (ISO 8601 dates and date-times, `YYYYMMDD`, `YYYY/MM/DD`) when `format` is `None`.
///
/// ```
/// use clv::io::parse_datetime;
/// assert_eq!(parse_datetime("1997-01-01", None).unwrap().to_string(), "1997-01-01 00:00:00");
/// assert_eq!(parse_datetime("19970101", None).unwrap().to_string(), "1997-01-01 00:00:00");
/// assert!(parse_datetime("01/02/1997", None).is_none()); // ambiguous: give a format
/// assert!(parse_datetime("01/02/1997", Some("%d/%m/%Y")).is_some());
/// ```
pub fn parse_datetime(text: &str, format: Option<&str>) -> Option<NaiveDateTime> {
    DateParser::new(format).parse(text)
}

/// Streams a transaction file into a [`SummaryBuilder`]; returns the number of data rows read.
/// Fails on the first invalid row (unparseable date or amount, negative amount, a date after the
/// observation end...), naming the row, customer and field. When some customer's transactions
/// are out of time order, the file is read a second time for those customers only (see
/// [`SummaryBuilder`]): memory stays proportional to the customers for time-sorted logs.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; otherwise as [`read_transactions_from`].
pub fn read_transactions_into(
    path: impl AsRef<Path>,
    format: &TransactionFormat,
    builder: &mut SummaryBuilder,
) -> Result<usize> {
    read_transactions_counted(path, format, builder).map(|c| c.read)
}

/// [`read_transactions_into`] with the data-quality account: lines read, used, and skipped by
/// reason under the format's policies ([`TransactionFormat::skip_missing_customer`],
/// [`TransactionFormat::returns`]); `read` = `used` + the skips.
///
/// ```
/// use clv::io::{read_transactions_counted, Returns, TransactionFormat};
/// use clv::{SummaryBuilder, SummaryOptions, TimeUnit};
/// let dir = std::env::temp_dir().join(format!("clv-doc-counted-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("log.csv");
/// std::fs::write(&path, "id,date,amount\na,2024-01-01,10\n,2024-01-02,5\na,2024-01-03,-10\na,2024-01-09,4\n").unwrap();
/// let mut f = TransactionFormat::csv("id", "date", Some("amount"));
/// let end = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
/// let mut b = SummaryBuilder::new(SummaryOptions::new(end, TimeUnit::Days));
/// // by default the first missing id or negative amount stops the run
/// assert!(read_transactions_counted(&path, &f, &mut b).is_err());
/// f.skip_missing_customer = true;
/// f.returns = Returns::Drop;
/// let mut b = SummaryBuilder::new(SummaryOptions::new(end, TimeUnit::Days));
/// let c = read_transactions_counted(&path, &f, &mut b)?;
/// assert_eq!((c.read, c.used, c.missing_customer, c.returns_dropped), (4, 2, 1, 1));
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`read_transactions_into`]; with [`Returns::Error`], a negative amount is reported with
/// the number of lines that have one.
pub fn read_transactions_counted(
    path: impl AsRef<Path>,
    format: &TransactionFormat,
    builder: &mut SummaryBuilder,
) -> Result<LineCounts> {
    let path = path.as_ref();
    let with_path = |e| with_path(path, e);
    let late = Late::after_end(builder.options());
    let parallel = match format.delimiter {
        Delimiter::Byte(d) if format.returns != Returns::Net && builder.is_fresh() => {
            (crate::par::threads() > 1).then_some(d)
        }
        _ => None,
    };
    let rows = match parallel {
        // blocks parsed on all cores, customers summarised in shards (netting needs the
        // whole log in order, and a builder that already holds customers takes rows one by
        // one)
        Some(d) => super::log_blocks::summarize_blocks(open(path)?, format, d, builder),
        None => parse_rows_counted(
            open(path)?,
            format,
            late,
            &mut |row, customer, time, amount| builder.push(row, customer, time, amount),
        ),
    }
    .map_err(with_path)?;
    if builder.needs_replay() {
        builder.begin_replay();
        parse_rows_counted(
            open(path)?,
            format,
            late,
            &mut |_, customer, time, amount| {
                builder.replay(customer, time, amount);
                Ok(())
            },
        )
        .map_err(with_path)?;
    }
    Ok(rows)
}

/// Calls `f(row, customer, time, amount)` for every data row of a transaction file, in file
/// order, after the same parsing and validation of fields as [`read_transactions_into`]
/// (dates, amounts, blank ids); stops at the first error, `f`'s included. Returns the number
/// of rows. For consumers other than the summariser, e.g. the tracking diagnostics.
///
/// ```
/// use clv::io::{for_each_transaction, TransactionFormat};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
/// let mut total = 0.0;
/// let rows = for_each_transaction(path, &TransactionFormat::cdnow_sample(), |_, _, _, amount| {
///     total += amount;
///     Ok(())
/// }).unwrap();
/// assert_eq!(rows, 6919);
/// assert!(total > 0.0);
/// ```
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; a typed error naming the row and field of the
/// first unreadable record; any error `f` returns.
pub fn for_each_transaction(
    path: impl AsRef<Path>,
    format: &TransactionFormat,
    f: impl FnMut(usize, &str, NaiveDateTime, f64) -> Result<()>,
) -> Result<usize> {
    for_each_transaction_counted(path, format, f).map(|c| c.read)
}

/// [`for_each_transaction`] with the account of the lines used and left out under the
/// format's policies (as [`read_transactions_counted`]): `f` sees the used lines only.
///
/// # Errors
/// As [`for_each_transaction`].
pub fn for_each_transaction_counted(
    path: impl AsRef<Path>,
    format: &TransactionFormat,
    mut f: impl FnMut(usize, &str, NaiveDateTime, f64) -> Result<()>,
) -> Result<LineCounts> {
    let path = path.as_ref();
    parse_rows_counted(open(path)?, format, Late::Never, &mut f).map_err(|e| with_path(path, e))
}

/// [`for_each_transaction_counted`] for a window: lines for which `is_late` holds (dated after
/// the window's end) are skipped before any policy applies — a late return nets nothing — and
/// counted in [`LineCounts::after_end`].
///
/// ```
/// use clv::io::{for_each_transaction_until, TransactionFormat};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
/// let end = chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
/// let c = for_each_transaction_until(path, &TransactionFormat::cdnow_sample(),
///     |t| t.date() > end, |_, _, _, _| Ok(()))?;
/// assert_eq!(c.read, 6919);
/// assert_eq!(c.used + c.after_end, c.read);
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// As [`for_each_transaction`].
pub fn for_each_transaction_until(
    path: impl AsRef<Path>,
    format: &TransactionFormat,
    is_late: impl Fn(NaiveDateTime) -> bool,
    mut f: impl FnMut(usize, &str, NaiveDateTime, f64) -> Result<()>,
) -> Result<LineCounts> {
    let path = path.as_ref();
    let late = |s: Stamp| is_late(s.time());
    parse_rows_counted(open(path)?, format, Late::By(&late), &mut f).map_err(|e| with_path(path, e))
}

/// [`read_transactions_into`] from any reader, in one pass: a log whose transactions are out
/// of time order needs a builder made with [`SummaryBuilder::keep_all`] (or a second pass
/// through [`SummaryBuilder::replay`]).
///
/// ```
/// use clv::io::{read_transactions_from, TransactionFormat};
/// use clv::{SummaryBuilder, SummaryOptions, TimeUnit};
/// use chrono::NaiveDate;
/// let text = "id,date,amount\na,2024-01-01,10\na,2024-01-08,20\nb,2024-01-03,5\n";
/// let opts = SummaryOptions::new(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(), TimeUnit::Days);
/// let mut b = SummaryBuilder::new(opts);
/// let rows = read_transactions_from(text.as_bytes(), &TransactionFormat::csv("id", "date", Some("amount")), &mut b).unwrap();
/// assert_eq!(rows, 3);
/// let s = b.finish().unwrap().summary;
/// assert_eq!(s.frequency(), &[1.0, 0.0]);
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] for a column the format names but the header lacks;
/// [`Error::InvalidData`] naming the row and field of the first unparseable date or amount, a
/// blank id, a line too long or invalid UTF-8; the builder's errors.
pub fn read_transactions_from(
    reader: impl Read,
    format: &TransactionFormat,
    builder: &mut SummaryBuilder,
) -> Result<usize> {
    let late = Late::after_end(builder.options());
    parse_rows_counted(reader, format, late, &mut |row, customer, time, amount| {
        builder.push(row, customer, time, amount)
    })
    .map(|c| c.read)
}

/// The next line of `r` without its line end; `None` at the end of input. `row` is the data row
/// it would be (`None` for a header), for errors.
fn next_line<'a>(
    r: &mut impl BufRead,
    buf: &'a mut Vec<u8>,
    row: Option<usize>,
) -> Result<Option<&'a str>> {
    buf.clear();
    if r.read_until(b'\n', buf)
        .map_err(|e| from_io(&e, "transactions", row))?
        == 0
    {
        return Ok(None);
    }
    let text = std::str::from_utf8(buf).map_err(|e| Error::InvalidData {
        row,
        customer: None,
        field: if row.is_some() { "line" } else { "header" },
        issue: DataIssue::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        },
    })?;
    Ok(Some(text.trim_end_matches(['\n', '\r'])))
}

/// The raw fields of one data row: `None` when the row is too short for a column; the
/// optional columns are `None` when the format has no such column.
pub(crate) struct RowFields<'a> {
    pub(crate) customer: Option<&'a str>,
    pub(crate) date: Option<&'a str>,
    pub(crate) amount: Option<Option<&'a str>>,
    pub(crate) quantity: Option<Option<&'a str>>,
    pub(crate) invoice: Option<Option<&'a str>>,
}

/// The account of a stretch of rows (a block, or the whole file): lines by reason, and under
/// [`Returns::Error`] the negative amounts met (the first one is reported with their count).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) counts: LineCounts,
    pub(crate) negatives: usize,
    pub(crate) first_negative: Option<(usize, String, f64)>,
}

impl Tally {
    /// Adds a later stretch's account (its rows after this one's).
    pub(crate) fn add(&mut self, later: Tally) {
        let (a, b) = (&mut self.counts, later.counts);
        a.read += b.read;
        a.used += b.used;
        a.missing_customer += b.missing_customer;
        a.returns_dropped += b.returns_dropped;
        a.zero_dropped += b.zero_dropped;
        a.returns_netted += b.returns_netted;
        a.returns_unmatched += b.returns_unmatched;
        a.netted_out += b.netted_out;
        a.purchases_reduced += b.purchases_reduced;
        a.after_end += b.after_end;
        self.negatives += later.negatives;
        if self.first_negative.is_none() {
            self.first_negative = later.first_negative;
        }
    }

    /// The error for the negative amounts met under [`Returns::Error`], if any.
    pub(crate) fn negative_error(&mut self) -> Option<Error> {
        self.first_negative
            .take()
            .map(|(row, customer, amount)| Error::InvalidData {
                row: Some(row),
                customer: Some(customer),
                field: "amount",
                issue: DataIssue::NegativeAmounts {
                    amount,
                    lines: self.negatives,
                },
            })
    }
}

/// What a data row comes to under the format's policies.
pub(crate) enum Verdict<'a> {
    /// A transaction for the summariser.
    Use(&'a str, Stamp, f64),
    /// A purchase or return line for the netting ([`Returns::Net`]): customer, time,
    /// amount (>= 0), invoice, whether it is a return.
    Net(&'a str, Stamp, f64, Option<&'a str>, bool),
    /// Left out (counted in the tally).
    Skip,
}

/// Which rows are after the window's end (skipped and counted as such).
#[derive(Clone, Copy)]
pub(crate) enum Late<'a> {
    /// None.
    Never,
    /// Those at or after this stamp: the start of the occasion after the summary's last
    /// ([`Granularity::after`](super::Granularity)), one comparison per row.
    From(Stamp),
    /// Those the caller's test picks.
    By(&'a dyn Fn(Stamp) -> bool),
}

impl Late<'_> {
    /// The rows after the last day of a summary with `options`, when it skips them
    /// ([`SummaryOptions::is_after_end`](crate::SummaryOptions::is_after_end) as a stamp), else
    /// none.
    pub(crate) fn after_end(options: &crate::SummaryOptions) -> Self {
        Self::start_after_end(options).map_or(Late::Never, Late::From)
    }

    /// The first stamp after the last occasion of a summary with `options`, when it skips the
    /// rows from there on ([`after_end`](Self::after_end)'s `From`).
    pub(crate) fn start_after_end(options: &crate::SummaryOptions) -> Option<Stamp> {
        if !options.skips_lines_after_end() {
            return None;
        }
        let g = options.granularity();
        let end = options
            .observation_end()
            .unwrap_or(options.calibration_end());
        Some(g.after(g.key(Stamp::of(end))))
    }

    #[inline]
    fn holds(self, t: Stamp) -> bool {
        match self {
            Late::Never => false,
            Late::From(s) => t >= s,
            Late::By(f) => f(t),
        }
    }
}

/// Reads the fields of data rows under a transaction format: parsing, validation, and the
/// policies for missing ids, returns, zero amounts and lines after the end.
pub(crate) struct RowJudge<'f> {
    format: &'f TransactionFormat,
    dates: DateParser,
}

impl<'f> RowJudge<'f> {
    pub(crate) fn new(format: &'f TransactionFormat) -> Self {
        RowJudge {
            format,
            dates: DateParser::new(format.date_format.as_deref()),
        }
    }

    /// A number field that is not a plain decimal (or a decimal comma under
    /// `TransactionFormat::decimal_comma`): its value, or the error naming the row, customer
    /// and field, with a hint when it reads as a decimal comma.
    #[cold]
    fn number_slow(
        &self,
        text: &str,
        row: usize,
        customer: &str,
        field: &'static str,
    ) -> Result<f64> {
        if self.format.decimal_comma {
            let t: String = text.trim().chars().filter(|&c| c != '.').collect();
            return parse_f64(&t.replace(',', "."), row, customer, field);
        }
        parse_f64(text, row, customer, field).map_err(|e| {
            // "12,50": say how to read a decimal comma
            let comma = text.trim().replace(',', ".").parse::<f64>().is_ok();
            match e {
                Error::InvalidData {
                    row,
                    customer,
                    field,
                    issue: DataIssue::Unparseable { text, .. },
                } if comma => Error::InvalidData {
                    row,
                    customer,
                    field,
                    issue: DataIssue::Unparseable {
                        text,
                        expected: "a number (with a decimal comma: pass --decimal-comma, \
                                   TransactionFormat::decimal_comma)"
                            .into(),
                    },
                },
                other => other,
            }
        })
    }

    /// The verdict on data row `row` (1-based, for errors); `late` says which times are after
    /// the window (skipped and counted). Counts the row's reason in `tally` when it is left out.
    pub(crate) fn judge<'a>(
        &self,
        row: usize,
        fields: RowFields<'a>,
        late: Late<'_>,
        tally: &mut Tally,
    ) -> Result<Verdict<'a>> {
        let format = self.format;
        let counts = &mut tally.counts;
        let missing = |field| Error::InvalidData {
            row: Some(row),
            customer: None,
            field,
            issue: DataIssue::MissingField,
        };
        let customer = super::trim(fields.customer.ok_or_else(|| missing("customer"))?);
        if customer.is_empty() && format.skip_missing_customer {
            counts.missing_customer += 1;
            return Ok(Verdict::Skip);
        }
        if customer.is_empty() {
            return Err(Error::InvalidData {
                row: Some(row),
                customer: None,
                field: "customer",
                issue: DataIssue::Blank,
            });
        }
        let date_text = fields.date.ok_or_else(|| missing("date"))?;
        let time = self.dates.parse_stamp(date_text).ok_or_else(|| {
            Error::InvalidData {
                row: Some(row),
                customer: Some(customer.to_string()),
                field: "date",
                issue: DataIssue::Unparseable {
                    text: date_text.to_string(),
                    expected: match &format.date_format {
                        Some(f) => format!("a date in format {f}"),
                        None => "a date (YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or ISO date-time; pass a format otherwise)".into(),
                    },
                },
            }
        })?;
        let number = |text: &str, field: &'static str| -> Result<f64> {
            // the plain decimal of most exports, without building an error's room
            match super::numfmt::read_number(super::trim(text).as_bytes()) {
                Some(v) if !format.decimal_comma => Ok(v),
                _ => self.number_slow(text, row, customer, field),
            }
        };
        let amount = match fields.amount {
            Some(text) => number(text.ok_or_else(|| missing("amount"))?, "amount")?,
            None => 0.0,
        };
        let amount = match fields.quantity {
            Some(text) => {
                let q = number(text.ok_or_else(|| missing("quantity"))?, "quantity")?;
                q * amount
            }
            None => amount,
        };
        let invoice = match fields.invoice {
            Some(text) => Some(text.ok_or_else(|| missing("invoice"))?.trim()),
            None => None,
        };
        // a cancellation invoice: a return whatever its sign, netted against the invoice it
        // names without the prefix
        let (cancelled, invoice) = match (invoice, &format.cancel_prefix) {
            (Some(i), Some(p)) if !p.is_empty() && i.starts_with(p.as_str()) => {
                (true, Some(&i[p.len()..]))
            }
            (i, _) => (false, i),
        };
        if late.holds(time) {
            counts.after_end += 1;
            return Ok(Verdict::Skip);
        }
        // (a non-finite amount goes on to the summariser, which names it as such)
        let is_return = (amount < 0.0 && amount.is_finite()) || cancelled;
        if is_return {
            return Ok(match format.returns {
                Returns::Drop => {
                    counts.returns_dropped += 1;
                    Verdict::Skip
                }
                Returns::Error => {
                    tally.negatives += 1;
                    if tally.first_negative.is_none() {
                        tally.first_negative = Some((row, customer.to_string(), -amount.abs()));
                    }
                    Verdict::Skip
                }
                Returns::Net => Verdict::Net(customer, time, amount.abs(), invoice, true),
            });
        }
        if amount == 0.0 && format.drop_zero_amounts && fields.amount.is_some() {
            counts.zero_dropped += 1;
            return Ok(Verdict::Skip);
        }
        if format.returns == Returns::Net && amount.is_finite() {
            return Ok(Verdict::Net(customer, time, amount, invoice, false));
        }
        counts.used += 1;
        Ok(Verdict::Use(customer, time, amount))
    }
}

/// Where the customer, date, amount, quantity and invoice columns are.
pub(crate) type Cols = (usize, usize, Option<usize>, Option<usize>, Option<usize>);

/// The format's columns found in `header` (or by position without one).
pub(crate) fn columns_of(format: &TransactionFormat, header: Option<&[String]>) -> Result<Cols> {
    let opt = |c: &Option<Column>| c.as_ref().map(|a| a.resolve(header)).transpose();
    Ok((
        format.customer.resolve(header)?,
        format.date.resolve(header)?,
        opt(&format.amount)?,
        opt(&format.quantity)?,
        opt(&format.invoice)?,
    ))
}

/// A cancellation prefix needs an invoice column to look at.
pub(crate) fn check_cancel_prefix(format: &TransactionFormat) -> Result<()> {
    if format.cancel_prefix.is_some() && format.invoice.is_none() {
        return Err(Error::InvalidOption {
            name: "cancel prefix",
            reason: "marks cancellation invoices, so it needs an invoice column".into(),
        });
    }
    Ok(())
}

/// The name of column `j` for errors (invalid UTF-8 names a column by index).
pub(crate) fn column_name(cols: &Cols, j: usize) -> &'static str {
    if j == cols.0 {
        "customer"
    } else if j == cols.1 {
        "date"
    } else if Some(j) == cols.2 {
        "amount"
    } else if Some(j) == cols.3 {
        "quantity"
    } else if Some(j) == cols.4 {
        "invoice"
    } else {
        "line"
    }
}

/// Parses every data row of a transaction file and hands (row, customer, time, amount) to
/// `sink`; returns the account of lines used and skipped, after the format's policies
/// (missing customers, negative amounts, netting) and `late`: lines for which it holds are
/// skipped and counted as after the end.
pub(crate) fn parse_rows_counted(
    reader: impl Read,
    format: &TransactionFormat,
    late: Late<'_>,
    sink: &mut impl FnMut(usize, &str, NaiveDateTime, f64) -> Result<()>,
) -> Result<LineCounts> {
    let mut rows = 0usize;
    let mut tally = Tally::default();
    let mut netting = super::returns::Netting::default();
    let judge = RowJudge::new(format);
    let mut handle = |row: usize, fields: RowFields<'_>| -> Result<()> {
        match judge.judge(row, fields, late, &mut tally)? {
            Verdict::Use(customer, time, amount) => sink(row, customer, time.time(), amount),
            Verdict::Net(customer, time, amount, invoice, is_return) => {
                netting.push(row, customer, time.time(), amount, invoice, is_return);
                Ok(())
            }
            Verdict::Skip => Ok(()),
        }
    };
    let resolve = |header: Option<&[String]>| columns_of(format, header);
    check_cancel_prefix(format)?;
    match format.delimiter {
        Delimiter::Whitespace => {
            let mut r = BufReader::new(LineGuard::new(reader));
            let mut buf = Vec::new();
            let cols = if format.has_header {
                let h = next_line(&mut r, &mut buf, None)?
                    .ok_or(Error::EmptyData("the file is empty"))?;
                let h: Vec<String> = h
                    .trim_start_matches('\u{feff}')
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                resolve(Some(&h))?
            } else {
                resolve(None)?
            };
            while let Some(line) = next_line(&mut r, &mut buf, Some(rows + 1))? {
                let line = line.trim_start_matches('\u{feff}');
                if line.trim().is_empty() {
                    continue;
                }
                rows += 1;
                let (mut c, mut d, mut a, mut q, mut v) = (None, None, None, None, None);
                for (i, f) in line.split_whitespace().enumerate() {
                    if i == cols.0 {
                        c = Some(f);
                    }
                    if i == cols.1 {
                        d = Some(f);
                    }
                    if Some(i) == cols.2 {
                        a = Some(f);
                    }
                    if Some(i) == cols.3 {
                        q = Some(f);
                    }
                    if Some(i) == cols.4 {
                        v = Some(f);
                    }
                }
                handle(
                    rows,
                    RowFields {
                        customer: c,
                        date: d,
                        amount: cols.2.map(|_| a),
                        quantity: cols.3.map(|_| q),
                        invoice: cols.4.map(|_| v),
                    },
                )?;
            }
        }
        Delimiter::Byte(d) => {
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(d)
                .has_headers(format.has_header)
                .flexible(true)
                .from_reader(LineGuard::new(reader));
            let cols = if format.has_header {
                let h = csv_header(&mut rdr, "transactions")?;
                resolve(Some(&h))?
            } else {
                resolve(None)?
            };
            let column_name = |j: usize| column_name(&cols, j);
            let mut rec = csv::StringRecord::new();
            while rdr
                .read_record(&mut rec)
                .map_err(|e| from_csv(&e, "transactions", Some(rows + 1), column_name))?
            {
                rows += 1;
                handle(
                    rows,
                    RowFields {
                        customer: rec.get(cols.0),
                        date: rec.get(cols.1),
                        amount: cols.2.map(|j| rec.get(j)),
                        quantity: cols.3.map(|j| rec.get(j)),
                        invoice: cols.4.map(|j| rec.get(j)),
                    },
                )?;
            }
        }
    }
    if rows == 0 {
        return Err(Error::EmptyData("the file has no transactions"));
    }
    if format.returns == Returns::Net {
        netting.finish(format.invoice.is_some(), &mut tally.counts, sink)?;
    }
    if let Some(e) = tally.negative_error() {
        return Err(e);
    }
    tally.counts.read = rows;
    Ok(tally.counts)
}

/// Reads a discrete-time (BG/BB) summary CSV from a file. See [`read_discrete_summary`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; otherwise as [`read_discrete_summary`].
pub fn read_discrete_csv(
    path: impl AsRef<Path>,
    unit: TimeUnit,
) -> Result<crate::models::bgbb::DiscreteSummary> {
    let path = path.as_ref();
    read_discrete_summary(open(path)?, unit).map_err(|e| with_path(path, e))
}

/// Reads a discrete-time summary (BG/BB's input) from CSV text with a header: `frequency`
/// (or `x`), `recency` (`t_x`), `periods` (`n`, `T`: opportunities after the first), an
/// optional `weights` (`weight`, `count`: how many customers have the row's pattern; 1 when
/// absent), an optional id column (`customer_id`, `ID`, `id`, `cust`, `customer`) and an
/// optional `period` (`day`, `week`, `month`, `year`: what `clv summarize --discrete` records,
/// the same on every row; it sets the unit, as [`Opportunity::unit`](crate::data::discrete::Opportunity::unit)).
/// The counts must be whole numbers; every row is validated as
/// [`DiscreteSummary::new`](crate::models::bgbb::DiscreteSummary::new). `unit` is the length of
/// one opportunity when the file records no period.
///
/// ```
/// use clv::{io::read_discrete_summary, TimeUnit};
/// let text = "frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n";
/// let s = read_discrete_summary(text.as_bytes(), TimeUnit::Weeks)?;
/// assert_eq!(s.n_customers(), 4555.0);
/// let bad = "frequency,recency,periods\n1.5,2,6\n";
/// let err = read_discrete_summary(bad.as_bytes(), TimeUnit::Weeks).unwrap_err();
/// assert_eq!(err.to_string(), "row 1 (customer 1): frequency is not a whole number (1.5)");
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`], [`Error::EmptyData`], [`Error::InvalidData`] naming the row,
/// customer and field of the first invalid value.
pub fn read_discrete_summary(
    reader: impl Read,
    unit: TimeUnit,
) -> Result<crate::models::bgbb::DiscreteSummary> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineGuard::new(reader));
    let header = csv_header(&mut rdr, "summary")?;
    let ci = find(&header, &["customer_id", "ID", "id", "cust", "customer"]);
    let xi = require(&header, &["frequency", "x"])?;
    let ri = require(&header, &["recency", "t_x"])?;
    let ni = require(&header, &["periods", "n", "T"])?;
    let wi = find(&header, &["weights", "weight", "count"]);
    let pi = find(&header, &["period"]);
    let column_name = |j: usize| -> &'static str {
        [
            (Some(xi), "frequency"),
            (Some(ri), "recency"),
            (Some(ni), "periods"),
            (wi, "weights"),
            (ci, "customer_id"),
            (pi, "period"),
        ]
        .into_iter()
        .find_map(|(c, name)| (c == Some(j)).then_some(name))
        .unwrap_or("line")
    };
    let (mut ids, mut x, mut t, mut n, mut w) = (vec![], vec![], vec![], vec![], vec![]);
    let mut recorded: Option<TimeUnit> = None;
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| from_csv(&e, "summary", Some(row), column_name))?;
        let id = record_id(&rec, ci, row)?;
        let field = |j: usize, name: &'static str| record_f64(&rec, j, row, &id, name);
        let count = |j: usize, name: &'static str| -> Result<u32> {
            let v = field(j, name)?;
            let issue = if v < 0.0 {
                DataIssue::Negative(v)
            } else {
                DataIssue::NotInteger(v)
            };
            if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                Ok(v as u32)
            } else {
                Err(Error::InvalidData {
                    row: Some(row),
                    customer: Some(id.clone()),
                    field: name,
                    issue,
                })
            }
        };
        x.push(count(xi, "frequency")?);
        t.push(count(ri, "recency")?);
        n.push(count(ni, "periods")?);
        if let Some(j) = wi {
            w.push(field(j, "weights")?);
        }
        if let Some(j) = pi {
            let text = rec.get(j).unwrap_or("").trim();
            let this = crate::data::discrete::Opportunity::parse(text).map(|p| p.unit());
            let bad = |expected: &str| Error::InvalidData {
                row: Some(row),
                customer: Some(id.clone()),
                field: "period",
                issue: DataIssue::Unparseable {
                    text: text.to_string(),
                    expected: expected.to_string(),
                },
            };
            match (this, recorded) {
                (None, _) => return Err(bad("day, week, month or year")),
                (Some(u), Some(r)) if u != r => {
                    return Err(bad("the same period on every row"));
                }
                (Some(u), _) => recorded = Some(u),
            }
        }
        ids.push(id);
    }
    if x.is_empty() {
        return Err(Error::EmptyData("discrete summary"));
    }
    let unit = recorded.unwrap_or(unit);
    crate::models::bgbb::DiscreteSummary::new(x, t, n, wi.map(|_| w), ci.map(|_| ids), unit)
}

/// Contractual survival data read from a CSV ([`read_survival_csv`]): what the model is
/// fitted to, and the whole observed series of a cohort for comparing projections.
#[derive(Debug, Clone)]
pub struct SurvivalFile {
    /// The calibration data.
    pub data: crate::models::sbg::SurvivalData,
    /// For cohort counts, the counts alive at the start of every period in the file, the
    /// held-back ones included (`None` for per-customer records).
    pub observed: Option<Vec<f64>>,
    /// The number of calibration periods used (the last calibration period's index).
    pub calibration_periods: Option<u32>,
    /// The cohort read, when the file has a `cohort` column.
    pub cohort: Option<String>,
}

/// Reads contractual survival data from a CSV file, in one of two shapes:
/// - cohort counts: `alive` with `period` (or `year`) 0, 1, 2, ... (the number still active at
///   the start of each period; FH 2007's table) and optionally `cohort`;
/// - one row per customer: `renewals` (or `periods`: periods survived), `active` (`true`/`false`,
///   `1`/`0`, `yes`/`no`: still a customer, so right-censored) and optionally `cohort` and
///   `weight`.
///
/// `cohort` picks the rows of one cohort (required when the file holds several);
/// `calibration_periods` N fits on periods 0..=N of cohort counts (the rest is held back for
/// comparison) and, for per-customer rows, is not allowed. `unit` is the length of a period.
///
/// ```
/// use clv::{io::read_survival, TimeUnit};
/// let text = "cohort,year,alive\na,0,1000\na,1,631\na,2,468\nb,0,100\nb,1,90\nb,2,85\n";
/// let f = read_survival(text.as_bytes(), Some("a"), Some(1), TimeUnit::Weeks)?;
/// assert_eq!(f.observed.as_deref(), Some(&[1000.0, 631.0, 468.0][..]));
/// assert_eq!(f.data.n_customers(), 1000.0);
/// assert!(read_survival(text.as_bytes(), None, None, TimeUnit::Weeks).is_err()); // which cohort?
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; otherwise as [`read_survival`].
pub fn read_survival_csv(
    path: impl AsRef<Path>,
    cohort: Option<&str>,
    calibration_periods: Option<u32>,
    unit: TimeUnit,
) -> Result<SurvivalFile> {
    let path = path.as_ref();
    read_survival(open(path)?, cohort, calibration_periods, unit).map_err(|e| with_path(path, e))
}

/// [`read_survival_csv`] from any reader.
///
/// # Errors
/// [`Error::MissingColumn`] when neither shape's columns are there; [`Error::InvalidOption`]
/// for a missing or unknown cohort, a calibration beyond the data, or periods that do not run
/// 0, 1, 2, ...; [`Error::InvalidData`] naming the row and field of a bad value.
pub fn read_survival(
    reader: impl Read,
    cohort: Option<&str>,
    calibration_periods: Option<u32>,
    unit: TimeUnit,
) -> Result<SurvivalFile> {
    use crate::models::sbg::SurvivalData;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineGuard::new(reader));
    let header = csv_header(&mut rdr, "survival data")?;
    let ci = find(&header, &["cohort"]);
    let ai = find(&header, &["alive"]);
    let counts = ai.is_some();
    let (pi, si) = if counts {
        (Some(require(&header, &["period", "year"])?), None)
    } else {
        (None, Some(require(&header, &["renewals", "periods"])?))
    };
    let acti = if counts {
        None
    } else {
        Some(require(&header, &["active"])?)
    };
    let wi = find(&header, &["weight", "weights", "count"]);
    let column_name = |j: usize| -> &'static str {
        [
            (ci, "cohort"),
            (ai, "alive"),
            (pi, "period"),
            (si, "renewals"),
            (acti, "active"),
            (wi, "weight"),
        ]
        .into_iter()
        .find_map(|(c, name)| (c == Some(j)).then_some(name))
        .unwrap_or("line")
    };
    let mut cohorts: Vec<String> = Vec::new();
    let (mut periods, mut alive) = (Vec::new(), Vec::new());
    let (mut renewals, mut churned, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| from_csv(&e, "survival data", Some(row), column_name))?;
        let id = row.to_string();
        if let Some(j) = ci {
            let c = rec.get(j).unwrap_or("").trim().to_string();
            if !cohorts.contains(&c) {
                cohorts.push(c.clone());
            }
            if cohort.is_some_and(|want| want != c) {
                continue;
            }
        }
        let field = |j: usize, name: &'static str| -> Result<f64> {
            let text = rec.get(j).ok_or(Error::InvalidData {
                row: Some(row),
                customer: None,
                field: name,
                issue: DataIssue::MissingField,
            })?;
            parse_f64(text, row, &id, name)
        };
        let whole = |j: usize, name: &'static str| -> Result<u32> {
            let v = field(j, name)?;
            if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) {
                Ok(v as u32)
            } else {
                Err(Error::InvalidData {
                    row: Some(row),
                    customer: None,
                    field: name,
                    issue: DataIssue::NotInteger(v),
                })
            }
        };
        if counts {
            periods.push(whole(pi.expect("counts"), "period")?);
            alive.push(field(ai.expect("counts"), "alive")?);
        } else {
            renewals.push(whole(si.expect("records"), "renewals")?);
            let j = acti.expect("records");
            let text = rec.get(j).unwrap_or("").trim();
            let active = match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "y" | "t" => true,
                "false" | "0" | "no" | "n" | "f" => false,
                _ => {
                    return Err(Error::InvalidData {
                        row: Some(row),
                        customer: None,
                        field: "active",
                        issue: DataIssue::Unparseable {
                            text: text.to_string(),
                            expected: "true or false (1/0, yes/no)".into(),
                        },
                    });
                }
            };
            churned.push(!active);
            if let Some(j) = wi {
                weights.push(field(j, "weight")?);
            }
        }
    }
    let chosen = match (ci, cohort) {
        (Some(_), None) if cohorts.len() > 1 => {
            return Err(Error::InvalidOption {
                name: "cohort",
                reason: format!(
                    "the file holds {} cohorts ({}): choose one",
                    cohorts.len(),
                    cohorts.join(", ")
                ),
            });
        }
        (Some(_), Some(c)) if !cohorts.iter().any(|x| x == c) => {
            return Err(Error::InvalidOption {
                name: "cohort",
                reason: format!("'{c}' is not in the file ({})", cohorts.join(", ")),
            });
        }
        (None, Some(c)) => {
            return Err(Error::InvalidOption {
                name: "cohort",
                reason: format!("the file has no cohort column to find '{c}' in"),
            });
        }
        (Some(_), Some(c)) => Some(c.to_string()),
        (Some(_), None) => cohorts.first().cloned(),
        (None, None) => None,
    };
    if counts {
        // periods must run 0, 1, 2, ... (in any row order)
        let mut pairs: Vec<(u32, f64)> = periods.into_iter().zip(alive).collect();
        pairs.sort_by_key(|p| p.0);
        for (k, p) in pairs.iter().enumerate() {
            if p.0 as usize != k {
                return Err(Error::InvalidOption {
                    name: "survival data",
                    reason: format!(
                        "the periods must run 0, 1, 2, ... without gaps or repeats; found {} \
                         where {k} was expected",
                        p.0
                    ),
                });
            }
        }
        let observed: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let n = match calibration_periods {
            Some(n) if n as usize >= observed.len() => {
                return Err(Error::InvalidOption {
                    name: "calibration periods",
                    reason: format!(
                        "{n}, but the file has periods 0..={} only",
                        observed.len().saturating_sub(1)
                    ),
                });
            }
            Some(n) => n as usize,
            None => observed.len().saturating_sub(1),
        };
        let data = SurvivalData::from_cohort_counts(&observed[..=n], unit)?;
        Ok(SurvivalFile {
            data,
            observed: Some(observed),
            calibration_periods: Some(n as u32),
            cohort: chosen,
        })
    } else {
        if calibration_periods.is_some() {
            return Err(Error::InvalidOption {
                name: "calibration periods",
                reason: "applies to cohort counts (period, alive), not to per-customer rows".into(),
            });
        }
        let data = SurvivalData::new(renewals, churned, wi.map(|_| weights), unit)?;
        Ok(SurvivalFile {
            data,
            observed: None,
            calibration_periods: None,
            cohort: chosen,
        })
    }
}
