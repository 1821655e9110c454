//! Delimited text cut into blocks of whole records, for parsing on several cores.
//!
//! **Where a block ends.** A block ends just after a line end that is *outside* a quoted field,
//! so every block starts at the beginning of a record and can be parsed on its own. A block
//! without a quote character ends after its last `\n` (found with `memrchr`). A block with one
//! is scanned from its start (a record start, so the quote state is known there) with the
//! CSV quote rules the `csv` crate applies: a `"` opens a quoted field only at the start of a
//! field; inside one, `""` is an escaped quote and a lone `"` closes it; a delimiter or a line
//! end inside a quoted field is text. The block ends after the last `\n` met outside quotes. A
//! record longer than the block (a quoted field holding many lines) makes the block grow until
//! the record ends.
//!
//! **Parsing a block.** A block without quotes is split at `\n` (a trailing `\r` dropped) and
//! at the delimiter by hand, eight bytes at a time (`split_records`), as bytes or as text; a
//! block with quotes goes through the `csv` crate, so quoted fields, escaped quotes and quoted
//! line ends read exactly as the sequential readers read them. Blank lines are skipped and not
//! counted as rows, as the `csv` crate does.

use super::line_guard::LineGuard;
use std::io::{self, Read};

/// The bytes of a block: whole records.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) bytes: Vec<u8>,
    /// Whether the block goes through the `csv` crate (quotes, or a bare `\r`).
    quoted: bool,
}

/// Gives parsed blocks' buffers back to their [`Blocks`].
#[derive(Debug, Clone)]
pub(crate) struct Recycler(std::sync::mpsc::Sender<Vec<u8>>);

impl Recycler {
    /// Gives `block`'s buffer back (dropped if the reader is gone).
    pub(crate) fn give(&self, block: Block) {
        self.give_bytes(block.bytes);
    }

    /// Gives a block's bytes back (dropped if the reader is gone).
    pub(crate) fn give_bytes(&self, bytes: Vec<u8>) {
        let _ = self.0.send(bytes);
    }
}

/// The longest record (quoted line ends included) a block may grow to: 64 MiB.
pub(crate) const MAX_RECORD_BYTES: usize = 64 << 20;

/// The error for a record with no end within [`MAX_RECORD_BYTES`].
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a record runs over {MAX_RECORD_BYTES} bytes without ending (an unclosed quote?)"
        )
    }
}

impl std::error::Error for RecordTooLong {}

/// Cuts a byte stream into blocks of about `size` bytes of whole records.
pub(crate) struct Blocks<R> {
    inner: LineGuard<R>,
    pending: Vec<u8>,
    /// Buffers of blocks already parsed, given back through [`Blocks::recycler`].
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    give_back: std::sync::mpsc::Sender<Vec<u8>>,
    eof: bool,
    delimiter: u8,
    size: usize,
}

impl<R: Read> Blocks<R> {
    /// Blocks of about `size` bytes of `inner` (lines over
    /// [`MAX_LINE_BYTES`](super::line_guard::MAX_LINE_BYTES) refused, as every reader does).
    pub(crate) fn new(inner: R, delimiter: u8, size: usize) -> Self {
        let (give_back, spare) = std::sync::mpsc::channel();
        Blocks {
            inner: LineGuard::new(inner),
            pending: Vec::new(),
            spare,
            give_back,
            eof: false,
            delimiter,
            size: size.max(1),
        }
    }

    /// Reads until `pending` holds `target` bytes or the input ends.
    fn fill(&mut self, target: usize) -> io::Result<()> {
        let mut len = self.pending.len();
        self.pending.resize(target.max(len), 0);
        while len < target {
            match self.inner.read(&mut self.pending[len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pending.truncate(len);
                    return Err(e);
                }
            }
        }
        self.pending.truncate(len);
        Ok(())
    }

    /// Where a parsed block's buffer can be given back for reuse.
    pub(crate) fn recycler(&self) -> Recycler {
        Recycler(self.give_back.clone())
    }

