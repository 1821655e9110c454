//! The bad-input catalogue: every kind of invalid input a user can hand the library, each with
//! the exact typed error it must produce (variant, row, customer, field, issue). Nothing is
//! dropped silently and nothing panics. Inputs that look odd but are valid (a UTF-8 BOM, CRLF
//! line ends, quoted fields) are checked to read exactly like the plain file.
//!
//! The binary's side (one line on stderr, non-zero exit, no output file) is in `tests/cli.rs`.

use chrono::NaiveDate;
use clv::io::{MAX_LINE_BYTES, TransactionFormat, read_summary, read_transactions_from};
use clv::uncertainty::BootstrapOptions;
use clv::value::{ClvOptions, DiscountRate};
use clv::{
    BgNbdParams, Customer, DataIssue, Error, FitOptions, GammaGammaParams, RfmSummary,
    SummaryBuilder, SummaryOptions, TimeUnit,
};
use std::io::Read;

fn data(
    row: Option<usize>,
    customer: Option<&str>,
    field: &'static str,
    issue: DataIssue,
) -> Error {
    Error::InvalidData {
        row,
        customer: customer.map(str::to_string),
        field,
        issue,
    }
}

fn row(row: usize, customer: &str, field: &'static str, issue: DataIssue) -> Error {
    data(Some(row), Some(customer), field, issue)
}

fn option(name: &'static str, reason: &str) -> Error {
    Error::InvalidOption {
        name,
        reason: reason.into(),
    }
}

fn param(name: &'static str, value: f64) -> Error {
    Error::InvalidParameter {
        name,
        value,
        reason: "must be finite and > 0",
    }
}

fn unparseable(text: &str, expected: &str) -> DataIssue {
    DataIssue::Unparseable {
        text: text.into(),
        expected: expected.into(),
    }
}

const ANY_DATE: &str =
    "a date (YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD or ISO date-time; pass a format otherwise)";

