//! `clv report`: from a transaction log to a folder a data team can send: SVG plots of every
//! validation diagnostic and an `index.html` (self-contained: the plots are inline, no
//! network) with the parameters, fit statistics, goodness of fit and the top customers.

use crate::commands::{Log, LogArgs, fmt_num, read_log, s, spend_error};
use crate::drivers::SegmentBy;
use crate::output::{Progress, Table, write_atomic};
use crate::plots::{self, axis_number};
use clv::diagnostics::{
    GoodnessOfFit, HoldoutComparison, PropertyMatrix, TrackingBuilder, period_transactions,
};
use clv::drivers::{LeverSizes, driver_table, lever_values};
use clv::io::for_each_transaction_until;
use clv::predict::score;
use clv::sim::Simulate;
use clv::value::{ClvOptions, DiscountRate};
use clv::{AnyFitted, FitOptions, GammaGammaParams};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    log: LogArgs,
    /// The transaction model to fit; `auto` compares every model on the holdout (as `clv
    /// compare`), fits the recommended one and shows the comparison table.
    #[arg(long, default_value = "bgnbd", value_parser = clap::builder::PossibleValuesParser::new(report_models()))]
    model: String,
    /// Also fit the Gamma-Gamma spend model and report discounted CLV.
    #[arg(long)]
    spend: bool,
    /// Horizon of the predictions and CLV, in the summary's time unit.
    #[arg(long, default_value_t = 52.0)]
    horizon: f64,
    /// Annual discount rate of the CLV.
    #[arg(long, default_value_t = 0.0)]
    discount_rate: f64,
    /// Profit margin applied to spend in the CLV (1: revenue).
    #[arg(long, default_value_t = 1.0)]
    margin: f64,
    /// Cost of acquiring one customer: adds CLV/CAC to the drivers table (with --spend).
    #[arg(long)]
    acquisition_cost: Option<f64>,
    /// Currency label of the amounts (e.g. $, EUR), shown on the value axis and tables.
    #[arg(long, default_value = "")]
    currency: String,
    /// Customers in the top-customers table.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Contractual survival data (cohort counts: cohort,period|year,alive) for a retention
    /// section: an sBG fit, observed vs fitted survival and retention, the calibration end
    /// marked, and DERL.
    #[arg(long)]
    survival: Option<PathBuf>,
    /// The cohort of --survival (required when the file holds several).
    #[arg(long, requires = "survival")]
    cohort: Option<String>,
    /// Fit the retention section on periods 0..=N of --survival, holding the rest back.
    #[arg(long, requires = "survival")]
    calibration_periods: Option<u32>,
    /// Output folder (created; files in it are replaced).
    #[arg(short, long)]
    output: PathBuf,
}

/// The report's retention section: its HTML and its charts (file name, svg).
struct RetentionSection {
    html: String,
    charts: Vec<(String, String)>,
}