    /// The next block, `None` at the end of the input.
    ///
    /// # Errors
    /// The reader's I/O errors (an over-long line included), and a record with no end within
    /// [`MAX_RECORD_BYTES`].
    pub(crate) fn next_block(&mut self) -> io::Result<Option<Block>> {
        let mut target = self.size;
        loop {
            if !self.eof {
                self.fill(target)?;
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            if self.eof {
                let bytes = std::mem::take(&mut self.pending);
                let quoted = needs_csv(&bytes);
                return Ok(Some(Block { bytes, quoted }));
            }
            let end = if memchr::memchr(b'"', &self.pending).is_some() {
                last_record_end(&self.pending, self.delimiter)
            } else {
                memchr::memrchr(b'\n', &self.pending).map(|p| p + 1)
            };
            match end {
                Some(end) => {
                    // the unfinished record goes to a recycled buffer, which becomes the next
                    // block (no fresh pages for every block)
                    let mut rest = self.spare.try_recv().unwrap_or_default();
                    rest.clear();
                    rest.extend_from_slice(&self.pending[end..]);
                    self.pending.truncate(end);
                    let bytes = std::mem::replace(&mut self.pending, rest);
                    let quoted = needs_csv(&bytes);
                    return Ok(Some(Block { bytes, quoted }));
                }
                None if self.pending.len() >= MAX_RECORD_BYTES => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, RecordTooLong));
                }
                None => target = self.pending.len() + self.size,
            }
        }
    }
}

/// Whether `bytes` need the `csv` crate: a quote, or a `\r` that is not part of a `\r\n`
/// (a record end the hand-written splitter does not know).
fn needs_csv(bytes: &[u8]) -> bool {
    // one pass in the usual case (neither byte anywhere)
    memchr::memchr2(b'"', b'\r', bytes).is_some()
        && (memchr::memchr(b'"', bytes).is_some()
            || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n')))
}

/// The position just after the last `\n` of `bytes` that is outside a quoted field, scanning
/// from a record start with the `csv` crate's quote rules (see the module docs).
fn last_record_end(bytes: &[u8], delimiter: u8) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut end = None;
    for (i, &b) in bytes.iter().enumerate() {
        state = match state {
            State::Quoted => {
                if b == b'"' {
                    State::QuoteInQuoted
                } else {
                    State::Quoted
                }
            }
            State::FieldStart if b == b'"' => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            _ if b == b'\n' || b == b'\r' => {
                if b == b'\n' {
                    end = Some(i + 1);
                }
                State::FieldStart
            }
            _ if b == delimiter => State::FieldStart,
            _ => State::Unquoted,
        };
    }
    end
}

/// Calls `f(fields)` for each record of `block` (blank lines skipped) after the first `skip`
/// records, and returns how many records it passed to `f`. `f`'s error stops the walk.
///
/// # Errors
/// `f`'s errors, and the `csv` crate's for a quoted block it cannot read (`on_csv` maps them,
/// given the 0-based index of the record that failed).
pub(crate) fn for_each_record<E>(
    block: &Block,
    delimiter: u8,
    skip: usize,
    mut f: impl FnMut(&[&[u8]]) -> Result<(), E>,
    on_csv: impl Fn(&csv::Error, usize) -> E,
) -> Result<usize, E> {
    if !block.quoted {
        return split_records(&block.bytes[..], delimiter, skip, f);
    }
    let mut seen = 0usize;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&block.bytes[..]);
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(on_csv(&e, seen.saturating_sub(skip))),
        }
        seen += 1;
        if seen <= skip {
            continue;
        }
        let fields: Vec<&[u8]> = rec.iter().collect();
        f(&fields)?;
    }
    Ok(seen.saturating_sub(skip))
}

impl Block {
    /// The block as text, for [`for_each_text_record`]: a block without quotes that is valid
    /// UTF-8 as a whole (one validation for the block instead of one per field), read with an
    /// ASCII delimiter other than a line end. Otherwise the block back, to be read as bytes.
    pub(crate) fn into_text(self, delimiter: u8) -> Result<String, Block> {
        if self.quoted || !delimiter.is_ascii() || delimiter == b'\n' || delimiter == b'\r' {
            return Err(self);
        }
        String::from_utf8(self.bytes).map_err(|e| Block {
            bytes: e.into_bytes(),
            quoted: false,
        })
    }
}

/// The bytes of `w` that are zero, as their high bits (exact: no false positives from
/// borrows, unlike the shorter `(w - 0x01..) & !w & 0x80..`).
#[inline]
fn zero_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((w & LOW7).wrapping_add(LOW7)) | w | LOW7)
}

/// A piece of a block that [`split_records`] cuts into fields: bytes, or text (cut only at
/// ASCII bytes, so always at character boundaries).
trait Piece<'t>: Copy {
    fn bytes(self) -> &'t [u8];
    /// The part from byte `from` to byte `to`.
    fn cut(self, from: usize, to: usize) -> Self;
    /// Without a trailing `\r`.
    fn without_cr(self) -> Self;
}

