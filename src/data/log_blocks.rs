//! Transaction logs summarised on all cores: the log is cut into blocks of whole records
//! ([`super::blocks`]: quote-aware cuts), the blocks are parsed in parallel, and their
//! transactions go to one summariser per shard of the customers (by a hash of the id), each
//! taking its customers' transactions in file order. A customer's fold therefore sees exactly
//! the sequence the one-thread reader would give it; the shards are merged with customers in
//! order of first appearance, rows and errors numbered as in the file.

use super::SummaryBuilder;
use super::blocks::{Block, Blocks, Recycler, for_each_record, for_each_text_record};
use super::io::{
    Cols, Late, LineCounts, RowFields, RowJudge, Tally, TransactionFormat, Verdict,
    check_cancel_prefix, column_name, columns_of,
};
use super::line_guard::{from_csv, from_io};
use super::summary_csv::shift_row;
use super::time::Stamp;
use crate::error::{DataIssue, Error, Result};
use std::io::Read;
use std::sync::{Arc, mpsc};

/// Bytes per block.
const BLOCK_BYTES: usize = 1 << 20;

/// One transaction of a block, for its shard: the row within the block, the customer id as a
/// range of the block's text (or of its id text, for a block read by the `csv` crate) and its
/// hash, the time and the amount.
struct Rec {
    row: u32,
    id: (u32, u32),
    hash: u64,
    time: Stamp,
    amount: f64,
}

/// A parsed block: its rows, account, customer ids and transactions by shard, and the error
/// that stopped it (rows numbered within the block).
#[derive(Default)]
struct BlockOut {
    rows: usize,
    tally: Tally,
    /// The block's bytes, when its records were read in place (the ids are ranges of them).
    text: Option<String>,
    /// The ids copied out of the `csv` crate's records, when they were not.
    ids: String,
    shards: Vec<Vec<Rec>>,
    error: Option<Error>,
}

impl BlockOut {
    /// The id of `r`.
    fn id(&self, r: &Rec) -> &str {
        let range = r.id.0 as usize..(r.id.0 + r.id.1) as usize;
        match &self.text {
            Some(text) => &text[range],
            None => &self.ids[range],
        }
    }
}

/// A field as text; invalid UTF-8 is an error naming the row and column.
fn field_text<'a>(raw: &'a [u8], row: usize, name: &'static str) -> Result<&'a str> {
    std::str::from_utf8(raw).map_err(|e| Error::InvalidData {
        row: Some(row),
        customer: None,
        field: name,
        issue: DataIssue::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        },
    })
}

/// Parses one block: every record judged under the format's policies, the transactions kept
/// sorted into shards. Stops at the first error (kept in the output with the rows before it).
/// What parsing a block needs: the delimiter, the columns, the row rules, the window's end
/// (lines after it are counted and skipped) and the number of shards.
struct BlockParser<'a> {
    delimiter: u8,
    cols: Cols,
    judge: RowJudge<'a>,
    /// Rows at or after this time are after the window (counted and skipped).
    late: Option<Stamp>,
    shards: usize,
}