/// The retention section: an sBG fit on the survival file's calibration periods, its
/// parameters, two charts (survival and retention, observed vs fitted, calibration end
/// marked) and DERL per tenure.
fn retention_section(a: &ReportArgs) -> Result<Option<RetentionSection>, String> {
    use clv::models::sbg::SbgParams;
    let Some(path) = &a.survival else {
        return Ok(None);
    };
    let sf = clv::io::read_survival_csv(
        path,
        a.cohort.as_deref(),
        a.calibration_periods,
        clv::TimeUnit::Weeks,
    )
    .map_err(s)?;
    let Some(obs) = sf.observed.clone() else {
        return Err("the report's retention section needs cohort counts (period, alive)".into());
    };
    let f = SbgParams::fit(&sf.data, &FitOptions::default()).map_err(s)?;
    let m = *f.params();
    let n_cal = sf.calibration_periods.unwrap_or(0);
    let last = (obs.len() as u32).max(13) - 1;
    let observed_s: Vec<(f64, f64)> = obs
        .iter()
        .enumerate()
        .map(|(t, v)| (t as f64, v / obs[0]))
        .collect();
    let fitted_s: Vec<(f64, f64)> = (0..=last).map(|t| (f64::from(t), m.survival(t))).collect();
    let observed_r: Vec<(f64, f64)> = (1..obs.len())
        .filter(|&t| obs[t - 1] > 0.0)
        .map(|t| (t as f64, obs[t] / obs[t - 1]))
        .collect();
    let fitted_r: Vec<(f64, f64)> = (1..=last).map(|t| (f64::from(t), m.retention(t))).collect();
    let marker = Some((f64::from(n_cal), "calibration end"));
    let survival_svg = plots::lines(
        "Survival: observed vs sBG",
        "period",
        "share of the cohort still active",
        &[("observed", &observed_s), ("sBG", &fitted_s)],
        marker,
        None,
    )?;
    let retention_svg = plots::lines(
        "Retention rate: observed vs sBG",
        "period",
        "share of last period's customers renewing",
        &[("observed", &observed_r), ("sBG", &fitted_r)],
        marker,
        None,
    )?;
    let mut html = String::from("<h2>Retention (sBG)</h2>");
    let _ = write!(
        html,
        "<p>{}{}: fitted on periods 0..={n_cal} of {} customers; later periods are held back.</p>",
        esc(&path.display().to_string()),
        sf.cohort
            .as_ref()
            .map_or(String::new(), |c| format!(", cohort {}", esc(c))),
        sf.data.n_customers()
    );
    html.push_str(&params_table("sBG", &Table::of(&f)));
    html.push_str("<table><tr><th>renewals made</th><th>DERL at 10% per period</th></tr>");
    for n in 0..5u32 {
        let _ = write!(
            html,
            "<tr><td>{n}</td><td>{:.4}</td></tr>",
            m.derl(0.1, n + 1).map_err(s)?
        );
    }
    html.push_str("</table>");
    let mut charts = Vec::new();
    for (file, caption, svg) in [
        (
            "retention_survival.svg",
            "Survival, observed vs sBG",
            survival_svg,
        ),
        (
            "retention_rate.svg",
            "Retention rate, observed vs sBG",
            retention_svg,
        ),
    ] {
        let _ = write!(
            html,
            "<figure id=\"{}\">{}<figcaption>{caption} ({file})</figcaption></figure>",
            file.trim_end_matches(".svg"),
            inline(&svg)
        );
        charts.push((file.to_string(), svg));
    }
    Ok(Some(RetentionSection { html, charts }))
}

/// `--model` values: every transaction model, and `auto`.
fn report_models() -> Vec<&'static str> {
    let mut m = clv::AnyFitted::MODELS.to_vec();
    m.push("auto");
    m
}

