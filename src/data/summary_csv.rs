//! Summary CSVs read in blocks of whole records on all cores (see [`super::blocks`] for how
//! the blocks are cut), every row validated where it is parsed, errors naming the row as a
//! user counts it (1-based, header excluded) and the customer.

use super::blocks::{Block, Blocks, for_each_record};
use super::io::{find, require};
use super::line_guard::{from_csv, from_io};
use super::summary::key_bits;
use super::{CompressedRfm, Customer, Holdout, RfmSummary, TimeUnit};
use crate::error::{DataIssue, Error, Result};
use std::io::Read;

/// Bytes per block: large enough that a block's bookkeeping is negligible, small enough that a
/// batch of blocks per core stays a few MiB.
pub(crate) const BLOCK_BYTES: usize = 1 << 20;

/// Which column holds which field.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    ci: Option<usize>,
    xi: usize,
    ri: usize,
    ti: usize,
    mi: Option<usize>,
    li: Option<usize>,
    hfi: Option<usize>,
    hmi: Option<usize>,
    hdi: Option<usize>,
    ui: Option<usize>,
}

impl Layout {
    fn from_header(header: &[String]) -> Result<Self> {
        Ok(Layout {
            ci: find(header, &["customer_id", "ID", "id", "cust", "customer"]),
            // lifetimes' calibration_and_holdout_data names (frequency_cal, ...) as they are
            xi: require(header, &["frequency", "x", "frequency_cal"])?,
            ri: require(header, &["recency", "t_x", "recency_cal"])?,
            ti: require(header, &["T", "t", "T_cal"])?,
            mi: find(
                header,
                &["monetary_value", "zbar", "m_x", "monetary_value_cal"],
            ),
            li: find(header, &["litt"]),
            hfi: find(header, &["frequency_holdout"]),
            hmi: find(header, &["monetary_value_holdout"]),
            hdi: find(header, &["duration_holdout"]),
            ui: find(header, &["time_unit"]),
        })
    }

    /// The field a column index holds, for errors that name a column by index.
    fn column_name(&self, j: usize) -> &'static str {
        [
            (Some(self.xi), "frequency"),
            (Some(self.ri), "recency"),
            (Some(self.ti), "T"),
            (self.ci, "customer_id"),
            (self.mi, "monetary_value"),
            (self.li, "litt"),
            (self.hfi, "frequency_holdout"),
            (self.hmi, "monetary_value_holdout"),
            (self.hdi, "duration_holdout"),
            (self.ui, "time_unit"),
        ]
        .into_iter()
        .find_map(|(c, name)| (c == Some(j)).then_some(name))
        .unwrap_or("line")
    }
}

/// What to keep of each row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Keep {
    /// Every column the file has, ids included.
    All,
    /// Only the history (x, t_x, T) as a sort key, and a hash of the id to find duplicates.
    Histories,
}

/// The rows of one block (or of the whole file, once appended in order).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub(crate) ids: Vec<String>,
    pub(crate) x: Vec<f64>,
    pub(crate) t_x: Vec<f64>,
    pub(crate) t: Vec<f64>,
    pub(crate) m: Vec<f64>,
    pub(crate) litt: Vec<f64>,
    pub(crate) hf: Vec<f64>,
    pub(crate) hm: Vec<f64>,
    /// `(x, t_x, T)` bit patterns (with [`Keep::Histories`]).
    pub(crate) keys: Vec<(u64, u64, u64)>,
    /// Hashes of the ids (with [`Keep::Histories`]).
    pub(crate) id_hashes: Vec<u64>,
    /// The holdout duration of the block's rows, the unit they record, and the block's first
    /// id (for an error about either).
    duration: Option<f64>,
    unit: Option<TimeUnit>,
    first_id: String,
    /// Rows in the block.
    pub(crate) len: usize,
}

