//! The validation tables on CDNOW (calibration to 1997-09-30, holdout to 1998-06-30, weeks):
//! counts add up to the data, the model-side columns agree with independent formulas.

use chrono::NaiveDate;
use clv::diagnostics::{
    PropertyMatrix, holdout_by_frequency, holdout_by_recency, holdout_fit, period_transactions,
};
use clv::io::TransactionFormat;
use clv::{BgNbdParams, FitOptions, RfmSummary, SummaryOptions, TimeUnit};
use clv::{TransactionModel, sim::simulate_bgnbd};

#[path = "support/cdnow_log.rs"]
mod cdnow_log;

fn cdnow() -> RfmSummary {
    cdnow_log::cdnow_from_log()
}

#[test]
fn holdout_tables_add_up_to_the_data() {
    let s = cdnow();
    let m = *BgNbdParams::fit(&s, &FitOptions::default())
        .unwrap()
        .params();
    let fit = holdout_fit(&m, &s).unwrap();
    // 2357 customers, 1882 holdout repeat purchases (the published CDNOW sample)
    assert_eq!((fit.customers, fit.total_actual), (2357, 1882.0));
    assert!((fit.total_predicted - 1653.4).abs() < 0.05, "{fit:?}");
    assert!((fit.aggregate_error + 0.1215).abs() < 1e-3, "{fit:?}");
    assert!(fit.rmse >= fit.mae && fit.mae > 0.0);
    assert!(fit.correlation > 0.5 && fit.correlation < 1.0, "{fit:?}");

    for groups in [
        holdout_by_frequency(&m, &s, 7).unwrap(),
        holdout_by_recency(&m, &s, 10).unwrap(),
    ] {
        let n: usize = groups.iter().map(|g| g.customers).sum();
        let actual: f64 = groups.iter().map(|g| g.actual * g.customers as f64).sum();
        let predicted: f64 = groups
            .iter()
            .map(|g| g.predicted * g.customers as f64)
            .sum();
        assert_eq!(n, 2357);
        assert!((actual - 1882.0).abs() < 1e-9);
        assert!((predicted / fit.total_predicted - 1.0).abs() < 1e-12);
        // 1411 of the 2357 made no repeat purchase in calibration (Fader, Hardie & Lee 2005)
        assert_eq!(groups[0].customers, 1411);
    }
    let by_f = holdout_by_frequency(&m, &s, 7).unwrap();
    assert_eq!(by_f.last().unwrap().label, "7+");
    // more calibration purchases, more holdout purchases, in the data and in the model
    assert!(by_f.windows(2).all(|w| w[1].predicted > w[0].predicted));
    assert!(by_f[6].actual > by_f[0].actual);
}

#[test]
fn period_transactions_agree_with_the_mean_formula() {
    let s = cdnow();
    let m = *BgNbdParams::fit(&s, &FitOptions::default())
        .unwrap()
        .params();
    let sim = simulate_bgnbd(&m, s.age(), TimeUnit::Weeks, 3).unwrap();
    let p = period_transactions(&m, &s, 7, Some(&sim)).unwrap();
    assert_eq!(p.labels.len(), 8);
    assert_eq!(p.observed.iter().sum::<f64>(), 2357.0);
    assert_eq!(p.observed[0], 1411.0);
    assert!((p.expected.iter().sum::<f64>() - 2357.0).abs() < 1e-6);
    assert_eq!(p.simulated.as_ref().unwrap().iter().sum::<f64>(), 2357.0);
    // the model fits CDNOW's frequency distribution closely (paper, figure 2)
    assert!(
        (p.expected[0] / 1411.0 - 1.0).abs() < 0.02,
        "{:?}",
        p.expected
    );
    // the pmf (eq. 8) and the mean (eq. 9) are separate code: Σ n·P(X(T_i) = n) over a wide
    // range of n must equal Σ E[X(T_i)]
    let wide = period_transactions(&m, &s, 400, None).unwrap();
    let mean_from_pmf: f64 = wide.expected[..400]
        .iter()
        .enumerate()
        .map(|(n, e)| n as f64 * e)
        .sum();
    let mean: f64 = s.age().iter().map(|&t| m.expected_purchases(t)).sum();
    assert!(wide.expected[400] < 1e-6, "tail {}", wide.expected[400]);
    assert!(
        (mean_from_pmf / mean - 1.0).abs() < 1e-6,
        "{mean_from_pmf} vs {mean}"
    );
}

