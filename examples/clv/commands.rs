//! The subcommands.

use crate::output::{Progress, any_parameter_table, parameter_table, write_atomic};
use crate::span::Span;
use chrono::NaiveDate;
use clap::ValueEnum;
use clv::data::discrete::{DiscreteBuilder, Opportunity};
use clv::fit::{MaximumLikelihood, ModelFile};
use clv::io::{
    Column, SummaryUnit, TransactionFormat, parse_datetime, read_summary_csv,
    read_transactions_into,
};
use clv::predict::{holdout_expected, score};
use clv::uncertainty::BootstrapOptions;
use clv::value::{ClvOptions, DiscountRate};
use clv::{
    AnyFitted, BgNbdParams, FitOptions, Fitted, GammaGammaParams, RfmSummary, SpendModel,
    SummaryBuilder, SummaryOptions, TimeUnit,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub type Res = Result<(), String>;

/// A Gamma-Gamma fitting error, with the remedy when a repeat buyer spent nothing.
pub fn spend_error(e: clv::Error) -> String {
    match &e {
        clv::Error::InvalidData {
            field: "monetary_value",
            issue: clv::DataIssue::NotPositive(_),
            ..
        } => format!(
            "{e}; the Gamma-Gamma model needs a positive mean spend for every repeat buyer: \
             drop zero-value transactions from the log (or fit without spend)"
        ),
        _ => e.to_string(),
    }
}

pub fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Layout of a transaction file.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Comma-separated with a header.
    Csv,
    /// CDNOW_sample.txt: no header; master id, sample id, YYYYMMDD, CDs, dollars.
    CdnowSample,
    /// CDNOW_master.txt: header; customer id, YYYYMMDD, CDs, dollars.
    CdnowMaster,
}

pub fn parse_date(name: &str, text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("--{name} '{text}' is not a date in YYYY-MM-DD form"))
}

pub fn fmt_num(v: f64) -> String {
    // shortest representation that reads back to the same f64
    clv::io::format_number(v)
}

pub fn demo(data_dir: &Path, top: usize, horizon: f64) -> Res {
    let path = data_dir.join("CDNOW_sample.txt");
    let t0 = Instant::now();
    let opts = SummaryOptions::new(
        parse_date("calibration-end", "1997-09-30")?,
        TimeUnit::Weeks,
    )
    .with_observation_end(parse_date("observation-end", "1998-06-30")?)
    .map_err(s)?;
    let mut b = SummaryBuilder::new(opts);
    let rows =
        read_transactions_into(&path, &TransactionFormat::cdnow_sample(), &mut b).map_err(s)?;
    let summary = b.finish().map_err(s)?.summary;
    let t_sum = t0.elapsed();
    println!(
        "CDNOW sample: {rows} transactions -> {} customers (calibration 1997-01-01..1997-09-30, holdout to 1998-06-30, weeks) in {:.1} ms\n",
        summary.len(),
        t_sum.as_secs_f64() * 1e3
    );
    let t1 = Instant::now();
    let fitted = BgNbdParams::fit(&summary, &FitOptions::default()).map_err(s)?;
    let t_fit = t1.elapsed();
    println!("BG/NBD fit ({:.2} ms)", t_fit.as_secs_f64() * 1e3);
    print!("{}", parameter_table(&fitted));
    println!(
        "published (Fader, Hardie & Lee 2005): r=0.243 alpha=4.414 a=0.793 b=2.426 LL=-9582.4\n"
    );

    let m = fitted.params();
    let scores = score(m, &summary, horizon).map_err(s)?;
    let mut order: Vec<usize> = (0..summary.len()).collect();
    order.sort_by(|&i, &j| {
        scores[j]
            .expected_purchases
            .total_cmp(&scores[i].expected_purchases)
            .then(i.cmp(&j))
    });
    println!("Top {top} customers by expected purchases in the next {horizon} weeks:");
    println!(
        "{:>8} {:>4} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "customer", "x", "t_x", "T", "P(alive)", "expected", "P(none)"
    );
    for &i in order.iter().take(top) {
        let c = summary.customer(i);
        let sc = scores[i];
        println!(
            "{:>8} {:>4} {:>8.2} {:>8.2} {:>8.3} {:>10.3} {:>10.3}",
            summary.ids()[i],
            c.frequency(),
            c.recency(),
            c.age(),
            sc.p_alive,
            sc.expected_purchases,
            sc.prob_no_purchase
        );
    }
    let h = summary.holdout().expect("demo summary has a holdout");
    let predicted: f64 = holdout_expected(m, &summary).map_err(s)?.iter().sum();
    let actual: f64 = h.frequency.iter().sum();
    println!(
        "\nHoldout check ({:.1} weeks): predicted {predicted:.1} repeat purchases, observed {actual:.0} ({:+.1}%)",
        h.duration,
        100.0 * (predicted / actual - 1.0)
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct SummarizeArgs {
    #[command(flatten)]
    log: LogArgs,
    /// Discrete time (BG/BB): each calendar period with a transaction is one transaction
    /// opportunity, the period of a customer's first transaction the birth (not counted);
    /// writes frequency, recency and periods in opportunities.
    #[arg(long, value_enum)]
    discrete: Option<DiscretePeriod>,
    /// Output CSV.
    #[arg(short, long)]
    output: PathBuf,
}

/// A transaction log and how to summarise it (shared by `summarize` and `cohorts`).
#[derive(clap::Args)]
pub struct LogArgs {
    /// Transaction file (CSV with a header, or whitespace-separated with --format).
    #[arg(long)]
    transactions: PathBuf,
    /// Last day of the calibration period (inclusive), YYYY-MM-DD.
    #[arg(long)]
    calibration_end: String,
    /// Last day of observation (inclusive); adds the holdout columns.
    #[arg(long)]
    observation_end: Option<String>,
    /// Time unit of recency, T and durations.
    #[arg(long, value_enum, default_value = "week")]
    unit: crate::Unit,
    /// Customer id column (default: customer_id, customer, id, cust, user_id or client_id,
    /// matched ignoring case, spaces and underscores: `Customer ID` is found).
    #[arg(long)]
    customer_col: Option<String>,
    /// Date column (default: date, invoice_date, order_date, created_at, timestamp or time,
    /// matched ignoring case, spaces and underscores: `InvoiceDate` is found).
    #[arg(long)]
    date_col: Option<String>,
    /// Amount column, the total of each line (default: amount, monetary_value, value, revenue,
    /// total or sales, matched ignoring case, spaces and underscores; none: 0).
    #[arg(long)]
    amount_col: Option<String>,
    /// Quantity column of invoice lines: with --price-col, a line's amount is quantity × price.
    #[arg(long)]
    quantity_col: Option<String>,
    /// Skip (and count) lines without a customer id instead of stopping at the first.
    #[arg(long)]
    skip_missing_customer: bool,
    /// Field separator of a CSV log (one character, or tab); default: detected from the header
    /// line among , ; tab |.
    #[arg(long)]
    delimiter: Option<String>,
    /// Amounts and quantities use a decimal comma (12,50; a '.' is a thousands separator).
    #[arg(long)]
    decimal_comma: bool,
    /// Leave out (and count) lines with an amount of exactly 0 (free items) instead of
    /// counting them as purchases.
    #[arg(long)]
    drop_zero_amounts: bool,
    /// Fail instead of leaving any line out (missing ids, returns dropped or netted, zero
    /// amounts, lines after the observation end).
    #[arg(long)]
    strict: bool,
    /// Lines with a negative amount or a cancellation invoice (returns): error (the default:
    /// stop, saying how many there are), drop (leave them out, counted) or net (subtract each
    /// from the purchase it undoes: same invoice, else same day, else the latest earlier
    /// purchase; a purchase netted to 0 or below is no purchase).
    #[arg(long, value_enum, default_value = "error")]
    returns: ReturnsPolicy,
    /// Invoices starting with this text are cancellations (e.g. C), handled as returns.
    #[arg(long)]
    cancel_prefix: Option<String>,
    /// Invoice (order) column (default: invoice, invoice_no, invoice_number, order_id or
    /// order_number, matched ignoring case, spaces and underscores); used by --returns net
    /// and --cancel-prefix.
    #[arg(long)]
    invoice_col: Option<String>,
    /// Unit price column of invoice lines (with --quantity-col).
    #[arg(long)]
    price_col: Option<String>,
    /// chrono date format, e.g. %Y%m%d or "%d/%m/%Y %H:%M" (default: ISO dates, YYYYMMDD, YYYY/MM/DD).
    #[arg(long)]
    date_format: Option<String>,
    /// File layout: csv (header, commas) or the CDNOW text logs.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
}

/// Reads the header line of a CSV file (for column auto-detection).
fn csv_header(path: &Path, delimiter: u8) -> Result<Vec<String>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(clv::io::open_input(path).map_err(s)?);
    Ok(rdr
        .headers()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect())
}

/// Date layouts tried when the dates are not ISO, YYYYMMDD or YYYY/MM/DD.
const DATE_FORMATS: &[&str] = &[
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
];

/// Looks at up to 1,000 dates of `column`: `None` when the library's default formats read them
/// all, the one other format that reads them all, or an error naming the candidates (dates
/// such as 01/02/1997 fit day-first and month-first alike) or showing dates none reads.
fn detect_date_format(path: &Path, column: &str, delimiter: u8) -> Result<Option<String>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(clv::io::open_input(path).map_err(s)?);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let Some(j) = header.iter().position(|h| h == column) else {
        return Ok(None); // the reader reports the missing column
    };
    // Keep reading until the values settle the format: every candidate that fails on some
    // value is dropped; stop once at most one candidate is left after 1000 values (a
    // day-first date like 13/01 may come late in the file), or at the end.
    let mut fits: Vec<&str> = DATE_FORMATS.to_vec();
    let mut all_default = true;
    let mut sample: Vec<String> = Vec::new();
    let mut seen = 0usize;
    for r in rdr.records() {
        let Some(v) = r.ok().and_then(|r| r.get(j).map(|v| v.trim().to_string())) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        seen += 1;
        if all_default && parse_datetime(&v, None).is_none() {
            all_default = false;
        }
        fits.retain(|f| parse_datetime(&v, Some(f)).is_some());
        if sample.len() < 3 {
            sample.push(v);
        }
        if seen >= 1000 && (fits.len() <= 1 || all_default) {
            break;
        }
    }
    if sample.is_empty() || all_default {
        return Ok(None);
    }
    match fits.as_slice() {
        [one] => {
            eprintln!("note: reading the '{column}' column as dates in the format {one}");
            Ok(Some(one.to_string()))
        }
        [] => Err(format!(
            "cannot tell the date format of column '{column}' (e.g. '{}'); give it with --date-format, e.g. --date-format \"%d/%m/%Y %H:%M\"",
            sample
                .iter()
                .find(|v| parse_datetime(v, None).is_none())
                .unwrap_or(&sample[0])
        )),
        many => Err(format!(
            "the dates in column '{column}' (e.g. '{}') fit several formats: {}; choose one with --date-format",
            sample[0],
            many.join(", ")
        )),
    }
}