impl Rows {
    /// Room for `n` rows of the columns `keep` and `layout` fill (no vector grows, and is
    /// copied, as the block is parsed).
    fn with_capacity(n: usize, layout: &Layout, keep: Keep) -> Rows {
        fn room<T>(n: usize, on: bool) -> Vec<T> {
            Vec::with_capacity(if on { n } else { 0 })
        }
        let all = keep == Keep::All;
        Rows {
            ids: room(n, all),
            x: room(n, all),
            t_x: room(n, all),
            t: room(n, all),
            m: room(n, all && layout.mi.is_some()),
            litt: room(n, all && layout.li.is_some()),
            hf: room(n, all && layout.hfi.is_some()),
            hm: room(n, all && layout.hmi.is_some()),
            keys: room(n, !all),
            id_hashes: room(n, !all && layout.ci.is_some()),
            ..Rows::default()
        }
    }
}

fn text(field: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(field)
}

/// Parses the records of `block` (after `skip` records) into `rows`; errors name the row
/// within the block (1-based), to be shifted by the rows before it.
fn parse_block(
    block: &Block,
    layout: &Layout,
    skip: usize,
    keep: Keep,
    base: usize,
) -> Result<Rows> {
    let mut rows = Rows::with_capacity(super::blocks::max_records(block), layout, keep);
    let mut row = base;
    for_each_record(
        block,
        b',',
        skip,
        |fields| {
            row += 1;
            parse_row(fields, layout, row, keep, &mut rows)
        },
        |e, i| from_csv(e, "summary", Some(base + i + 1), |j| layout.column_name(j)),
    )?;
    rows.len = row - base;
    Ok(rows)
}

fn parse_row(
    fields: &[&[u8]],
    layout: &Layout,
    row: usize,
    keep: Keep,
    rows: &mut Rows,
) -> Result<()> {
    // the id stays borrowed from the block unless it is kept or named in an error
    let numbered;
    let id: &str = match layout.ci {
        Some(j) => {
            let raw = fields.get(j).copied().unwrap_or(b"");
            let id = std::str::from_utf8(raw).map_err(|e| Error::InvalidData {
                row: Some(row),
                customer: None,
                field: "customer_id",
                issue: DataIssue::NotUtf8 {
                    valid_up_to: e.valid_up_to(),
                },
            })?;
            let id = id.trim();
            if id.is_empty() {
                return Err(Error::InvalidData {
                    row: Some(row),
                    customer: None,
                    field: "customer_id",
                    issue: DataIssue::Blank,
                });
            }
            id
        }
        // the row number in the file (the blocks of a file without ids know their first row)
        None => {
            numbered = row.to_string();
            &numbered
        }
    };
    let number = |j: usize, name: &'static str| -> Result<f64> {
        // the usual case without building an error's room; the error on a cold path
        match fields.get(j).and_then(|raw| parse_number(raw)) {
            Some(v) => Ok(v),
            None => Err(number_error(fields.get(j).copied(), row, id, name)),
        }
    };
    let x = number(layout.xi, "frequency")?;
    let t_x = number(layout.ri, "recency")?;
    let t = number(layout.ti, "T")?;
    Customer::check(x, t_x, t, Some(row), Some(id))?;
    if keep == Keep::Histories {
        rows.keys.push((key_bits(x), key_bits(t_x), key_bits(t)));
        if layout.ci.is_some() {
            rows.id_hashes.push(super::id_hash(id));
        }
    }
    let m = layout.mi.map(|j| number(j, "monetary_value")).transpose()?;
    let litt = layout.li.map(|j| number(j, "litt")).transpose()?;
    let hf = layout
        .hfi
        .map(|j| number(j, "frequency_holdout"))
        .transpose()?;
    let hm = layout
        .hmi
        .map(|j| number(j, "monetary_value_holdout"))
        .transpose()?;
    if let Some(j) = layout.hdi {
        let d = number(j, "duration_holdout")?;
        match rows.duration {
            Some(prev) if prev != d => return Err(duration_mismatch(row, id, d, prev)),
            Some(_) => {}
            None => rows.duration = Some(d),
        }
    }
    if let Some(j) = layout.ui {
        let raw = fields.get(j).copied().unwrap_or(b"");
        let txt = text(raw);
        let u = TimeUnit::parse(&txt).ok_or_else(|| {
            unit_error(row, id, &txt, "weeks, days or periods_of_<d>_days".into())
        })?;
        match rows.unit {
            Some(prev) if prev != u => {
                return Err(unit_error(
                    row,
                    id,
                    &txt,
                    format!("the same time unit as earlier rows ({prev})"),
                ));
            }
            Some(_) => {}
            None => rows.unit = Some(u),
        }
    }
    if rows.first_id.is_empty() {
        rows.first_id = id.to_string();
    }
    if keep == Keep::All {
        rows.ids.push(id.to_string());
        rows.x.push(x);
        rows.t_x.push(t_x);
        rows.t.push(t);
        if let Some(v) = m {
            rows.m.push(v);
        }
        if let Some(v) = litt {
            rows.litt.push(v);
        }
        if let Some(v) = hf {
            rows.hf.push(v);
        }
        if let Some(v) = hm {
            rows.hm.push(v);
        }
    }
    Ok(())
}

