//! `clv segment` and `clv cohorts`: what the predictions are used for.

use crate::commands::{
    LogArgs, ModelArgs, Res, ValueArgs, fmt_num, load_models, read_log, read_scored_summary, s,
};
use crate::output::write_atomic;
use clap::ValueEnum;
use clv::history::{CohortPeriod, cohorts};
use clv::segments::{StageRules, clv_tiers, rfm_scores, segment_summary};
use clv::{AnyFitted, Fitted, GammaGammaParams, RfmSummary, TimeUnit};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    inputs: ModelArgs,
    #[command(flatten)]
    value: ValueArgs,
    /// "new": first purchase at most this long ago (model's time unit).
    #[arg(long, default_value_t = 4.0)]
    new_within: f64,
    /// "active": P(alive) at least this (and not new).
    #[arg(long, default_value_t = 0.7)]
    active_from: f64,
    /// "likely churned": P(alive) below this.
    #[arg(long, default_value_t = 0.3)]
    churned_below: f64,
    /// Also "at risk": more than this long since the last purchase.
    #[arg(long)]
    at_risk_after: Option<f64>,
    /// CLV tiers as top fractions, best first.
    #[arg(long, value_delimiter = ',', default_values_t = [0.01, 0.1, 0.5])]
    tiers: Vec<f64>,
    /// Output CSV (one row per customer).
    #[arg(short, long)]
    output: PathBuf,
}

/// Per-customer value: CLV with a spend model, otherwise expected purchases.
fn values(
    tm: &AnyFitted,
    gg: Option<&Fitted<GammaGammaParams>>,
    sm: &RfmSummary,
    value: &ValueArgs,
    unit: TimeUnit,
) -> Result<(&'static str, Vec<f64>, Vec<clv::models::Score>), String> {
    let scores = tm.score(sm, value.horizon_in(unit)?).map_err(s)?;
    Ok(match gg {
        Some(gg) => {
            let opts = value.clv_options(unit)?;
            let v = tm.values(gg.params(), sm, &opts).map_err(s)?;
            ("clv", v, scores)
        }
        None => (
            "expected_purchases",
            scores.iter().map(|sc| sc.expected_purchases).collect(),
            scores,
        ),
    })
}

fn print_table(title: &str, what: &str, rows: &[clv::segments::SegmentRow]) {
    println!("{title}");
    println!(
        "{:<16} {:>10} {:>16} {:>12} {:>8}",
        "segment",
        "customers",
        format!("total {what}"),
        "mean",
        "share"
    );
    for r in rows {
        println!(
            "{:<16} {:>10} {:>16.2} {:>12.4} {:>7.1}%",
            r.segment,
            r.customers,
            r.total_value,
            r.mean_value,
            100.0 * r.value_share
        );
    }
    println!();
}

pub fn segment(a: SegmentArgs) -> Res {
    let (tm, gg) = load_models(&a.inputs.model, a.inputs.spend_model.as_ref())?;
    let unit = tm.time_unit();
    let (sm, unit_note) = read_scored_summary(&a.inputs.summary, &tm)?;
    let (what, v, scores) = values(&tm, gg.as_ref(), &sm, &a.value, unit)?;
    let mut rules = StageRules::new(a.new_within, a.active_from, a.churned_below).map_err(s)?;
    if let Some(d) = a.at_risk_after {
        rules = rules.with_at_risk_after(d).map_err(s)?;
    }
    let pa: Vec<f64> = scores.iter().map(|sc| sc.p_alive).collect();
    let stages = rules.stages(&sm, &pa).map_err(s)?;
    let (tier, labels) = clv_tiers(&v, &a.tiers).map_err(s)?;
    let rfm = rfm_scores(&sm);

    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "customer_id",
        "stage",
        "p_alive",
        "expected_purchases",
        what,
        "tier",
        "r",
        "f",
        "m",
        "rfm",
    ])
    .map_err(s)?;
    let expected_col = what == "clv";
    for i in 0..sm.len() {
        let m = rfm[i].m.map_or(String::new(), |m| m.to_string());
        w.write_record([
            sm.ids()[i].clone(),
            stages[i].label().to_string(),
            fmt_num(pa[i]),
            fmt_num(scores[i].expected_purchases),
            if expected_col {
                fmt_num(v[i])
            } else {
                fmt_num(scores[i].expected_purchases)
            },
            labels[tier[i]].clone(),
            rfm[i].r.to_string(),
            rfm[i].f.to_string(),
            m.clone(),
            format!("{}{}{}", rfm[i].r, rfm[i].f, m),
        ])
        .map_err(s)?;
    }
    write_atomic(&a.output, &w.into_inner().map_err(s)?)?;
    let by_stage = segment_summary(&stages, &v, |st| st.label().to_string()).map_err(s)?;
    print_table("Lifecycle stages", what, &by_stage);
    let by_tier = segment_summary(&tier, &v, |t| labels[t].clone()).map_err(s)?;
    print_table(&format!("Tiers by {what}"), what, &by_tier);
    if let Some(n) = unit_note {
        eprintln!("{n}");
    }
    eprintln!("{} customers segmented -> {}", sm.len(), a.output.display());
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
pub enum By {
    /// Calendar month of the first purchase.
    Month,
    /// ISO week of the first purchase.
    Week,
}

