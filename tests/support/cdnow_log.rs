//! The CDNOW sample summarised from its transaction log (calibration to 1997-09-30, holdout to
//! 1998-06-30, weeks): the summary with litt and holdout columns that several test files use.
//! Included with `#[path = "support/cdnow_log.rs"] mod cdnow_log;`.

use chrono::NaiveDate;
use clv::io::{TransactionFormat, read_transactions_into};
use clv::{RfmSummary, SummaryBuilder, SummaryOptions, TimeUnit};

/// The summary of `data/CDNOW_sample.txt` (2,357 customers, 6,919 transactions).
pub fn cdnow_from_log() -> RfmSummary {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
        .with_observation_end(d(1998, 6, 30))
        .unwrap();
    let mut b = SummaryBuilder::new(opts);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    read_transactions_into(path, &TransactionFormat::cdnow_sample(), &mut b).unwrap();
    b.finish().unwrap().summary
}