/// A number as Rust reads it (`str::parse::<f64>`), blanks around it trimmed; `None` for
/// anything else.
pub(crate) fn parse_number(raw: &[u8]) -> Option<f64> {
    super::numfmt::read_number(raw).or_else(|| std::str::from_utf8(raw).ok()?.trim().parse().ok())
}

/// The error for field `name` of `row` (customer `id`): missing, or not a number.
#[cold]
fn number_error(raw: Option<&[u8]>, row: usize, id: &str, name: &'static str) -> Error {
    Error::InvalidData {
        row: Some(row),
        customer: Some(id.to_string()),
        field: name,
        issue: match raw.map(std::str::from_utf8) {
            None => DataIssue::MissingField,
            Some(Err(e)) => DataIssue::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            },
            Some(Ok(t)) => DataIssue::Unparseable {
                text: t.to_string(),
                expected: "a number".into(),
            },
        },
    }
}

fn duration_mismatch(row: usize, id: &str, d: f64, prev: f64) -> Error {
    Error::InvalidData {
        row: Some(row),
        customer: Some(id.to_string()),
        field: "duration_holdout",
        issue: DataIssue::Unparseable {
            text: d.to_string(),
            expected: format!("the same holdout duration as earlier rows ({prev})"),
        },
    }
}

fn unit_error(row: usize, id: &str, text: &str, expected: String) -> Error {
    Error::InvalidData {
        row: Some(row),
        customer: Some(id.to_string()),
        field: "time_unit",
        issue: DataIssue::Unparseable {
            text: text.to_string(),
            expected,
        },
    }
}

/// Shifts the row an error names by the `base` rows before its block.
pub(crate) fn shift_row(e: Error, base: usize) -> Error {
    match e {
        Error::InvalidData {
            row: Some(r),
            customer,
            field,
            issue,
        } => Error::InvalidData {
            row: Some(r + base),
            customer,
            field,
            issue,
        },
        other => other,
    }
}

/// The header of the first block; an empty input is [`Error::EmptyData`].
fn header_of(block: &Block) -> Result<Vec<String>> {
    match super::blocks::header_of(block, b',', "summary")? {
        Some(h) if !h.iter().all(String::is_empty) => Ok(h),
        _ => Err(Error::EmptyData("the file is empty (no header line)")),
    }
}

/// The state carried from block to block while the rows come in order: rows so far, and the
/// holdout duration and unit every row must share.
#[derive(Debug, Default)]
pub(crate) struct Running {
    /// Rows before the current block.
    pub(crate) base: usize,
    duration: Option<f64>,
    unit: Option<TimeUnit>,
}

impl Running {
    /// Takes in the next block's rows (in file order): checks its holdout duration and unit
    /// against the earlier rows' and advances the row count.
    pub(crate) fn admit(&mut self, rows: &Rows) -> Result<()> {
        if let Some(d) = rows.duration {
            match self.duration {
                Some(prev) if prev != d => {
                    return Err(duration_mismatch(self.base + 1, &rows.first_id, d, prev));
                }
                _ => self.duration = Some(d),
            }
        }
        if let Some(u) = rows.unit {
            match self.unit {
                Some(prev) if prev != u => {
                    return Err(unit_error(
                        self.base + 1,
                        &rows.first_id,
                        &u.token(),
                        format!("the same time unit as earlier rows ({prev})"),
                    ));
                }
                _ => self.unit = Some(u),
            }
        }
        self.base += rows.len;
        Ok(())
    }

