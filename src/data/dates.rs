//! Date parsing for transaction logs: the common fixed-width shapes by hand (a log of 10^7 rows
//! spends most of its time here otherwise), anything else through chrono.

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

#[inline]
fn number(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// `NaiveDate::from_ymd_opt`, remembered: a log has a few hundred or thousand distinct days
/// among millions of rows, so each thread keeps the last date seen in each of 1024 slots
/// (indexed by the day's number) and builds it only on a miss.
fn cached_date(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    use std::cell::Cell;
    const SLOTS: usize = 1024;
    thread_local! {
        static SEEN: [Cell<(u32, Option<NaiveDate>)>; SLOTS] =
            const { [const { Cell::new((u32::MAX, None)) }; SLOTS] };
    }
    // y < 10^4, m, d < 100 (two digits): a unique key
    let key = y * 10_000 + m * 100 + d;
    let slot = (y as usize * 372 + m as usize * 31 + d as usize) % SLOTS;
    SEEN.with(|seen| {
        let (k, date) = seen[slot].get();
        if k == key {
            return date;
        }
        let date = NaiveDate::from_ymd_opt(y as i32, m, d);
        seen[slot].set((key, date));
        date
    })
}

/// `text` in `shape`, or `None` when it does not have exactly that layout or is not a valid
/// date and time (then chrono decides).
fn parse_shape(text: &[u8], shape: Shape) -> Option<NaiveDateTime> {
    let date = |sep: Option<u8>| {
        let (y, m, d) = match sep {
            None => (&text[0..4], &text[4..6], &text[6..8]),
            Some(s) if text[4] == s && text[7] == s => (&text[0..4], &text[5..7], &text[8..10]),
            Some(_) => return None,
        };
        let (y, m, d) = (number(y)?, number(m)?, number(d)?);
        cached_date(y, m, d)
    };
    let time = |with_seconds: bool| {
        if text[13] != b':' || (with_seconds && text[16] != b':') {
            return None;
        }
        let s = if with_seconds {
            number(&text[17..19])?
        } else {
            0
        };
        Some((number(&text[11..13])?, number(&text[14..16])?, s))
    };
    match (shape, text.len()) {
        (Shape::Compact, 8) => date(None)?.and_hms_opt(0, 0, 0),
        (Shape::Date(s), 10) => date(Some(s))?.and_hms_opt(0, 0, 0),
        (Shape::Minutes, 16) if text[10] == b' ' => {
            let (h, m, _) = time(false)?;
            date(Some(b'-'))?.and_hms_opt(h, m, 0)
        }
        (Shape::Seconds(sep), 19) if text[10] == sep => {
            let (h, m, s) = time(true)?;
            date(Some(b'-'))?.and_hms_opt(h, m, s)
        }
        _ => None,
    }
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

    pub(crate) fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        let text = super::trim(text);
        let b = text.as_bytes();
        match &self.format {
            Some(f) => self
                .shape
                .and_then(|s| parse_shape(b, s))
                .or_else(|| chrono_parse(text, f)),
            None => {
                let guess = match b.len() {
                    8 => Some(Shape::Compact),
                    10 => Some(Shape::Date(if b.get(4) == Some(&b'/') {
                        b'/'
                    } else {
                        b'-'
                    })),
                    16 => Some(Shape::Minutes),
                    19 if b[10] == b' ' || b[10] == b'T' => Some(Shape::Seconds(b[10])),
                    _ => None,
                };
                guess
                    .and_then(|s| parse_shape(b, s))
                    .or_else(|| AUTO_FORMATS.iter().find_map(|f| chrono_parse(text, f)))
                    .or_else(|| rfc3339_or_epoch(text))
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