fn pick(
    header: &[String],
    given: Option<String>,
    candidates: &[&str],
    what: &str,
    required: bool,
) -> Result<Option<Column>, String> {
    if let Some(g) = given {
        return Ok(Some(Column::Name(g)));
    }
    // case-, space-, underscore- and hyphen-insensitive: `Customer ID` is customer_id
    let norm = |t: &str| -> String {
        t.chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let found = candidates
        .iter()
        .find_map(|c| header.iter().find(|h| norm(h) == norm(c)).cloned());
    match found {
        Some(h) => Ok(Some(Column::Name(h))),
        None if required => Err(format!(
            "cannot tell which column is the {what}; columns found: {}. Name it with --{what}-col",
            header.join(", ")
        )),
        None => Ok(None),
    }
}

/// A summarised log: rows read, the summary with its history, and the format and options
/// it was read with (to read it again, e.g. for tracking).
pub struct Log {
    pub rows: usize,
    pub out: clv::Summarized,
    pub format: TransactionFormat,
    pub options: SummaryOptions,
    pub path: PathBuf,
}

/// Reads and summarises the log.
pub fn read_log(a: &LogArgs) -> Result<Log, String> {
    let mut opts = SummaryOptions::new(
        parse_date("calibration-end", &a.calibration_end)?,
        a.unit.into(),
    );
    if let Some(e) = &a.observation_end {
        opts = opts
            .with_observation_end(parse_date("observation-end", e)?)
            .map_err(s)?;
    }
    let (format, columns) = log_format(a)?;
    let opts = opts.skipping_lines_after_end();
    let mut b = SummaryBuilder::new(opts);
    let counts = clv::io::read_transactions_counted(&a.transactions, &format, &mut b).map_err(s)?;
    let rows = counts.read;
    let out = b.finish().map_err(s)?;
    account_for_lines(
        a,
        &counts,
        columns.as_deref(),
        Some(&customer_facts(&opts, &out)),
    )?;
    warn_about_dates(&opts, &out);
    Ok(Log {
        rows,
        out,
        format,
        options: opts,
        path: a.transactions.clone(),
    })
}

/// A `--delimiter`: one character, or `tab`.
fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        t => Err(format!(
            "--delimiter must be one character (or tab), got '{t}'"
        )),
    }
}

/// The field separator of a CSV log: whichever of `,` `;` tab `|` occurs most often (outside
/// quotes) in its header line; `,` when none does. The printed column line says which.
fn detect_delimiter(path: &Path) -> Result<u8, String> {
    use std::io::{BufRead, Read};
    let f = clv::io::open_input(path).map_err(s)?;
    let mut line = String::new();
    std::io::BufReader::new(f.take(1 << 20))
        .read_line(&mut line)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|c| c.0 == b) {
            c.1 += 1;
        }
    }
    let best = counts
        .iter()
        .fold((b',', 0), |acc, c| if c.1 > acc.1 { *c } else { acc });
    Ok(best.0)
}

/// `--returns`.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReturnsPolicy {
    /// Stop at a negative amount, counting every such line.
    Error,
    /// Leave negative-amount lines out, counted.
    Drop,
    /// Subtract each return from the purchase it undoes.
    Net,
}

/// What the summary holds: customers, the range of their first purchases, and those first
/// seen after the calibration end (not in the summary, not dropped silently).
fn customer_facts(opts: &SummaryOptions, out: &clv::Summarized) -> String {
    let first = &out.history.first_purchase;
    let range = match (first.iter().min(), first.iter().max()) {
        (Some(a), Some(b)) => format!(", first purchases {} to {}", a.date(), b.date()),
        _ => String::new(),
    };
    let n = out.summary.len();
    format!(
        "{n} customer{}{range}; {} first seen after the calibration end {} (not in the summary)",
        if n == 1 { "" } else { "s" },
        out.first_seen_in_holdout.len(),
        opts.calibration_end().date()
    )
}

