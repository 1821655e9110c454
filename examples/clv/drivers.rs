//! `clv drivers`: CLV now and under a change of each lever (order value, purchase rate,
//! dropout, margin), for the whole base and by segment, with the CLV-to-acquisition-cost ratio.

use crate::commands::{ModelArgs, Res, ValueArgs, fmt_num, load_models, read_scored_summary, s};
use crate::output::write_atomic;
use clap::ValueEnum;
use clv::drivers::{DriverRow, LeverSizes, driver_table, lever_values};
use clv::segments::{StageRules, clv_tiers};
use clv::{RfmSummary, TimeUnit};
use std::path::PathBuf;

/// `--segment-by`.
#[derive(Clone, Copy, ValueEnum)]
pub enum SegmentBy {
    /// Lifecycle stage (as `clv segment` with its default rules).
    Stage,
    /// Value tier: top 1%, next 9%, next 40%, rest (by CLV now).
    Tier,
    /// Acquisition cohort by age T: quarters of a year before the calibration end.
    Cohort,
}

#[derive(clap::Args)]
pub struct DriversArgs {
    #[command(flatten)]
    inputs: ModelArgs,
    #[command(flatten)]
    value: ValueArgs,
    /// Break the table down by segment.
    #[arg(long, value_enum)]
    segment_by: Option<SegmentBy>,
    /// Cost of acquiring one customer: adds the CLV-to-acquisition-cost ratio.
    #[arg(long)]
    acquisition_cost: Option<f64>,
    /// Relative change of order value, purchase rate (up) and dropout (down).
    #[arg(long, default_value_t = 0.1)]
    change: f64,
    /// Margin points added (0.01: one point).
    #[arg(long, default_value_t = 0.01)]
    margin_points: f64,
    /// Output CSV (one row per segment, the whole base first).
    #[arg(short, long)]
    output: PathBuf,
}

/// Segment index and labels per customer.
pub fn segments(
    by: Option<SegmentBy>,
    sm: &RfmSummary,
    p_alive: &[f64],
    now: &[f64],
    unit: TimeUnit,
) -> Result<(Vec<usize>, Vec<String>), String> {
    Ok(match by {
        None => (vec![0; sm.len()], vec!["all".into()]),
        Some(SegmentBy::Stage) => {
            let rules = StageRules::new(4.0, 0.7, 0.3).map_err(s)?;
            let stages = rules.stages(sm, p_alive).map_err(s)?;
            let mut kinds: Vec<_> = stages.clone();
            kinds.sort();
            kinds.dedup();
            let idx = stages
                .iter()
                .map(|st| kinds.iter().position(|k| k == st).expect("listed"))
                .collect();
            (idx, kinds.iter().map(|k| k.label().to_string()).collect())
        }
        Some(SegmentBy::Tier) => clv_tiers(now, &[0.01, 0.1, 0.5]).map_err(s)?,
        Some(SegmentBy::Cohort) => {
            let quarter = 365.25 / 4.0 / unit.days();
            let bins: Vec<usize> = sm
                .age()
                .iter()
                .map(|t| (t / quarter).floor() as usize)
                .collect();
            let top = bins.iter().copied().max().unwrap_or(0);
            let name = match unit {
                TimeUnit::Days => "days",
                TimeUnit::Weeks => "weeks",
                _ => "periods",
            };
            let labels = (0..=top)
                .map(|b| {
                    format!(
                        "T {}-{} {name}",
                        fmt_num((b as f64 * quarter).round()),
                        fmt_num(((b + 1) as f64 * quarter).round())
                    )
                })
                .collect();
            (bins, labels)
        }
    })
}

fn pct(row: &DriverRow, v: f64) -> String {
    format!("{:+.2}%", 100.0 * row.change(v))
}