impl<'t> Piece<'t> for &'t [u8] {
    #[inline]
    fn bytes(self) -> &'t [u8] {
        self
    }
    #[inline]
    fn cut(self, from: usize, to: usize) -> Self {
        &self[from..to]
    }
    #[inline]
    fn without_cr(self) -> Self {
        self.strip_suffix(b"\r").unwrap_or(self)
    }
}

impl<'t> Piece<'t> for &'t str {
    #[inline]
    fn bytes(self) -> &'t [u8] {
        self.as_bytes()
    }
    #[inline]
    fn cut(self, from: usize, to: usize) -> Self {
        &self[from..to]
    }
    #[inline]
    fn without_cr(self) -> Self {
        self.strip_suffix('\r').unwrap_or(self)
    }
}

/// [`for_each_record`] for a block as text ([`Block::into_text`]): records split at `\n` (a
/// trailing `\r` dropped) and fields at `delimiter`, blank lines skipped.
///
/// # Errors
/// `f`'s errors.
pub(crate) fn for_each_text_record<'t, E>(
    text: &'t str,
    delimiter: u8,
    skip: usize,
    f: impl FnMut(&[&'t str]) -> Result<(), E>,
) -> Result<usize, E> {
    split_records(text, delimiter, skip, f)
}

/// The records of `text` after the first `skip`, split at `\n` (a trailing `\r` dropped)
/// and their fields at `delimiter`, blank lines skipped; returns how many went to `f`.
///
/// The cuts are found eight bytes at a time: [`zero_bytes`] of the word against the delimiter
/// and the line end, each repeated eight times, marks every cut in the word, and the marks are
/// taken lowest first. On records of a few dozen bytes with a cut every ten, this beats a
/// `memchr` call per cut several times over.
///
/// A `\r` delimiter cuts nothing: in the blocks read here every `\r` ends a line (a bare
/// `\r` sends a block to the `csv` crate), so a record is one field, as when the line's
/// trailing `\r` is dropped before the line is split.
fn split_records<'t, P: Piece<'t>, E>(
    text: P,
    delimiter: u8,
    skip: usize,
    mut f: impl FnMut(&[P]) -> Result<(), E>,
) -> Result<usize, E> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let bytes = text.bytes();
    // (a `\r` delimiter is looked for as the line end, whose marks are ends: it cuts nothing)
    let delimiter = if delimiter == b'\r' { b'\n' } else { delimiter };
    let (delimiters, line_ends) = (ONES * u64::from(delimiter), ONES * u64::from(b'\n'));
    let mut seen = 0usize;
    let mut fields: Vec<P> = Vec::new();
    // the field being read starts at `from`
    let mut from = 0usize;
    let mut base = 0usize;
    while base < bytes.len() {
        let (w, valid) = match bytes.get(base..base + 8) {
            Some(word) => (
                u64::from_le_bytes(word.try_into().expect("8 bytes")),
                u64::MAX,
            ),
            None => {
                // the last few bytes, padded: the padding's marks are dropped
                let rest = &bytes[base..];
                let mut w = [0u8; 8];
                w[..rest.len()].copy_from_slice(rest);
                (u64::from_le_bytes(w), (1u64 << (8 * rest.len())) - 1)
            }
        };
        let ends = zero_bytes(w ^ line_ends) & valid;
        let mut cuts = (zero_bytes(w ^ delimiters) & valid) | ends;
        while cuts != 0 {
            let bit = cuts & cuts.wrapping_neg();
            cuts ^= bit;
            let p = base + (bit.trailing_zeros() / 8) as usize;
            let field = text.cut(from, p);
            from = p + 1;
            if ends & bit == 0 {
                fields.push(field);
                continue;
            }
            let last = field.without_cr();
            if fields.is_empty() && last.bytes().is_empty() {
                continue;
            }
            seen += 1;
            if seen > skip {
                fields.push(last);
                let result = f(&fields);
                fields.clear();
                result?;
            } else {
                fields.clear();
            }
        }
        base += 8;
    }
    // the last line, without a line end
    let last = text.cut(from, bytes.len()).without_cr();
    if !(fields.is_empty() && last.bytes().is_empty()) {
        seen += 1;
        if seen > skip {
            fields.push(last);
            f(&fields)?;
        }
    }
    Ok(seen.saturating_sub(skip))
}