/// After a log is read: `--strict` refuses a run that left lines out (one line, before
/// anything else is said); otherwise the chosen columns and the data-quality account on
/// stderr: lines read, used and left out by reason (they add up), then `facts` about the
/// customers.
fn account_for_lines(
    a: &LogArgs,
    counts: &clv::io::LineCounts,
    columns: Option<&str>,
    facts: Option<&str>,
) -> Res {
    if a.strict && counts.left_out() > 0 {
        return Err(format!("--strict: lines would be left out: {counts}"));
    }
    if let Some(c) = columns {
        eprintln!("{c}");
    }
    match facts {
        Some(f) => eprintln!("data quality: {counts}; {f}"),
        None => eprintln!("data quality: {counts}"),
    }
    Ok(())
}

/// Warnings about the dates a user chose: an observation end after the log's last
/// transaction (the holdout then looks emptier than it is), a calibration end before most
/// customers' first purchase (most customers are then left out of the summary).
fn warn_about_dates(opts: &SummaryOptions, out: &clv::Summarized) {
    if let (Some(end), Some(last)) = (opts.observation_end(), out.last_transaction)
        && end.date() > last.date()
    {
        eprintln!(
            "warning: the observation end {} is after the log's last transaction ({}): the \
             days in between count as observed time without purchases",
            end.date(),
            last.date()
        );
    }
    let later = out.first_seen_in_holdout.len();
    if later > out.summary.len() {
        eprintln!(
            "warning: {later} customers make their first purchase after the calibration end {}, \
             more than the {} in the summary: is the calibration end too early?",
            opts.calibration_end().date(),
            out.summary.len()
        );
    }
}

/// How to read the log's columns: the named layout, or the CSV's columns (given or detected)
/// and its date format (given or detected).
fn log_format(a: &LogArgs) -> Result<(TransactionFormat, Option<String>), String> {
    // the columns chosen, said once the log has been read (an error stays one line)
    let mut columns = None;
    let mut price_as_amount = false;
    let delimiter = match (&a.delimiter, a.format) {
        (Some(d), _) => parse_delimiter(d)?,
        (None, Format::Csv) => detect_delimiter(&a.transactions)?,
        (None, _) => b',',
    };
    let mut format = match a.format {
        Format::CdnowSample => TransactionFormat::cdnow_sample(),
        Format::CdnowMaster => TransactionFormat::cdnow_master(),
        Format::Csv => {
            let header = csv_header(&a.transactions, delimiter)?;
            let customer = pick(
                &header,
                a.customer_col.clone(),
                &[
                    "customer_id",
                    "customer",
                    "id",
                    "cust",
                    "user_id",
                    "client_id",
                ],
                "customer",
                true,
            )?
            .expect("required");
            let date = pick(
                &header,
                a.date_col.clone(),
                &[
                    "date",
                    "invoice_date",
                    "order_date",
                    "created_at",
                    "timestamp",
                    "time",
                ],
                "date",
                true,
            )?
            .expect("required");
            let line_total = [
                "amount",
                "monetary_value",
                "value",
                "revenue",
                "total",
                "sales",
            ];
            let quantity_names = ["quantity", "qty"];
            let price_names = ["unit_price", "price"];
            let (amount, quantity) = match (&a.quantity_col, &a.price_col) {
                (Some(_), None) | (None, Some(_)) => {
                    return Err(
                        "--quantity-col and --price-col go together: the amount of a \
                                line is quantity × unit price"
                            .into(),
                    );
                }
                (Some(q), Some(p)) => {
                    if a.amount_col.is_some() {
                        return Err("give either --amount-col (a line total) or \
                                    --quantity-col with --price-col, not both"
                            .into());
                    }
                    (Some(Column::Name(p.clone())), Some(Column::Name(q.clone())))
                }
                (None, None) => {
                    let amount = pick(&header, a.amount_col.clone(), &line_total, "amount", false)?;
                    let price = pick(&header, None, &price_names, "price", false)?;
                    let qty = pick(&header, None, &quantity_names, "quantity", false)?;
                    match (amount, price, qty) {
                        (None, Some(Column::Name(p)), Some(Column::Name(q))) => {
                            return Err(format!(
                                "the file has a unit price ('{p}') and a quantity ('{q}') but no \
                                 line total: the amount of a line is their product; pass \
                                 --quantity-col '{q}' --price-col '{p}' (or --amount-col for a \
                                 column that already holds line totals)"
                            ));
                        }
                        (None, Some(Column::Name(p)), None) => {
                            price_as_amount = true;
                            (Some(Column::Name(p)), None)
                        }
                        (amount, _, _) => (amount, None),
                    }
                }
            };
            // the invoice matters only to netting and cancellation prefixes
            let wants_invoice = a.invoice_col.is_some()
                || a.cancel_prefix.is_some()
                || matches!(a.returns, ReturnsPolicy::Net);
            let invoice = if wants_invoice {
                pick(
                    &header,
                    a.invoice_col.clone(),
                    &[
                        "invoice",
                        "invoice_no",
                        "invoice_number",
                        "invoice_id",
                        "order_id",
                        "order_number",
                        "order_no",
                    ],
                    "invoice",
                    a.cancel_prefix.is_some(),
                )?
            } else {
                None
            };
            let name = |c: &Option<Column>| match c {
                Some(Column::Name(n)) => n.clone(),
                _ => "(none)".to_string(),
            };
            let separator = match delimiter {
                b',' => String::new(),
                b'\t' => " (fields separated by tabs)".to_string(),
                d => format!(" (fields separated by '{}')", d as char),
            };
            columns = Some(format!(
                "columns{separator}: customer '{}', date '{}', {}",
                name(&Some(customer.clone())),
                name(&Some(date.clone())),
                match &quantity {
                    Some(_) => format!("amount = '{}' × '{}'", name(&quantity), name(&amount)),
                    None if price_as_amount => format!(
                        "amount '{}' (no line-total column and no quantity to multiply it by: \
                         read as the amount of each line)",
                        name(&amount)
                    ),
                    None if amount.is_some() => format!("amount '{}'", name(&amount)),
                    None => "no amount column (amounts are 0)".to_string(),
                }
            ));
            if let Some(columns) = &mut columns {
                match &invoice {
                    Some(_) => columns.push_str(&format!(", invoice '{}'", name(&invoice))),
                    None if wants_invoice => columns.push_str(
                        ", no invoice column (returns net against purchases with the same \
                         timestamp, then the same day, then the latest earlier one)",
                    ),
                    None => {}
                }
            }
            TransactionFormat {
                customer,
                date,
                amount,
                quantity,
                invoice,
                delimiter: clv::io::Delimiter::Byte(delimiter),
                ..TransactionFormat::csv("", "", None)
            }
        }
    };
    if a.date_format.is_none()
        && matches!(a.format, Format::Csv)
        && let Column::Name(date_col) = &format.date
    {
        format.date_format = detect_date_format(&a.transactions, date_col, delimiter)?;
    }
    if a.date_format.is_some() {
        format.date_format = a.date_format.clone();
    }
    format.skip_missing_customer = a.skip_missing_customer;
    format.decimal_comma = a.decimal_comma;
    format.drop_zero_amounts = a.drop_zero_amounts;
    format.returns = match a.returns {
        ReturnsPolicy::Error => clv::io::Returns::Error,
        ReturnsPolicy::Drop => clv::io::Returns::Drop,
        ReturnsPolicy::Net => clv::io::Returns::Net,
    };
    format.cancel_prefix = a.cancel_prefix.clone().filter(|p| !p.is_empty());
    Ok((format, columns))
}

