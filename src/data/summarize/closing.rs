//! Finishing a summary: each customer's account folded into the summary's columns, on one
//! builder or on the shards of a log read on all cores (the customers put in order of first
//! appearance, then folded in stretches on all cores straight into the summary's columns).

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

/// One customer's row of the summary (and of its history), with their last two calibration
/// gaps when they have three occasions or more (for the regularity estimate).
#[derive(Debug, Clone, Copy)]
struct Row {
    x: f64,
    t_x: f64,
    t: f64,
    m: f64,
    litt: f64,
    hx: f64,
    hm: f64,
    first_purchase: NaiveDateTime,
    calibration_spend: f64,
    gaps: Option<(f64, f64)>,
}

/// The summary's columns.
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
    /// Columns of `n` rows, each written once by [`Stretch::put`]. The number columns start
    /// as zeroed memory whose pages are only made when written, so the stretches make them
    /// on the threads that fill them (the holdout columns, unused without a holdout, never).
    fn of_len(n: usize) -> Self {
        Columns {
            ids: vec![String::new(); n],
            x: vec![0.0; n],
            t_x: vec![0.0; n],
            t: vec![0.0; n],
            m: vec![0.0; n],
            litt: vec![0.0; n],
            hx: vec![0.0; n],
            hm: vec![0.0; n],
            first_purchase: vec![NaiveDateTime::default(); n],
            calibration_spend: vec![0.0; n],
            gap_pairs: Vec::new(),
            first_seen_in_holdout: Vec::new(),
        }
    }

    /// Cuts the columns into stretches of `size` rows, for `order`'s customers.
    fn stretches<'a>(&'a mut self, order: &'a [(u32, u32)], size: usize) -> Vec<Stretch<'a>> {
        let mut ids = self.ids.chunks_mut(size);
        let mut x = self.x.chunks_mut(size);
        let mut t_x = self.t_x.chunks_mut(size);
        let mut t = self.t.chunks_mut(size);
        let mut m = self.m.chunks_mut(size);
        let mut litt = self.litt.chunks_mut(size);
        let mut hx = self.hx.chunks_mut(size);
        let mut hm = self.hm.chunks_mut(size);
        let mut first = self.first_purchase.chunks_mut(size);
        let mut spend = self.calibration_spend.chunks_mut(size);
        order
            .chunks(size)
            .map(|order| Stretch {
                order,
                ids: ids.next().expect("as many chunks as the order has"),
                x: x.next().expect("as many chunks"),
                t_x: t_x.next().expect("as many chunks"),
                t: t.next().expect("as many chunks"),
                m: m.next().expect("as many chunks"),
                litt: litt.next().expect("as many chunks"),
                hx: hx.next().expect("as many chunks"),
                hm: hm.next().expect("as many chunks"),
                first_purchase: first.next().expect("as many chunks"),
                calibration_spend: spend.next().expect("as many chunks"),
            })
            .collect()
    }
}

/// A stretch of the summary's rows, filled on one thread.
struct Stretch<'a> {
    /// The stretch's customers: (shard, account) each.
    order: &'a [(u32, u32)],
    ids: &'a mut [String],
    x: &'a mut [f64],
    t_x: &'a mut [f64],
    t: &'a mut [f64],
    m: &'a mut [f64],
    litt: &'a mut [f64],
    hx: &'a mut [f64],
    hm: &'a mut [f64],
    first_purchase: &'a mut [NaiveDateTime],
    calibration_spend: &'a mut [f64],
}

