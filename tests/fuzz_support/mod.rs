//! The bodies of the fuzz targets in `fuzz/` (shared with `tests/fuzz_regressions.rs`, which
//! replays every input the fuzzers ever crashed on). Each takes arbitrary bytes and must
//! neither panic nor return a non-finite or out-of-range number: invalid input is a typed
//! error, valid input a valid answer.

#![allow(dead_code)] // each fuzz target uses one body

use chrono::NaiveDate;
use clv::fit::{MaximumLikelihood, ModelFile};
use clv::io::{Delimiter, TransactionFormat, read_summary, read_transactions_from};
use clv::{
    AnyFitted, AnyParams, BgNbdParams, Fitted, GammaGammaParams, GgomNbdParams, MbgNbdParams,
    NbdParams, ParetoNbdParams, RfmSummary, SpendModel, SummaryBuilder, SummaryOptions, TimeUnit,
    TransactionModel,
};

/// Checks a summary's invariants and that every transaction model's predictions on it are
/// finite and in range (or a typed error).
fn check_summary(s: &RfmSummary) {
    for i in 0..s.len() {
        let c = s.customer(i);
        assert!(c.frequency() >= 0.0 && c.frequency().fract() == 0.0);
        assert!(c.recency() >= 0.0 && c.recency() <= c.age());
        assert!(c.frequency() > 0.0 || c.recency() == 0.0);
    }
    if s.len() > 200 {
        return;
    }
    let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let pn = ParetoNbdParams::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let mbg = MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap();
    let nbd = NbdParams::new(0.385, 12.07).unwrap();
    let gg = GgomNbdParams::new(0.6, 8.0, 0.05, 1.2, 3.0).unwrap();
    for ll in [
        bg.log_likelihood(s),
        pn.log_likelihood(s),
        mbg.log_likelihood(s),
        nbd.log_likelihood(s),
        gg.log_likelihood(s),
    ] {
        assert!(!ll.is_nan() && ll < f64::INFINITY, "log-likelihood {ll}");
    }
    for m in [
        AnyParams::BgNbd(bg),
        AnyParams::ParetoNbd(pn),
        AnyParams::MbgNbd(mbg),
        AnyParams::Nbd(nbd),
        AnyParams::GgomNbd(gg),
    ] {
        check_scores(&m, s);
    }
}

fn check_scores(m: &AnyParams, s: &RfmSummary) {
    if let Ok(scores) = clv::predict::score(m, s, 10.0) {
        for sc in scores {
            assert!((0.0..=1.0).contains(&sc.p_alive), "{sc:?}");
            assert!((0.0..=1.0).contains(&sc.prob_no_purchase), "{sc:?}");
            assert!(
                sc.expected_purchases >= 0.0 && sc.expected_purchases.is_finite(),
                "{sc:?}"
            );
        }
    }
}

/// Transaction log reader and summariser. The first byte picks the layout; the rest is the
/// file. The one-pass (keep everything) and the streaming builder must agree when both succeed.
pub fn transactions(data: &[u8]) {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let mut format = TransactionFormat::csv("id", "date", Some("amount"));
    match pick % 4 {
        1 => format = TransactionFormat::cdnow_master(),
        2 => format.delimiter = Delimiter::Byte(b';'),
        3 => format.date_format = Some("%d/%m/%Y %H:%M".into()),
        _ => {}
    }
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks);
    if pick & 4 == 0 {
        opts = opts.with_observation_end(d(1998, 6, 30)).unwrap();
    }
    let mut all = SummaryBuilder::keep_all(opts);
    let one_pass = read_transactions_from(text, &format, &mut all).and_then(|_| all.finish());
    let mut streaming = SummaryBuilder::new(opts);
    let streamed = read_transactions_from(text, &format, &mut streaming);
    if let Ok(a) = &one_pass {
        check_summary(&a.summary);
        if streamed.is_ok() && !streaming.needs_replay() {
            let b = streaming.finish().expect("the one-pass builder succeeded");
            assert_eq!(a, &b);
        }
    }
}

/// RFM summary CSV reader.
pub fn summary(data: &[u8]) {
    if let Ok(s) = read_summary(data, TimeUnit::Weeks) {
        check_summary(&s);
    }
}

fn loaded<M: MaximumLikelihood + PartialEq + std::fmt::Debug>(
    file: &ModelFile,
) -> Option<Fitted<M>> {
    let f = file.to_fitted::<M>().ok()?;
    // what loads, saves and loads again to the same value
    let again = ModelFile::from_json(&ModelFile::from_fitted(&f).to_json().unwrap()).unwrap();
    assert_eq!(again.to_fitted::<M>().unwrap(), f);
    Some(f)
}

/// Model-file loading: JSON parsing, validation, and predictions from what loads.
pub fn model_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ModelFile::from_json(text) else {
        return;
    };
    // every registered transaction model, by the file's `model` field
    if let Ok(f) = AnyFitted::from_model_file(&file) {
        let again = ModelFile::from_json(&f.to_model_file().to_json().unwrap()).unwrap();
        assert_eq!(AnyFitted::from_model_file(&again).unwrap(), f);
        let m = f.params();
        for t in [0.5, 52.0] {
            let e = m.expected_purchases(t);
            assert!(e.is_finite() && e >= 0.0, "E[X({t})] = {e} for {m:?}");
        }
        let c = clv::Customer::new(2.0, 30.0, 38.0).unwrap();
        let p = m.p_alive(&c);
        assert!((0.0..=1.0).contains(&p), "P(alive) = {p} for {m:?}");
    }
    if let Some(f) = loaded::<GammaGammaParams>(&file)
        && let Ok(v) = f.params().conditional_expected_spend(3.0, 25.0)
    {
        assert!(v.is_finite() && v > 0.0, "{v}");
    }
}
