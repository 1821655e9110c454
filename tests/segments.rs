//! Segments on CDNOW: every customer in exactly one stage and tier, tiers and quintiles of the
//! sizes they promise, and the per-segment totals adding up.

use clv::segments::{Stage, StageRules, clv_tiers, rfm_scores, segment_summary};
use clv::value::{ClvOptions, summary_values};
use clv::{BgNbdParams, FitOptions, GammaGammaParams, SummaryBuilder, SummaryOptions, TimeUnit};

#[test]
fn cdnow_segments_partition_the_customers() {
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut b = SummaryBuilder::new(SummaryOptions::new(d(1998, 6, 30), TimeUnit::Weeks));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    clv::io::read_transactions_into(path, &clv::io::TransactionFormat::cdnow_sample(), &mut b)
        .unwrap();
    let s = b.finish().unwrap().summary;
    let bg = *BgNbdParams::fit(&s, &FitOptions::default())
        .unwrap()
        .params();
    let gg = *GammaGammaParams::fit(&s, &FitOptions::default())
        .unwrap()
        .params();
    let values = summary_values(
        &bg,
        &gg,
        &s,
        &ClvOptions::new(52.0, TimeUnit::Weeks).unwrap(),
    )
    .unwrap();
    let scores = clv::predict::score(&bg, &s, 52.0).unwrap();
    let pa: Vec<f64> = scores.iter().map(|s| s.p_alive).collect();
    let n = s.len();

    // stages: all customers of CDNOW joined in Q1 1997, so none is new at mid-1998
    let stages = StageRules::default().stages(&s, &pa).unwrap();
    assert!(!stages.contains(&Stage::New));
    // the documented rule, recomputed: expected gap (t_x + g̃)/(x + 1), g̃ the median own gap
    // of the repeat buyers; likely churned below P(alive) 0.3 or silent beyond 4 gaps, at risk
    // below 0.7 or beyond 2 gaps
    let mut own: Vec<f64> = (0..n)
        .filter(|&i| s.frequency()[i] > 0.0)
        .map(|i| s.recency()[i] / s.frequency()[i])
        .collect();
    own.sort_by(f64::total_cmp);
    let m = own.len();
    let typical = if m % 2 == 1 {
        own[m / 2]
    } else {
        0.5 * (own[m / 2 - 1] + own[m / 2])
    };
    let mut one_time_active = 0;
    for (i, st) in stages.iter().enumerate() {
        let (x, tx, t) = (s.frequency()[i], s.recency()[i], s.age()[i]);
        let gap = (tx + typical) / (x + 1.0);
        let silence = t - tx;
        let want = if pa[i] < 0.3 || silence > 4.0 * gap {
            Stage::LikelyChurned
        } else if pa[i] < 0.7 || silence > 2.0 * gap {
            Stage::AtRisk
        } else {
            Stage::Active
        };
        assert_eq!(*st, want, "customer {i}");
        if x == 0.0 && *st == Stage::Active {
            one_time_active += 1;
        }
    }
    // BG/NBD's P(alive) is 1 for every one-time buyer: the silence rule keeps them from being
    // called active (all CDNOW customers are at least 27 weeks old)
    assert_eq!(one_time_active, 0);
    let rows = segment_summary(&stages, &values, |s| s.label().into()).unwrap();
    assert_eq!(rows.iter().map(|r| r.customers).sum::<usize>(), n);
    let total: f64 = values.iter().sum();
    assert!((rows.iter().map(|r| r.total_value).sum::<f64>() / total - 1.0).abs() < 1e-12);
    assert!((rows.iter().map(|r| r.value_share).sum::<f64>() - 1.0).abs() < 1e-12);

    // tiers: sizes as promised (CLV values are distinct here, no ties)
    let (tier, labels) = clv_tiers(&values, &[0.01, 0.1, 0.5]).unwrap();
    let count = |t| tier.iter().filter(|&&x| x == t).count();
    assert_eq!(labels.len(), 4);
    assert_eq!(count(0), (0.01 * n as f64).ceil() as usize);
    assert_eq!(count(0) + count(1), (0.1 * n as f64).ceil() as usize);
    // the top tier holds the largest values
    let min_top = (0..n)
        .filter(|&i| tier[i] == 0)
        .map(|i| values[i])
        .fold(f64::INFINITY, f64::min);
    assert!((0..n).all(|i| tier[i] == 0 || values[i] <= min_top));

    // RFM: scores in 1..=5, higher frequency never scores lower
    let rfm = rfm_scores(&s);
    assert!(
        rfm.iter()
            .all(|r| (1..=5).contains(&r.r) && (1..=5).contains(&r.f))
    );
    assert!(
        rfm.iter()
            .all(|r| r.m.is_some_and(|m| (1..=5).contains(&m)))
    );
    let x = s.frequency();
    for i in 0..n {
        for j in 0..n.min(200) {
            if x[i] > x[j] {
                assert!(rfm[i].f >= rfm[j].f);
            }
        }
    }
    // over half of CDNOW made no repeat purchase: they all share the lowest F score
    assert!((0..n).filter(|&i| x[i] == 0.0).all(|i| rfm[i].f == 1));
    assert!(clv_tiers(&values, &[0.5, 0.1]).is_err());
    assert!(StageRules::default().stages(&s, &pa[1..]).is_err());
}

#[test]
fn cdnow_cohorts_add_up() {
    use clv::TransactionModel;
    use clv::history::{CohortPeriod, cohorts};
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut b = SummaryBuilder::new(
        SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
            .with_observation_end(d(1998, 6, 30))
            .unwrap(),
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    clv::io::read_transactions_into(path, &clv::io::TransactionFormat::cdnow_sample(), &mut b)
        .unwrap();
    let out = b.finish().unwrap();
    let s = &out.summary;
    let bg = *BgNbdParams::fit(s, &FitOptions::default())
        .unwrap()
        .params();
    let pa: Vec<f64> = s.customers().map(|c| bg.p_alive(&c)).collect();
    let rows = cohorts(&out.history, s, CohortPeriod::Month, &pa, None).unwrap();
    // CDNOW's customers were acquired in the first quarter of 1997
    let labels: Vec<&str> = rows.iter().map(|r| r.cohort.as_str()).collect();
    assert_eq!(labels, ["1997-01", "1997-02", "1997-03"]);
    assert_eq!(rows.iter().map(|r| r.customers).sum::<usize>(), 2357);
    let repeaters: f64 = rows
        .iter()
        .map(|r| r.repeat_rate.unwrap() * r.customers as f64)
        .sum();
    assert!((repeaters - (2357.0 - 1411.0)).abs() < 1e-9);
    let alive: f64 = rows
        .iter()
        .map(|r| (1.0 - r.churn_rate.unwrap()) * r.customers as f64)
        .sum();
    assert!((alive - pa.iter().sum::<f64>()).abs() < 1e-9);
    assert!(rows.iter().all(|r| r.predicted_total.is_none()));
}
