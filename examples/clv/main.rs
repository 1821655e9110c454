//! `clv`: customer-lifetime-value modelling from the command line.
//!
//! ```text
//! cargo run --release --example clv -- demo
//! cargo run --release --example clv -- summarize --transactions log.csv --calibration-end 2024-06-30 -o summary.csv
//! cargo run --release --example clv -- fit --summary summary.csv --model bgnbd -o model.json
//! cargo run --release --example clv -- predict --model model.json --summary summary.csv --horizon 52 -o predictions.csv
//! ```
//! Install with `cargo install --path . --example clv`.

mod commands;
mod compare;
mod covariates;
mod drivers;
mod output;
mod plots;
mod report;
mod segments;
mod span;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "clv",
    version,
    about = "Probabilistic customer-lifetime-value models (BG/NBD, Pareto/NBD, Gamma-Gamma)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress spinners on stderr (they are drawn only on a terminal anyway).
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Unit {
    Day,
    Week,
}

impl From<Unit> for clv::TimeUnit {
    fn from(u: Unit) -> Self {
        match u {
            Unit::Day => clv::TimeUnit::Days,
            Unit::Week => clv::TimeUnit::Weeks,
        }
    }
}

/// Every model `clv fit --model` takes: the transaction models, the spend model, then the
/// discrete-time model (whose summary has its own columns).
pub(crate) fn fit_models() -> Vec<&'static str> {
    let mut m = clv::AnyFitted::MODELS.to_vec();
    m.push(GAMMA_GAMMA);
    m.push(BGBB);
    m.push(SBG);
    m
}

/// The contractual (shifted-beta-geometric) model's name on the command line.
pub(crate) const SBG: &str = "sbg";

/// The discrete-time (BG/BB) model's name on the command line.
pub(crate) const BGBB: &str = "bgbb";

/// The spend model's name on the command line.
pub(crate) const GAMMA_GAMMA: &str = "gamma-gamma";