/// The first record of `block` as a header: fields as text, a BOM and blanks trimmed; `None`
/// for a block without records. `what` names the file in a CSV error.
///
/// # Errors
/// The `csv` crate's error for a first record it cannot read.
pub(crate) fn header_of(
    block: &Block,
    delimiter: u8,
    what: &str,
) -> Result<Option<Vec<String>>, crate::Error> {
    let mut header = None;
    let stop = for_each_record(
        block,
        delimiter,
        0,
        |fields| {
            header = Some(
                fields
                    .iter()
                    .map(|f| {
                        String::from_utf8_lossy(f)
                            .trim_start_matches('\u{feff}')
                            .trim()
                            .to_string()
                    })
                    .collect::<Vec<String>>(),
            );
            // one record is all it takes
            Err(None)
        },
        |e, _| Some(super::line_guard::from_csv(e, what, None, |_| "header")),
    );
    match stop {
        Err(Some(e)) => Err(e),
        _ => Ok(header),
    }
}

/// At least as many as the records of `block`: its line ends, and one (for a last line
/// without one).
pub(crate) fn max_records(block: &Block) -> usize {
    memchr::memchr_iter(b'\n', &block.bytes).count() + 1
}

/// The number of records of `block` after the first `skip` (blank lines not counted), as
/// [`for_each_record`] would pass them.
pub(crate) fn count_records(block: &Block, delimiter: u8, skip: usize) -> usize {
    if block.quoted {
        return for_each_record(block, delimiter, skip, |_| Ok::<(), ()>(()), |_, _| ())
            .unwrap_or(0);
    }
    let bytes = &block.bytes[..];
    let mut start = 0usize;
    let mut n = 0usize;
    for end in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        let line = &bytes[start..end];
        start = end + 1;
        if !(line.is_empty() || line == b"\r") {
            n += 1;
        }
    }
    n.saturating_sub(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `text` cut into blocks of `size`, with the fields as strings.
    fn records(text: &[u8], size: usize) -> Vec<Vec<String>> {
        let mut blocks = Blocks::new(text, b',', size);
        let mut out = Vec::new();
        while let Some(b) = blocks.next_block().unwrap() {
            for_each_record(
                &b,
                b',',
                0,
                |fields| {
                    out.push(
                        fields
                            .iter()
                            .map(|f| String::from_utf8(f.to_vec()).unwrap())
                            .collect(),
                    );
                    Ok::<(), ()>(())
                },
                |_, _| (),
            )
            .unwrap();
        }
        out
    }

    /// The records the `csv` crate reads from the whole text in one piece.
    fn csv_records(text: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text)
            .byte_records()
            .map(|r| {
                r.unwrap()
                    .iter()
                    .map(|f| String::from_utf8(f.to_vec()).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn any_block_size_reads_the_records_the_csv_crate_reads() {
        let text = b"id,date,amount\r\n\
            a,2024-01-01,1.5\r\n\
            \"b,with comma\",2024-01-02,\"2\"\n\
            \n\
            \"c\nwith a line end\",2024-01-03,3\n\
            \"d \"\"quoted\"\" \n,\",2024-01-04,4\n\
            e\"stray,2024-01-05,5\n\
            f,2024-01-06,6";
        let want = csv_records(text);
        assert_eq!(want.len(), 7);
        assert_eq!(want[4][0], "d \"quoted\" \n,");
        for size in 1..text.len() + 2 {
            assert_eq!(records(text, size), want, "block size {size}");
        }
        let mut blocks = Blocks::new(&text[..], b',', 10_000);
        let whole = blocks.next_block().unwrap().unwrap();
        assert_eq!(count_records(&whole, b',', 1), 6);
    }

    #[test]
    fn blocks_end_at_record_ends_outside_quotes() {
        let text = b"a,\"x\ny\"\nb,2\n";
        let mut blocks = Blocks::new(&text[..], b',', 4);
        let first = blocks.next_block().unwrap().unwrap();
        assert_eq!(first.bytes, b"a,\"x\ny\"\n");
        assert!(first.quoted);
        let second = blocks.next_block().unwrap().unwrap();
        assert_eq!(second.bytes, b"b,2\n");
        assert!(!second.quoted);
        assert!(blocks.next_block().unwrap().is_none());
    }

    #[test]
    fn generated_logs_with_quotes_split_the_same_at_every_size() {
        // records with quoted delimiters, quoted line ends and escaped quotes, at random
        let mut text = Vec::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for i in 0..300 {
            let id = match next() % 5 {
                0 => format!("\"c{i},x\""),
                1 => format!("\"c{i}\nnext\""),
                2 => format!("\"c{i} \"\"q\"\"\""),
                _ => format!("c{i}"),
            };
            let end = if next() % 3 == 0 { "\r\n" } else { "\n" };
            text.extend(format!("{id},2024-01-{:02},{}{end}", i % 28 + 1, i).bytes());
        }
        let want = csv_records(&text);
        assert_eq!(want.len(), 300);
        for size in [1, 2, 3, 5, 17, 64, 100, 1000, 4096] {
            assert_eq!(records(&text, size), want, "block size {size}");
        }
    }

    /// The split of a text as a plain `split` gives it: lines at `\n`, a trailing `\r`
    /// dropped, blank lines skipped, fields at the delimiter.
    fn naive(text: &str, delimiter: char, skip: usize) -> Vec<Vec<String>> {
        text.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.is_empty())
            .skip(skip)
            .map(|l| l.split(delimiter).map(str::to_string).collect())
            .collect()
    }

    /// Seeded draws below `n` (a linear congruential generator: repeatable, no dependency).
    fn draws(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        }
    }

    #[test]
    fn text_records_split_as_plain_split_does() {
        let mut next = draws(11);
        // fields of every length around the eight-byte words, multibyte characters, CRLF,
        // blank lines, empty fields, and a last line with or without its line end
        let pieces = ["a", "bc", "é", "1234567", "\r", "€uro", "x y", "\t"];
        for delimiter in [',', ';', '\t', '|', '\0'] {
            for round in 0..300 {
                let mut text = String::new();
                for _ in 0..next(12) {
                    for k in 0..next(5) {
                        if k > 0 {
                            text.push(delimiter);
                        }
                        for _ in 0..next(4) {
                            text.push_str(pieces[next(pieces.len())]);
                        }
                    }
                    text.push_str(["\n", "\r\n", "\n\n"][next(3)]);
                }
                if round % 2 == 0 {
                    text.push_str("last,line");
                }
                let skip = next(2);
                let mut got: Vec<Vec<String>> = Vec::new();
                let n = for_each_text_record(&text, delimiter as u8, skip, |f| {
                    got.push(f.iter().map(|s| s.to_string()).collect());
                    Ok::<(), ()>(())
                })
                .unwrap();
                let want = naive(&text, delimiter, skip);
                assert_eq!(got, want, "{text:?}");
                assert_eq!(n, want.len());
                // the same cuts in bytes
                let mut got_bytes: Vec<Vec<String>> = Vec::new();
                split_records(text.as_bytes(), delimiter as u8, skip, |f: &[&[u8]]| {
                    got_bytes.push(
                        f.iter()
                            .map(|s| String::from_utf8(s.to_vec()).unwrap())
                            .collect(),
                    );
                    Ok::<(), ()>(())
                })
                .unwrap();
                assert_eq!(got_bytes, want, "{text:?} in bytes");
            }
        }
    }

    #[test]
    fn byte_records_split_at_any_delimiter_byte() {
        let mut next = draws(5);
        // a delimiter byte that is no character on its own (0xFE), and `\r`, which cuts
        // nothing in a block whose every `\r` ends a line
        for delimiter in [0xFEu8, b'\r'] {
            for _ in 0..300 {
                let mut text: Vec<u8> = Vec::new();
                let mut want: Vec<Vec<Vec<u8>>> = Vec::new();
                for _ in 0..next(12) {
                    let mut record: Vec<Vec<u8>> = Vec::new();
                    for _ in 0..=next(4) {
                        // bytes other than the line end, `\r` and the delimiter
                        let field: Vec<u8> = (0..next(11))
                            .map(|_| [b'a', b'7', 0xC3, 0xA9, b' ', 0][next(6)])
                            .collect();
                        record.push(field);
                    }
                    if delimiter == b'\r' {
                        record = vec![record.concat()];
                    }
                    let line = record.join(&delimiter);
                    text.extend_from_slice(&line);
                    text.extend_from_slice([&b"\n"[..], b"\r\n"][next(2)]);
                    if !line.is_empty() {
                        want.push(record);
                    }
                }
                let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
                let n = split_records(&text[..], delimiter, 0, |f: &[&[u8]]| {
                    got.push(f.iter().map(|s| s.to_vec()).collect());
                    Ok::<(), ()>(())
                })
                .unwrap();
                assert_eq!(got, want, "{text:?}");
                assert_eq!(n, want.len());
            }
        }
    }
}