/// The driver table as text rows (for the terminal and the report): segment, customers,
/// CLV now, per customer, the change under each lever, CLV/CAC.
pub fn table_rows(
    rows: &[DriverRow],
    sizes: &LeverSizes,
    cac: Option<f64>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let pc = |x: f64| fmt_num((x * 100.0 * 1e6).round() / 1e6);
    let mut header = vec![
        "segment".to_string(),
        "customers".into(),
        "CLV now".into(),
        "per customer".into(),
        format!("+{}% order value", pc(sizes.order_value)),
        format!("+{}% purchase rate", pc(sizes.purchase_rate)),
        format!("-{}% dropout", pc(sizes.dropout)),
        format!("+{} pt margin", pc(sizes.margin)),
    ];
    if cac.is_some() {
        header.push("CLV/CAC".into());
    }
    let body = rows
        .iter()
        .map(|r| {
            let mut v = vec![
                r.segment.clone(),
                r.customers.to_string(),
                format!("{:.2}", r.clv),
                format!("{:.2}", r.mean()),
                pct(r, r.order_value),
                pct(r, r.purchase_rate),
                r.dropout.map_or("n/a".into(), |d| pct(r, d)),
                pct(r, r.margin),
            ];
            if let Some(c) = cac {
                v.push(format!("{:.2}", r.clv_to_cac(c)));
            }
            v
        })
        .collect();
    (header, body)
}

pub fn drivers(a: DriversArgs) -> Res {
    let (tm, gg) = load_models(&a.inputs.model, a.inputs.spend_model.as_ref())?;
    let gg = gg.ok_or("drivers needs --spend-model: the levers move CLV, which needs spend")?;
    if let Some(c) = a.acquisition_cost
        && !(c.is_finite() && c > 0.0)
    {
        return Err(format!(
            "--acquisition-cost must be finite and > 0, got {c}"
        ));
    }
    let unit = tm.time_unit();
    let (sm, unit_note) = read_scored_summary(&a.inputs.summary, &tm)?;
    let opts = a.value.clv_options(unit)?;
    let sizes = LeverSizes::new(a.change, a.margin_points).map_err(s)?;
    let values = lever_values(&tm.params(), gg.params(), &sm, &opts, &sizes).map_err(s)?;
    let scores = tm.score(
        &sm,
        opts.schedule().horizons().last().copied().unwrap_or(1.0),
    );
    let pa: Vec<f64> = scores.map_err(s)?.iter().map(|sc| sc.p_alive).collect();
    let (seg, labels) = segments(a.segment_by, &sm, &pa, &values.now, unit)?;
    let mut rows = driver_table(&values, &seg, &labels).map_err(s)?;
    if a.segment_by.is_none() {
        rows.truncate(1);
    }
    let (header, body) = table_rows(&rows, &sizes, a.acquisition_cost);
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            body.iter()
                .map(|r| r[j].len())
                .chain([header[j].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(j, (c, w))| {
                if j == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&header));
    for r in &body {
        println!("{}", line(r));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec![
        "segment",
        "customers",
        "clv",
        "clv_per_customer",
        "order_value_clv",
        "order_value_change",
        "purchase_rate_clv",
        "purchase_rate_change",
        "dropout_clv",
        "dropout_change",
        "margin_clv",
        "margin_change",
    ];
    if a.acquisition_cost.is_some() {
        head.push("clv_to_cac");
    }
    w.write_record(&head).map_err(s)?;
    for r in &rows {
        let mut rec = vec![
            r.segment.clone(),
            r.customers.to_string(),
            fmt_num(r.clv),
            fmt_num(r.mean()),
            fmt_num(r.order_value),
            fmt_num(r.change(r.order_value)),
            fmt_num(r.purchase_rate),
            fmt_num(r.change(r.purchase_rate)),
            r.dropout.map_or(String::new(), fmt_num),
            r.dropout.map_or(String::new(), |d| fmt_num(r.change(d))),
            fmt_num(r.margin),
            fmt_num(r.change(r.margin)),
        ];
        if let Some(c) = a.acquisition_cost {
            rec.push(fmt_num(r.clv_to_cac(c)));
        }
        w.write_record(&rec).map_err(s)?;
    }
    write_atomic(&a.output, &w.into_inner().map_err(s)?)?;
    if let Some(n) = unit_note {
        eprintln!("{n}");
    }
    eprintln!(
        "{} customers, {} segments -> {}",
        sm.len(),
        rows.len() - 1,
        a.output.display()
    );
    Ok(())
}