/// `clv summarize --discrete PERIOD`: each calendar period with a transaction is one
/// transaction opportunity (BG/BB's input), written as `customer_id, frequency, recency,
/// periods` (+ `frequency_holdout, duration_holdout`), `period`.
fn summarize_discrete(args: &SummarizeArgs, period: Opportunity) -> Res {
    let a = &args.log;
    let end = parse_date("calibration-end", &a.calibration_end)?;
    let obs = a
        .observation_end
        .as_ref()
        .map(|e| parse_date("observation-end", e))
        .transpose()?;
    let (format, columns) = log_format(a)?;
    let mut b = DiscreteBuilder::new(period, end, obs).map_err(s)?;
    // lines after the last day are skipped and counted, as in the continuous summary
    let last_day = obs.unwrap_or(end);
    let counts = clv::io::for_each_transaction_until(
        &a.transactions,
        &format,
        |t| t.date() > last_day,
        |row, customer, time, _| b.push(row, customer, time),
    )
    .map_err(s)?;
    let rows = counts.read;
    let out = b.finish().map_err(s)?;
    account_for_lines(
        a,
        &counts,
        columns.as_deref(),
        Some(&format!("{} customers", out.summary.len())),
    )?;
    let sm = &out.summary;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["customer_id", "frequency", "recency", "periods"];
    if out.frequency_holdout.is_some() {
        header.extend(["frequency_holdout", "duration_holdout"]);
    }
    header.push("period");
    w.write_record(&header).map_err(s)?;
    let ids = sm.ids().expect("a summary from a log has ids");
    for i in 0..sm.len() {
        let mut rec = vec![
            ids[i].clone(),
            sm.frequency()[i].to_string(),
            sm.recency()[i].to_string(),
            sm.periods()[i].to_string(),
        ];
        if let (Some(f), Some(d)) = (&out.frequency_holdout, out.duration_holdout) {
            rec.extend([f[i].to_string(), d.to_string()]);
        }
        rec.push(period_name(period).to_string());
        w.write_record(&rec).map_err(s)?;
    }
    let bytes = w.into_inner().map_err(s)?;
    write_atomic(&args.output, &bytes)?;
    eprintln!(
        "{rows} transactions -> {} customers, one opportunity per {} after each customer's \
         first, written to {}",
        sm.len(),
        period_name(period),
        args.output.display()
    );
    if out.born_later > 0 {
        eprintln!(
            "note: {} customers whose first transaction is after the calibration end's {} are \
             not in the summary (they are new in the holdout)",
            out.born_later,
            period_name(period)
        );
    }
    if out.end_is_partial {
        eprintln!(
            "warning: the calibration end {end} is not the last day of its {0}: that {0} counts \
             as an opportunity although it was only partly observed",
            period_name(period)
        );
    }
    Ok(())
}

fn period_name(p: Opportunity) -> &'static str {
    match p {
        Opportunity::Day => "day",
        Opportunity::Week => "week",
        Opportunity::Month => "month",
        Opportunity::Year => "year",
    }
}