#[derive(clap::Args)]
pub struct CohortArgs {
    #[command(flatten)]
    log: LogArgs,
    /// Transaction model file written by `clv fit` (any transaction model, fitted on this log's
    /// summary).
    #[arg(long)]
    model: PathBuf,
    /// Spend model file: adds predicted CLV per cohort.
    #[arg(long)]
    spend_model: Option<PathBuf>,
    /// Horizon of the predicted CLV, in the model's time unit.
    #[command(flatten)]
    value: ValueArgs,
    /// Cohorts by first-purchase month or ISO week.
    #[arg(long, value_enum, default_value = "month")]
    by: By,
    /// Output CSV (one row per cohort).
    #[arg(short, long)]
    output: PathBuf,
}

pub fn cohort_report(a: CohortArgs) -> Res {
    let (tm, gg) = load_models(&a.model, a.spend_model.as_ref())?;
    let unit = tm.time_unit();
    let out = read_log(&a.log)?.out;
    let sm = &out.summary;
    tm.check_unit(sm)
        .map_err(|e| format!("{e} (the log is summarised in --unit)"))?;
    let (what, v, scores) = values(&tm, gg.as_ref(), sm, &a.value, unit)?;
    let pa: Vec<f64> = scores.iter().map(|sc| sc.p_alive).collect();
    let period = match a.by {
        By::Month => CohortPeriod::Month,
        By::Week => CohortPeriod::Week,
    };
    let rows = cohorts(&out.history, sm, period, &pa, Some(&v)).map_err(s)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let total = format!("predicted_{what}_total");
    let mean = format!("predicted_{what}_mean");
    let with_holdout = sm.holdout().is_some();
    let mut header = vec![
        "cohort",
        "customers",
        "repeat_rate",
        "churn_rate",
        "likely_churned_rate",
        "historical_total",
        "historical_mean",
        &total,
        &mean,
    ];
    if with_holdout {
        header.push("holdout_active_rate");
    }
    w.write_record(&header).map_err(s)?;
    println!(
        "{:<10} {:>9} {:>8} {:>9} {:>12} {:>10} {:>14}{}",
        "cohort",
        "customers",
        "repeat",
        "churned",
        "historical",
        "per cust",
        &mean,
        if with_holdout { "  holdout active" } else { "" }
    );
    for r in &rows {
        let f = |v: Option<f64>| v.map_or(String::new(), fmt_num);
        let mut rec = vec![
            r.cohort.clone(),
            r.customers.to_string(),
            f(r.repeat_rate),
            f(r.churn_rate),
            f(r.likely_churned_rate),
            fmt_num(r.historical_total),
            fmt_num(r.historical_mean),
            f(r.predicted_total),
            f(r.predicted_mean),
        ];
        if with_holdout {
            rec.push(f(r.holdout_active_rate));
        }
        w.write_record(&rec).map_err(s)?;
        println!(
            "{:<10} {:>9} {:>7.1}% {:>8.1}% {:>12.2} {:>10.2} {:>14.4}{}",
            r.cohort,
            r.customers,
            100.0 * r.repeat_rate.unwrap_or(f64::NAN),
            100.0 * r.likely_churned_rate.unwrap_or(f64::NAN),
            r.historical_total,
            r.historical_mean,
            r.predicted_mean.unwrap_or(f64::NAN),
            r.holdout_active_rate
                .map_or(String::new(), |v| format!("  {:>13.1}%", 100.0 * v))
        );
    }
    write_atomic(&a.output, &w.into_inner().map_err(s)?)?;
    eprintln!("{} cohorts -> {}", rows.len(), a.output.display());
    Ok(())
}
