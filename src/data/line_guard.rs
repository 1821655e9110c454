//! A reader adapter that refuses over-long lines, and the mapping of the readers' low-level
//! errors (line too long, invalid UTF-8, I/O) to typed [`Error`]s.

use crate::error::{DataIssue, Error};
use std::io::{self, Read};

/// The longest line (bytes between two line ends) the readers accept: 1 MiB. A transaction or
/// summary row is tens of bytes; a longer line means a binary file or one without line ends,
/// and reading it whole would only exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The marker carried inside the `io::Error` a [`LineGuard`] returns.
#[derive(Debug)]
struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line longer than {MAX_LINE_BYTES} bytes")
    }
}

impl std::error::Error for LineTooLong {}

/// Passes bytes through, failing as soon as a line exceeds `limit` bytes, so a 2 GB line
/// costs one megabyte of reading, not 2 GB of memory.
pub(crate) struct LineGuard<R> {
    inner: R,
    since_newline: usize,
    limit: usize,
}

impl<R: Read> LineGuard<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineGuard {
            inner,
            since_newline: 0,
            limit: MAX_LINE_BYTES,
        }
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n];
        let too_long = || io::Error::new(io::ErrorKind::InvalidData, LineTooLong);
        match chunk.iter().position(|&b| b == b'\n') {
            None => {
                self.since_newline += n;
                if self.since_newline > self.limit {
                    return Err(too_long());
                }
            }
            Some(first) => {
                if self.since_newline + first > self.limit {
                    return Err(too_long());
                }
                // lines wholly inside the chunk: only possible to exceed with a huge buffer
                if n > self.limit
                    && chunk[first + 1..]
                        .split(|&b| b == b'\n')
                        .any(|l| l.len() > self.limit)
                {
                    return Err(too_long());
                }
                let last = chunk.iter().rposition(|&b| b == b'\n').unwrap_or(first);
                self.since_newline = n - last - 1;
            }
        }
        Ok(n)
    }
}

/// The typed error for an I/O failure while reading `what` at data row `row` (1-based; `None`
/// for the header): an over-long line becomes [`DataIssue::LineTooLong`].
pub(crate) fn from_io(e: &io::Error, what: &str, row: Option<usize>) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<LineTooLong>()) {
        return Error::InvalidData {
            row,
            customer: None,
            field: if row.is_some() { "line" } else { "header" },
            issue: DataIssue::LineTooLong {
                limit: MAX_LINE_BYTES,
            },
        };
    }
    Error::Io {
        path: what.to_string(),
        message: e.to_string(),
        source: Some(crate::error::IoSource::copy_of(e)),
    }
}

/// The typed error for a CSV failure at data row `row` (`None`: the header); `field_name` names
/// a column by its 0-based index (for invalid UTF-8).
pub(crate) fn from_csv(
    e: &csv::Error,
    what: &str,
    row: Option<usize>,
    field_name: impl Fn(usize) -> &'static str,
) -> Error {
    match e.kind() {
        csv::ErrorKind::Io(io) => from_io(io, what, row),
        csv::ErrorKind::Utf8 { err, .. } => Error::InvalidData {
            row,
            customer: None,
            field: if row.is_some() {
                field_name(err.field())
            } else {
                "header"
            },
            issue: DataIssue::NotUtf8 {
                valid_up_to: err.valid_up_to(),
            },
        },
        _ => Error::Io {
            path: what.to_string(),
            message: e.to_string(),
            source: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes of `b'a'` then `tail`, produced lazily.
    struct Lazy {
        left: u64,
        tail: &'static [u8],
    }

    impl Read for Lazy {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left > 0 {
                let n = (buf.len() as u64).min(self.left) as usize;
                buf[..n].fill(b'a');
                self.left -= n as u64;
                return Ok(n);
            }
            let n = buf.len().min(self.tail.len());
            buf[..n].copy_from_slice(&self.tail[..n]);
            self.tail = &self.tail[n..];
            Ok(n)
        }
    }

    fn drain(r: impl Read, buf_len: usize) -> io::Result<u64> {
        let mut g = LineGuard::new(r);
        let mut buf = vec![0u8; buf_len];
        let mut total = 0u64;
        loop {
            let n = g.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
        }
    }

    #[test]
    fn refuses_a_long_line_early_and_passes_normal_text() {
        for buf_len in [7, 8192, 3 << 20] {
            // a 2 GB line fails after about one limit's worth of reading
            let e = drain(
                Lazy {
                    left: 2 << 30,
                    tail: b"\n",
                },
                buf_len,
            )
            .unwrap_err();
            assert!(matches!(
                from_io(&e, "t", Some(1)),
                Error::InvalidData {
                    issue: DataIssue::LineTooLong { .. },
                    ..
                }
            ));
            // exactly the limit is fine, one more byte is not
            let ok = Lazy {
                left: MAX_LINE_BYTES as u64,
                tail: b"\nab\ncd",
            };
            assert_eq!(drain(ok, buf_len).unwrap(), MAX_LINE_BYTES as u64 + 6);
            let over = Lazy {
                left: MAX_LINE_BYTES as u64 + 1,
                tail: b"\n",
            };
            assert!(drain(over, buf_len).is_err());
        }
        // a long line in the middle of a big buffer
        let mut text = b"a\n".to_vec();
        text.extend(std::iter::repeat_n(b'b', MAX_LINE_BYTES + 1));
        text.extend(b"\nc\n");
        assert!(drain(&text[..], 4 << 20).is_err());
    }
}
