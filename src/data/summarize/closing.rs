//! Finishing a summary: each customer's account folded into the summary's columns, on one
//! builder or on the shards of a log read on all cores (each shard folded on its own thread,
//! the columns then merged in order of first appearance).

use super::{Account, Folded, Summarized, SummaryBuilder};
use crate::data::{History, Holdout, RfmSummary, TimeUnit};
use crate::error::{Error, Result};
use chrono::NaiveDateTime;

/// What folding an account needs from the builder's options.
#[derive(Debug, Clone, Copy)]
pub(super) struct Closing {
    cal_key: i64,
    obs_key: Option<i64>,
    unit: TimeUnit,
    /// ln of one second in the summary's unit: litt = Σ ln(gap in seconds) + x ln(that).
    ln_second: f64,
}

/// Where one customer went: not in the summary (first purchase in the holdout), or in it,
/// with or without a pair of calibration gaps for the regularity estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Holdout,
    Kept { gap: bool },
}

/// The summary's columns, filled one customer at a time.
#[derive(Debug, Default)]
struct Columns {
    ids: Vec<String>,
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    m: Vec<f64>,
    litt: Vec<f64>,
    hx: Vec<f64>,
    hm: Vec<f64>,
    first_purchase: Vec<NaiveDateTime>,
    calibration_spend: Vec<f64>,
    gap_pairs: Vec<(f64, f64)>,
    first_seen_in_holdout: Vec<String>,
}

impl Columns {
    fn with_capacity(n: usize, holdout: bool) -> Self {
        let h = if holdout { n } else { 0 };
        Columns {
            ids: Vec::with_capacity(n),
            x: Vec::with_capacity(n),
            t_x: Vec::with_capacity(n),
            t: Vec::with_capacity(n),
            m: Vec::with_capacity(n),
            litt: Vec::with_capacity(n),
            hx: Vec::with_capacity(h),
            hm: Vec::with_capacity(h),
            first_purchase: Vec::with_capacity(n),
            calibration_spend: Vec::with_capacity(n),
            gap_pairs: Vec::new(),
            first_seen_in_holdout: Vec::new(),
        }
    }

    /// Moves the `j`-th kept customer of `from` to the end of `self` (and their gap pair, the
    /// `g`-th of `from`, when they have one).
    fn take_kept(&mut self, from: &mut Columns, j: usize, gap: Option<usize>) {
        self.ids.push(std::mem::take(&mut from.ids[j]));
        self.x.push(from.x[j]);
        self.t_x.push(from.t_x[j]);
        self.t.push(from.t[j]);
        self.m.push(from.m[j]);
        self.litt.push(from.litt[j]);
        if let (Some(&hx), Some(&hm)) = (from.hx.get(j), from.hm.get(j)) {
            self.hx.push(hx);
            self.hm.push(hm);
        }
        self.first_purchase.push(from.first_purchase[j]);
        self.calibration_spend.push(from.calibration_spend[j]);
        if let Some(g) = gap {
            self.gap_pairs.push(from.gap_pairs[g]);
        }
    }
}

impl Closing {
    pub(super) fn of(b: &SummaryBuilder) -> Self {
        let unit = b.options.unit;
        Closing {
            cal_key: b.cal_key,
            obs_key: b.obs_key,
            unit,
            ln_second: unit.from_seconds(1).ln(),
        }
    }

    /// A customer's occasions folded, the open one closed.
    fn fold(&self, acc: Account) -> Folded {
        let cal_key = self.cal_key;
        match acc {
            Account::InOrder { mut folded, open } => {
                folded.close(open.0, open.1, cal_key);
                folded
            }
            Account::All(mut v) => {
                v.sort_by_key(|o| o.0);
                let mut folded = Folded::default();
                let mut open: Option<(i64, f64)> = None;
                for (k, a) in v {
                    match &mut open {
                        Some(o) if o.0 == k => o.1 += a,
                        _ => {
                            if let Some(o) = open {
                                folded.close(o.0, o.1, cal_key);
                            }
                            open = Some((k, a));
                        }
                    }
                }
                if let Some(o) = open {
                    folded.close(o.0, o.1, cal_key);
                }
                folded
            }
            Account::Unordered => unreachable!("replayed before finishing"),
        }
    }