/// The period of `summarize --discrete`.
#[derive(Clone, Copy, ValueEnum)]
pub enum DiscretePeriod {
    /// Calendar days.
    Day,
    /// ISO weeks (Monday to Sunday).
    Week,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

impl From<DiscretePeriod> for Opportunity {
    fn from(p: DiscretePeriod) -> Self {
        match p {
            DiscretePeriod::Day => Opportunity::Day,
            DiscretePeriod::Week => Opportunity::Week,
            DiscretePeriod::Month => Opportunity::Month,
            DiscretePeriod::Year => Opportunity::Year,
        }
    }
}

pub fn summarize(args: SummarizeArgs) -> Res {
    if let Some(p) = args.discrete {
        return summarize_discrete(&args, p.into());
    }
    let progress = Progress::new();
    let pb = progress.step("reading and summarising the transaction log");
    let Log { rows, out, .. } = read_log(&args.log)?;
    progress.done(pb, format!("{rows} transactions read"));
    let sm = &out.summary;
    // litt (the sum of log inter-purchase times, which the Erlang-k models need) and the unit
    // travel with the data: `clv fit` takes them from here
    clv::io::write_summary_csv(&args.output, sm).map_err(s)?;
    eprintln!(
        "{rows} transactions -> {} customers written to {}",
        sm.len(),
        args.output.display()
    );
    if let Some(r) = &out.regularity {
        eprintln!("note: {}", r.advice());
    }
    if !out.first_seen_in_holdout.is_empty() {
        eprintln!(
            "note: {} customers made their first purchase after the calibration end and are not in the summary (e.g. {})",
            out.first_seen_in_holdout.len(),
            out.first_seen_in_holdout[0]
        );
    }
    Ok(())
}

pub fn fit(
    summary: &Path,
    model: &str,
    penalizer: f64,
    unit: Option<TimeUnit>,
    cov: &crate::covariates::CovArgs,
    output: &Path,
) -> Res {
    if cov.covariates.is_some() {
        let how = match unit {
            Some(u) => SummaryUnit::Expect(u),
            None => SummaryUnit::RecordedOr(TimeUnit::Weeks),
        };
        let sm: RfmSummary = read_summary_csv(summary, how).map_err(s)?;
        let opts = FitOptions::default().with_penalizer(penalizer).map_err(s)?;
        return crate::covariates::fit_with_covariates(&sm, model, &opts, cov, output);
    }
    if model == crate::BGBB {
        return fit_discrete(summary, penalizer, unit.unwrap_or(TimeUnit::Weeks), output);
    }
    let how = match unit {
        Some(u) => SummaryUnit::Expect(u),
        None => SummaryUnit::RecordedOr(TimeUnit::Weeks),
    };
    let opts = FitOptions::default().with_penalizer(penalizer).map_err(s)?;
    if model != crate::GAMMA_GAMMA && !model.ends_with("cnbd") {
        return fit_histories(summary, model, how, &opts, output);
    }
    let sm: RfmSummary = read_summary_csv(summary, how).map_err(s)?;
    let t0 = Instant::now();
    let progress = Progress::new();
    let pb = progress.step(&format!("fitting {model}"));
    // (only the spend model can meet a zero mean spend)
    let (label, table, warnings, file) = if model == crate::GAMMA_GAMMA {
        let f = clv::fit::fit::<GammaGammaParams>(&sm, &opts).map_err(spend_error)?;
        let label = <GammaGammaParams as MaximumLikelihood>::LABEL;
        (
            label,
            parameter_table(&f),
            f.warnings().to_vec(),
            ModelFile::from_fitted(&f),
        )
    } else {
        let f = AnyFitted::fit(model, &sm, &opts).map_err(s)?;
        (
            f.label(),
            any_parameter_table(&f),
            f.warnings().to_vec(),
            f.to_model_file(),
        )
    };
    let elapsed = t0.elapsed();
    progress.done(pb, format!("{label} fitted"));
    println!(
        "{label} on {} customers, times in {} ({:.2} ms)",
        sm.len(),
        sm.unit(),
        elapsed.as_secs_f64() * 1e3
    );
    print!("{table}");
    for w in warnings {
        println!("{}: {w}", w.severity());
    }
    let json = file.to_json().map_err(s)?;
    write_atomic(output, json.as_bytes())?;
    eprintln!("model written to {}", output.display());
    Ok(())
}

/// `clv fit` for the models that need only the histories (x, t_x, T): the summary is read
/// compressed, without its ids or other columns, so memory follows the distinct histories.
fn fit_histories(
    summary: &Path,
    model: &str,
    how: SummaryUnit,
    opts: &FitOptions,
    output: &Path,
) -> Res {
    let (data, unit, _) = clv::io::read_summary_compressed(summary, how).map_err(s)?;
    let t0 = Instant::now();
    let progress = Progress::new();
    let pb = progress.step(&format!("fitting {model}"));
    let f = AnyFitted::fit_compressed(model, &data, unit, opts)
        .ok_or_else(|| format!("{model} needs the whole summary"))?
        .map_err(s)?;
    let elapsed = t0.elapsed();
    progress.done(pb, format!("{} fitted", f.label()));
    println!(
        "{} on {} customers, times in {unit} ({:.2} ms)",
        f.label(),
        data.total_weight(),
        elapsed.as_secs_f64() * 1e3
    );
    print!("{}", any_parameter_table(&f));
    for w in f.warnings() {
        println!("{}: {w}", w.severity());
    }
    let json = f.to_model_file().to_json().map_err(s)?;
    write_atomic(output, json.as_bytes())?;
    eprintln!("model written to {}", output.display());
    Ok(())
}

/// The parameter table and warnings of a fit on stdout, and its model file at `output`.
fn print_and_write<M: MaximumLikelihood>(f: &Fitted<M>, output: &Path) -> Res {
    print!("{}", parameter_table(f));
    for w in f.warnings() {
        println!("{}: {w}", w.severity());
    }
    let json = ModelFile::from_fitted(f).to_json().map_err(s)?;
    write_atomic(output, json.as_bytes())?;
    eprintln!("model written to {}", output.display());
    Ok(())
}

/// `clv fit --model bgbb`: a discrete-time summary (frequency, recency, periods, optional
/// weights), whose unit is the length of one opportunity (`--unit`, weeks by default; it
/// labels the model, every BG/BB horizon counts opportunities).
fn fit_discrete(summary: &Path, penalizer: f64, unit: TimeUnit, output: &Path) -> Res {
    use clv::models::bgbb::BgBbParams;
    let d = clv::io::read_discrete_csv(summary, unit).map_err(s)?;
    let opts = FitOptions::default().with_penalizer(penalizer).map_err(s)?;
    let t0 = Instant::now();
    let f = BgBbParams::fit(&d, &opts).map_err(s)?;
    let elapsed = t0.elapsed();
    println!(
        "BG/BB on {} customers ({} distinct histories), opportunities in {} ({:.2} ms)",
        d.n_customers(),
        f.n_rows(),
        d.unit(),
        elapsed.as_secs_f64() * 1e3
    );
    print_and_write(&f, output)
}

/// `clv fit --model sbg --survival F`: contractual survival data (cohort counts or one row per
/// customer); `--unit` labels the period (weeks by default).
pub fn fit_survival(
    file: &Path,
    model: &str,
    cohort: Option<&str>,
    calibration_periods: Option<u32>,
    penalizer: f64,
    unit: Option<TimeUnit>,
    output: &Path,
) -> Res {
    use clv::models::sbg::SbgParams;
    if model != crate::SBG {
        return Err(format!(
            "--survival is data for --model sbg, not {model} (which takes --summary)"
        ));
    }
    let unit = unit.unwrap_or(TimeUnit::Weeks);
    let sf = clv::io::read_survival_csv(file, cohort, calibration_periods, unit).map_err(s)?;
    let opts = FitOptions::default().with_penalizer(penalizer).map_err(s)?;
    let t0 = Instant::now();
    let f = SbgParams::fit(&sf.data, &opts).map_err(s)?;
    let elapsed = t0.elapsed();
    let what = match (&sf.cohort, sf.calibration_periods) {
        (Some(c), Some(n)) => format!("cohort {c}, periods 0..={n}"),
        (Some(c), None) => format!("cohort {c}"),
        (None, Some(n)) => format!("periods 0..={n}"),
        (None, None) => "per-customer records".to_string(),
    };
    println!(
        "sBG on {} customers ({what}), periods in {} ({:.2} ms)",
        sf.data.n_customers(),
        sf.data.unit(),
        elapsed.as_secs_f64() * 1e3
    );
    print_and_write(&f, output)
}

/// `clv retention`.
#[derive(clap::Args)]
pub struct RetentionArgs {
    /// An sbg model file (`clv fit --model sbg`).
    #[arg(long)]
    model: PathBuf,
    /// Cohort counts to show beside the model (cohort,period|year,alive).
    #[arg(long)]
    survival: Option<PathBuf>,
    /// The cohort of --survival.
    #[arg(long, requires = "survival")]
    cohort: Option<String>,
    /// Periods to tabulate, 0..=N (default: the file's, or 12).
    #[arg(long)]
    periods: Option<u32>,
    /// Discount rate per period for DERL (default 0.1).
    #[arg(long, default_value_t = 0.1)]
    discount_rate: f64,
    /// Margin per period: adds the residual value per customer (margin × DERL).
    #[arg(long)]
    margin: Option<f64>,
    /// Output CSV.
    #[arg(short, long)]
    output: PathBuf,
}

/// The sBG table: per period t, S(t), r(t), P(T = t), DERL of a customer with t renewals, the
/// observed share and whether t was in the calibration; the constant-retention comparison on
/// stderr.
pub fn retention(a: RetentionArgs) -> Res {
    use clv::models::sbg::SbgParams;
    let text = std::fs::read_to_string(&a.model)
        .map_err(|e| format!("cannot read {}: {e}", a.model.display()))?;
    let file = ModelFile::from_json(&text).map_err(s)?;
    if file.model != crate::SBG {
        return Err(format!(
            "{} holds a '{}' model; clv retention needs an sbg model (clv fit --model sbg)",
            a.model.display(),
            file.model
        ));
    }
    let f = file.to_fitted::<SbgParams>().map_err(s)?;
    let m = *f.params();
    let observed = match &a.survival {
        Some(p) => Some(
            clv::io::read_survival_csv(p, a.cohort.as_deref(), None, f.time_unit()).map_err(s)?,
        ),
        None => None,
    };
    let obs = observed.as_ref().and_then(|o| o.observed.clone());
    let n = a
        .periods
        .or_else(|| obs.as_ref().map(|o| o.len().saturating_sub(1) as u32))
        .unwrap_or(12);
    let d = a.discount_rate;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["period", "survival", "retention", "churn", "derl"];
    if a.margin.is_some() {
        header.push("residual_value");
    }
    if obs.is_some() {
        header.extend(["observed_survival", "observed_retention"]);
    }
    w.write_record(&header).map_err(s)?;
    for t in 0..=n {
        let derl = m.derl(d, t + 1).map_err(s)?;
        let mut rec = vec![
            t.to_string(),
            fmt_num(m.survival(t)),
            fmt_num(m.retention(t)),
            fmt_num(m.churn_at(t)),
            fmt_num(derl),
        ];
        if let Some(margin) = a.margin {
            rec.push(fmt_num(margin * derl));
        }
        if let Some(o) = &obs {
            let (now, before) = (
                o.get(t as usize),
                t.checked_sub(1).and_then(|p| o.get(p as usize)),
            );
            rec.push(now.map_or(String::new(), |v| fmt_num(v / o[0])));
            rec.push(match (now, before) {
                (Some(v), Some(b)) if *b > 0.0 => fmt_num(v / b),
                _ => String::new(),
            });
        }
        w.write_record(&rec).map_err(s)?;
    }
    let bytes = w.into_inner().map_err(s)?;
    write_atomic(&a.output, &bytes)?;
    // what ignoring heterogeneity would say: one retention rate, the cohort's mean churn
    let mean_retention = m.beta() / (m.alpha() + m.beta());
    let flat = SbgParams::constant_retention_derl(mean_retention, d).map_err(s)?;
    eprintln!(
        "DERL at d = {d} of a new customer: {:.4} (sBG) against {:.4} from a constant retention \
         of {:.4} (the mean; FH 2010: ignoring heterogeneity misvalues the base); after 4 \
         renewals {:.4} against the same {:.4}",
        m.derl(d, 1).map_err(s)?,
        flat,
        mean_retention,
        m.derl(d, 5).map_err(s)?,
        flat
    );
    // the cohort's residual value: its customers active at the last observed period, each
    // with that many renewals made, times margin × DERL
    if let (Some(o), Some(margin)) = (&obs, a.margin) {
        let last = o.len() - 1;
        let v = m
            .residual_value(&[(last as u32, o[last])], margin, d)
            .map_err(s)?;
        eprintln!(
            "residual value of the {} customers active at period {last}: {:.2} (margin {margin} \
             per period, d = {d})",
            o[last], v
        );
    }
    eprintln!("retention table written to {}", a.output.display());
    Ok(())
}

/// The period a --discount-rate is stated for.
#[derive(Clone, Copy, ValueEnum)]
pub enum DiscountPer {
    /// Per year of 365.25 days.
    Year,
    /// Per week (7 days).
    Week,
    /// Per day.
    Day,
    /// Per discounting step (--step).
    Step,
}

/// A `--horizon`-like argument in `unit`, its conversion (if any) said on stderr.
fn span_in(flag: &str, text: &str, unit: TimeUnit) -> Result<f64, String> {
    let (v, note) = text
        .parse::<Span>()
        .map_err(|e| format!("{flag} {e}"))?
        .in_unit(unit);
    if let Some(n) = note {
        eprintln!("{}: {n}", flag.trim_start_matches('-'));
    }
    Ok(v)
}

/// Horizon and CLV valuation options shared by `predict` and `segment`.
#[derive(clap::Args)]
pub struct ValueArgs {
    /// Horizon: a number in the model's time unit, or with a unit (364d, 52w, 1y = 365.25
    /// days), converted to the model's unit.
    #[arg(long)]
    pub horizon: String,
    /// Discount rate for CLV (effective rate per --discount-per); default 0.
    #[arg(long, default_value_t = 0.0)]
    pub discount_rate: f64,
    /// The period the discount rate is stated for.
    #[arg(long, value_enum, default_value = "year")]
    pub discount_per: DiscountPer,
    /// Length of a CLV discounting step: in the model's time unit, or with a unit like
    /// --horizon (default 1, one unit of the model).
    #[arg(long, default_value = "1")]
    pub step: String,
    /// Profit margin applied to spend (default 1: revenue).
    #[arg(long, default_value_t = 1.0)]
    pub margin: f64,
}

impl ValueArgs {
    /// The horizon in the model's `unit`; a conversion from another unit is said on stderr.
    pub fn horizon_in(&self, unit: TimeUnit) -> Result<f64, String> {
        span_in("--horizon", &self.horizon, unit)
    }