#[test]
fn property_matrices_match_the_model_pointwise() {
    let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let pa = PropertyMatrix::p_alive(&m, 39.0, 20, 39).unwrap();
    let e = PropertyMatrix::expected_purchases(&m, 39.0, 52.0, 20, 39).unwrap();
    assert_eq!((pa.frequencies.len(), pa.recencies.len()), (21, 40));
    assert_eq!(e.quantity, "E[Y(52)]");
    for (i, &x) in pa.frequencies.iter().enumerate() {
        for (j, &tx) in pa.recencies.iter().enumerate() {
            if x == 0.0 && tx > 0.0 {
                assert_eq!((pa.values[i][j], e.values[i][j]), (None, None));
                continue;
            }
            let c = clv::Customer::new(x, tx, 39.0).unwrap();
            assert_eq!(pa.values[i][j], Some(m.p_alive(&c)));
            assert_eq!(
                e.values[i][j],
                Some(m.conditional_expected_purchases(&c, 52.0))
            );
        }
        // for repeat buyers, P(alive) rises with recency
        if x > 0.0 {
            let row: Vec<f64> = pa.values[i].iter().map(|v| v.unwrap()).collect();
            assert!(row.windows(2).all(|w| w[1] >= w[0]), "x = {x}: {row:?}");
        }
    }
    assert!(PropertyMatrix::p_alive(&m, 0.0, 5, 5).is_err());
    assert!(PropertyMatrix::p_alive(&m, 39.0, 5, 0).is_err());
}

#[test]
fn tracking_counts_every_repeat_purchase_and_matches_the_summary() {
    use clv::diagnostics::TrackingBuilder;
    use clv::io::for_each_transaction;
    let s = cdnow();
    let m = *BgNbdParams::fit(&s, &FitOptions::default())
        .unwrap()
        .params();
    let d = |y, mo, day| NaiveDate::from_ymd_opt(y, mo, day).unwrap();
    let opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
        .with_observation_end(d(1998, 6, 30))
        .unwrap();
    let mut b = TrackingBuilder::new(opts);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    for_each_transaction(path, &TransactionFormat::cdnow_sample(), |_, c, t, _| {
        b.push(c, t)
    })
    .unwrap();
    let tr = b.finish(&m, 7.0).unwrap();
    assert_eq!(tr.customers, 2357);
    // 78 weeks from 1997-01-01 to 1998-06-30 (the paper's tracking plot)
    assert_eq!(tr.actual.len(), 78);
    assert!((tr.calibration_end - 272.0 / 7.0).abs() < 1e-12);
    // observed: the calibration weeks hold Σx, the holdout weeks the holdout purchases
    let x: f64 = s.frequency().iter().sum();
    let holdout: f64 = s.holdout().unwrap().frequency.iter().sum();
    let cal_weeks = tr.ends.iter().filter(|&&e| e <= tr.calibration_end).count();
    assert_eq!(cal_weeks, 38); // week 39 straddles the calibration end (day 272 of 273)
    let total: f64 = tr.actual.iter().sum();
    assert_eq!(total, x + holdout);
    assert_eq!(*tr.cumulative_actual.last().unwrap(), total);
    // expected: at the end of observation, Σ_i E[X(T_i + holdout)], by eq. (9) directly
    let dur = s.holdout().unwrap().duration;
    let want: f64 = s.age().iter().map(|&t| m.expected_purchases(t + dur)).sum();
    let got = *tr.cumulative_expected.last().unwrap();
    assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
    let inc: f64 = tr.expected.iter().sum();
    assert!((inc / got - 1.0).abs() < 1e-12);
    // the model tracks the data: total within 5% over the 78 weeks
    assert!((got / total - 1.0).abs() < 0.05, "{got} vs {total}");
    assert!(tr.expected.iter().all(|e| *e >= 0.0));
}
