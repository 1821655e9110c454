//! A generated retail export of the most common dirty shape, and the same log cleaned by hand.
//!
//! Purchase occasions come from the crate's simulator (BG/NBD timing, Gamma-Gamma amounts);
//! each becomes an invoice of one to four lines (`Quantity` × unit `Price`). Then the dirt:
//! - guest invoices without a customer id (about 20% of the lines);
//! - partial returns: a `C`-prefixed invoice returning one line of an earlier invoice, up to
//!   three weeks later; full cancellations of an invoice the same day;
//! - three orders of 77,000 cancelled the same day by a cancellation invoice of another number;
//! - free items (price 0) inside invoices, and a few zero-price-only invoices;
//! - lines dated after the observation end;
//! - `;` between fields, decimal commas, day-first timestamps (`31/01/2010 14:05`), a quoted
//!   description holding a `;`, `Customer ID` / `InvoiceDate` headers, gzip.
//!
//! The clean file is what a careful analyst would make of it: line totals in an `amount`
//! column, ISO dates, commas, and none of the lines the dirt added or undid. Prices are whole
//! quarters, so every sum is exact in binary and the two pipelines can agree to the last bit.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use clv::sim::{LogSpec, simulate_transactions};
use clv::{BgNbdParams, GammaGammaParams, TimeUnit};
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The window of the generated log.
pub const CALIBRATION_END: &str = "2010-09-30";
/// The end of observation (lines after it are dirt).
pub const OBSERVATION_END: &str = "2011-06-30";

/// What was generated.
pub struct DirtyLog {
    /// The dirty export (gzip).
    pub dirty: PathBuf,
    /// The hand-cleaned file.
    pub clean: PathBuf,
    /// Data lines of the dirty export.
    pub lines: usize,
    /// Lines without a customer id.
    pub guest_lines: usize,
    /// Lines of the three cancelled 77,000 orders.
    pub big_orders: usize,
}

struct Line {
    time: NaiveDateTime,
    seq: usize,
    invoice: String,
    quantity: i64,
    /// Unit price in quarters.
    price: i64,
    customer: Option<usize>,
    /// Whether the hand-cleaned file keeps it.
    keep: bool,
}

fn date(s: &str) -> NaiveDateTime {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(23, 59, 0)
        .unwrap()
}

fn minute(t: NaiveDateTime) -> NaiveDateTime {
    t.date()
        .and_hms_opt(chrono::Timelike::hour(&t), chrono::Timelike::minute(&t), 0)
        .unwrap()
}

/// Quarters as a price with two decimals, with a decimal comma or a point.
fn money(quarters: i64, comma: bool) -> String {
    let cents = quarters * 25;
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    let sep = if comma { ',' } else { '.' };
    format!("{sign}{}{sep}{:02}", c / 100, c % 100)
}