fn parse_block(
    p: &BlockParser<'_>,
    block: Block,
    skip: usize,
    spare: Option<BlockOut>,
    recycler: &Recycler,
) -> BlockOut {
    let (delimiter, cols, judge, shards) = (p.delimiter, &p.cols, &p.judge, p.shards);
    let late = p.late.map_or(Late::Never, Late::From);
    // an earlier block's buffers, emptied, when one is free (no fresh pages for every block)
    let mut out = match spare {
        Some(mut o) if o.shards.len() == shards => {
            o.rows = 0;
            o.tally = Tally::default();
            o.ids.clear();
            o.shards.iter_mut().for_each(Vec::clear);
            o.error = None;
            o
        }
        _ => BlockOut {
            shards: (0..shards).map(|_| Vec::new()).collect(),
            ..BlockOut::default()
        },
    };
    let mut row = 0usize;
    // `id_at(customer)`: where the id is kept (a range of the block, or of `out.ids`)
    let take = |f: RowFields<'_>,
                row: usize,
                out: &mut BlockOut,
                id_at: &mut dyn FnMut(&str, &mut String) -> u32|
     -> Result<()> {
        match judge.judge(row, f, late, &mut out.tally)? {
            Verdict::Use(customer, time, amount) => {
                let hash = super::id_hash(customer);
                let start = id_at(customer, &mut out.ids);
                out.shards[(hash % shards as u64) as usize].push(Rec {
                    row: row as u32,
                    id: (start, customer.len() as u32),
                    hash,
                    time,
                    amount,
                });
            }
            Verdict::Net(..) => unreachable!("netting logs are read on one thread"),
            Verdict::Skip => {}
        }
        Ok(())
    };
    let result = match block.into_text(delimiter) {
        Ok(text) => {
            // an id is a slice of `text` (a field, trimmed): its offset in the block
            let (base, len) = (text.as_ptr() as usize, text.len());
            let mut in_place = |id: &str, _: &mut String| {
                let at = id.as_ptr() as usize - base;
                debug_assert!(at + id.len() <= len, "the id is a slice of the block");
                at as u32
            };
            let result = for_each_text_record(&text, delimiter, skip, |fields| {
                row += 1;
                let opt = |j: Option<usize>| j.map(|j| fields.get(j).copied());
                let f = RowFields {
                    customer: fields.get(cols.0).copied(),
                    date: fields.get(cols.1).copied(),
                    amount: opt(cols.2),
                    quantity: opt(cols.3),
                    invoice: opt(cols.4),
                };
                take(f, row, &mut out, &mut in_place)
            });
            out.text = Some(text);
            result
        }
        Err(block) => {
            out.text = None;
            let mut copied = |id: &str, ids: &mut String| {
                let start = ids.len() as u32;
                ids.push_str(id);
                start
            };
            let result = for_each_record(
                &block,
                delimiter,
                skip,
                |fields| {
                    row += 1;
                    let get = |j: usize| -> Result<Option<&str>> {
                        fields
                            .get(j)
                            .map(|raw| field_text(raw, row, column_name(cols, j)))
                            .transpose()
                    };
                    let opt = |j: Option<usize>| -> Result<Option<Option<&str>>> {
                        j.map(&get).transpose()
                    };
                    let f = RowFields {
                        customer: get(cols.0)?,
                        date: get(cols.1)?,
                        amount: opt(cols.2)?,
                        quantity: opt(cols.3)?,
                        invoice: opt(cols.4)?,
                    };
                    take(f, row, &mut out, &mut copied)
                },
                |e, i| from_csv(e, "transactions", Some(i + 1), |j| column_name(cols, j)),
            );
            recycler.give(block);
            result
        }
    };
    match result {
        Ok(n) => out.rows = n,
        Err(e) => {
            out.rows = row;
            out.error = Some(e);
        }
    }
    out
}

/// Pushes shard `k`'s transactions of a block into its summariser, the next 16 customers'
/// accounts looked up first each time (`SummaryBuilder::warm_up`); the first error stops it.
fn push_block(
    b: &mut SummaryBuilder,
    k: usize,
    item: &(usize, BlockOut),
    failed: &mut Option<Error>,
) {
    let (base, out) = item;
    let mut ids = [""; 16];
    for batch in out.shards[k].chunks(16) {
        for (id, r) in ids.iter_mut().zip(batch) {
            *id = out.id(r);
        }
        b.warm_up(ids.iter().zip(batch).map(|(&id, r)| (id, r.hash)));
        for (&id, r) in ids.iter().zip(batch) {
            let row = base + r.row as usize;
            if let Err(e) = b.push_stamp(row, id, Some(r.hash), r.time, r.amount) {
                *failed = Some(e);
                return;
            }
        }
    }
}

/// The row an error names (errors without one sort last).
fn row_of(e: &Error) -> usize {
    match e {
        Error::InvalidData { row: Some(r), .. } => *r,
        _ => usize::MAX,
    }
}

/// Summarises a delimited log into a fresh `builder` on all cores; see the module docs. The
/// format must not net returns. Returns the account of lines, as the one-thread reader does.
pub(crate) fn summarize_blocks(
    reader: impl Read,
    format: &TransactionFormat,
    delimiter: u8,
    builder: &mut SummaryBuilder,
) -> Result<LineCounts> {
    let shards = crate::par::threads().max(1);
    summarize_blocks_in(reader, format, delimiter, builder, (BLOCK_BYTES, shards))
}