    /// The CLV options these arguments describe, for a model fitted in `unit`.
    pub fn clv_options(&self, unit: TimeUnit) -> Result<ClvOptions, String> {
        let horizon = self
            .horizon
            .parse::<Span>()
            .map_err(|e| format!("--horizon {e}"))?
            .in_unit(unit)
            .0;
        let step = span_in("--step", &self.step, unit)?;
        let discount = match self.discount_per {
            DiscountPer::Year => DiscountRate::annual(self.discount_rate),
            DiscountPer::Week => DiscountRate::per_unit(self.discount_rate, TimeUnit::Weeks),
            DiscountPer::Day => DiscountRate::per_unit(self.discount_rate, TimeUnit::Days),
            DiscountPer::Step => DiscountRate::per_period(self.discount_rate, step, unit),
        }
        .map_err(s)?;
        ClvOptions::new(horizon, unit)
            .and_then(|o| o.with_step(step.min(horizon)))
            .and_then(|o| o.with_margin(self.margin))
            .and_then(|o| o.with_discount(discount))
            .map_err(s)
    }
}

/// The fitted models and the customers to score (shared by `predict` and `segment`).
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Transaction model file written by `clv fit` (any transaction model).
    #[arg(long)]
    pub model: PathBuf,
    /// Spend model file written by `clv fit --model gamma-gamma`: adds expected spend and CLV.
    #[arg(long)]
    pub spend_model: Option<PathBuf>,
    /// Summary CSV of the customers (with monetary_value for CLV).
    #[arg(long)]
    pub summary: PathBuf,
}

/// A transaction model (any kind) and an optional spend model.
pub type Models = (AnyFitted, Option<Fitted<GammaGammaParams>>);

