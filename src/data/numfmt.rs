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
    // text is their digits (the test by a round trip through i64, one instruction each way on
    // baseline x86-64, where u64 takes a dozen and `trunc` is a libm call; NaN fails the
    // range test)
    let a = v.abs();
    if a < 1e15 && (a as i64) as f64 == a {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        let mut n = a as i64 as u64;
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

/// [`write_number`] remembering the texts of recent values, for columns whose values repeat:
/// a summary's recency and T are whole days in weeks (`38.714285714285715`), a few hundred
/// distinct values over millions of rows, and a repeated value is copied, not formatted
/// again (some 200 instructions). A direct-mapped table of 1024 values by their bits.
pub(crate) struct NumberCache {
    slots: Vec<(u64, u8, [u8; NumberCache::TEXT])>,
}

impl NumberCache {
    /// The longest text kept (the longest shortest text of a double, `-2.2250738585072014e-308`).
    const TEXT: usize = 24;
    const BITS: u32 = 10;

    pub(crate) fn new() -> Self {
        NumberCache {
            slots: vec![(0, 0, [0; Self::TEXT]); 1 << Self::BITS],
        }
    }

    /// Appends `v` to `out` as [`write_number`] does.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, v: f64) {
        let bits = v.to_bits();
        let h = (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::BITS)) as usize;
        let slot = &mut self.slots[h];
        // (an empty slot has length 0: no text is empty)
        if slot.0 == bits && slot.1 > 0 {
            out.extend_from_slice(&slot.2[..usize::from(slot.1)]);
            return;
        }
        let start = out.len();
        write_number(out, v);
        let text = &out[start..];
        if let Ok(len) = u8::try_from(text.len())
            && text.len() <= Self::TEXT
        {
            slot.0 = bits;
            slot.1 = len;
            slot.2[..text.len()].copy_from_slice(text);
        }
    }
}

/// 10^k for k ≤ 19 (exact as doubles too, up to 10^22).
const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        p[k] = p[k - 1] * 10;
        k += 1;
    }
    p
};

/// [`POW10`] as doubles (exact).
const POW10F: [f64; 20] = {
    let mut p = [1.0f64; 20];
    let mut k = 1;
    while k < 20 {
        p[k] = POW10[k] as f64;
        k += 1;
    }
    p
};

/// `text` as Rust's `str::parse::<f64>` reads it, bit for bit, with a shortcut for the plain
/// decimals of exports and of our own summaries (`45.47`, `-3`, `18.481388331365764`): at most
/// 19 digits and a point. Such a number is `w / 10^f`, `w` the digits as a whole number:
/// - where `w ≤ 2^53`, `w` and `10^f` are exact doubles and one IEEE division rounds the
///   quotient correctly (Clinger 1990, "How to read floating point numbers accurately", the
///   fast path);
/// - above, the quotient is rounded from an exact integer division ([`round_quotient`]).
///
/// Anything else (exponents, `inf`, blanks, longer texts, errors) goes to the standard parser.
#[inline]
pub(crate) fn read_number(text: &[u8]) -> Option<f64> {
    let slow = || std::str::from_utf8(text).ok()?.parse::<f64>().ok();
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let n = body.len();
    if n > 20 {
        return slow();
    }
    // (wrapping: 20 digits may pass 2^64; they are handed on below)
    let mut w: u64 = 0;
    let mut i = 0usize;
    while let Some(&c) = body.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        w = w.wrapping_mul(10).wrapping_add(u64::from(d));
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
            w = w.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        fraction = i - start;
    }
    // (with a point, 20 bytes hold at most 19 digits; without, 20 digits may overflow)
    if whole + fraction == 0 || whole + fraction > 19 {
        return slow();
    }
    let v = if w <= 1 << 53 {
        w as f64 / POW10F[fraction]
    } else {
        round_quotient(w, POW10[fraction])
    };
    Some(if negative { -v } else { v })
}