/// The comparison as an HTML table.
fn comparison_table(t: &clv::compare::Comparison) -> String {
    let mut out = String::from(
        "<table><tr><th>model</th><th>parameters</th><th>log-likelihood</th><th>AIC</th><th>BIC</th>\
         <th>holdout actual</th><th>predicted</th><th>bias</th><th>MAE</th><th>MSLE</th></tr>",
    );
    for r in t.rows() {
        let name = if r.recommended {
            format!("<b>{} (recommended)</b>", r.model)
        } else {
            r.model.to_string()
        };
        let _ = write!(
            out,
            "<tr><td>{name}</td><td>{}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td>",
            r.n_params,
            r.log_likelihood(),
            r.aic(),
            r.bic()
        );
        match r.holdout {
            Some(h) => {
                let _ = write!(
                    out,
                    "<td>{:.0}</td><td>{:.1}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                    h.actual, h.predicted, h.bias, h.mae, h.msle
                );
            }
            None => out.push_str("<td colspan=5>did not fit</td></tr>"),
        }
    }
    let _ = write!(out, "</table><p>{}</p>", esc(t.reason()));
    out
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG document without its XML declaration, for inlining in HTML.
fn inline(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn params_table(title: &str, f: &Table) -> String {
    let mut h = format!(
        "<h3>{title}</h3><table><tr><th>parameter</th><th>estimate</th><th>std. error</th><th>95% interval</th></tr>"
    );
    for (i, n) in f.names.iter().enumerate() {
        let se_s = f.se.as_ref().map_or("-".into(), |v| format!("{:.4}", v[i]));
        let ci_s =
            f.ci.as_ref()
                .map_or("-".into(), |v| format!("[{:.4}, {:.4}]", v[i].0, v[i].1));
        let _ = write!(
            h,
            "<tr><td>{n}</td><td>{:.4}</td><td>{se_s}</td><td>{ci_s}</td></tr>",
            f.theta[i]
        );
    }
    let c = f.c;
    let _ = write!(
        h,
        "</table><p>log-likelihood {:.4} · AIC {:.2} · BIC {:.2} · {} customers · {} ({} iterations, |gradient| {:.1e}, Hessian positive definite: {})</p>",
        f.ll,
        f.aic,
        f.bic,
        f.n,
        esc(&c.reason.to_string()),
        c.iterations,
        c.gradient_norm,
        c.hessian_positive_definite
    );
    for w in f.warnings {
        let _ = write!(
            h,
            "<p class=warn>{}: {}</p>",
            w.severity(),
            esc(&w.to_string())
        );
    }
    h
}

fn fit_table(g: &GoodnessOfFit, unit: &str, duration: f64) -> String {
    format!(
        "<table><tr><th>holdout ({duration} {unit})</th><th>value</th></tr>\
         <tr><td>customers</td><td>{}</td></tr>\
         <tr><td>observed repeat purchases</td><td>{:.0}</td></tr>\
         <tr><td>predicted repeat purchases</td><td>{:.1}</td></tr>\
         <tr><td>aggregate error</td><td>{:+.1}%</td></tr>\
         <tr><td>MAE per customer</td><td>{:.4}</td></tr>\
         <tr><td>RMSE per customer</td><td>{:.4}</td></tr>\
         <tr><td>correlation (predicted, observed)</td><td>{:.4}</td></tr></table>",
        g.customers,
        g.total_actual,
        g.total_predicted,
        100.0 * g.aggregate_error,
        g.mae,
        g.rmse,
        g.correlation
    )
}

pub fn report(a: ReportArgs) -> Result<(), String> {
    let progress = Progress::new();
    let pb = progress.step("reading and summarising the transaction log");
    let Log {
        rows,
        out,
        format,
        options,
        path,
    } = read_log(&a.log)?;
    let sm = &out.summary;
    let Some(holdout) = sm.holdout() else {
        return Err(
            "report needs --observation-end: the diagnostics compare predictions with the holdout period"
                .into(),
        );
    };
    let unit = sm.unit();
    let unit_name = match unit {
        clv::TimeUnit::Days => "days",
        clv::TimeUnit::Weeks => "weeks",
        _ => "periods",
    };
    progress.done(pb, format!("{rows} transactions -> {} customers", sm.len()));

    let pb = progress.step(&format!("fitting {}", a.model));
    let t0 = Instant::now();
    let (bg, comparison) = if a.model == "auto" {
        let table =
            clv::compare::compare(sm, &clv::compare::CompareOptions::default()).map_err(s)?;
        let fitted = table
            .recommended()
            .fit
            .clone()
            .map_err(|e| format!("the recommended model did not fit: {e}"))?;
        eprintln!("model: {}", table.reason());
        (fitted, Some(table))
    } else {
        (
            AnyFitted::fit(&a.model, sm, &FitOptions::default()).map_err(s)?,
            None,
        )
    };
    let label = bg.label();
    let gg = if a.spend {
        Some(GammaGammaParams::fit(sm, &FitOptions::default()).map_err(spend_error)?)
    } else {
        None
    };
    progress.done(
        pb,
        format!("fitted in {:.1} ms", t0.elapsed().as_secs_f64() * 1e3),
    );
    let m = bg.params();

    let pb = progress.step("scoring and computing diagnostics");
    let scores = score(&m, sm, a.horizon).map_err(s)?;
    if let Some(c) = a.acquisition_cost
        && !(c.is_finite() && c > 0.0)
    {
        return Err(format!(
            "--acquisition-cost must be finite and > 0, got {c}"
        ));
    }
    let mut drivers_html = None;
    let (value_name, values) = match &gg {
        Some(gg) => {
            let o = ClvOptions::new(a.horizon, unit)
                .and_then(|o| o.with_discount(DiscountRate::annual(a.discount_rate)?))
                .and_then(|o| o.with_margin(a.margin))
                .map_err(s)?;
            // what moves CLV: the levers by lifecycle stage (as `clv drivers`)
            let sizes = LeverSizes::default();
            let lv = lever_values(&m, gg.params(), sm, &o, &sizes).map_err(s)?;
            let pa: Vec<f64> = scores.iter().map(|sc| sc.p_alive).collect();
            let (seg, labels) =
                crate::drivers::segments(Some(SegmentBy::Stage), sm, &pa, &lv.now, unit)?;
            let rows = driver_table(&lv, &seg, &labels).map_err(s)?;
            let (head, body) = crate::drivers::table_rows(&rows, &sizes, a.acquisition_cost);
            let mut t = String::from("<table><tr>");
            for h in &head {
                let _ = write!(t, "<th>{}</th>", esc(h));
            }
            t.push_str("</tr>");
            for r in &body {
                t.push_str("<tr>");
                for c in r {
                    let _ = write!(t, "<td>{}</td>", esc(c));
                }
                t.push_str("</tr>");
            }
            let _ = write!(
                t,
                "</table><p>CLV over the next {} {unit_name} under each lever, from the end of \
                 calibration on: every order worth 10% more; every customer still alive buying \
                 10% more often, or dropping out 10% less; one point more margin. Histories, and \
                 so P(alive), stay as they are (<code>clv drivers</code>).</p>",
                axis_number(&a.horizon)
            );
            drivers_html = Some(t);
            ("CLV", lv.now)
        }
        None => (
            "expected purchases",
            scores.iter().map(|sc| sc.expected_purchases).collect(),
        ),
    };
    let holdout_cmp = HoldoutComparison::new(&m, sm).map_err(s)?;
    let by_f = holdout_cmp.by_frequency(7).map_err(s)?;
    let by_r = holdout_cmp.by_recency(8).map_err(s)?;
    let gof = holdout_cmp.fit();
    let sim = m.simulate(sm.age(), unit, 1).map_err(s)?;
    let period = period_transactions(&m, sm, 7, Some(&sim)).map_err(s)?;
    let max_t = sm.age().iter().copied().fold(0.0, f64::max);
    let max_x = (sm.frequency().iter().copied().fold(0.0, f64::max) as usize).clamp(5, 30);
    let pa_m = PropertyMatrix::p_alive(&m, max_t, max_x, 40).map_err(s)?;
    let e_m = PropertyMatrix::expected_purchases(&m, max_t, a.horizon, max_x, 40).map_err(s)?;
    let mut tb = TrackingBuilder::new(options);
    // (lines after the summary's end were counted when the log was summarised)
    for_each_transaction_until(
        &path,
        &format,
        |t| options.is_after_end(t),
        |_, c, t, _| tb.push(c, t),
    )
    .map_err(s)?;
    let period_days = unit.days().clamp(1.0, 7.0);
    let tr = tb.finish(&m, period_days).map_err(s)?;
    progress.done(pb, "diagnostics computed".into());

    let pb = progress.step("drawing");
    let pairs =
        |y: &[f64]| -> Vec<(f64, f64)> { tr.ends.iter().copied().zip(y.iter().copied()).collect() };
    // a last period shorter than the others (the observation end cuts it) would look like a
    // drop in purchases: the per-period chart leaves it out and says so
    let period_units = period_days / unit.days();
    let k = tr.ends.len();
    let last_width = tr.ends[k - 1] - if k > 1 { tr.ends[k - 2] } else { 0.0 };
    let partial = k > 1 && last_width < period_units * (1.0 - 1e-9);
    let whole = if partial { k - 1 } else { k };
    let pairs_whole = |y: &[f64]| -> Vec<(f64, f64)> {
        tr.ends[..whole]
            .iter()
            .copied()
            .zip(y.iter().copied())
            .collect()
    };
    let cal = Some((tr.calibration_end, "calibration end"));
    // calendar dates on the time axis: period ends, from the log's first day
    let origin = tr.starts[0];
    let unit_seconds = unit.days() * 86_400.0;
    let date_of = move |x: f64| -> String {
        (origin + chrono::Duration::seconds((x * unit_seconds).round() as i64))
            .date()
            .to_string()
    };
    let xl = format!(
        "end of period ({} days each{})",
        axis_number(&period_days),
        if partial {
            format!(
                "; the last, partial period of {} days is left out",
                axis_number(&(last_width * unit.days()))
            )
        } else {
            String::new()
        }
    );
    let xl_cum = "date".to_string();
    let title_inc = format!("Repeat transactions per period: observed vs {label}");
    let title_cum = format!("Cumulative repeat transactions: observed vs {label}");
    let mut charts: Vec<(&str, &str, String)> = vec![
        (
            "tracking_incremental.svg",
            &title_inc,
            plots::lines(
                "Repeat transactions per period",
                &xl,
                "repeat transactions",
                &[
                    ("observed", &pairs_whole(&tr.actual)),
                    (label, &pairs_whole(&tr.expected)),
                ],
                cal,
                Some(&date_of),
            )?,
        ),
        (
            "tracking_cumulative.svg",
            &title_cum,
            plots::lines(
                "Cumulative repeat transactions",
                &xl_cum,
                "repeat transactions",
                &[
                    ("observed", &pairs(&tr.cumulative_actual)),
                    (label, &pairs(&tr.cumulative_expected)),
                ],
                cal,
                Some(&date_of),
            )?,
        ),
        (
            "holdout_by_frequency.svg",
            "Mean holdout purchases by calibration frequency",
            plots::bars(
                "Holdout purchases by calibration frequency",
                "repeat purchases in calibration",
                "mean holdout purchases",
                &by_f.iter().map(|g| g.label.clone()).collect::<Vec<_>>(),
                &[
                    (
                        "observed",
                        &by_f.iter().map(|g| g.actual).collect::<Vec<_>>(),
                    ),
                    (label, &by_f.iter().map(|g| g.predicted).collect::<Vec<_>>()),
                ],
            )?,
        ),
        (
            "holdout_by_recency.svg",
            "Mean holdout purchases by recency",
            plots::bars(
                "Holdout purchases by recency",
                &format!("recency t_x ({unit_name})"),
                "mean holdout purchases",
                &by_r.iter().map(|g| g.label.clone()).collect::<Vec<_>>(),
                &[
                    (
                        "observed",
                        &by_r.iter().map(|g| g.actual).collect::<Vec<_>>(),
                    ),
                    (label, &by_r.iter().map(|g| g.predicted).collect::<Vec<_>>()),
                ],
            )?,
        ),
        (
            "period_transactions.svg",
            "Customers by calibration repeat purchases: observed, expected, simulated",
            plots::bars(
                "Calibration repeat purchases per customer",
                "repeat purchases",
                "customers",
                &period.labels,
                &[
                    ("observed", &period.observed),
                    (&format!("{label} expected"), &period.expected),
                    (
                        &format!("{label} simulated"),
                        period.simulated.as_deref().unwrap_or(&[]),
                    ),
                ],
            )?,
        ),
        (
            "p_alive_matrix.svg",
            "P(alive) by frequency and recency",
            plots::heatmap("P(alive) by frequency and recency", &pa_m)?,
        ),
        (
            "expected_purchases_matrix.svg",
            "Expected purchases by frequency and recency",
            plots::heatmap(
                &format!("Expected purchases in {} {unit_name}", a.horizon),
                &e_m,
            )?,
        ),
    ];
    let money = if gg.is_some() {
        a.currency.as_str()
    } else {
        ""
    };
    charts.push((
        "value_histogram.svg",
        "Distribution of predicted value (log scale)",
        plots::log_histogram(
            &format!(
                "{value_name} per customer, next {} {unit_name} (log scale)",
                axis_number(&a.horizon)
            ),
            &if gg.is_some() {
                format!(
                    "{value_name}{} at margin {}",
                    if money.is_empty() {
                        String::new()
                    } else {
                        format!(" ({money})")
                    },
                    axis_number(&a.margin)
                )
            } else {
                value_name.to_string()
            },
            &values,
            money,
        )?,
    ));

    // top customers
    let mut order: Vec<usize> = (0..sm.len()).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]).then(i.cmp(&j)));
    let mut top = format!(
        "<table><tr><th>customer</th><th>x (repeat purchases)</th><th>t_x ({unit_name})</th>\
         <th>T ({unit_name})</th><th>P(alive)</th><th>expected purchases</th><th>{}{}</th></tr>",
        esc(value_name),
        if money.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(money))
        }
    );
    for &i in order.iter().take(a.top) {
        let c = sm.customer(i);
        let _ = write!(
            top,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.3}</td><td>{:.3}</td><td>{:.2}</td></tr>",
            esc(&sm.ids()[i]),
            c.frequency(),
            c.recency(),
            c.age(),
            scores[i].p_alive,
            scores[i].expected_purchases,
            values[i]
        );
    }
    top.push_str("</table>");

    let mut html = String::from(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>clv report</title><style>\
         body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
         th{background:#f2f2f2}td:first-child{text-align:left}.warn{color:#a33}figure{margin:2em 0}\
         figcaption{color:#555}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>Customer-base report</h1><p>{} · {rows} transactions · {} customers · calibration to {} · holdout {} {unit_name}</p>",
        esc(&path.display().to_string()),
        sm.len(),
        options.calibration_end().date(),
        holdout.duration
    );
    if let Some(t) = &comparison {
        html.push_str("<h2>Model comparison</h2>");
        html.push_str(&comparison_table(t));
    }
    html.push_str("<h2>Models</h2>");
    html.push_str(&params_table(&esc(label), &Table::of_any(&bg)));
    if let Some(gg) = &gg {
        html.push_str(&params_table("Gamma-Gamma spend model", &Table::of(gg)));
    }
    let _ = write!(
        html,
        "<h2>Glossary</h2><dl>\
         <dt>x</dt><dd>repeat purchases in the calibration period: purchase occasions after the \
         first (purchases on one day are one occasion)</dd>\
         <dt>t_x</dt><dd>recency: when the last repeat purchase was, in {unit_name} since the \
         customer's first purchase (0 without repeat purchases)</dd>\
         <dt>T</dt><dd>the customer's age at the calibration end, in {unit_name} since their \
         first purchase</dd>\
         <dt>P(alive)</dt><dd>the probability that the customer has not silently churned</dd>\
         <dt>expected purchases</dt><dd>the purchases the model expects in the next {} \
         {unit_name}</dd>{}</dl>",
        axis_number(&a.horizon),
        if gg.is_some() {
            format!(
                "<dt>CLV</dt><dd>expected purchases × expected spend per purchase × margin {}, \
                 discounted at {}% a year{}</dd>",
                axis_number(&a.margin),
                axis_number(&(a.discount_rate * 100.0)),
                if money.is_empty() {
                    String::new()
                } else {
                    format!(", in {}", esc(money))
                }
            )
        } else {
            String::new()
        }
    );
    html.push_str("<h2>Goodness of fit</h2>");
    html.push_str(&fit_table(&gof, unit_name, holdout.duration));
    html.push_str("<h2>Diagnostics</h2>");
    for (file, caption, svg) in &charts {
        let _ = write!(
            html,
            "<figure id=\"{}\">{}<figcaption>{caption} ({file})</figcaption></figure>",
            file.trim_end_matches(".svg"),
            inline(svg)
        );
    }
    let retention = retention_section(&a)?;
    if let Some(r) = &retention {
        html.push_str(&r.html);
    }
    if let Some(d) = &drivers_html {
        html.push_str("<h2>What moves CLV</h2>");
        html.push_str(d);
    }
    let _ = write!(
        html,
        "<h2>Top {} customers by {}</h2>{top}",
        a.top.min(sm.len()),
        esc(value_name)
    );
    html.push_str("<p>Generated by clv.</p></body></html>\n");
    progress.done(pb, format!("{} plots drawn", charts.len()));

    std::fs::create_dir_all(&a.output)
        .map_err(|e| format!("cannot create {}: {e}", a.output.display()))?;
    for (file, _, svg) in &charts {
        write_atomic(&a.output.join(file), svg.as_bytes())?;
    }
    for (file, svg) in retention.iter().flat_map(|r| r.charts.iter()) {
        write_atomic(&a.output.join(file), svg.as_bytes())?;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["customer_id", "p_alive", "expected_purchases", "value"])
        .map_err(s)?;
    for (i, sc) in scores.iter().enumerate() {
        w.write_record([
            sm.ids()[i].clone(),
            fmt_num(sc.p_alive),
            fmt_num(sc.expected_purchases),
            fmt_num(values[i]),
        ])
        .map_err(s)?;
    }
    let csv = w.into_inner().map_err(s)?;
    write_atomic(&a.output.join("customers.csv"), &csv)?;
    write_atomic(&a.output.join("index.html"), html.as_bytes())?;
    eprintln!(
        "report written to {} ({} plots, index.html) in {:.2} s",
        a.output.display(),
        charts.len(),
        progress.elapsed().as_secs_f64()
    );
    Ok(())
}