impl Stretch<'_> {
    fn put(&mut self, j: usize, id: String, r: Row, holdout: bool) {
        self.ids[j] = id;
        self.x[j] = r.x;
        self.t_x[j] = r.t_x;
        self.t[j] = r.t;
        self.m[j] = r.m;
        self.litt[j] = r.litt;
        if holdout {
            self.hx[j] = r.hx;
            self.hm[j] = r.hm;
        }
        self.first_purchase[j] = r.first_purchase;
        self.calibration_spend[j] = r.calibration_spend;
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
    fn fold(&self, acc: &Account) -> Folded {
        let cal_key = self.cal_key;
        match acc {
            Account::InOrder { folded, open } => {
                let mut folded = *folded;
                folded.close(open.0, open.1, cal_key);
                folded
            }
            Account::All(v) => {
                debug_assert!(v.is_sorted_by_key(|o| o.0), "sorted by `sort_kept`");
                let mut folded = Folded::default();
                let mut open: Option<(i64, f64)> = None;
                for &(k, a) in v {
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

    /// Whether the customer's first occasion is after the calibration end (they are not in the
    /// summary), without folding the account.
    fn born_later(&self, acc: &Account) -> bool {
        let first = match acc {
            Account::InOrder { folded, open } => {
                if folded.occasions == 0 {
                    open.0
                } else {
                    folded.first
                }
            }
            // (the customers of a replay or of a builder that keeps every occasion) the first
            // occasion, as `fold` finds it (0 for none)
            Account::All(v) => v.first().map_or(0, |o| o.0),
            Account::Unordered => unreachable!("replayed before finishing"),
        };
        first > self.cal_key
    }

    /// The customer's row, `None` when their first purchase is after the calibration end: the
    /// summary's conventions (Fader, Hardie & Lee 2005: x repeat occasions, t_x from the first
    /// to the last calibration occasion, T from the first to the calibration end, monetary
    /// value the mean repeat spend).
    fn row(&self, acc: &Account) -> Option<Row> {
        let f = self.fold(acc);
        if f.first > self.cal_key {
            return None;
        }
        let unit = self.unit;
        let repeats = f.cal_repeats as f64;
        Some(Row {
            x: repeats,
            t_x: unit.from_seconds(f.cal_last - f.first),
            t: unit.from_seconds(self.cal_key - f.first),
            m: if f.cal_repeats > 0 {
                f.cal_repeat_sum / repeats
            } else {
                0.0
            },
            litt: if f.cal_repeats == 0 {
                0.0
            } else {
                f.cal_log_gaps + repeats * self.ln_second
            },
            hx: f.holdout as f64,
            hm: if f.holdout == 0 {
                0.0
            } else {
                f.holdout_sum / f.holdout as f64
            },
            first_purchase: chrono::DateTime::from_timestamp(f.first, 0)
                .expect("from a date")
                .naive_utc(),
            calibration_spend: f.first_amount + f.cal_repeat_sum,
            gaps: (f.cal_repeats >= 2).then_some((f.cal_gaps.0 as f64, f.cal_gaps.1 as f64)),
        })
    }

    /// The summary of builders that summarised disjoint sets of customers (one builder, or
    /// the shards of a log read on all cores), customers in order of first appearance
    /// ([`super::first_appearance`]). The customers are folded in that order on all cores,
    /// each stretch straight into its rows of the columns: the result is the one builder's
    /// that took every row. Kept occasions must be sorted ([`sort_kept`]).
    pub(super) fn finish_shards(
        &self,
        shards: Vec<SummaryBuilder>,
        tail: Tail,
    ) -> Result<Summarized> {
        let all = super::first_appearance(&shards);
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(all.len());
        let mut born_later = Vec::new();
        for (_, k, i) in all {
            let (sh, i) = (&shards[k as usize], i as usize);
            if self.born_later(&sh.accounts[i]) {
                born_later.push(sh.id_of(i).to_string());
            } else {
                order.push((k, i as u32));
            }
        }
        const STRETCH: usize = 1 << 15;
        let holdout = self.obs_key.is_some();
        let mut cols = Columns::of_len(order.len());
        let stretches = cols.stretches(&order, STRETCH);
        let gaps = crate::par::map_owned(stretches, |mut s| {
            let mut gaps = Vec::new();
            for (j, &(k, i)) in s.order.iter().enumerate() {
                let sh = &shards[k as usize];
                let r = self
                    .row(&sh.accounts[i as usize])
                    .expect("born later customers are not in the order");
                gaps.extend(r.gaps);
                s.put(j, sh.id_of(i as usize).to_string(), r, holdout);
            }
            gaps
        });
        // the shards' memory is given back while the summary is checked and written
        crate::par::drop_later(shards);
        cols.gap_pairs = gaps.concat();
        cols.first_seen_in_holdout = born_later;
        if !holdout {
            cols.hx = Vec::new();
            cols.hm = Vec::new();
        }
        self.summarized(cols, tail)
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

/// Sorts the kept occasions of `accounts` by time, in place and once, so that folding them
/// (which needs them in time order) takes no copy.
pub(super) fn sort_kept(accounts: &mut [Account]) {
    for acc in accounts {
        if let Account::All(v) = acc {
            v.sort_by_key(|o| o.0);
        }
    }
}

/// The builder's facts that are not per customer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tail {
    pub(super) last_transaction: Option<NaiveDateTime>,
    pub(super) after_end: usize,
}