    /// The unit the file records, if any.
    pub(crate) fn recorded_unit(&self) -> Option<TimeUnit> {
        self.unit
    }

    /// The holdout duration the rows share, if the file has one.
    pub(crate) fn duration(&self) -> Option<f64> {
        self.duration
    }
}

/// Reads a summary in blocks on all cores: `work(rows)` runs on each block's rows (in
/// parallel), `consume` gets the results in file order after [`Running::admit`] has checked
/// the block against the rows before it.
pub(crate) fn read_blocks<T: Send>(
    reader: impl Read,
    block_bytes: usize,
    keep: Keep,
    work: impl Fn(Rows, &Layout) -> Result<T> + Sync + Send,
    mut consume: impl FnMut(T, &mut Running, &Layout) -> Result<()> + Send,
) -> Result<(Layout, Running)> {
    let mut blocks = Blocks::new(reader, b',', block_bytes);
    let io = |e: std::io::Error, row: Option<usize>| from_io(&e, "summary", row);
    let first = blocks.next_block().map_err(|e| io(e, None))?;
    let first = first.ok_or(Error::EmptyData("the file is empty (no header line)"))?;
    let header = header_of(&first)?;
    let layout = Layout::from_header(&header)?;
    let mut running = Running::default();
    let recycler = blocks.recycler();
    let mut pending_first = Some(first);
    // Without an id column customers are named by row, so each block must know the rows
    // before it: they are counted as the blocks are read. With ids, a block's rows are
    // numbered from 1 and renumbered in file order (`shift_row`), errors included.
    let count_rows = layout.ci.is_none();
    let mut read_rows = 0usize;
    // blocks are read on their own thread; an I/O error ends the stream and is reported
    // after the rows before it, with the row it stopped at
    let mut read_error: Option<std::io::Error> = None;
    let next = || -> Result<Option<(Block, usize, usize)>> {
        let (block, skip) = match pending_first.take() {
            Some(b) => (b, 1),
            None if read_error.is_some() => return Ok(None),
            None => match blocks.next_block() {
                Ok(Some(b)) => (b, 0),
                Ok(None) => return Ok(None),
                Err(e) => {
                    read_error = Some(e);
                    return Ok(None);
                }
            },
        };
        let base = read_rows;
        if count_rows {
            read_rows += super::blocks::count_records(&block, b',', skip);
        }
        Ok(Some((block, skip, base)))
    };
    let per_block = |(block, skip, base): (Block, usize, usize)| -> Result<T> {
        let rows = parse_block(&block, &layout, skip, keep, base);
        recycler.give(block);
        work(rows?, &layout)
    };
    crate::par::pipeline(
        next,
        2 * crate::par::threads(),
        per_block,
        |out| match out {
            Ok(t) => consume(t, &mut running, &layout),
            Err(e) if count_rows => Err(e),
            Err(e) => Err(shift_row(e, running.base)),
        },
    )?;
    if let Some(e) = read_error {
        return Err(io(e, Some(running.base + 1)));
    }
    Ok((layout, running))
}

/// The whole summary in memory: [`crate::io::read_summary`]'s engine.
pub(crate) fn read_all(
    reader: impl Read,
    unit: crate::io::SummaryUnit,
) -> Result<(RfmSummary, Option<TimeUnit>)> {
    read_all_in(reader, unit, BLOCK_BYTES)
}

/// [`read_all`] in blocks of `block_bytes`.
fn read_all_in(
    reader: impl Read,
    unit: crate::io::SummaryUnit,
    block_bytes: usize,
) -> Result<(RfmSummary, Option<TimeUnit>)> {
    let mut all = Rows::default();
    let (layout, running) = read_blocks(
        reader,
        block_bytes,
        Keep::All,
        |rows, _| Ok(rows),
        |rows, running, _| {
            running.admit(&rows)?;
            append(&mut all, rows);
            Ok(())
        },
    )?;
    let unit = resolve_unit(unit, running.recorded_unit())?;
    let duration = running.duration();
    let s = RfmSummary::new(
        std::mem::take(&mut all.ids),
        std::mem::take(&mut all.x),
        std::mem::take(&mut all.t_x),
        std::mem::take(&mut all.t),
        unit,
    )?;
    Ok((attach(s, &layout, all, duration)?, running.recorded_unit()))
}

