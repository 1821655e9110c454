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

    /// The columns of `parts` end to end. Writing fresh memory is what this costs (the pages
    /// are made as they are first written), so the columns are joined on two threads.
    fn joined(parts: Vec<Columns>) -> Columns {
        let n = parts.len();
        let (mut ids, mut x, mut t_x, mut t, mut m, mut litt) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut hx, mut hm, mut first, mut spend, mut gaps, mut born) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for p in parts {
            ids.push(p.ids);
            x.push(p.x);
            t_x.push(p.t_x);
            t.push(p.t);
            m.push(p.m);
            litt.push(p.litt);
            hx.push(p.hx);
            hm.push(p.hm);
            first.push(p.first_purchase);
            spend.push(p.calibration_spend);
            gaps.push(p.gap_pairs);
            born.push(p.first_seen_in_holdout);
        }
        let (a, b) = crate::par::join(
            move || {
                (
                    end_to_end(ids),
                    end_to_end(x),
                    end_to_end(t_x),
                    end_to_end(t),
                )
            },
            move || {
                (
                    end_to_end(m),
                    end_to_end(litt),
                    end_to_end(hx),
                    end_to_end(hm),
                    end_to_end(first),
                    end_to_end(spend),
                )
            },
        );
        Columns {
            ids: a.0,
            x: a.1,
            t_x: a.2,
            t: a.3,
            m: b.0,
            litt: b.1,
            hx: b.2,
            hm: b.3,
            first_purchase: b.4,
            calibration_spend: b.5,
            gap_pairs: end_to_end(gaps),
            first_seen_in_holdout: end_to_end(born),
        }
    }
}

/// The vectors of `parts` end to end (moved, not cloned).
fn end_to_end<T>(parts: Vec<Vec<T>>) -> Vec<T> {
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for mut p in parts {
        all.append(&mut p);
    }
    all
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
    fn fold(&self, acc: &Account) -> Folded {
        let cal_key = self.cal_key;
        match acc {
            Account::InOrder { folded, open } => {
                let mut folded = *folded;
                folded.close(open.0, open.1, cal_key);
                folded
            }
            Account::All(v) => {
                let mut v = v.clone();
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
    fn add(&self, cols: &mut Columns, id: &str, acc: &Account) {
        let f = self.fold(acc);
        if f.first > self.cal_key {
            cols.first_seen_in_holdout.push(id.to_string());
            return;
        }
        let unit = self.unit;
        cols.ids.push(id.to_string());
        if f.cal_repeats >= 2 {
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
    }

    /// The summary of builder `b`'s customers.
    pub(super) fn finish(&self, b: &SummaryBuilder, tail: Tail) -> Result<Summarized> {
        let mut cols = Columns::with_capacity(b.accounts.len(), self.obs_key.is_some());
        for (i, acc) in b.accounts.iter().enumerate() {
            self.add(&mut cols, b.id_of(i), acc);
        }
        self.summarized(cols, tail)
    }

    /// The summary of shards that summarised disjoint sets of customers, customers in order of
    /// first appearance: each shard's first rows increase, so the order of the whole is a merge
    /// of the shards' orders. The customers are then folded in that order on all cores, in
    /// stretches whose columns are joined end to end: the result is the one builder's that
    /// took every row.
    pub(super) fn finish_shards(
        &self,
        shards: Vec<SummaryBuilder>,
        tail: Tail,
    ) -> Result<Summarized> {
        let total: usize = shards.iter().map(|sh| sh.first_rows.len()).sum();
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(total);
        let mut next = vec![0usize; shards.len()];
        for _ in 0..total {
            let k = (0..shards.len())
                .filter(|&k| next[k] < shards[k].first_rows.len())
                .min_by_key(|&k| shards[k].first_rows[next[k]])
                .expect("customers remain");
            order.push((k as u32, next[k] as u32));
            next[k] += 1;
        }
        const STRETCH: usize = 1 << 15;
        let holdout = self.obs_key.is_some();
        let parts = crate::par::map_range(total.div_ceil(STRETCH), |c| {
            let stretch = &order[c * STRETCH..((c + 1) * STRETCH).min(total)];
            let mut cols = Columns::with_capacity(stretch.len(), holdout);
            for &(k, i) in stretch {
                let sh = &shards[k as usize];
                self.add(&mut cols, sh.id_of(i as usize), &sh.accounts[i as usize]);
            }
            cols
        });
        // the shards' memory is given back while the columns are joined and checked
        crate::par::drop_later(shards);
        self.summarized(Columns::joined(parts), tail)
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