/// Writes `dirty_export.csv.gz` and `clean.csv` under `dir` for `customers` simulated
/// customers (about 6 dirty lines each).
pub fn write(dir: &Path, customers: usize, seed: u64) -> DirtyLog {
    std::fs::create_dir_all(dir).unwrap();
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let start = NaiveDate::from_ymd_opt(2010, 1, 4)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let cal_end = date(CALIBRATION_END);
    let obs_end = date(OBSERVATION_END);
    let spec = LogSpec {
        customers,
        start,
        acquisition: 13.0,
        end: obs_end,
        unit: TimeUnit::Weeks,
    };
    let mut occasions = Vec::new();
    simulate_transactions(&bg, &gg, &spec, seed, |c, t, a| occasions.push((c, t, a))).unwrap();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xD1E7);
    let mut lines: Vec<Line> = Vec::new();
    let mut seq = 0;
    let mut next_invoice = 489_000;
    let push = |lines: &mut Vec<Line>, l: Line| {
        lines.push(l);
    };
    let mut new_line = |time, invoice: &str, quantity, price, customer, keep| -> Line {
        seq += 1;
        Line {
            time,
            seq,
            invoice: invoice.to_string(),
            quantity,
            price,
            customer,
            keep,
        }
    };
    // customer -> days with a purchase occasion (for the big orders)
    let mut days: std::collections::HashMap<usize, Vec<NaiveDate>> = Default::default();
    for &(c, t, amount) in &occasions {
        let t = minute(t).max(start);
        days.entry(c).or_default().push(t.date());
        next_invoice += 1;
        let inv = next_invoice.to_string();
        let n_lines = rng.random_range(1..=4);
        let mut kept = vec![];
        for k in 0..n_lines {
            let (q, p) = if k == 0 {
                (1, ((amount * 4.0).round() as i64).max(1))
            } else {
                (rng.random_range(1..=6), rng.random_range(1..=40))
            };
            kept.push(lines.len());
            let l = new_line(t, &inv, q, p, Some(c), true);
            push(&mut lines, l);
        }
        if rng.random::<f64>() < 0.05 {
            let l = new_line(t, &inv, 1, 0, Some(c), false); // a free item
            push(&mut lines, l);
        }
        let u = rng.random::<f64>();
        if u < 0.02 {
            // cancelled in full the same invoice's day (or just after midnight: by invoice)
            let when = t + Duration::minutes(rng.random_range(1..=120));
            for &i in &kept {
                lines[i].keep = false;
                let (q, p) = (lines[i].quantity, lines[i].price);
                let l = new_line(when, &format!("C{inv}"), -q, p, Some(c), false);
                push(&mut lines, l);
            }
        } else if u < 0.06 && kept.len() >= 2 {
            // one line returned up to three weeks later, before the observation end
            let when = t + Duration::minutes(rng.random_range(60..=21 * 24 * 60));
            if when <= obs_end {
                let i = kept[rng.random_range(0..kept.len())];
                lines[i].keep = false;
                let (q, p) = (lines[i].quantity, lines[i].price);
                let l = new_line(when, &format!("C{inv}"), -q, p, Some(c), false);
                push(&mut lines, l);
            }
        }
        if rng.random::<f64>() < 0.005 {
            // an invoice of free items only, on another day
            let when = t + Duration::days(rng.random_range(1..=30));
            if when <= obs_end {
                next_invoice += 1;
                let l = new_line(when, &next_invoice.to_string(), 2, 0, Some(c), false);
                push(&mut lines, l);
            }
        }
    }
    // three 77,000 orders cancelled the same day by a cancellation of another number, each on
    // a calibration day without other purchases by that customer
    let mut big_orders = 0;
    let mut chosen = 0;
    for c in 0..customers {
        if chosen == 3 {
            break;
        }
        let Some(d) = days.get(&c) else { continue };
        let day = d[0] + Duration::days(3);
        if d.contains(&day) || day.and_hms_opt(10, 0, 0).unwrap() > cal_end {
            continue;
        }
        chosen += 1;
        next_invoice += 1;
        let at = day.and_hms_opt(10, 0, 0).unwrap();
        let l = new_line(at, &next_invoice.to_string(), 1000, 308, Some(c), false);
        push(&mut lines, l);
        let l = new_line(
            at + Duration::minutes(30),
            &format!("C{}", 900_000 + chosen),
            -1000,
            308,
            Some(c),
            false,
        );
        push(&mut lines, l);
        big_orders += 2;
    }
    // guests: invoices without a customer id, about a fifth of the lines
    let customer_lines = lines.len();
    let span = (obs_end - start).num_minutes();
    let mut guest_lines = 0;
    while guest_lines * 4 < customer_lines {
        next_invoice += 1;
        let at = start + Duration::minutes(rng.random_range(0..span));
        for _ in 0..rng.random_range(1..=3) {
            let (q, p) = (rng.random_range(1..=6), rng.random_range(1..=40));
            let l = new_line(at, &next_invoice.to_string(), q, p, None, false);
            push(&mut lines, l);
            guest_lines += 1;
        }
    }
    // lines after the observation end
    for k in 0..200 {
        next_invoice += 1;
        let at = obs_end + Duration::hours(1 + k);
        let l = new_line(
            at,
            &next_invoice.to_string(),
            1,
            20,
            Some(k as usize % customers),
            false,
        );
        push(&mut lines, l);
    }
    lines.sort_by_key(|l| (l.time, l.seq));

    let dirty = dir.join("dirty_export.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&dirty).unwrap()),
        flate2::Compression::fast(),
    );
    writeln!(
        gz,
        "Invoice;StockCode;Description;Quantity;InvoiceDate;Price;Customer ID;Country"
    )
    .unwrap();
    let clean = dir.join("clean.csv");
    let mut cw = std::io::BufWriter::new(std::fs::File::create(&clean).unwrap());
    writeln!(cw, "customer_id,date,amount").unwrap();
    for l in &lines {
        let id = l
            .customer
            .map_or(String::new(), |c| format!("{}", 12_346 + c));
        let description = if l.price == 0 {
            "\"FREE GIFT; WRAPPED\""
        } else {
            "WHITE HANGING HEART T-LIGHT HOLDER"
        };
        writeln!(
            gz,
            "{};85123A;{description};{};{};{};{id};United Kingdom",
            l.invoice,
            l.quantity,
            l.time.format("%d/%m/%Y %H:%M"),
            money(l.price, true)
        )
        .unwrap();
        if l.keep {
            writeln!(
                cw,
                "{id},{},{}",
                l.time.format("%Y-%m-%d %H:%M"),
                money(l.quantity * l.price, false)
            )
            .unwrap();
        }
    }
    gz.finish().unwrap().flush().unwrap();
    cw.flush().unwrap();
    DirtyLog {
        dirty,
        clean,
        lines: lines.len(),
        guest_lines,
        big_orders,
    }
}