/// The optional columns of `rows` attached to `s` (built from its first columns): monetary
/// values, litt and the holdout, where the file has them.
fn attach(
    mut s: RfmSummary,
    layout: &Layout,
    rows: Rows,
    duration: Option<f64>,
) -> Result<RfmSummary> {
    if layout.mi.is_some() {
        s = s.with_monetary_value(rows.m)?;
    }
    if layout.li.is_some() {
        s = s.with_litt(rows.litt)?;
    }
    if let (Some(_), Some(d)) = (layout.hfi, duration) {
        let monetary_value = if layout.hmi.is_some() {
            rows.hm
        } else {
            vec![0.0; rows.hf.len()]
        };
        s = s.with_holdout(Holdout {
            frequency: rows.hf,
            monetary_value,
            duration: d,
        })?;
    }
    Ok(s)
}

fn append(all: &mut Rows, rows: Rows) {
    all.ids.extend(rows.ids);
    all.x.extend(rows.x);
    all.t_x.extend(rows.t_x);
    all.t.extend(rows.t);
    all.m.extend(rows.m);
    all.litt.extend(rows.litt);
    all.hf.extend(rows.hf);
    all.hm.extend(rows.hm);
    all.len += rows.len;
}

/// The unit to read the times in: the recorded one unless another is expected.
pub(crate) fn resolve_unit(
    want: crate::io::SummaryUnit,
    recorded: Option<TimeUnit>,
) -> Result<TimeUnit> {
    use crate::io::SummaryUnit;
    match (want, recorded) {
        (SummaryUnit::Expect(want), Some(found)) if found != want => Err(Error::UnitMismatch {
            what: "the summary".into(),
            found,
            against: "the unit asked for".into(),
            expected: want,
            hint: "summarise the log again in that unit, or drop the time_unit column if \
                   the times really are in it"
                .into(),
        }),
        (_, Some(found)) => Ok(found),
        (SummaryUnit::Expect(u) | SummaryUnit::RecordedOr(u), None) => Ok(u),
    }
}

/// Only the histories, compressed (see [`crate::io::read_summary_compressed`]); `rows_hint`
/// sizes the key column up front so it is not reallocated (and briefly doubled) as it grows.
pub(crate) fn read_compressed(
    reader: impl Read,
    unit: crate::io::SummaryUnit,
    rows_hint: usize,
) -> Result<(CompressedRfm, TimeUnit, Option<TimeUnit>, DuplicateCheck)> {
    let mut keys: Vec<(u64, u64, u64)> = Vec::with_capacity(rows_hint);
    let mut hashes = IdHashes::with_room(rows_hint);
    let (layout, running) = read_blocks(
        reader,
        BLOCK_BYTES,
        Keep::Histories,
        |rows, _| Ok(rows),
        |rows, running, _| {
            running.admit(&rows)?;
            keys.extend_from_slice(&rows.keys);
            hashes.extend(&rows.id_hashes);
            Ok(())
        },
    )?;
    let unit_read = resolve_unit(unit, running.recorded_unit())?;
    if keys.is_empty() {
        return Err(Error::EmptyData("the summary has no customers"));
    }
    let has_ids = layout.ci.is_some();
    // the duplicate-id check runs beside the compression (whose dedup pass is sequential)
    let (check, c) = crate::par::join(
        move || {
            if !has_ids {
                DuplicateCheck::NoIds
            } else if hashes.any_repeated() {
                DuplicateCheck::Suspect
            } else {
                DuplicateCheck::Distinct
            }
        },
        move || CompressedRfm::from_keys(keys),
    );
    Ok((c, unit_read, running.recorded_unit(), check))
}