/// Loads the transaction model file and, when given, the spend model file.
pub fn load_models(model: &Path, spend: Option<&PathBuf>) -> Result<Models, String> {
    let file = load_model_file(model)?;
    let tm = AnyFitted::from_model_file(&file).map_err(|e| format!("{}: {e}", model.display()))?;
    let gg = match spend {
        Some(p) => Some(
            load_model_file(p)?
                .to_fitted()
                .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    Ok((tm, gg))
}

/// Reads the customers to score: a summary that records its unit must be in the model's; one
/// that records none is read in the model's unit, and the note saying so is returned, for the
/// command to print once it has succeeded (an error stays one line).
pub fn read_scored_summary(
    path: &Path,
    tm: &AnyFitted,
) -> Result<(RfmSummary, Option<String>), String> {
    let (sm, recorded) =
        clv::io::read_summary_csv_noting_unit(path, SummaryUnit::RecordedOr(tm.time_unit()))
            .map_err(s)?;
    tm.check_unit(&sm)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let note = recorded.is_none().then(|| {
        format!(
            "note: {} records no time unit (no time_unit column); its times were read in the \
             model's unit, {}",
            path.display(),
            tm.time_unit()
        )
    });
    Ok((sm, note))
}

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    inputs: ModelArgs,
    #[command(flatten)]
    value: ValueArgs,
    /// Add intervals at this level (e.g. 0.9): bootstrap intervals of the expected values
    /// (*_ci_low / *_ci_high: the parameters' uncertainty) and predictive intervals of what the
    /// customer will actually do: purchases (purchases_pi_low / purchases_pi_high, quantiles
    /// of the conditional pmf) and, with a spend model, CLV (clv_pi_low / clv_pi_high,
    /// simulated purchases and spend).
    #[arg(long)]
    intervals: Option<f64>,
    /// Bootstrap draws for --intervals.
    #[arg(long, default_value_t = 200)]
    draws: usize,
    /// Customer covariates (a CSV keyed by customer id) for a model fitted with
    /// `--covariates`: each customer is scored with their own parameters.
    #[arg(long)]
    covariates: Option<PathBuf>,
    /// Simulated futures per customer for the CLV predictive interval.
    #[arg(long, default_value_t = 2000)]
    pi_draws: usize,
    /// Seed of the bootstrap and the simulations (same seed, same intervals).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output CSV.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn load_model_file(path: &Path) -> Result<ModelFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    ModelFile::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `clv predict` with a model fitted with covariates: each customer scored with their own
/// parameters (`--covariates` required).
fn predict_covariates(a: &PredictArgs, file: &ModelFile) -> Res {
    let path = a.covariates.as_ref().ok_or_else(|| {
        format!(
            "{} holds a {} model: pass the customers' covariates with --covariates",
            a.inputs.model.display(),
            file.model
        )
    })?;
    let (sm, _) = clv::io::read_summary_csv_noting_unit(
        &a.inputs.summary,
        SummaryUnit::RecordedOr(file.time_unit),
    )
    .map_err(s)?;
    let unit = file.time_unit;
    let horizon = a.value.horizon_in(unit)?;
    use clv::models::spend_covariates::SpendWithCovariates;
    // the spend model: one Gamma-Gamma, or one fitted with spend covariates
    let spend_file = a
        .inputs
        .spend_model
        .as_ref()
        .map(|p| load_model_file(p))
        .transpose()?;
    let with_cov = spend_file
        .as_ref()
        .is_some_and(|f| f.model.ends_with("-cov"));
    let plain = match &spend_file {
        Some(f) if !with_cov => Some(f.to_fitted::<GammaGammaParams>().map_err(s)?),
        _ => None,
    };
    let covs = match &spend_file {
        Some(f) if with_cov => Some(f.to_fitted::<SpendWithCovariates>().map_err(s)?),
        _ => None,
    };
    let spend = match (&plain, &covs) {
        (Some(g), _) => Some(crate::covariates::Spend::Plain(g.params())),
        (_, Some(m)) => Some(crate::covariates::Spend::Covariates(m.params())),
        _ => None,
    };
    let opts = a.value.clv_options(unit)?;
    let preds = crate::covariates::predict_with_covariates(
        file,
        path,
        &sm,
        horizon,
        spend.map(|sp| (sp, &opts)),
        a.intervals.map(|level| crate::covariates::Intervals {
            level,
            draws: a.pi_draws,
            seed: a.seed,
        }),
    )?;
    if a.intervals.is_some() {
        eprintln!(
            "with covariates, --intervals gives the predictive intervals (what each customer will \
             do); the bootstrap intervals of the expected values are not available yet"
        );
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "customer_id",
        "p_alive",
        "expected_purchases",
        "prob_no_purchase",
    ];
    if spend.is_some() {
        header.extend(["expected_spend", "clv"]);
    }
    if a.intervals.is_some() {
        header.extend(["purchases_pi_low", "purchases_pi_high"]);
        if spend.is_some() {
            header.extend(["clv_pi_low", "clv_pi_high"]);
        }
    }
    w.write_record(&header).map_err(s)?;
    for (id, p) in sm.ids().iter().zip(&preds) {
        let mut rec = vec![
            id.clone(),
            fmt_num(p.p_alive),
            fmt_num(p.expected_purchases),
            fmt_num(p.prob_no_purchase),
        ];
        if let Some((es, v)) = p.value {
            rec.extend([fmt_num(es), fmt_num(v)]);
        }
        if let Some((lo, hi)) = p.purchases_pi {
            rec.extend([lo.to_string(), hi.to_string()]);
        }
        if let Some((lo, hi)) = p.clv_pi {
            rec.extend([fmt_num(lo), fmt_num(hi)]);
        }
        w.write_record(&rec).map_err(s)?;
    }
    write_atomic(&a.output, &w.into_inner().map_err(s)?)?;
    eprintln!(
        "{} customers scored with their own covariates for a horizon of {horizon} {unit} -> {}",
        sm.len(),
        a.output.display()
    );
    Ok(())
}

/// `clv predict` with a BG/BB model: per row of a discrete summary, P(alive) now and at the
/// next opportunity, the expected transactions and the probability of none in the next
/// `--horizon` opportunities, and with `--discount-rate` (per opportunity) DERT.
fn predict_discrete(a: &PredictArgs, file: &ModelFile) -> Res {
    use clv::models::bgbb::BgBbParams;
    let f = file.to_fitted::<BgBbParams>().map_err(s)?;
    let m = *f.params();
    let d = clv::io::read_discrete_csv(&a.inputs.summary, f.time_unit()).map_err(s)?;
    let horizon: u32 = a.value.horizon.trim().parse().map_err(|_| {
        format!(
            "--horizon for a bgbb model is a whole number of opportunities, got '{}'",
            a.value.horizon
        )
    })?;
    let rate = a.value.discount_rate;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "customer_id",
        "frequency",
        "recency",
        "periods",
        "p_alive",
        "p_alive_next",
        "expected_transactions",
        "prob_no_transaction",
    ];
    if rate > 0.0 {
        header.push("dert");
    }
    w.write_record(&header).map_err(s)?;
    for i in 0..d.len() {
        let h = d.history(i);
        let id = d
            .ids()
            .map_or_else(|| (i + 1).to_string(), |ids| ids[i].clone());
        let mut rec = vec![
            id,
            h.frequency().to_string(),
            h.recency().to_string(),
            h.periods().to_string(),
            fmt_num(m.p_alive(&h, 0)),
            fmt_num(m.p_alive(&h, 1)),
            fmt_num(
                m.conditional_expected_transactions(&h, horizon)
                    .map_err(s)?,
            ),
            fmt_num(m.conditional_pmf(&h, 0, horizon).map_err(s)?),
        ];
        if rate > 0.0 {
            rec.push(fmt_num(m.dert(&h, rate).map_err(s)?));
        }
        w.write_record(&rec).map_err(s)?;
    }
    let bytes = w.into_inner().map_err(s)?;
    write_atomic(&a.output, &bytes)?;
    eprintln!(
        "{} rows scored over the next {horizon} opportunities{}, written to {}",
        d.len(),
        if rate > 0.0 {
            format!(" (DERT at {rate} per opportunity)")
        } else {
            String::new()
        },
        a.output.display()
    );
    Ok(())
}

/// `clv predict` without intervals: the summary streams through in chunks scored on all cores
/// and written in order, so memory stays a few chunks whatever the number of customers. The
/// output goes to a temporary file beside the target, renamed into place on success.
fn predict_streaming(
    a: &PredictArgs,
    fitted: &AnyFitted,
    gg: Option<&Fitted<GammaGammaParams>>,
) -> Res {
    use std::io::Write;
    let unit = fitted.time_unit();
    let horizon = a.value.horizon_in(unit)?;
    let opts = match gg {
        Some(_) => Some(a.value.clv_options(unit)?),
        None => None,
    };
    let mut header = String::from("customer_id,p_alive,expected_purchases,prob_no_purchase");
    if gg.is_some() {
        header.push_str(",expected_spend,clv");
    }
    header.push('\n');
    let progress = Progress::new();
    let pb = progress.step("reading the summary and scoring");
    let tmp = crate::output::temp_beside(&a.output)?;
    let file =
        std::fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let write_error = |e: std::io::Error| clv::Error::Io {
        path: tmp.display().to_string(),
        message: e.to_string(),
        source: None,
    };
    let score_chunk = |chunk: &RfmSummary| -> clv::Result<Vec<u8>> {
        fitted.check_unit(chunk)?;
        let scores = fitted.score(chunk, horizon)?;
        let values = match (gg, &opts) {
            (Some(gg), Some(o)) => Some(fitted.values(gg.params(), chunk, o)?),
            _ => None,
        };
        let mut out = Vec::with_capacity(chunk.len() * 96);
        for (i, sc) in scores.iter().enumerate() {
            clv::io::write_csv_field(&mut out, &chunk.ids()[i]);
            for v in [sc.p_alive, sc.expected_purchases, sc.prob_no_purchase] {
                out.push(b',');
                clv::io::write_number(&mut out, v);
            }
            if let (Some(gg), Some(values)) = (gg, &values) {
                let m = chunk.monetary_value().expect("checked by values");
                let spend = gg
                    .params()
                    .conditional_expected_spend(chunk.frequency()[i], m[i])?;
                for v in [spend, values[i]] {
                    out.push(b',');
                    clv::io::write_number(&mut out, v);
                }
            }
            out.push(b'\n');
        }
        Ok(out)
    };
    let result = w
        .write_all(header.as_bytes())
        .map_err(write_error)
        .and_then(|()| {
            clv::io::for_each_summary_chunk(
                &a.inputs.summary,
                SummaryUnit::RecordedOr(unit),
                score_chunk,
                |bytes| w.write_all(&bytes).map_err(write_error),
            )
        })
        .and_then(|done| w.flush().map(|()| done).map_err(write_error));
    let (n, recorded) = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(match e {
                clv::Error::UnitMismatch { .. } => {
                    format!("{}: {e}", a.inputs.summary.display())
                }
                e => spend_error(e),
            });
        }
    };
    drop(w);
    std::fs::rename(&tmp, &a.output).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", a.output.display())
    })?;
    progress.done(pb, format!("{n} customers scored"));
    if recorded.is_none() {
        eprintln!(
            "note: {} records no time unit (no time_unit column); its times were read in the \
             model's unit, {unit}",
            a.inputs.summary.display()
        );
    }
    eprintln!(
        "{n} customers scored for a horizon of {horizon} {unit} -> {}",
        a.output.display()
    );
    Ok(())
}