fn summary(text: impl Read) -> clv::Result<()> {
    read_summary(text, TimeUnit::Weeks).map(|_| ())
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn calibration() -> SummaryOptions {
    SummaryOptions::new(d(2024, 3, 31), TimeUnit::Days)
}

fn with_holdout() -> SummaryOptions {
    calibration().with_observation_end(d(2024, 6, 30)).unwrap()
}

fn log_with(
    text: impl Read,
    format: &TransactionFormat,
    opts: SummaryOptions,
) -> clv::Result<clv::Summarized> {
    let mut b = SummaryBuilder::keep_all(opts);
    read_transactions_from(text, format, &mut b)?;
    b.finish()
}

fn log(text: &str, opts: SummaryOptions) -> clv::Result<()> {
    let f = TransactionFormat::csv("id", "date", Some("amount"));
    log_with(text.as_bytes(), &f, opts).map(|_| ())
}

/// `head`, then a 2 GB line of `a`s produced lazily (never in memory), then a line end.
fn two_gb_line(head: &'static str) -> impl Read {
    head.as_bytes()
        .chain(std::io::repeat(b'a').take(2 << 30))
        .chain(&b"\n"[..])
}

fn not_identifiable(model: &'static str, reason: &str) -> Error {
    Error::NotIdentifiable {
        model,
        reason: reason.into(),
    }
}

/// Fits BG/NBD to customers given as (x, t_x, T).
fn fit_bgnbd(rows: &[(f64, f64, f64)]) -> clv::Result<()> {
    let s = RfmSummary::new(
        (0..rows.len()).map(|i| i.to_string()).collect(),
        rows.iter().map(|r| r.0).collect(),
        rows.iter().map(|r| r.1).collect(),
        rows.iter().map(|r| r.2).collect(),
        TimeUnit::Weeks,
    )?;
    BgNbdParams::fit(&s, &FitOptions::default()).map(|_| ())
}

/// Fits Gamma-Gamma to customers given as (x, mean spend), all with t_x = x, T = 10.
fn fit_spend(rows: &[(f64, f64)]) -> clv::Result<()> {
    let s = RfmSummary::new(
        (0..rows.len()).map(|i| i.to_string()).collect(),
        rows.iter().map(|r| r.0).collect(),
        rows.iter().map(|r| r.0).collect(),
        vec![10.0; rows.len()],
        TimeUnit::Weeks,
    )?
    .with_monetary_value(rows.iter().map(|r| r.1).collect())?;
    GammaGammaParams::fit(&s, &FitOptions::default()).map(|_| ())
}

fn catalogue() -> Vec<(&'static str, clv::Result<()>, Error)> {
    let sh = "customer_id,frequency,recency,T\n";
    let th = "id,date,amount\n";
    let too_long = DataIssue::LineTooLong {
        limit: MAX_LINE_BYTES,
    };
    let bgnbd = BgNbdParams::new(0.24, 4.4, 0.79, 2.4).unwrap();
    let cdnow = clv::io::read_summary_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/cdnow_customers_summary.csv"
        ),
        TimeUnit::Weeks,
    )
    .unwrap();
    vec![
        // ---- summary reader ----
        (
            "summary: empty file",
            summary(&b""[..]),
            Error::EmptyData("the file is empty (no header line)"),
        ),
        (
            "summary: header only",
            summary(sh.as_bytes()),
            Error::EmptyData("the summary has no customers"),
        ),
        (
            "summary: misnamed frequency column",
            summary(&b"id,freq,recency,T\n1,1,1,2\n"[..]),
            Error::MissingColumn {
                wanted: "frequency|x|frequency_cal".into(),
                found: vec!["id".into(), "freq".into(), "recency".into(), "T".into()],
            },
        ),
        (
            "summary: missing T column",
            summary(&b"customer_id,frequency,recency\n1,1,1\n"[..]),
            Error::MissingColumn {
                wanted: "T|t|T_cal".into(),
                found: vec!["customer_id".into(), "frequency".into(), "recency".into()],
            },
        ),
        (
            "summary: unparseable number",
            summary(format!("{sh}a,one,2,10\n").as_bytes()),
            row(1, "a", "frequency", unparseable("one", "a number")),
        ),
        (
            "summary: NaN",
            summary(format!("{sh}a,1,2,NaN\n").as_bytes()),
            row(1, "a", "T", DataIssue::NotFinite(f64::NAN)),
        ),
        (
            "summary: inf",
            summary(format!("{sh}a,1,2,3\nb,1,inf,4\n").as_bytes()),
            row(2, "b", "recency", DataIssue::NotFinite(f64::INFINITY)),
        ),
        (
            "summary: negative frequency",
            summary(format!("{sh}a,-1,0,10\n").as_bytes()),
            row(1, "a", "frequency", DataIssue::Negative(-1.0)),
        ),
        (
            "summary: negative recency",
            summary(format!("{sh}a,1,-2,10\n").as_bytes()),
            row(1, "a", "recency", DataIssue::Negative(-2.0)),
        ),
        (
            "summary: recency > T",
            summary(format!("{sh}a,1,5,10\nb,1,12,10\n").as_bytes()),
            row(
                2,
                "b",
                "recency",
                DataIssue::RecencyAfterAge {
                    recency: 12.0,
                    age: 10.0,
                },
            ),
        ),
        (
            "summary: recency > 0 with x = 0",
            summary(format!("{sh}a,0,3,10\n").as_bytes()),
            row(1, "a", "recency", DataIssue::RecencyWithoutRepeat(3.0)),
        ),
        (
            "summary: non-integer frequency",
            summary(format!("{sh}a,1.5,2,10\n").as_bytes()),
            row(1, "a", "frequency", DataIssue::NotInteger(1.5)),
        ),
        (
            "summary: duplicate customer",
            summary(format!("{sh}a,1,2,10\nb,2,3,10\na,1,1,10\n").as_bytes()),
            row(3, "a", "customer_id", DataIssue::Duplicate),
        ),
        (
            "summary: too few fields",
            summary(format!("{sh}a,1,2\n").as_bytes()),
            row(1, "a", "T", DataIssue::MissingField),
        ),
        (
            "summary: blank customer id",
            summary(format!("{sh}a,1,2,10\n ,1,2,10\n").as_bytes()),
            data(Some(2), None, "customer_id", DataIssue::Blank),
        ),
        (
            "summary: negative monetary value",
            summary(&b"customer_id,frequency,recency,T,monetary_value\na,1,2,10,-5\n"[..]),
            row(1, "a", "monetary_value", DataIssue::Negative(-5.0)),
        ),
        (
            "spend model: zero spend of a repeat buyer",
            read_summary(
                &b"customer_id,frequency,recency,T,monetary_value\na,0,0,10,0\nb,2,2,10,0\n"[..],
                TimeUnit::Weeks,
            )
            .and_then(|s| GammaGammaParams::fit(&s, &FitOptions::default()))
            .map(|_| ()),
            row(2, "b", "monetary_value", DataIssue::NotPositive(0.0)),
        ),
        (
            "summary: non-integer holdout frequency",
            summary(
                &b"customer_id,frequency,recency,T,frequency_holdout,duration_holdout\na,1,2,10,0.5,20\n"[..],
            ),
            row(1, "a", "frequency_holdout", DataIssue::NotInteger(0.5)),
        ),
        (
            "summary: inconsistent holdout duration",
            summary(
                &b"customer_id,frequency,recency,T,frequency_holdout,duration_holdout\na,1,2,10,0,20\nb,1,2,10,0,21\n"[..],
            ),
            row(
                2,
                "b",
                "duration_holdout",
                unparseable("21", "the same holdout duration as earlier rows (20)"),
            ),
        ),
        (
            "summary: invalid UTF-8",
            summary(&b"customer_id,frequency,recency,T\na,1,2,10\nb,\xff1,2,10\n"[..]),
            // the field is read on its own: the customer is named
            data(
                Some(2),
                Some("b"),
                "frequency",
                DataIssue::NotUtf8 { valid_up_to: 0 },
            ),
        ),
        (
            "summary: a 2 GB line",
            summary(two_gb_line("customer_id,frequency,recency,T\na,1,2,10\n")),
            data(Some(2), None, "line", too_long.clone()),
        ),
        (
            "summary: a 2 GB header",
            summary(two_gb_line("")),
            data(None, None, "header", too_long.clone()),
        ),
        // ---- transaction reader ----
        (
            "transactions: empty file",
            log("", calibration()),
            Error::EmptyData("the file is empty (no header line)"),
        ),
        (
            "transactions: header only",
            log(th, calibration()),
            Error::EmptyData("the file has no transactions"),
        ),
        (
            "transactions: misnamed date column",
            log("id,day,amount\na,2024-01-01,5\n", calibration()),
            Error::MissingColumn {
                wanted: "date".into(),
                found: vec!["id".into(), "day".into(), "amount".into()],
            },
        ),
        (
            "transactions: unparseable date",
            log(&format!("{th}a,2024-01-01,5\na,2024-13-01,5\n"), calibration()),
            row(2, "a", "date", unparseable("2024-13-01", ANY_DATE)),
        ),
        (
            "transactions: date not in the given format",
            log_with(
                &b"00001 0001 1997-01-01 1 29.33\n"[..],
                &TransactionFormat::cdnow_sample(),
                calibration(),
            )
            .map(|_| ()),
            row(
                1,
                "0001",
                "date",
                unparseable("1997-01-01", "a date in format %Y%m%d"),
            ),
        ),
        (
            "transactions: unparseable amount",
            log(&format!("{th}a,2024-01-01,abc\n"), calibration()),
            row(1, "a", "amount", unparseable("abc", "a number")),
        ),
        (
            "transactions: NaN amount",
            log(&format!("{th}a,2024-01-01,NaN\n"), calibration()),
            row(1, "a", "amount", DataIssue::NotFinite(f64::NAN)),
        ),
        (
            "transactions: infinite amount",
            log(&format!("{th}a,2024-01-01,-inf\n"), calibration()),
            row(1, "a", "amount", DataIssue::NotFinite(f64::NEG_INFINITY)),
        ),
        (
            "transactions: negative amount",
            log(&format!("{th}a,2024-01-01,-5\n"), calibration()),
            row(1, "a", "amount", DataIssue::NegativeAmounts {
                    amount: -5.0,
                    lines: 1,
                }),
        ),
        (
            "transactions: after the observation end",
            log(&format!("{th}a,2024-01-01,5\na,2024-07-01,5\n"), with_holdout()),
            row(
                2,
                "a",
                "date",
                DataIssue::AfterObservationEnd {
                    date: "2024-07-01".into(),
                    end: "2024-06-30".into(),
                },
            ),
        ),
        (
            "transactions: after the calibration end without an observation end",
            log(&format!("{th}a,2024-01-01,5\nb,2024-04-02,5\n"), calibration()),
            row(
                2,
                "b",
                "date",
                DataIssue::AfterCalibrationEnd {
                    date: "2024-04-02".into(),
                    end: "2024-03-31".into(),
                },
            ),
        ),
        (
            "transactions: too few fields",
            log(&format!("{th}a,2024-01-01,5\nb,2024-01-02\n"), calibration()),
            data(Some(2), None, "amount", DataIssue::MissingField),
        ),
        (
            "transactions: blank customer id",
            log(&format!("{th}\"\",2024-01-01,5\n"), calibration()),
            data(Some(1), None, "customer", DataIssue::Blank),
        ),
        (
            "transactions: invalid UTF-8",
            log_with(
                &b"id,date,amount\na,2024-01-01,5\nb,2024-01-0\xe92,5\n"[..],
                &TransactionFormat::csv("id", "date", Some("amount")),
                calibration(),
            )
            .map(|_| ()),
            data(Some(2), None, "date", DataIssue::NotUtf8 { valid_up_to: 9 }),
        ),
        (
            "transactions: invalid UTF-8 in the header",
            log_with(
                &b"id,d\xffte,amount\na,2024-01-01,5\n"[..],
                &TransactionFormat::csv("id", "date", Some("amount")),
                calibration(),
            )
            .map(|_| ()),
            data(None, None, "header", DataIssue::NotUtf8 { valid_up_to: 1 }),
        ),
        (
            "transactions: a 2 GB line (CSV)",
            log_with(
                two_gb_line("id,date,amount\na,2024-01-01,5\n"),
                &TransactionFormat::csv("id", "date", Some("amount")),
                calibration(),
            )
            .map(|_| ()),
            data(Some(2), None, "line", too_long.clone()),
        ),
        (
            "transactions: a 2 GB line (CDNOW text)",
            log_with(
                two_gb_line("id date cds dollars\n1 19970101 1 5\n"),
                &TransactionFormat::cdnow_master(),
                SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks),
            )
            .map(|_| ()),
            data(Some(2), None, "line", too_long.clone()),
        ),
        (
            "transactions: too few fields (CDNOW text)",
            log_with(
                &b"id date cds dollars\n1 19970101 1 5\n2 19970102\n"[..],
                &TransactionFormat::cdnow_master(),
                SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks),
            )
            .map(|_| ()),
            data(Some(2), None, "amount", DataIssue::MissingField),
        ),
        (
            "transactions: invalid UTF-8 (CDNOW text)",
            log_with(
                &b"id date cds dollars\n1 19970101 1 5\n\xfe 19970102 1 5\n"[..],
                &TransactionFormat::cdnow_master(),
                SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks),
            )
            .map(|_| ()),
            data(Some(2), None, "line", DataIssue::NotUtf8 { valid_up_to: 0 }),
        ),
        // ---- data the models cannot be fitted to ----
        (
            "fit: no repeat buyers (BG/NBD)",
            fit_bgnbd(&[(0.0, 0.0, 10.0), (0.0, 0.0, 20.0)]),
            not_identifiable(
                "bgnbd",
                "none of the 2 customers made a repeat purchase, so the purchase rate and the dropout probability cannot be told apart",
            ),
        ),
        (
            "fit: a single customer",
            fit_bgnbd(&[(3.0, 9.0, 10.0)]),
            not_identifiable(
                "bgnbd",
                "a single customer says nothing about how customers differ",
            ),
        ),
        (
            "fit: every customer with the same history",
            fit_bgnbd(&[(3.0, 9.0, 10.0); 50]),
            not_identifiable(
                "bgnbd",
                "all 50 customers have the same history (x, t_x, T), which says nothing about how customers differ",
            ),
        ),
        (
            "fit: spend with no repeat buyers",
            fit_spend(&[(0.0, 0.0), (0.0, 0.0)]),
            not_identifiable(
                "gamma_gamma",
                "none of the 2 customers made a repeat purchase, and spend is modelled on repeat transactions",
            ),
        ),
        (
            "fit: a single repeat buyer",
            fit_spend(&[(0.0, 0.0), (2.0, 15.0)]),
            not_identifiable(
                "gamma_gamma",
                "a single repeat buyer says nothing about how spend varies",
            ),
        ),
        (
            "fit: every repeat buyer spends the same",
            fit_spend(&[(1.0, 10.0), (2.0, 10.0), (5.0, 10.0)]),
            not_identifiable(
                "gamma_gamma",
                "all 3 repeat buyers have the same mean spend (10), so spend shows no variation to model",
            ),
        ),
        (
            "fit: a spend summary without monetary values",
            GammaGammaParams::fit(&cdnow, &FitOptions::default()).map(|_| ()),
            option(
                "summary",
                "has no monetary_value column: the Gamma-Gamma model needs each customer's mean repeat-transaction value",
            ),
        ),
        // ---- options ----
        (
            "options: calibration end after the observation end",
            calibration().with_observation_end(d(2024, 1, 1)).map(|_| ()),
            option(
                "observation end",
                "2024-01-01 is before the calibration end 2024-03-31",
            ),
        ),
        (
            "options: zero horizon",
            ClvOptions::new(0.0, TimeUnit::Weeks).map(|_| ()),
            option("horizon", "must be finite and > 0, got 0"),
        ),
        (
            "options: negative horizon",
            clv::predict::score(&bgnbd, &cdnow, -4.0).map(|_| ()),
            option("horizon", "must be finite and > 0, got -4"),
        ),
        (
            "options: discount rate -1",
            DiscountRate::annual(-1.0).map(|_| ()),
            option("discount rate", "must be finite and > -1, got -1"),
        ),
        (
            "options: NaN discount rate",
            DiscountRate::annual(f64::NAN).map(|_| ()),
            option("discount rate", "must be finite and > -1, got NaN"),
        ),
        (
            "options: negative margin",
            ClvOptions::new(52.0, TimeUnit::Weeks)
                .unwrap()
                .with_margin(-0.1)
                .map(|_| ()),
            option("margin", "must be finite and >= 0, got -0.1"),
        ),
        (
            "options: zero CLV step",
            ClvOptions::new(52.0, TimeUnit::Weeks)
                .unwrap()
                .with_step(0.0)
                .map(|_| ()),
            option("step", "must be in (0, horizon = 52], got 0"),
        ),
        (
            "options: too few bootstrap draws",
            BootstrapOptions::new(5, 0.9, 1).map(|_| ()),
            option("draws", "need at least 20 bootstrap draws, got 5"),
        ),
        (
            "options: interval level 1.5",
            BootstrapOptions::new(100, 1.5, 1).map(|_| ()),
            option("interval level", "must be in (0, 1), got 1.5"),
        ),
        (
            "options: NaN penalizer",
            FitOptions::default().with_penalizer(f64::NAN).map(|_| ()),
            option("penalizer", "must be finite and >= 0, got NaN"),
        ),
        (
            "options: zero iterations",
            FitOptions::default().with_max_iters(0).map(|_| ()),
            option("max_iters", "must be at least 1"),
        ),
        (
            "options: start value NaN",
            FitOptions::default()
                .with_start(vec![1.0, f64::NAN, 1.0, 1.0])
                .map(|_| ()),
            option("start", "must be finite, got NaN"),
        ),
        (
            "options: period of 0 days",
            TimeUnit::periods_of_days(0.0).map(|_| ()),
            option("period length in days", "must be finite and > 0, got 0"),
        ),
        // ---- parameters ----
        (
            "params: BG/NBD r = 0",
            BgNbdParams::new(0.0, 1.0, 1.0, 1.0).map(|_| ()),
            param("r", 0.0),
        ),
        (
            "params: BG/NBD alpha NaN",
            BgNbdParams::new(1.0, f64::NAN, 1.0, 1.0).map(|_| ()),
            param("alpha", f64::NAN),
        ),
        (
            "params: BG/NBD a < 0",
            BgNbdParams::new(1.0, 1.0, -1.0, 1.0).map(|_| ()),
            param("a", -1.0),
        ),
        (
            "params: BG/NBD b infinite",
            BgNbdParams::new(1.0, 1.0, 1.0, f64::INFINITY).map(|_| ()),
            param("b", f64::INFINITY),
        ),
        (
            "params: Gamma-Gamma p = 0",
            GammaGammaParams::new(0.0, 1.0, 1.0).map(|_| ()),
            param("p", 0.0),
        ),
        (
            "params: Gamma-Gamma v negative",
            GammaGammaParams::new(1.0, 1.0, -3.0).map(|_| ()),
            param("v", -3.0),
        ),
        (
            "params: customer with recency > T",
            Customer::new(1.0, 2.0, 1.0).map(|_| ()),
            data(
                None,
                None,
                "recency",
                DataIssue::RecencyAfterAge {
                    recency: 2.0,
                    age: 1.0,
                },
            ),
        ),
        (
            "params: summary columns of different lengths",
            RfmSummary::new(
                vec!["a".into(), "b".into()],
                vec![1.0],
                vec![1.0, 0.0],
                vec![2.0, 2.0],
                TimeUnit::Weeks,
            )
            .map(|_| ()),
            option(
                "summary columns",
                "columns differ in length (ids 2, x 1, t_x 2, T 2)",
            ),
        ),
    ]
}