/// Id hashes bucketed by their top bits as they arrive, so that finding a repeated hash at
/// the end is many small sorts (in cache, on all cores) rather than one large one.
#[derive(Debug)]
pub(crate) struct IdHashes {
    buckets: Vec<Vec<u64>>,
}

impl IdHashes {
    const BITS: u32 = 12;

    /// Buckets with room for about `rows` hashes in all (an eighth more than an even share:
    /// a bucket that does not grow is not copied), or empty ones for `rows` 0.
    pub(crate) fn with_room(rows: usize) -> Self {
        let each = (rows >> Self::BITS) + (rows >> (Self::BITS + 3));
        IdHashes {
            buckets: (0..1 << Self::BITS)
                .map(|_| Vec::with_capacity(each))
                .collect(),
        }
    }

    pub(crate) fn extend(&mut self, hashes: &[u64]) {
        for &h in hashes {
            self.buckets[(h >> (64 - Self::BITS)) as usize].push(h);
        }
    }

    /// Whether some hash occurs twice.
    pub(crate) fn any_repeated(self) -> bool {
        crate::par::any_owned(self.buckets, |mut b| {
            b.sort_unstable();
            b.windows(2).any(|w| w[0] == w[1])
        })
    }
}

/// What the id hashes of [`read_compressed`] say about duplicate ids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DuplicateCheck {
    /// Every id is distinct.
    Distinct,
    /// Two ids share a hash: a duplicate, or (rarely) a collision; the exact reader decides.
    Suspect,
    /// No id column: customers are rows.
    NoIds,
}

/// One block's rows as a summary of their own (errors naming rows within the block).
fn chunk_summary(
    mut rows: Rows,
    layout: &Layout,
    unit: crate::io::SummaryUnit,
) -> Result<RfmSummary> {
    let unit = resolve_unit(unit, rows.unit)?;
    // rows were checked as they were parsed; duplicate ids are checked across the whole file
    let s = RfmSummary::from_checked_rows(
        std::mem::take(&mut rows.ids),
        std::mem::take(&mut rows.x),
        std::mem::take(&mut rows.t_x),
        std::mem::take(&mut rows.t),
        unit,
    )?;
    let duration = rows.duration;
    attach(s, layout, rows, duration)
}