/// `w / d` rounded to the nearest double (ties to even), for `2^53 < w < 2^64` and
/// `1 ≤ d = 10^f ≤ 10^19`, from the exact integer quotient `q = ⌊w·2^64 / d⌋` and the
/// remainder: the quotient is at least 2^64·2^53/10^19 > 2^54, so it holds the 53 bits of the
/// result, the rounding bit and more; the bits below and the remainder decide the rounding.
/// The result, between 2^-11 and 2^64, is a normal double, built exactly as the rounded
/// mantissa times a power of two. (Not inlined: in the caller it costs the short numbers'
/// fast path some 7 instructions in registers saved and restored.)
#[inline(never)]
fn round_quotient(w: u64, d: u64) -> f64 {
    let num = u128::from(w) << 64;
    let (q, r) = (num / u128::from(d), num % u128::from(d));
    let bits = 128 - q.leading_zeros();
    let shift = bits - 53;
    let mut mantissa = (q >> shift) as u64;
    let below = q & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let up = below > half || (below == half && (r != 0 || mantissa & 1 == 1));
    let mut exponent = shift as i32 - 64;
    if up {
        mantissa += 1;
        if mantissa == 1 << 53 {
            mantissa >>= 1;
            exponent += 1;
        }
    }
    let scale = f64::from_bits(((exponent + 1023) as u64) << 52);
    mantissa as f64 * scale
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
    fn the_cache_writes_what_write_number_writes() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(13);
        let mut cache = NumberCache::new();
        let (mut cached, mut plain) = (Vec::new(), Vec::new());
        // repeats on a day grid, colliding slots, extremes, zeros of both signs, non-finite
        let mut values: Vec<f64> = (0..200_000)
            .map(|i| match i % 4 {
                0 => f64::from(rng.random_range(0..600u32)) / 7.0,
                1 => f64::from_bits(rng.random::<u64>()),
                2 => rng.random::<f64>() * 100.0,
                _ => [0.0, -0.0, -2.2250738585072014e-308, f64::NAN, f64::INFINITY][i / 4 % 5],
            })
            .collect();
        values.extend_from_within(..1000);
        for v in values {
            cache.write(&mut cached, v);
            write_number(&mut plain, v);
            cached.push(b',');
            plain.push(b',');
        }
        assert_eq!(cached, plain);
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

    #[test]
    fn long_numbers_round_as_the_standard_parser_does() {
        // 17 to 19 digits (most above 2^53, so read by the integer division), the point
        // anywhere, and the halfway cases where the rounding rule decides
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let mut texts: Vec<String> = Vec::new();
        for _ in 0..300_000 {
            let digits = rng.random_range(16..=19usize);
            let mut d: String = (0..digits)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect();
            let point = rng.random_range(0..=digits);
            if point < digits {
                d.insert(point, '.');
            }
            texts.push(d);
        }
        for j in 53..64u32 {
            // integers halfway between two doubles, and one off them
            let ulp = 1u64 << (j - 52);
            for m in [0u64, 1, 2, 7, 1000, (1 << 51) - 1] {
                let half = (1u64 << j) + m * ulp + ulp / 2;
                for v in [half - 1, half, half + 1] {
                    texts.push(v.to_string());
                }
            }
        }
        for k in 1..=3u32 {
            // (2^53 + odd) / 2^k: halfway between two doubles, with k decimals
            for odd in [1u64, 3, 5, 12345, (1 << 40) + 1] {
                let num = (1u64 << 53) + odd;
                let (whole, rest) = (num >> k, num & ((1 << k) - 1));
                let decimals = (rest * 10u64.pow(k)) >> k;
                texts.push(format!("{whole}.{decimals:0width$}", width = k as usize));
            }
        }
        texts.push("18446744073709551615".into()); // 2^64 - 1: 20 digits, the standard parser
        texts.push("1844674407370955161.5".into());
        texts.push("0.000000000000000001".into());
        for t in &texts {
            let ours = read_number(t.as_bytes()).map(f64::to_bits);
            let std = t.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(ours, std, "{t:?}");
        }
        // most of them were read by the integer division, not handed on
        let long = texts
            .iter()
            .filter(|t| {
                let w: String = t.chars().filter(char::is_ascii_digit).collect();
                w.len() <= 19 && w.parse::<u64>().is_ok_and(|w| w > 1 << 53)
            })
            .count();
        assert!(long > 200_000, "{long}");
    }
}
