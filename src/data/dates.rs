//! Date parsing for transaction logs: the common fixed-width shapes by hand (a log of 10^7 rows
//! spends most of its time here otherwise), anything else through chrono.

use super::time::Stamp;
use chrono::{NaiveDate, NaiveDateTime};

/// The formats tried, in order, when the caller gives none: unambiguous ISO-like shapes only.
pub(crate) const AUTO_FORMATS: [&str; 7] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S%.f",
];

/// A fixed-width, zero-padded layout parsed without chrono's format machinery.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// `YYYYMMDD`
    Compact,
    /// `YYYY-MM-DD` or `YYYY/MM/DD`
    Date(u8),
    /// `YYYY-MM-DD HH:MM`
    Minutes,
    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`
    Seconds(u8),
}

impl Shape {
    fn of_format(f: &str) -> Option<Shape> {
        Some(match f {
            "%Y%m%d" => Shape::Compact,
            "%Y-%m-%d" => Shape::Date(b'-'),
            "%Y/%m/%d" => Shape::Date(b'/'),
            "%Y-%m-%d %H:%M" => Shape::Minutes,
            "%Y-%m-%d %H:%M:%S" => Shape::Seconds(b' '),
            "%Y-%m-%dT%H:%M:%S" => Shape::Seconds(b'T'),
            _ => return None,
        })
    }
}

/// Eight bytes of `text` from `at` as one little-endian word: byte `i` in bits `8i..8i + 8`.
#[inline]
fn word(text: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&text[at..at + 8]);
    u64::from_le_bytes(w)
}

/// A layout of eight bytes: `0xFF` in `digits` where a digit must be, the separator bytes
/// in `seps` (zero where the digits are).
#[derive(Clone, Copy)]
struct Layout {
    digits: u64,
    seps: u64,
}

impl Layout {
    /// The layout of `pattern`: `d` for a digit, any other byte is that separator.
    const fn of(pattern: &[u8; 8]) -> Self {
        let (mut digits, mut seps, mut i) = (0u64, 0u64, 0);
        while i < 8 {
            if pattern[i] == b'd' {
                digits |= 0xFF << (8 * i);
            } else {
                seps |= (pattern[i] as u64) << (8 * i);
            }
            i += 1;
        }
        Layout { digits, seps }
    }

    /// The layout with separator `sep` at byte `i` (in place of the pattern's).
    const fn with_sep(self, i: usize, sep: u8) -> Self {
        Layout {
            digits: self.digits,
            seps: (self.seps & !(0xFF << (8 * i))) | ((sep as u64) << (8 * i)),
        }
    }

    /// Whether `w` has an ASCII digit at each digit byte and exactly the separators elsewhere,
    /// all eight bytes at once: a digit is a byte `0x30..=0x39`, high nibble 3, and a low
    /// nibble that 6 does not carry out of. A byte that would carry into its neighbour when
    /// 6 is added (`>= 0xFA`) is neither a digit nor one of our separators, so the first two
    /// tests already refuse it.
    #[inline]
    fn fits(self, w: u64) -> bool {
        const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
        const ZEROS: u64 = 0x3030_3030_3030_3030;
        const SIX: u64 = 0x0606_0606_0606_0606;
        let want = ZEROS & self.digits;
        (w & !self.digits) == self.seps
            && (w & self.digits & HIGH) == want
            && (w.wrapping_add(SIX) & self.digits & HIGH) == want
    }
}

/// The two-digit numbers of a word whose layout [`Layout::fits`]: byte `k` of the result is
/// `10 × digit(k) + digit(k + 1)` (meaningful where bytes `k` and `k + 1` are digits; no byte
/// exceeds 15 × 11, so nothing carries between bytes).
#[inline]
fn pairs(w: u64) -> u64 {
    let d = w & 0x0F0F_0F0F_0F0F_0F0F;
    d * 10 + (d >> 8)
}

/// Byte `k` of `p`.
#[inline]
fn byte(p: u64, k: u32) -> u32 {
    ((p >> (8 * k)) & 0xFF) as u32
}

/// `YYYY-MM-` (the separator after the year and after the month: `sep`).
const YEAR_MONTH: Layout = Layout::of(b"dddd-dd-");
/// `YYYYMMDD`.
const COMPACT: Layout = Layout::of(b"dddddddd");
/// Bytes 2 to 9 of `YYYY-MM-DD`: `YY-MM-DD`.
const DAY_AT_2: Layout = Layout::of(b"dd-dd-dd");
/// Bytes 8 to 15 of `YYYY-MM-DD HH:MM`: `DD HH:MM` (the date-time separator: byte 2).
const DAY_HOUR_MINUTE: Layout = Layout::of(b"dd dd:dd");
/// Bytes 11 to 18 of `YYYY-MM-DD HH:MM:SS`: `HH:MM:SS`.
const HMS: Layout = Layout::of(b"dd:dd:dd");

/// Days from 1970-01-01 to the proleptic Gregorian date `y-m-d`, or `None` for a date that
/// does not exist (month 1 to 12, day 1 to the month's length, as `NaiveDate::from_ymd_opt`).
/// The civil-to-days count of H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"
/// (`days_from_civil`): years from March, so that the leap day ends a year; 400-year eras of
/// 146,097 days.
fn days_from_civil(y: u32, m: u32, d: u32) -> Option<i64> {
    let month_days = match m {
        2 => {
            let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
            28 + u32::from(leap)
        }
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if d == 0 || d > month_days {
        return None;
    }
    // counted from March of year -400 (one era early), so that everything is unsigned
    let y = y + 400 - u32::from(m <= 2);
    let (era, yoe) = (y / 400, y % 400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(i64::from(era * 146_097 + doe) - 719_468 - 146_097)
}

/// `text` in `shape`, or `None` when it does not have exactly that layout or is not a valid
/// date and time (then chrono decides). The digits and separators are checked eight bytes at
/// a time ([`Layout::fits`]) and read as two-digit numbers ([`pairs`]).
fn parse_shape(text: &[u8], shape: Shape) -> Option<Stamp> {
    // (year, month, day), (hour, minute, second)
    let (date, hms) = match (shape, text.len()) {
        (Shape::Compact, 8) => {
            let w = word(text, 0);
            if !COMPACT.fits(w) {
                return None;
            }
            let p = pairs(w);
            (
                (byte(p, 0) * 100 + byte(p, 2), byte(p, 4), byte(p, 6)),
                (0, 0, 0),
            )
        }
        (Shape::Date(sep), 10) => {
            let (w0, w1) = (word(text, 0), word(text, 2));
            let head = YEAR_MONTH.with_sep(4, sep).with_sep(7, sep);
            let tail = DAY_AT_2.with_sep(2, sep).with_sep(5, sep);
            if !(head.fits(w0) && tail.fits(w1)) {
                return None;
            }
            let (p0, p1) = (pairs(w0), pairs(w1));
            (
                (byte(p0, 0) * 100 + byte(p0, 2), byte(p0, 5), byte(p1, 6)),
                (0, 0, 0),
            )
        }
        (Shape::Minutes, 16) => {
            let (w0, w1) = (word(text, 0), word(text, 8));
            if !(YEAR_MONTH.fits(w0) && DAY_HOUR_MINUTE.fits(w1)) {
                return None;
            }
            let (p0, p1) = (pairs(w0), pairs(w1));
            (
                (byte(p0, 0) * 100 + byte(p0, 2), byte(p0, 5), byte(p1, 0)),
                (byte(p1, 3), byte(p1, 6), 0),
            )
        }
        (Shape::Seconds(sep), 19) => {
            let (w0, w1, w2) = (word(text, 0), word(text, 8), word(text, 11));
            let mid = DAY_HOUR_MINUTE.with_sep(2, sep);
            if !(YEAR_MONTH.fits(w0) && mid.fits(w1) && HMS.fits(w2)) {
                return None;
            }
            let (p0, p1, p2) = (pairs(w0), pairs(w1), pairs(w2));
            (
                (byte(p0, 0) * 100 + byte(p0, 2), byte(p0, 5), byte(p1, 0)),
                (byte(p1, 3), byte(p1, 6), byte(p2, 6)),
            )
        }
        _ => return None,
    };
    let (h, mi, s) = hms;
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(date.0, date.1, date.2)?;
    Some(Stamp::from_secs(
        days * 86_400 + i64::from(h * 3600 + mi * 60 + s),
    ))
}

fn chrono_parse(text: &str, f: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, f).ok().or_else(|| {
        NaiveDate::parse_from_str(text, f)
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

/// A parser for one column of dates: a caller's chrono format, or the [`AUTO_FORMATS`].
/// Fixed-width zero-padded shapes are read by hand; whatever they do not match goes to chrono
/// with the same format, so the result is chrono's in every case.
#[derive(Debug, Clone)]
pub(crate) struct DateParser {
    format: Option<String>,
    shape: Option<Shape>,
}

impl DateParser {
    pub(crate) fn new(format: Option<&str>) -> Self {
        DateParser {
            shape: format.and_then(Shape::of_format),
            format: format.map(str::to_string),
        }
    }

    /// The date and time `text` gives, `None` when it is not one.
    pub(crate) fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        self.parse_stamp(text).map(Stamp::time)
    }

    /// [`parse`](Self::parse) as a [`Stamp`]: the fixed-width shapes go from digits to seconds
    /// without a calendar type.
    pub(crate) fn parse_stamp(&self, text: &str) -> Option<Stamp> {
        let text = super::trim(text);
        let b = text.as_bytes();
        match &self.format {
            Some(f) => self
                .shape
                .and_then(|s| parse_shape(b, s))
                .or_else(|| chrono_parse(text, f).map(Stamp::of)),
            None => {
                let guess = match b.len() {
                    8 => Some(Shape::Compact),
                    10 => Some(Shape::Date(if b[4] == b'/' { b'/' } else { b'-' })),
                    16 => Some(Shape::Minutes),
                    19 if b[10] == b' ' || b[10] == b'T' => Some(Shape::Seconds(b[10])),
                    _ => None,
                };
                guess.and_then(|s| parse_shape(b, s)).or_else(|| {
                    AUTO_FORMATS
                        .iter()
                        .find_map(|f| chrono_parse(text, f))
                        .or_else(|| rfc3339_or_epoch(text))
                        .map(Stamp::of)
                })
            }
        }
    }
}

/// The other unambiguous shapes of exports: RFC 3339 date-times with an offset
/// (`2024-01-05T23:30:00-05:00`, `...Z`), read as the wall-clock time they state (the
/// customer's own day, not converted to UTC), and Unix epoch timestamps of exactly 10 digits
/// (seconds) or 13 (milliseconds), read in UTC (shorter digit runs would collide with
/// `YYYYMMDD`).
fn rfc3339_or_epoch(text: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_local());
    }
    if text.bytes().all(|c| c.is_ascii_digit()) {
        let v: i64 = text.parse().ok()?;
        return match text.len() {
            10 => chrono::DateTime::from_timestamp(v, 0).map(|t| t.naive_utc()),
            13 => chrono::DateTime::from_timestamp_millis(v).map(|t| t.naive_utc()),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written shapes agree with chrono on valid, invalid and odd inputs.
    #[test]
    fn agrees_with_chrono() {
        let inputs = [
            "1997-01-01",
            "19970101",
            "1997/01/31",
            "1997-02-30",
            "1997-13-01",
            "2024-02-29",
            "2023-02-29",
            "1997-01-01 13:45",
            "1997-01-01 13:45:59",
            "1997-01-01T13:45:59",
            "1997-01-01 24:00:00",
            "1997-01-01 23:60:00",
            "1997-01-01 13:45:59.250",
            "1997-1-5",
            "199701015",
            "19970x01",
            "1997-01-01X13:45:59",
            "1997/01-01",
            " 1997-01-01 ",
            "",
            "01/02/1997",
        ];
        let formats = [
            None,
            Some("%Y%m%d"),
            Some("%Y-%m-%d"),
            Some("%Y/%m/%d"),
            Some("%Y-%m-%d %H:%M"),
            Some("%Y-%m-%d %H:%M:%S"),
            Some("%Y-%m-%dT%H:%M:%S"),
            Some("%d/%m/%Y"),
        ];
        for f in formats {
            let p = DateParser::new(f);
            for text in inputs {
                let want = match f {
                    Some(f) => chrono_parse(text.trim(), f),
                    None => AUTO_FORMATS
                        .iter()
                        .find_map(|g| chrono_parse(text.trim(), g))
                        .or_else(|| rfc3339_or_epoch(text.trim())),
                };
                assert_eq!(p.parse(text), want, "{text:?} with {f:?}");
            }
        }
    }

    /// The chrono format of `shape`.
    fn format_of(shape: Shape) -> &'static str {
        match shape {
            Shape::Compact => "%Y%m%d",
            Shape::Date(b'/') => "%Y/%m/%d",
            Shape::Date(_) => "%Y-%m-%d",
            Shape::Minutes => "%Y-%m-%d %H:%M",
            Shape::Seconds(b'T') => "%Y-%m-%dT%H:%M:%S",
            Shape::Seconds(_) => "%Y-%m-%d %H:%M:%S",
        }
    }

    /// chrono's reading of `text` in the format of `shape`.
    fn chrono_shape(text: &[u8], shape: Shape) -> Option<NaiveDateTime> {
        chrono_parse(std::str::from_utf8(text).ok()?, format_of(shape))
    }

    const SHAPES: [Shape; 6] = [
        Shape::Compact,
        Shape::Date(b'-'),
        Shape::Date(b'/'),
        Shape::Minutes,
        Shape::Seconds(b' '),
        Shape::Seconds(b'T'),
    ];

    fn write(t: NaiveDateTime, shape: Shape) -> String {
        t.format(format_of(shape)).to_string()
    }

    /// Every day of 1583 to 2600 and of the years around the ends of the four-digit range, at
    /// a time that walks through the clock, in every shape: the fast path takes each and gives
    /// chrono's time.
    #[test]
    fn fast_shapes_read_every_day_as_chrono() {
        let days = |from: i32, to: i32| {
            let start = NaiveDate::from_ymd_opt(from, 1, 1).unwrap();
            let end = NaiveDate::from_ymd_opt(to, 12, 31).unwrap();
            start.iter_days().take_while(move |d| *d <= end)
        };
        let all = days(1583, 2600).chain(days(0, 3)).chain(days(9996, 9999));
        for (i, d) in all.enumerate() {
            let secs = (i as u32).wrapping_mul(7919) % 86_400;
            let t = d
                .and_hms_opt(secs / 3600, secs / 60 % 60, secs % 60)
                .unwrap();
            for shape in SHAPES {
                let text = write(t, shape);
                let got = parse_shape(text.as_bytes(), shape).map(Stamp::time);
                assert_eq!(got, chrono_shape(text.as_bytes(), shape), "{text}");
                assert!(got.is_some(), "{text}");
            }
        }
    }

    /// Any one byte of a valid date or date-time changed to any value, and impossible days,
    /// months and times: the fast path gives chrono's time or leaves the text to chrono,
    /// never another time.
    #[test]
    fn fast_shapes_never_misread() {
        let t = |y, m, d, h, mi, s| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, mi, s)
                .unwrap()
        };
        let times = [
            t(2024, 2, 29, 23, 59, 59),
            t(1999, 12, 31, 0, 0, 0),
            t(2000, 1, 9, 9, 9, 9),
        ];
        let check = |text: &[u8], shape: Shape| {
            if let Some(got) = parse_shape(text, shape) {
                let want = chrono_shape(text, shape);
                assert_eq!(
                    Some(got.time()),
                    want,
                    "{:?} {shape:?}",
                    String::from_utf8_lossy(text)
                );
            }
        };
        for shape in SHAPES {
            for t in times {
                let text = write(t, shape).into_bytes();
                for i in 0..text.len() {
                    for v in 0..=255u8 {
                        let mut m = text.clone();
                        m[i] = v;
                        check(&m, shape);
                    }
                }
            }
        }
        // every month 0 to 99 with every day 0 to 99, in leap and common years
        for y in [0, 1900, 2000, 2023, 2024, 9999] {
            for m in 0..100 {
                for d in 0..100 {
                    check(format!("{y:04}{m:02}{d:02}").as_bytes(), Shape::Compact);
                    check(
                        format!("{y:04}-{m:02}-{d:02}").as_bytes(),
                        Shape::Date(b'-'),
                    );
                }
            }
        }
        // every hour, minute and second up to 99
        for h in 0..100 {
            for x in 0..100 {
                let hm = format!("2024-02-29 {h:02}:{x:02}");
                check(hm.as_bytes(), Shape::Minutes);
                check(
                    format!("2024-02-29 {h:02}:{x:02}:{x:02}").as_bytes(),
                    Shape::Seconds(b' '),
                );
                check(
                    format!("2024-02-29T23:{h:02}:{x:02}").as_bytes(),
                    Shape::Seconds(b'T'),
                );
            }
        }
    }

    /// RFC 3339 offsets keep their own wall-clock day; epoch seconds and milliseconds are UTC;
    /// other digit runs are not epochs.
    #[test]
    fn rfc3339_and_epochs() {
        let p = DateParser::new(None);
        let show = |t: &str| p.parse(t).map(|d| d.to_string());
        assert_eq!(
            show("2024-01-05T23:30:00-05:00").as_deref(),
            Some("2024-01-05 23:30:00")
        );
        assert_eq!(
            show("2024-01-05T23:30:00Z").as_deref(),
            Some("2024-01-05 23:30:00")
        );
        assert_eq!(show("1700000000").as_deref(), Some("2023-11-14 22:13:20"));
        assert_eq!(
            show("1700000000123").as_deref(),
            Some("2023-11-14 22:13:20.123")
        );
        assert_eq!(show("170000000"), None);
        assert_eq!(show("19970101").as_deref(), Some("1997-01-01 00:00:00"));
    }
}