#[derive(Subcommand)]
enum Command {
    /// Summarise the bundled CDNOW log, fit BG/NBD and show the parameters and top customers.
    #[command(after_help = "Example:\n  clv demo\n  clv demo --top 20 --horizon 52")]
    Demo {
        /// Folder holding CDNOW_sample.txt.
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data"))]
        data_dir: PathBuf,
        /// How many customers to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Prediction horizon in weeks.
        #[arg(long, default_value_t = 39.0)]
        horizon: f64,
    },
    /// Turn a transaction log into an RFM summary (with a holdout split if --observation-end).
    #[command(
        after_help = "Example:\n  clv summarize --transactions data/CDNOW_sample.txt --format cdnow-sample \\\n      --calibration-end 1997-09-30 --observation-end 1998-06-30 -o summary.csv"
    )]
    Summarize(commands::SummarizeArgs),
    /// Fit a model to an RFM summary by maximum likelihood and write it as JSON.
    #[command(
        after_help = "Examples:\n  clv fit --summary summary.csv --model bgnbd -o bgnbd.json\n  clv fit --summary summary.csv --model pareto-nbd -o pnbd.json\n  clv fit --summary summary.csv --model gamma-gamma -o gg.json\n  clv fit --summary data/donations.csv --model bgbb -o bgbb.json\n  clv fit --survival data/sbg_cohorts.csv --cohort regular --calibration-periods 7 --model sbg -o sbg.json\n  clv fit --summary summary.csv --model pareto-nbd --covariates cov.csv --purchase-cov Gender,Channel --dropout-cov Gender,Channel -o pnbd-cov.json"
    )]
    Fit {
        /// Summary CSV (frequency,recency,T or x,t_x,T; optional customer_id / monetary_value;
        /// for bgbb frequency,recency,periods[,weights]).
        #[arg(
            long,
            required_unless_present = "survival",
            conflicts_with = "survival"
        )]
        summary: Option<PathBuf>,
        /// Contractual survival data for --model sbg: cohort counts (cohort,period|year,alive)
        /// or one row per customer (renewals,active[,cohort][,weight]).
        #[arg(long)]
        survival: Option<PathBuf>,
        /// With --survival: the cohort to fit (required when the file holds several).
        #[arg(long, requires = "survival")]
        cohort: Option<String>,
        /// With --survival cohort counts: fit on periods 0..=N only, holding the rest back.
        #[arg(long, requires = "survival")]
        calibration_periods: Option<u32>,
        /// Which model: any transaction model, or the gamma-gamma spend model.
        #[arg(long, default_value = "bgnbd", value_parser = clap::builder::PossibleValuesParser::new(fit_models()))]
        model: String,
        /// L2 penalty on the parameters (as lifetimes' penalizer_coef).
        #[arg(long, default_value_t = 0.0)]
        penalizer: f64,
        /// Time unit of a summary that does not record one (a `time_unit` column, as `clv
        /// summarize` writes); default week. A summary that records another unit is refused.
        #[arg(long, value_enum)]
        unit: Option<Unit>,
        #[command(flatten)]
        covariates: covariates::CovArgs,
        /// Output model file (JSON).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Contractual retention from an sBG model: survival, retention, churn and DERL by
    /// period, with the observed cohort beside it when given.
    #[command(
        after_help = "Example:\n  clv fit --survival data/sbg_cohorts.csv --cohort regular --calibration-periods 7 --model sbg -o sbg.json\n  clv retention --model sbg.json --survival data/sbg_cohorts.csv --cohort regular --discount-rate 0.1 -o retention.csv"
    )]
    Retention(commands::RetentionArgs),
    /// Score customers: P(alive), expected purchases and P(no purchase) over a horizon; with a
    /// spend model also expected spend and discounted CLV.
    #[command(
        allow_negative_numbers = true,
        after_help = "Examples:\n  clv predict --model bgnbd.json --summary summary.csv --horizon 52 -o predictions.csv\n  clv predict --model bgnbd.json --spend-model gg.json --summary summary.csv --horizon 52 \\\n      --discount-rate 0.1 --discount-per year --margin 0.3 -o clv.csv"
    )]
    Predict(commands::PredictArgs),
    /// Fit several models on one summary and compare them: log-likelihood, AIC, BIC,
    /// likelihood-ratio tests of nested pairs and, with a holdout, per-customer errors; one
    /// model is recommended, with the reason.
    #[command(after_help = "Examples:
  clv compare --summary summary.csv -o compare.csv
  clv compare --summary summary.csv --models bgnbd,mbgnbd,pareto-nbd -o compare.csv")]
    Compare(compare::CompareArgs),
    /// Segment customers: lifecycle stage (new / active / at risk / likely churned), value
    /// tier and RFM scores, with a summary per segment.
    #[command(
        allow_negative_numbers = true,
        after_help = "Example:\n  clv segment --model bgnbd.json --spend-model gg.json --summary summary.csv \\\n      --horizon 52 --tiers 0.01,0.1,0.5 --at-risk-after 26 -o segments.csv"
    )]
    Segment(segments::SegmentArgs),
    /// Acquisition cohorts (first-purchase month or week): size, repeat-purchase rate, churn
    /// rate, historical and predicted value.
    #[command(
        allow_negative_numbers = true,
        after_help = "Example:\n  clv cohorts --transactions data/CDNOW_sample.txt --format cdnow-sample \\\n      --calibration-end 1997-09-30 --model bgnbd.json --spend-model gg.json --horizon 52 -o cohorts.csv"
    )]
    Cohorts(segments::CohortArgs),
    /// What moves CLV: the base's CLV now and its change under +10% order value, +10%
    /// purchase rate, -10% dropout and +1 point of margin (population parameters moved as
    /// documented per model), by segment, with the CLV-to-acquisition-cost ratio.
    #[command(
        allow_negative_numbers = true,
        after_help = "Example:\n  clv drivers --model bgnbd.json --spend-model gg.json --summary summary.csv \\\n      --horizon 52 --discount-rate 0.1 --margin 0.3 --segment-by stage --acquisition-cost 20 -o drivers.csv"
    )]
    Drivers(drivers::DriversArgs),
    /// From a transaction log to a report folder: SVG plots of every diagnostic (tracking,
    /// holdout by frequency and recency, period transactions, P(alive) and expected-purchase
    /// matrices, value distribution) and a self-contained index.html.
    #[command(
        after_help = "Example:\n  clv report --transactions data/CDNOW_sample.txt --format cdnow-sample \\\n      --calibration-end 1997-09-30 --observation-end 1998-06-30 --spend -o report/"
    )]
    Report(report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let result = match cli.command {
        Command::Demo {
            data_dir,
            top,
            horizon,
        } => commands::demo(&data_dir, top, horizon),
        Command::Summarize(args) => commands::summarize(args),
        Command::Fit {
            summary,
            survival,
            cohort,
            calibration_periods,
            model,
            penalizer,
            unit,
            covariates,
            output,
        } => match (summary, survival) {
            (_, Some(f)) => commands::fit_survival(
                &f,
                &model,
                cohort.as_deref(),
                calibration_periods,
                penalizer,
                unit.map(Into::into),
                &output,
            ),
            (Some(summary), None) => commands::fit(
                &summary,
                &model,
                penalizer,
                unit.map(Into::into),
                &covariates,
                &output,
            ),
            (None, None) => Err("--summary or --survival is required".to_string()),
        },
        Command::Retention(args) => commands::retention(args),
        Command::Predict(args) => commands::predict(args),
        Command::Compare(args) => compare::run(args),
        Command::Segment(args) => segments::segment(args),
        Command::Cohorts(args) => segments::cohort_report(args),
        Command::Drivers(args) => drivers::drivers(args),
        Command::Report(args) => report::report(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