/// [`summarize_blocks`] in blocks of `block_bytes`, the customers in `n_shards` shards.
fn summarize_blocks_in(
    reader: impl Read,
    format: &TransactionFormat,
    delimiter: u8,
    builder: &mut SummaryBuilder,
    (block_bytes, n_shards): (usize, usize),
) -> Result<LineCounts> {
    check_cancel_prefix(format)?;
    let mut blocks = Blocks::new(reader, delimiter, block_bytes);
    let io = |e: std::io::Error, row: Option<usize>| from_io(&e, "transactions", row);
    let first = blocks
        .next_block()
        .map_err(|e| io(e, if format.has_header { None } else { Some(1) }))?;
    let Some(first) = first else {
        return Err(Error::EmptyData(if format.has_header {
            "the file is empty"
        } else {
            "the file has no transactions"
        }));
    };
    let (cols, skip) = if format.has_header {
        let header = super::blocks::header_of(&first, delimiter, "transactions")?
            .ok_or(Error::EmptyData("the file is empty"))?;
        (columns_of(format, Some(&header))?, 1)
    } else {
        (columns_of(format, None)?, 0)
    };
    let late = Late::start_after_end(builder.options());
    let parser = BlockParser {
        delimiter,
        cols,
        judge: RowJudge::new(format),
        late,
        shards: n_shards,
    };

    let recycler = blocks.recycler();
    let mut pending_first = Some(first);
    let mut read_error: Option<std::io::Error> = None;
    let next = || -> Result<Option<(Block, usize)>> {
        match pending_first.take() {
            Some(b) => Ok(Some((b, skip))),
            None if read_error.is_some() => Ok(None),
            None => match blocks.next_block() {
                Ok(b) => Ok(b.map(|b| (b, 0))),
                Err(e) => {
                    read_error = Some(e);
                    Ok(None)
                }
            },
        }
    };
    // block outputs the shards are done with, for the next blocks
    let spares: std::sync::Mutex<Vec<BlockOut>> = std::sync::Mutex::new(Vec::new());
    let work = |(block, skip): (Block, usize)| {
        let spare = spares.lock().ok().and_then(|mut v| v.pop());
        parse_block(&parser, block, skip, spare, &recycler)
    };

    let mut tally = Tally::default();
    let mut rows = 0usize;
    let (shards, stopped) = std::thread::scope(|scope| {
        let mut senders = Vec::with_capacity(n_shards);
        let mut handles = Vec::with_capacity(n_shards);
        for k in 0..n_shards {
            let (tx, rx) = mpsc::sync_channel::<Arc<(usize, BlockOut)>>(8);
            senders.push(tx);
            let mut b = builder.shard();
            let (spares, recycler) = (&spares, recycler.clone());
            handles.push(scope.spawn(move || {
                let mut failed: Option<Error> = None;
                for item in rx {
                    if failed.is_none() {
                        push_block(&mut b, k, &item, &mut failed);
                    }
                    // the last shard done with a block gives its buffers back
                    if let Some((_, mut out)) = Arc::into_inner(item) {
                        if let Some(text) = out.text.take() {
                            recycler.give_bytes(text.into_bytes());
                        }
                        if let Ok(mut v) = spares.lock() {
                            v.push(out);
                        }
                    }
                }
                (b, failed)
            }));
        }
        let stopped = crate::par::pipeline(next, 4 * n_shards, work, |mut out: BlockOut| {
            let base = rows;
            rows += out.rows;
            if let Some((r, _, _)) = &mut out.tally.first_negative {
                *r += base;
            }
            let error = out.error.take();
            tally.add(std::mem::take(&mut out.tally));
            let shared = Arc::new((base, out));
            for tx in &senders {
                // (a shard that stopped at an error drains its channel: it never hangs up)
                let _ = tx.send(Arc::clone(&shared));
            }
            match error {
                Some(e) => Err(shift_row(e, base)),
                None => Ok(()),
            }
        });
        drop(senders);
        let shards: Vec<(SummaryBuilder, Option<Error>)> = handles
            .into_iter()
            .map(|h| h.join().expect("a shard does not panic"))
            .collect();
        (shards, stopped)
    });
    // the first error in file order wins, as when reading on one thread
    let mut errors: Vec<Error> = Vec::new();
    if let Err(e) = stopped {
        errors.push(e);
    }
    if let Some(e) = read_error {
        errors.push(io(e, Some(rows + 1)));
    }
    let mut builders = Vec::with_capacity(shards.len());
    for (b, e) in shards {
        errors.extend(e);
        builders.push(b);
    }
    if let Some(e) = errors.into_iter().min_by_key(row_of) {
        return Err(e);
    }
    if rows == 0 {
        return Err(Error::EmptyData("the file has no transactions"));
    }
    if let Some(e) = tally.negative_error() {
        return Err(e);
    }
    builder.absorb_shards(builders);
    tally.counts.read = rows;
    Ok(tally.counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Returns, parse_rows_counted};
    use crate::{Summarized, SummaryOptions, TimeUnit};

    fn at(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    fn options() -> SummaryOptions {
        SummaryOptions::new(at(2024, 3, 31), TimeUnit::Weeks)
            .with_observation_end(at(2024, 6, 30))
            .unwrap()
            .skipping_lines_after_end()
    }

    /// The summary, the account and the replay flag of one thread reading row by row.
    fn one_thread(
        text: &str,
        format: &TransactionFormat,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        one_thread_with(text, format, options())
    }

    fn one_thread_with(
        text: &str,
        format: &TransactionFormat,
        opts: SummaryOptions,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        let mut b = SummaryBuilder::new(opts);
        let late = |t: Stamp| opts.is_after_end(t.time());
        let counts = parse_rows_counted(
            text.as_bytes(),
            format,
            Late::By(&late),
            &mut |r, c, t, a| b.push(r, c, t, a),
        )
        .map_err(|e| e.to_string())?;
        finish(b, text, format, counts)
    }

    /// The summary of `b`, after the replay of `text` when it needs one.
    fn finish(
        mut b: SummaryBuilder,
        text: &str,
        format: &TransactionFormat,
        counts: LineCounts,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        if b.needs_replay() {
            b.begin_replay();
            let opts = *b.options();
            let late = |t: Stamp| opts.is_after_end(t.time());
            parse_rows_counted(
                text.as_bytes(),
                format,
                Late::By(&late),
                &mut |_, c, t, a| {
                    b.replay(c, t, a);
                    Ok(())
                },
            )
            .map_err(|e| e.to_string())?;
        }
        Ok((b.finish().map_err(|e| e.to_string())?, counts))
    }

    fn in_blocks(
        text: &str,
        format: &TransactionFormat,
        size: usize,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        in_shards(text, format, size, 2)
    }

    fn in_shards(
        text: &str,
        format: &TransactionFormat,
        size: usize,
        shards: usize,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        in_shards_with(text, format, (size, shards), options())
    }

    fn in_shards_with(
        text: &str,
        format: &TransactionFormat,
        (size, shards): (usize, usize),
        opts: SummaryOptions,
    ) -> std::result::Result<(Summarized, LineCounts), String> {
        let mut b = SummaryBuilder::new(opts);
        let counts = summarize_blocks_in(text.as_bytes(), format, b',', &mut b, (size, shards))
            .map_err(|e| e.to_string())?;
        finish(b, text, format, counts)
    }

    /// A log of `n` rows: customers interleaved and grouped, quoted ids with commas and line
    /// ends, CRLF and blank lines, missing ids, returns, zero amounts, lines after the end,
    /// and some customers out of time order.
    fn log(n: usize, seed: u64) -> String {
        let mut text = String::from("customer,when,amount\r\n");
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize
        };
        for i in 0..n {
            let c = next() % 97;
            let id = match c % 10 {
                0 => format!("\"c{c},x\""),
                1 => format!("\"c{c}\nline\""),
                2 if next() % 9 == 0 => String::new(),
                _ => format!("c{c}"),
            };
            // mostly in time order, now and then back in time or after the end
            let day = match next() % 40 {
                0 => 200,
                1 => 3,
                _ => (i * 180 / n) as u32 + 1,
            };
            let date = chrono::NaiveDate::from_yo_opt(2024, day).unwrap();
            let amount = match next() % 25 {
                0 => "-5.5".to_string(),
                1 => "0".to_string(),
                k => format!("{k}.25"),
            };
            let end = if next() % 4 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!("{id},{date},{amount}{end}"));
            if next() % 50 == 0 {
                text.push('\n');
            }
        }
        text
    }

    #[test]
    fn blocks_summarise_as_one_thread_does() {
        let mut format = TransactionFormat::csv("customer", "when", Some("amount"));
        format.skip_missing_customer = true;
        format.returns = Returns::Drop;
        for seed in 1..4 {
            let text = log(3000, seed);
            let want = one_thread(&text, &format).unwrap();
            assert!(want.1.missing_customer > 0 && want.1.returns_dropped > 0);
            assert!(want.1.after_end > 0);
            for size in [7, 64, 1000, 1 << 20] {
                assert_eq!(
                    in_blocks(&text, &format, size),
                    Ok(want.clone()),
                    "seed {seed}, size {size}"
                );
            }
        }
    }

    #[test]
    fn errors_are_the_first_in_file_order() {
        // without the skip policies: the first missing id, the negative amounts
        let strict = TransactionFormat::csv("customer", "when", Some("amount"));
        let text = log(2000, 5);
        let want = one_thread(&text, &strict);
        assert!(want.is_err());
        for size in [9, 300, 1 << 20] {
            assert_eq!(in_blocks(&text, &strict, size), want, "size {size}");
        }
        // a bad date and a bad amount in different blocks: the earlier row wins
        let mut format = TransactionFormat::csv("customer", "when", Some("amount"));
        format.skip_missing_customer = true;
        format.returns = Returns::Drop;
        let mut text = log(2000, 6);
        text.push_str("c1,2024-01-xx,5\n");
        let want = one_thread(&text, &format);
        assert!(want.as_ref().unwrap_err().contains("date"), "{want:?}");
        for size in [9, 300, 1 << 20] {
            assert_eq!(in_blocks(&text, &format, size), want, "size {size}");
        }
        let bad_amount = text.replacen(",7.25", ",seven", 1);
        let want = one_thread(&bad_amount, &format);
        assert!(want.as_ref().unwrap_err().contains("amount"), "{want:?}");
        for size in [9, 300, 1 << 20] {
            assert_eq!(in_blocks(&bad_amount, &format, size), want, "size {size}");
        }
        // negative amounts under Returns::Error: the first, with their count
        let mut no_returns = format.clone();
        no_returns.returns = Returns::Error;
        let text = log(2000, 7);
        let want = one_thread(&text, &no_returns);
        assert!(want.as_ref().unwrap_err().contains("negative"), "{want:?}");
        for size in [9, 300, 1 << 20] {
            assert_eq!(in_blocks(&text, &no_returns, size), want, "size {size}");
        }
    }

    /// A log in time order (no replay: the shards are folded on their own threads and their
    /// columns merged), with customers first seen in the holdout and customers with three and
    /// more occasions: every shard count and block size gives the one-thread summary.
    #[test]
    fn shards_finish_as_one_builder_does() {
        let format = TransactionFormat::csv("customer", "when", Some("amount"));
        let mut text = String::from("customer,when,amount\n");
        let mut s = 9u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize
        };
        for day in 1..=180u32 {
            let date = chrono::NaiveDate::from_yo_opt(2024, day).unwrap();
            for _ in 0..next() % 6 {
                // new customers keep arriving, in the holdout too (after day 91)
                let c = next() % (day as usize * 2 + 5);
                text.push_str(&format!("c{c},{date},{}.5\n", next() % 90));
            }
        }
        let want = one_thread(&text, &format).unwrap();
        assert!(!want.0.first_seen_in_holdout.is_empty());
        assert!(want.0.regularity.is_some());
        for shards in [1, 2, 3, 5] {
            for size in [64, 1000, 1 << 20] {
                assert_eq!(
                    in_shards(&text, &format, size, shards),
                    Ok(want.clone()),
                    "shards {shards}, size {size}"
                );
            }
        }
        // without a holdout window: no holdout columns
        let calibration_only =
            SummaryOptions::new(at(2024, 3, 31), TimeUnit::Weeks).skipping_lines_after_end();
        let want = one_thread_with(&text, &format, calibration_only).unwrap();
        assert!(want.0.summary.holdout().is_none());
        for shards in [1, 2, 3] {
            assert_eq!(
                in_shards_with(&text, &format, (1000, shards), calibration_only),
                Ok(want.clone()),
                "shards {shards}"
            );
        }
    }
}
