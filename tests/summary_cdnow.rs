//! Summarising the CDNOW transaction log reproduces the published RFM summary
//! (Fader, Hardie & Lee 2005 data; conventions in `data/README.md`).

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_summary_csv, read_transactions_into};
use clv::{SummaryBuilder, SummaryOptions, TimeUnit};

fn data(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cdnow(observation_end: Option<NaiveDate>) -> clv::Summarized {
    let mut opts = SummaryOptions::new(date(1997, 9, 30), TimeUnit::Weeks);
    if let Some(e) = observation_end {
        opts = opts.with_observation_end(e).unwrap();
    }
    let mut b = SummaryBuilder::new(opts);
    let rows = read_transactions_into(
        data("CDNOW_sample.txt"),
        &TransactionFormat::cdnow_sample(),
        &mut b,
    )
    .unwrap();
    assert_eq!(rows, 6919);
    b.finish().unwrap()
}

/// x exactly; t_x and T to the file's 2-decimal rounding (|diff| <= 0.005 + float slack);
/// mean repeat spend to zbar within 0.005 (the file's rounding).
#[test]
fn reproduces_cdnow_summary_and_zbar() {
    let out = cdnow(Some(date(1998, 6, 30)));
    assert!(out.first_seen_in_holdout.is_empty());
    let ours = out.summary;
    let theirs = read_summary_csv(
        data("cdnow_customers_summary_with_transactions.csv"),
        TimeUnit::Weeks,
    )
    .unwrap();
    assert_eq!(ours.len(), 2357);
    assert_eq!(theirs.len(), 2357);
    let their_m = theirs.monetary_value().unwrap();
    let our_m = ours.monetary_value().unwrap();
    for i in 0..2357 {
        let id: usize = ours.ids()[i].parse().unwrap();
        assert_eq!(id, i + 1, "customers in file order");
        assert_eq!(
            ours.frequency()[i],
            theirs.frequency()[i],
            "x of customer {id}"
        );
        assert!(
            (ours.recency()[i] - theirs.recency()[i]).abs() <= 0.005 + 1e-9,
            "t_x of {id}"
        );
        assert!(
            (ours.age()[i] - theirs.age()[i]).abs() <= 0.005 + 1e-9,
            "T of {id}"
        );
        assert!(
            (our_m[i] - their_m[i]).abs() <= 0.005 + 1e-9,
            "zbar of {id}: {} vs {}",
            our_m[i],
            their_m[i]
        );
    }
    // holdout: 1,959 transaction rows fall in 1997-10-01..1998-06-30
    let h = ours.holdout().unwrap();
    assert!((h.duration - 273.0 / 7.0).abs() < 1e-12);
    let total: f64 = h.frequency.iter().sum();
    assert!(total > 0.0 && total <= 1959.0);
}

#[test]
fn lifetimes_summary_file_reads_identically() {
    let a = read_summary_csv(data("cdnow_customers_summary.csv"), TimeUnit::Weeks).unwrap();
    let b = read_summary_csv(
        data("cdnow_customers_summary_with_transactions.csv"),
        TimeUnit::Weeks,
    )
    .unwrap();
    assert_eq!(a.frequency(), b.frequency());
    assert_eq!(a.recency(), b.recency());
    assert_eq!(a.age(), b.age());
    assert_eq!(a.frequency().iter().filter(|&&x| x == 0.0).count(), 1411);
    let mean_x: f64 = a.frequency().iter().sum::<f64>() / a.len() as f64;
    assert!((mean_x - 1.0424).abs() < 5e-5);
}

#[test]
fn calibration_only_rejects_later_transactions() {
    let opts = SummaryOptions::new(date(1997, 9, 30), TimeUnit::Weeks);
    let mut b = SummaryBuilder::new(opts);
    let err = read_transactions_into(
        data("CDNOW_sample.txt"),
        &TransactionFormat::cdnow_sample(),
        &mut b,
    )
    .unwrap_err();
    match err {
        clv::Error::InvalidData {
            row: Some(_),
            customer: Some(_),
            field: "date",
            issue: clv::DataIssue::AfterCalibrationEnd { .. },
        } => {}
        other => panic!("unexpected {other:?}"),
    }
}

/// Historical value: per-customer calibration spend adds up to the raw calibration
/// transactions' dollar total; January..March 1997 cohorts cover everyone.
#[test]
fn history_adds_up_to_the_raw_log() {
    let out = cdnow(Some(date(1998, 6, 30)));
    let text = std::fs::read_to_string(data("CDNOW_sample.txt")).unwrap();
    let raw: f64 = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() == 5 && f[2] <= "19970930")
        .map(|f| f[4].parse::<f64>().unwrap())
        .sum();
    let ours: f64 = out.history.calibration_spend.iter().sum();
    assert!((ours - raw).abs() < 1e-6 * raw, "{ours} vs {raw}");
    let cohorts =
        clv::history::cohort_values(&out.history, clv::history::CohortPeriod::Month, None).unwrap();
    let names: Vec<&str> = cohorts.iter().map(|c| c.cohort.as_str()).collect();
    assert_eq!(names, ["1997-01", "1997-02", "1997-03"]);
    assert_eq!(cohorts.iter().map(|c| c.customers).sum::<usize>(), 2357);
}

/// litt, the sum of log inter-purchase times (weeks), from the occasions themselves: customer
/// 0001 bought on 1997-01-01, 01-18 and 08-02 (gaps of 17 and 196 days); one-time buyers have 0;
/// every litt is at most x·ln(t_x/x) (equal gaps), which the summary validates.
#[test]
fn litt_is_the_sum_of_log_gaps() {
    let out = cdnow(Some(date(1998, 6, 30)));
    let s = &out.summary;
    let litt = s.litt().unwrap();
    let want = (17.0f64 / 7.0).ln() + (196.0f64 / 7.0).ln();
    assert!((litt[0] - want).abs() < 1e-12, "{} vs {want}", litt[0]);
    for ((&l, &x), &tx) in litt.iter().zip(s.frequency()).zip(s.recency()) {
        if x == 0.0 {
            assert_eq!(l, 0.0);
        } else {
            assert!(l <= x * (tx / x).ln() + 1e-9);
        }
    }
    // one gap: litt = ln t_x
    let i = (0..s.len()).find(|&i| s.frequency()[i] == 1.0).unwrap();
    assert!((litt[i] - s.recency()[i].ln()).abs() < 1e-12);
}

/// CDNOW shows no regularity (the BG/CNBD-k fit picks k = 1, tests/cnbd.rs): the Wheat &
/// Morrison estimate from the 507 customers with three or more calibration occasions is about
/// 1, and its interval excludes the Erlang-2 regularity.
#[test]
fn cdnow_regularity_is_poisson() {
    let r = cdnow(Some(date(1998, 6, 30))).regularity.unwrap();
    assert_eq!(r.customers, 507);
    assert!((r.k - 1.05).abs() < 0.01, "{r:?}");
    assert!(r.interval.0 < 1.0 && r.interval.1 < 1.5, "{r:?}");
    assert!(
        r.advice().contains("the NBD-family models suffice"),
        "{}",
        r.advice()
    );
}
