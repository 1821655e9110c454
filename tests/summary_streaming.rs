//! The streaming summariser: constant state per customer for time-ordered logs, a replay for
//! customers whose transactions arrive out of order, and the same summary either way.

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_transactions_from, read_transactions_into};
use clv::sim::{LogSpec, simulate_transactions};
use clv::{
    BgNbdParams, GammaGammaParams, Summarized, SummaryBuilder, SummaryOptions, TimeUnit,
    Transaction, summarize,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn options() -> SummaryOptions {
    SummaryOptions::new(date(1997, 9, 30), TimeUnit::Weeks)
        .with_observation_end(date(1998, 6, 30))
        .unwrap()
}

/// CDNOW-like simulated log, customers one after another with their transactions in order.
fn simulated() -> Vec<Transaction> {
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
    let at = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap();
    let spec = LogSpec {
        customers: 3000,
        start: at(date(1997, 1, 1)),
        acquisition: 12.0,
        end: at(date(1998, 6, 30)),
        unit: TimeUnit::Weeks,
    };
    let mut out = Vec::new();
    simulate_transactions(&bg, &gg, &spec, 11, |c, t, a| {
        out.push(Transaction::new(
            format!("c{c}"),
            t,
            (a * 100.0).round() / 100.0,
        ))
    })
    .unwrap();
    out
}

/// A fixed permutation (multiplicative stride coprime with the length).
fn shuffled<T: Clone>(v: &[T]) -> Vec<T> {
    let n = v.len();
    let mut stride = 7919 % n;
    while gcd(stride, n) != 1 {
        stride += 1;
    }
    (0..n).map(|i| v[(i * stride) % n].clone()).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn csv(tx: &[Transaction]) -> String {
    let mut s = String::from("customer,date,amount\n");
    for t in tx {
        s.push_str(&format!(
            "{},{},{}\n",
            t.customer,
            t.time.format("%Y-%m-%d %H:%M:%S"),
            t.amount
        ));
    }
    s
}

/// Same customers, same numbers (rows may come in another order: compare by id).
fn assert_same(a: &Summarized, b: &Summarized) {
    let (sa, sb) = (&a.summary, &b.summary);
    assert_eq!(sa.len(), sb.len());
    let pos: std::collections::HashMap<&str, usize> = sb
        .ids()
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for (i, id) in sa.ids().iter().enumerate() {
        let j = pos[id.as_str()];
        assert_eq!(sa.frequency()[i], sb.frequency()[j], "{id}");
        assert_eq!(sa.recency()[i], sb.recency()[j], "{id}");
        assert_eq!(sa.age()[i], sb.age()[j], "{id}");
        let (ma, mb) = (
            sa.monetary_value().unwrap()[i],
            sb.monetary_value().unwrap()[j],
        );
        assert!((ma - mb).abs() <= 1e-9 * ma.abs().max(1.0), "{id}");
        let (ha, hb) = (sa.holdout().unwrap(), sb.holdout().unwrap());
        assert_eq!(ha.frequency[i], hb.frequency[j], "{id}");
        let (ca, cb) = (
            a.history.calibration_spend[i],
            b.history.calibration_spend[j],
        );
        assert!((ca - cb).abs() <= 1e-9 * ca.max(1.0), "{id}");
    }
}

#[test]
fn out_of_order_logs_give_the_same_summary() {
    let tx = simulated();
    let reference = summarize(&tx, &options()).unwrap();
    assert!(reference.summary.len() > 2500);
    let mixed = shuffled(&tx);

    // a slice out of order: summarize replays it
    assert_same(&reference, &summarize(&mixed, &options()).unwrap());

    // a file out of order: read twice
    let path = std::env::temp_dir().join(format!("clv_streaming_{}.csv", std::process::id()));
    std::fs::write(&path, csv(&mixed)).unwrap();
    let format = TransactionFormat::csv("customer", "date", Some("amount"));
    let mut b = SummaryBuilder::new(options());
    assert_eq!(
        read_transactions_into(&path, &format, &mut b).unwrap(),
        tx.len()
    );
    let from_file = b.finish().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_same(&reference, &from_file);

    // a reader out of order: one pass needs keep_all; without it, finish says what to do
    let text = csv(&mixed);
    let mut b = SummaryBuilder::keep_all(options());
    read_transactions_from(text.as_bytes(), &format, &mut b).unwrap();
    assert_same(&reference, &b.finish().unwrap());
    let mut b = SummaryBuilder::new(options());
    read_transactions_from(text.as_bytes(), &format, &mut b).unwrap();
    assert!(b.needs_replay());
    let err = b.finish().unwrap_err().to_string();
    assert!(err.contains("out of time order"), "{err}");
}

#[test]
fn simulated_log_follows_the_model() {
    // fitting BG/NBD to the summarised simulated log recovers the parameters it was drawn
    // from, within about 3 standard errors
    let out = summarize(&simulated(), &options()).unwrap();
    let f = BgNbdParams::fit(&out.summary, &clv::FitOptions::default()).unwrap();
    let truth = [0.243, 4.414, 0.793, 2.426];
    let est = [
        f.params().r(),
        f.params().alpha(),
        f.params().a(),
        f.params().b(),
    ];
    for ((e, t), se) in est.iter().zip(truth).zip(f.standard_errors().unwrap()) {
        assert!((e - t).abs() < 3.5 * se, "{est:?} vs {truth:?}");
    }
}