    /// Adds customer `id` with account `acc` to `cols`: the summary's conventions (Fader,
    /// Hardie & Lee 2005: x repeat occasions, t_x from the first to the last calibration
    /// occasion, T from the first to the calibration end, monetary value the mean repeat spend).
    fn add(&self, cols: &mut Columns, id: String, acc: Account) -> Fate {
        let f = self.fold(acc);
        if f.first > self.cal_key {
            cols.first_seen_in_holdout.push(id);
            return Fate::Holdout;
        }
        let unit = self.unit;
        cols.ids.push(id);
        let gap = f.cal_repeats >= 2;
        if gap {
            cols.gap_pairs
                .push((f.cal_gaps.0 as f64, f.cal_gaps.1 as f64));
        }
        cols.x.push(f.cal_repeats as f64);
        cols.litt.push(if f.cal_repeats == 0 {
            0.0
        } else {
            f.cal_log_gaps + f.cal_repeats as f64 * self.ln_second
        });
        cols.t_x.push(unit.from_seconds(f.cal_last - f.first));
        cols.t.push(unit.from_seconds(self.cal_key - f.first));
        cols.first_purchase.push(
            chrono::DateTime::from_timestamp(f.first, 0)
                .expect("from a date")
                .naive_utc(),
        );
        cols.calibration_spend
            .push(f.first_amount + f.cal_repeat_sum);
        cols.m.push(if f.cal_repeats > 0 {
            f.cal_repeat_sum / f.cal_repeats as f64
        } else {
            0.0
        });
        if self.obs_key.is_some() {
            cols.hx.push(f.holdout as f64);
            cols.hm.push(if f.holdout == 0 {
                0.0
            } else {
                f.holdout_sum / f.holdout as f64
            });
        }
        Fate::Kept { gap }
    }

    /// The summary of customers `ids` with `accounts` (the same order).
    pub(super) fn finish(
        &self,
        ids: Vec<String>,
        accounts: Vec<Account>,
        tail: Tail,
    ) -> Result<Summarized> {
        let mut cols = Columns::with_capacity(ids.len(), self.obs_key.is_some());
        for (id, acc) in ids.into_iter().zip(accounts) {
            self.add(&mut cols, id, acc);
        }
        self.summarized(cols, tail)
    }

    /// The summary of shards that summarised disjoint sets of customers, customers in order of
    /// first appearance (each shard's first rows increase, so the order of the whole is a merge
    /// of the shards' orders). Each shard is folded on its own thread; the columns are then
    /// merged, so the result is the one builder's that took every row.
    pub(super) fn finish_shards(
        &self,
        shards: Vec<SummaryBuilder>,
        tail: Tail,
    ) -> Result<Summarized> {
        let folded: Vec<(Vec<usize>, Columns, Vec<Fate>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = shards
                .into_iter()
                .map(|sh| {
                    scope.spawn(move || {
                        let n = sh.accounts.len();
                        let ids = match sh.merged_ids {
                            Some(m) => m,
                            None => sh.index.into_ids(),
                        };
                        let mut cols = Columns::with_capacity(n, self.obs_key.is_some());
                        let fates = ids
                            .into_iter()
                            .zip(sh.accounts)
                            .map(|(id, acc)| self.add(&mut cols, id, acc))
                            .collect();
                        (sh.first_rows, cols, fates)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("folding a shard does not panic"))
                .collect()
        });
        let total: usize = folded.iter().map(|f| f.0.len()).sum();
        let mut all = Columns::with_capacity(total, self.obs_key.is_some());
        let mut parts: Vec<(Vec<usize>, Columns, Vec<Fate>)> = folded;
        // per shard: the next customer, kept row, gap pair and holdout customer
        let mut next = vec![(0usize, 0usize, 0usize, 0usize); parts.len()];
        for _ in 0..total {
            let k = (0..parts.len())
                .filter(|&k| next[k].0 < parts[k].0.len())
                .min_by_key(|&k| parts[k].0[next[k].0])
                .expect("customers remain");
            let (i, j, g, h) = next[k];
            let (_, cols, fates) = &mut parts[k];
            match fates[i] {
                Fate::Holdout => {
                    all.first_seen_in_holdout
                        .push(std::mem::take(&mut cols.first_seen_in_holdout[h]));
                    next[k] = (i + 1, j, g, h + 1);
                }
                Fate::Kept { gap } => {
                    all.take_kept(cols, j, gap.then_some(g));
                    next[k] = (i + 1, j + 1, g + usize::from(gap), h);
                }
            }
        }
        drop(parts);
        self.summarized(all, tail)
    }

    /// The summary from its columns.
    fn summarized(&self, cols: Columns, tail: Tail) -> Result<Summarized> {
        let unit = self.unit;
        if cols.ids.is_empty() {
            return Err(Error::EmptyData(
                "every customer's first purchase is after the calibration end",
            ));
        }
        // the ids are the builder's keys: distinct
        let mut summary = RfmSummary::with_distinct_ids(cols.ids, cols.x, cols.t_x, cols.t, unit)?
            .with_monetary_value(cols.m)?
            .with_litt(cols.litt)?;
        if let Some(obs) = self.obs_key {
            let duration = unit.from_seconds(obs - self.cal_key);
            if duration > 0.0 {
                summary = summary.with_holdout(Holdout {
                    frequency: cols.hx,
                    monetary_value: cols.hm,
                    duration,
                })?;
            }
        }
        Ok(Summarized {
            summary,
            first_seen_in_holdout: cols.first_seen_in_holdout,
            history: History {
                first_purchase: cols.first_purchase,
                calibration_spend: cols.calibration_spend,
            },
            regularity: crate::diagnostics::Regularity::from_gap_pairs(cols.gap_pairs).ok(),
            last_transaction: tail.last_transaction,
            transactions_after_end: tail.after_end,
        })
    }
}

/// The builder's facts that are not per customer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tail {
    pub(super) last_transaction: Option<NaiveDateTime>,
    pub(super) after_end: usize,
}