#[test]
fn every_bad_input_gives_its_exact_typed_error() {
    let cases = catalogue();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for (name, got, want) in &cases {
        // Debug strings compare NaN payloads as text (NaN != NaN as f64)
        let got = match got {
            Ok(()) => "Ok(())".to_string(),
            Err(e) => format!("{e:?}"),
        };
        if got != format!("{want:?}") {
            failures.push(format!("{name}:\n   got  {got}\n   want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} catalogue cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!("{} catalogue cases", cases.len());
}

#[test]
fn odd_but_valid_files_read_like_plain_ones() {
    // a UTF-8 BOM, CRLF line ends, quoted fields (with a comma and a quote inside), BTYD names
    let odd = read_summary(
        "\u{feff}\"ID\",x,t_x,T\r\n\"c,1\",2,30.43,38.86\r\n\"say \"\"hi\"\"\",0,0,38.86\r\n"
            .as_bytes(),
        TimeUnit::Weeks,
    )
    .unwrap();
    assert_eq!(odd.ids(), &["c,1", "say \"hi\""]);
    assert_eq!(odd.frequency(), &[2.0, 0.0]);
    assert_eq!(odd.recency(), &[30.43, 0.0]);
    let f = TransactionFormat::csv("id", "date", Some("amount"));
    let plain = "id,date,amount\na,2024-01-01,5\na,2024-02-01,7.5\nb,2024-01-03,2\n";
    let odd = "\u{feff}id,date,amount\r\n\"a\",\"2024-01-01\",5\r\na,2024-02-01,\"7.5\"\r\n\"b\",2024-01-03,2";
    let a = log_with(plain.as_bytes(), &f, calibration()).unwrap();
    let b = log_with(odd.as_bytes(), &f, calibration()).unwrap();
    assert_eq!(a, b);
    // a line of exactly the limit is accepted (the limit is on line length, not file size)
    let mut long = "customer_id,frequency,recency,T,note\na,1,2,10,".to_string();
    long.push_str(&"n".repeat(MAX_LINE_BYTES - "a,1,2,10,".len()));
    long.push('\n');
    assert_eq!(
        read_summary(long.as_bytes(), TimeUnit::Weeks)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn customers_first_seen_in_the_holdout_are_reported_not_dropped() {
    let f = TransactionFormat::csv("id", "date", Some("amount"));
    let text = "id,date,amount\na,2024-01-01,5\nb,2024-05-01,5\n";
    let out = log_with(text.as_bytes(), &f, with_holdout()).unwrap();
    assert_eq!(out.first_seen_in_holdout, ["b"]);
    assert_eq!(out.summary.len(), 1);
}
