//! Invalid input is a typed error naming the row/customer and field; nothing is dropped.

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_summary, read_transactions_from};
use clv::{
    BgNbdParams, DataIssue, Error, FitOptions, RfmSummary, SummaryBuilder, SummaryOptions, TimeUnit,
};

fn summary(text: &str) -> clv::Result<RfmSummary> {
    read_summary(text.as_bytes(), TimeUnit::Weeks)
}

fn data_err(e: Error) -> (Option<usize>, Option<String>, &'static str, DataIssue) {
    match e {
        Error::InvalidData {
            row,
            customer,
            field,
            issue,
        } => (row, customer, field, issue),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn summary_rows_are_validated() {
    let h = "customer_id,frequency,recency,T\n";
    let cases: Vec<(&str, usize, &str, &str, DataIssue)> = vec![
        (
            "a,1,5,10\nb,1,12,10\n",
            2,
            "b",
            "recency",
            DataIssue::RecencyAfterAge {
                recency: 12.0,
                age: 10.0,
            },
        ),
        (
            "a,-1,0,10\n",
            1,
            "a",
            "frequency",
            DataIssue::Negative(-1.0),
        ),
        ("a,1,-2,10\n", 1, "a", "recency", DataIssue::Negative(-2.0)),
        (
            "a,1.5,2,10\n",
            1,
            "a",
            "frequency",
            DataIssue::NotInteger(1.5),
        ),
        (
            "a,0,3,10\n",
            1,
            "a",
            "recency",
            DataIssue::RecencyWithoutRepeat(3.0),
        ),
        (
            "a,1,2,10\nb,2,3,10\na,1,1,10\n",
            3,
            "a",
            "customer_id",
            DataIssue::Duplicate,
        ),
    ];
    for (body, row, cust, field, issue) in cases {
        let got = data_err(summary(&format!("{h}{body}")).unwrap_err());
        assert_eq!(
            got,
            (Some(row), Some(cust.to_string()), field, issue),
            "{body}"
        );
    }
    // NaN and inf
    for v in ["NaN", "inf"] {
        let (row, _, field, issue) = data_err(summary(&format!("{h}a,1,2,{v}\n")).unwrap_err());
        assert_eq!((row, field), (Some(1), "T"));
        assert!(matches!(issue, DataIssue::NotFinite(_)));
    }
    let (_, _, field, issue) = data_err(summary(&format!("{h}a,one,2,10\n")).unwrap_err());
    assert_eq!(field, "frequency");
    assert!(matches!(issue, DataIssue::Unparseable { .. }));
    assert!(matches!(summary(h).unwrap_err(), Error::EmptyData(_)));
    match summary("id,freq,recency,T\n1,1,1,2\n").unwrap_err() {
        Error::MissingColumn { wanted, found } => {
            assert_eq!(wanted, "frequency|x");
            assert_eq!(found, ["id", "freq", "recency", "T"]);
        }
        other => panic!("{other:?}"),
    }
    // BOM, CRLF, quotes and BTYD names are fine
    let ok = summary("\u{feff}\"ID\",x,t_x,T\r\n\"c,1\",2,30.43,38.86\r\n").unwrap();
    assert_eq!(ok.ids(), &["c,1"]);
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn transactions(text: &str, opts: SummaryOptions) -> clv::Result<clv::Summarized> {
    let mut b = SummaryBuilder::new(opts);
    read_transactions_from(
        text.as_bytes(),
        &TransactionFormat::csv("id", "date", Some("amount")),
        &mut b,
    )?;
    b.finish()
}

#[test]
fn transaction_rows_are_validated() {
    let cal = SummaryOptions::new(d(2024, 3, 31), TimeUnit::Days);
    let obs = cal.with_observation_end(d(2024, 6, 30)).unwrap();
    let h = "id,date,amount\n";
    let (row, cust, field, issue) =
        data_err(transactions(&format!("{h}a,2024-01-01,5\na,2024-07-01,5\n"), obs).unwrap_err());
    assert_eq!((row, cust.as_deref(), field), (Some(2), Some("a"), "date"));
    assert!(matches!(issue, DataIssue::AfterObservationEnd { .. }));
    let (row, _, field, issue) =
        data_err(transactions(&format!("{h}a,2024-01-01,5\nb,2024-04-02,5\n"), cal).unwrap_err());
    assert_eq!((row, field), (Some(2), "date"));
    assert!(matches!(issue, DataIssue::AfterCalibrationEnd { .. }));
    let (row, _, field, issue) =
        data_err(transactions(&format!("{h}a,2024-01-01,-5\n"), cal).unwrap_err());
    assert_eq!(
        (row, field, issue),
        (Some(1), "amount", DataIssue::Negative(-5.0))
    );
    let (_, _, field, issue) =
        data_err(transactions(&format!("{h}a,2024-13-01,5\n"), cal).unwrap_err());
    assert_eq!(field, "date");
    assert!(matches!(issue, DataIssue::Unparseable { .. }));
    let (_, _, field, _) =
        data_err(transactions(&format!("{h}a,2024-01-01,abc\n"), cal).unwrap_err());
    assert_eq!(field, "amount");
    assert!(matches!(
        transactions(h, cal).unwrap_err(),
        Error::EmptyData(_)
    ));
    assert!(cal.with_observation_end(d(2024, 1, 1)).is_err());
    // a customer first seen in the holdout is reported, not dropped silently
    let out = transactions(&format!("{h}a,2024-01-01,5\nb,2024-05-01,5\n"), obs).unwrap();
    assert_eq!(out.first_seen_in_holdout, ["b"]);
    assert_eq!(out.summary.len(), 1);
}

#[test]
fn parameters_and_options_are_validated() {
    for (r, alpha, a, b, name) in [
        (0.0, 1.0, 1.0, 1.0, "r"),
        (1.0, f64::NAN, 1.0, 1.0, "alpha"),
        (1.0, 1.0, -1.0, 1.0, "a"),
        (1.0, 1.0, 1.0, f64::INFINITY, "b"),
    ] {
        match BgNbdParams::new(r, alpha, a, b).unwrap_err() {
            Error::InvalidParameter { name: n, .. } => assert_eq!(n, name),
            other => panic!("{other:?}"),
        }
    }
    assert!(FitOptions::default().with_penalizer(f64::NAN).is_err());
    assert!(FitOptions::default().with_max_iters(0).is_err());
    assert!(
        FitOptions::default()
            .with_start(vec![1.0, 0.0, 1.0, 1.0])
            .is_err()
    );
    assert!(clv::Customer::new(1.0, 2.0, 1.0).is_err());
    assert!(clv::TimeUnit::periods_of_days(0.0).is_err());
}

#[test]
fn degenerate_data_is_diagnosed_not_fitted() {
    let s = RfmSummary::new(
        vec!["a".into(), "b".into()],
        vec![0.0, 0.0],
        vec![0.0, 0.0],
        vec![10.0, 20.0],
        TimeUnit::Weeks,
    )
    .unwrap();
    assert!(matches!(
        BgNbdParams::fit(&s, &FitOptions::default()).unwrap_err(),
        Error::EmptyData(_)
    ));
}

#[test]
fn unconverged_fit_is_an_error_unless_allowed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/cdnow_customers_summary.csv"
    );
    let s = clv::io::read_summary_csv(path, TimeUnit::Weeks).unwrap();
    let opts = FitOptions::default().with_max_iters(2).unwrap();
    match BgNbdParams::fit(&s, &opts) {
        Err(Error::NotConverged { iterations, .. }) => assert!(iterations > 0),
        other => panic!("expected NotConverged, got {other:?}"),
    }
    let f = BgNbdParams::fit(&s, &opts.allow_unconverged(true)).unwrap();
    assert!(!f.convergence().converged);
    // and the result is not the starting point
    assert_ne!(
        clv::fit::MaximumLikelihood::to_vec(f.params()),
        vec![1.0, 1.0, 1.0, 1.0]
    );
}