pub fn predict(a: PredictArgs) -> Res {
    let file = load_model_file(&a.inputs.model)?;
    if file.model.ends_with("-cov") {
        return predict_covariates(&a, &file);
    }
    if a.covariates.is_some() {
        return Err(format!(
            "{} holds a {} model without covariates: --covariates is for a model fitted with them",
            a.inputs.model.display(),
            file.model
        ));
    }
    if file.model == crate::BGBB {
        return predict_discrete(&a, &file);
    }
    if file.model == crate::SBG {
        return Err(format!(
            "{} holds an sbg model, which predicts retention, not purchases: use clv retention",
            a.inputs.model.display()
        ));
    }
    let (fitted, gg) = load_models(&a.inputs.model, a.inputs.spend_model.as_ref())?;
    if a.intervals.is_none() {
        return predict_streaming(&a, &fitted, gg.as_ref());
    }
    let unit = fitted.time_unit();
    let progress = Progress::new();
    let pb = progress.step("reading the summary and scoring");
    let (sm, unit_note) = read_scored_summary(&a.inputs.summary, &fitted)?;
    let horizon = a.value.horizon_in(unit)?;
    let scores = fitted.score(&sm, horizon).map_err(s)?;
    progress.done(pb, format!("{} customers scored", sm.len()));
    let mut header = vec![
        "customer_id",
        "p_alive",
        "expected_purchases",
        "prob_no_purchase",
    ];
    let mut extra: Vec<(f64, f64)> = Vec::new();
    let mut spend_fit: Option<(Fitted<GammaGammaParams>, ClvOptions)> = None;
    if let Some(gg) = gg {
        let opts = a.value.clv_options(unit)?;
        let values = fitted.values(gg.params(), &sm, &opts).map_err(s)?;
        let m = sm.monetary_value().expect("checked by summary_values");
        for (i, v) in values.into_iter().enumerate() {
            let spend = gg
                .params()
                .conditional_expected_spend(sm.frequency()[i], m[i])
                .map_err(s)?;
            extra.push((spend, v));
        }
        header.extend(["expected_spend", "clv"]);
        spend_fit = Some((gg, opts));
    }
    let bands = match a.intervals {
        Some(level) => {
            let bo = BootstrapOptions::new(a.draws, level, a.seed).map_err(s)?;
            let t0 = Instant::now();
            let pb = progress.step(&format!("bootstrap intervals ({} draws)", a.draws));
            let iv = fitted
                .intervals(
                    spend_fit.as_ref().map(|f| &f.0),
                    &sm,
                    horizon,
                    spend_fit.as_ref().map(|f| &f.1),
                    &bo,
                )
                .map_err(s)?;
            progress.done(pb, "bootstrap intervals done".into());
            eprintln!(
                "bootstrap intervals ({} draws): {:.2} s",
                a.draws,
                t0.elapsed().as_secs_f64()
            );
            // ci: the parameters' uncertainty about the expected value (bootstrap); pi: where
            // the customer's actual purchases will fall (the conditional pmf's quantiles)
            header.extend([
                "p_alive_ci_low",
                "p_alive_ci_high",
                "expected_purchases_ci_low",
                "expected_purchases_ci_high",
            ]);
            if spend_fit.is_some() {
                header.extend(["clv_ci_low", "clv_ci_high"]);
            }
            header.extend(["purchases_pi_low", "purchases_pi_high"]);
            let pi = clv::predictive::purchase_intervals(&fitted.params(), &sm, horizon, level)
                .map_err(s)?;
            let value_pi = match &spend_fit {
                Some((gg, opts)) => {
                    header.extend(["clv_pi_low", "clv_pi_high"]);
                    clv::predictive::value_intervals(
                        &fitted.params(),
                        gg.params(),
                        &sm,
                        opts,
                        level,
                        a.pi_draws,
                        a.seed,
                    )
                    .map_err(s)?
                    .into_iter()
                    .map(Some)
                    .collect()
                }
                None => vec![None; sm.len()],
            };
            if let Some(h) = sm.holdout()
                && (h.duration - horizon).abs() < 1e-9
            {
                let inside = pi
                    .iter()
                    .zip(&h.frequency)
                    .filter(|(i, y)| i.contains(**y))
                    .count();
                eprintln!(
                    "the summary's holdout: actual purchases inside the {:.0}% predictive \
                     interval for {inside} of {} customers ({:.1}%)",
                    level * 100.0,
                    sm.len(),
                    100.0 * inside as f64 / sm.len().max(1) as f64
                );
            }
            iv.into_iter()
                .zip(pi)
                .zip(value_pi)
                .map(|((b, p), v)| (b, p, v))
                .collect()
        }
        None => Vec::new(),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(s)?;
    for (i, (id, sc)) in sm.ids().iter().zip(&scores).enumerate() {
        let mut rec = vec![
            id.clone(),
            fmt_num(sc.p_alive),
            fmt_num(sc.expected_purchases),
            fmt_num(sc.prob_no_purchase),
        ];
        if let Some((spend, v)) = extra.get(i) {
            rec.extend([fmt_num(*spend), fmt_num(*v)]);
        }
        if let Some((b, pi, value_pi)) = bands.get(i) {
            rec.extend([
                fmt_num(b.p_alive.low),
                fmt_num(b.p_alive.high),
                fmt_num(b.expected_purchases.low),
                fmt_num(b.expected_purchases.high),
            ]);
            if let Some(c) = b.clv {
                rec.extend([fmt_num(c.low), fmt_num(c.high)]);
            }
            rec.extend([pi.low.to_string(), pi.high.to_string()]);
            if let Some(v) = value_pi {
                rec.extend([fmt_num(v.low), fmt_num(v.high)]);
            }
        }
        w.write_record(&rec).map_err(s)?;
    }
    write_atomic(&a.output, &w.into_inner().map_err(s)?)?;
    if let Some(n) = unit_note {
        eprintln!("{n}");
    }
    eprintln!(
        "{} customers scored for a horizon of {} {} -> {}",
        sm.len(),
        horizon,
        unit,
        a.output.display()
    );
    Ok(())
}