/// The engine of [`crate::io::for_each_summary_chunk`]: returns the customers read, the unit
/// the file records, and what the id hashes say about duplicates.
pub(crate) fn for_each_chunk<T: Send>(
    reader: impl Read,
    unit: crate::io::SummaryUnit,
    work: impl Fn(&RfmSummary) -> Result<T> + Sync + Send,
    mut consume: impl FnMut(T) -> Result<()> + Send,
) -> Result<(usize, Option<TimeUnit>, DuplicateCheck)> {
    let mut hashes = IdHashes::with_room(0);
    let (layout, running) = read_blocks(
        reader,
        BLOCK_BYTES,
        Keep::All,
        |rows, layout| {
            let hashed: Vec<u64> = if layout.ci.is_some() {
                rows.ids.iter().map(|id| super::id_hash(id)).collect()
            } else {
                Vec::new()
            };
            let duration = rows.duration;
            let recorded = rows.unit;
            let (len, first) = (rows.len, rows.first_id.clone());
            let s = chunk_summary(rows, layout, unit)?;
            let out = work(&s)?;
            Ok((out, hashed, duration, recorded, len, first))
        },
        |(out, hashed, duration, recorded, len, first_id), running, _| {
            let probe = Rows {
                duration,
                unit: recorded,
                first_id,
                len,
                ..Rows::default()
            };
            running.admit(&probe)?;
            hashes.extend(&hashed);
            consume(out)
        },
    )?;
    if running.base == 0 {
        return Err(Error::EmptyData("the summary has no customers"));
    }
    let check = if layout.ci.is_none() {
        DuplicateCheck::NoIds
    } else if hashes.any_repeated() {
        DuplicateCheck::Suspect
    } else {
        DuplicateCheck::Distinct
    };
    Ok((running.base, running.recorded_unit(), check))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::SummaryUnit;

    const WEEKS: SummaryUnit = SummaryUnit::RecordedOr(TimeUnit::Weeks);

    /// The same summary, or the same error, whatever the block size.
    fn same_at_every_block_size(text: &[u8]) {
        let want = read_all_in(text, WEEKS, 1 << 20).map_err(|e| e.to_string());
        for size in [1, 2, 3, 7, 16, 64, 200] {
            let got = read_all_in(text, WEEKS, size).map_err(|e| e.to_string());
            assert_eq!(got, want, "block size {size}");
        }
    }

    #[test]
    fn blocks_read_the_summary_the_whole_file_gives() {
        let mut text = String::from("customer_id,frequency,recency,T,monetary_value,time_unit\r\n");
        for i in 0..200 {
            let id = match i % 4 {
                0 => format!("\"c,{i}\""),
                1 => format!("\"c\n{i}\""),
                _ => format!("c{i}"),
            };
            let x = i % 5;
            let tx = if x == 0 { 0.0 } else { f64::from(i) / 10.0 };
            text.push_str(&format!("{id},{x},{tx},30.5,{}.25,weeks\r\n", i % 7));
        }
        let (s, recorded) = read_all_in(text.as_bytes(), WEEKS, 1 << 20).unwrap();
        assert_eq!((s.len(), recorded), (200, Some(TimeUnit::Weeks)));
        assert_eq!(s.ids()[0], "c,0");
        assert_eq!(s.ids()[1], "c\n1");
        same_at_every_block_size(text.as_bytes());
    }

    #[test]
    fn rows_and_customers_are_named_as_in_the_whole_file() {
        // no id column: customers are rows, counted across blocks
        let mut text = String::from("frequency,recency,T\n");
        for _ in 0..50 {
            text.push_str("1,2,10\n\n");
        }
        let (s, _) = read_all_in(text.as_bytes(), WEEKS, 5).unwrap();
        assert_eq!(s.ids()[49], "50");
        same_at_every_block_size(text.as_bytes());
        // an error far into the file names its row and customer
        let mut bad = text.clone();
        bad.push_str("0,3,10\n");
        let e = read_all_in(bad.as_bytes(), WEEKS, 7).unwrap_err();
        assert_eq!(
            e.to_string(),
            "row 51 (customer 51): recency recency is 3 > 0 but frequency is 0 (recency must be \
             0 without repeat purchases)"
        );
        same_at_every_block_size(bad.as_bytes());
        // with ids: the row is counted in file order, the id named
        let mut ids = String::from("id,frequency,recency,T,duration_holdout,frequency_holdout\n");
        for i in 0..40 {
            ids.push_str(&format!("k{i},1,2,10,5,0\n"));
        }
        same_at_every_block_size(ids.as_bytes());
        ids.push_str("k40,1,2,10,6,0\n");
        let e = read_all_in(ids.as_bytes(), WEEKS, 9).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("row 41 (customer k40): duration_holdout"),
            "{e}"
        );
        same_at_every_block_size(ids.as_bytes());
        // a duplicate id in another block
        let mut dup = String::from("id,frequency,recency,T\n");
        for i in 0..30 {
            dup.push_str(&format!("k{},1,2,10\n", i % 29));
        }
        let e = read_all_in(dup.as_bytes(), WEEKS, 8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "row 30 (customer k0): customer_id appears more than once"
        );
    }

    #[test]
    fn compressed_histories_match_the_summary() {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary.csv"
        ))
        .unwrap();
        let (s, _) = read_all(&text[..], WEEKS).unwrap();
        let (c, unit, recorded, check) = read_compressed(&text[..], WEEKS, 0).unwrap();
        assert_eq!(c, s.compress());
        assert_eq!((unit, recorded), (TimeUnit::Weeks, None));
        assert_eq!(check, DuplicateCheck::Distinct);
        let dup = b"id,frequency,recency,T\na,1,2,10\na,0,0,4\n";
        let (_, _, _, check) = read_compressed(&dup[..], WEEKS, 0).unwrap();
        assert_eq!(check, DuplicateCheck::Suspect);
    }
}
