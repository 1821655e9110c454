//! Numbers written as the shortest decimal text that reads back to the same `f64`, and read
//! back quickly.
//!
//! The digits come from the `zmij` crate (Schubfach: the shortest round-tripping digits, as
//! Rust's `{}` gives, several times faster); whole numbers are written without a trailing
//! `.0` (`7`, as `{}` writes them), and very large or small magnitudes in exponent form
//! (`1e-7`, `1e+16`) where `{}` would write every zero.

/// Appends `v` to `out` in the shortest text that parses back to `v` (`NaN`, `inf`, `-inf`
/// for the non-finite values).
///
/// ```
/// let mut out = Vec::new();
/// for v in [7.0, 0.5, 38.714285714285715, 1e-7, 1e16] {
///     clv::io::write_number(&mut out, v);
///     out.push(b' ');
/// }
/// assert_eq!(out, b"7 0.5 38.714285714285715 1e-7 1e+16 ");
/// ```
pub fn write_number(out: &mut Vec<u8>, v: f64) {
    // whole numbers below 10^15 (counts, durations) need no float formatting: their shortest
    // text is their digits (the test by a round trip through u64, not `trunc`, which is a
    // libm call on baseline x86-64; NaN fails the range test)
    let a = v.abs();
    if a < 1e15 && (a as u64) as f64 == a {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        let mut n = a as u64;
        let mut digits = [0u8; 20];
        let mut k = digits.len();
        loop {
            k -= 1;
            digits[k] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(&digits[k..]);
        return;
    }
    let mut buf = zmij::Buffer::new();
    let text = buf.format(v).as_bytes();
    out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text));
}

/// `text` as Rust's `str::parse::<f64>` reads it, bit for bit, with a shortcut for the plain
/// decimals of exports (`45.47`, `-3`, `0.5`): at most 19 digits and a point, the digits
/// making a whole number of at most 2^53. Such a number is `w / 10^f` with `w` and `10^f`
/// exact doubles, and one IEEE division rounds it correctly (Clinger 1990, "How to read
/// floating point numbers accurately", the fast path); anything else goes to the standard
/// parser.
#[inline]
pub(crate) fn read_number(text: &[u8]) -> Option<f64> {
    // (powers up to 10^22 are exact doubles; at most 19 are needed)
    const POW10: [f64; 20] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19,
    ];
    let slow = || std::str::from_utf8(text).ok()?.parse::<f64>().ok();
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // at most 20 bytes: at most 19 digits and a point, so `w` cannot overflow (10^19 < 2^64)
    if body.len() > 20 {
        return slow();
    }
    let mut w: u64 = 0;
    let mut i = 0usize;
    while let Some(&c) = body.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        w = w * 10 + u64::from(d);
        i += 1;
    }
    let whole = i;
    let mut fraction = 0usize;
    if let Some(&c) = body.get(i) {
        if c != b'.' {
            return slow();
        }
        i += 1;
        let start = i;
        while let Some(&c) = body.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return slow();
            }
            w = w * 10 + u64::from(d);
            i += 1;
        }
        fraction = i - start;
    }
    if whole + fraction == 0 || w > 1 << 53 {
        return slow();
    }
    let v = w as f64 / POW10[fraction];
    Some(if negative { -v } else { v })
}

/// [`write_number`] into a new `String`.
///
/// ```
/// assert_eq!(clv::io::format_number(0.1 + 0.2), "0.30000000000000004");
/// assert_eq!(clv::io::format_number(-0.0), "-0");
/// ```
pub fn format_number(v: f64) -> String {
    let mut buf = zmij::Buffer::new();
    let text = buf.format(v);
    text.strip_suffix(".0").unwrap_or(text).to_string()
}

/// Appends `text` as one CSV field: as it is, or quoted (with its quotes doubled) when it
/// holds a comma, a quote or a line end, as the `csv` crate writes it.
///
/// ```
/// let mut out = Vec::new();
/// clv::io::write_csv_field(&mut out, "a,b");
/// out.push(b',');
/// clv::io::write_csv_field(&mut out, "plain");
/// assert_eq!(out, b"\"a,b\",plain");
/// ```
pub fn write_csv_field(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for part in text.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn every_number_reads_back_to_itself() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            7.0,
            0.1,
            1e-7,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::EPSILON,
            1e15,
            1e16,
            123456789.0,
            38.714285714285715,
        ];
        values.extend((0..100_000).map(|_| f64::from_bits(rng.random::<u64>())));
        values.extend((0..100_000).map(|_| rng.random::<f64>() * 100.0));
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let s = format_number(v);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
            // as few significant digits as Rust's own shortest representation (where two
            // shortest candidates round-trip, the last digit may differ)
            let digits = |t: &str| {
                let m = t.split('e').next().unwrap_or("");
                let d: String = m.chars().filter(char::is_ascii_digit).collect();
                d.trim_start_matches('0').trim_end_matches('0').to_string()
            };
            assert_eq!(digits(&s).len(), digits(&format!("{v:e}")).len(), "{s}");
        }
        // whole numbers: the digits, as the float path writes them
        for v in [
            0.0,
            -0.0,
            7.0,
            -12.0,
            123456789.0,
            999_999_999_999_999.0,
            1e15,
            2e16,
        ] {
            let mut fast = Vec::new();
            write_number(&mut fast, v);
            assert_eq!(String::from_utf8(fast).unwrap(), format_number(v), "{v}");
        }
        assert_eq!(format_number(f64::NAN), "NaN");
        assert_eq!(format_number(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn numbers_read_as_the_standard_parser_reads_them() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+0",
            "45.47",
            "-3",
            "0.5",
            ".5",
            "5.",
            "007.250",
            "9007199254740992",
            "9007199254740993",
            "9007199254740993.0",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "1e5",
            "1E-3",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "infinity",
            "",
            "-",
            "+",
            ".",
            "..",
            "1.2.3",
            " 1",
            "1 ",
            "--1",
            "+-1",
            "0x10",
            "1_000",
            "4,5",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "99999999999999999999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..200_000 {
            let scale = 10u64.pow(rng.random_range(0..17));
            let whole = rng.random_range(0..scale);
            let frac_digits = rng.random_range(0..24usize);
            let frac: String = (0..frac_digits)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect();
            let sign = ["", "-", "+"][rng.random_range(0..3)];
            let point = if frac_digits == 0 && rng.random_bool(0.5) {
                ""
            } else {
                "."
            };
            texts.push(format!("{sign}{whole}{point}{frac}"));
            texts.push(format_number(rng.random::<f64>() * 1000.0));
        }
        for t in &texts {
            let ours = read_number(t.as_bytes()).map(f64::to_bits);
            let std = t.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(ours, std, "{t:?}");
        }
    }
}
