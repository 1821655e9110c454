//! Netting returns and cancellations against the purchases they undo ([`Returns::Net`]).
//!
//! The rules, applied per customer after the whole log has been read (a return may precede
//! its purchase in the file):
//!
//! 1. A **purchase** is the lines of one customer with the same invoice (when the format has an
//!    invoice column), or with the same timestamp (when it has none). Its amount is the sum of
//!    its lines; its time is its earliest line's.
//! 2. A **return** is a line with a negative amount, or any line whose invoice starts with the
//!    cancellation prefix ([`TransactionFormat::cancel_prefix`]); its size is the absolute
//!    amount.
//! 3. Returns are taken in time order (file order within a time). Each is subtracted from one
//!    purchase of the same customer whose amount is still above zero, the first that exists
//!    of: (a) the purchase with the same invoice (the return's invoice without the prefix);
//!    (b) a purchase on the same calendar day: the latest at or before the return, else the
//!    earliest after it; (c) the latest purchase before the return.
//! 4. A purchase netted to zero or below (within a billionth of its amount, for rounding) is
//!    **no purchase**: its lines are left out ([`LineCounts::netted_out`]). Whatever a return
//!    exceeds its purchase by is not carried to other purchases.
//! 5. A return with no purchase to net against (nothing earlier or the same day) is left out
//!    ([`LineCounts::returns_unmatched`]); one that was netted counts in
//!    [`LineCounts::returns_netted`].
//! 6. The surviving purchases go on, one record each with its netted amount, in time order.
//!
//! Memory is proportional to the lines (every line is held until the end of the file), which
//! is why netting is asked for and not the default.
//!
//! [`Returns::Net`]: super::io::Returns::Net
//! [`TransactionFormat::cancel_prefix`]: super::io::TransactionFormat::cancel_prefix
//! [`LineCounts::netted_out`]: super::io::LineCounts::netted_out
//! [`LineCounts::returns_unmatched`]: super::io::LineCounts::returns_unmatched
//! [`LineCounts::returns_netted`]: super::io::LineCounts::returns_netted

use super::io::LineCounts;
use crate::error::Result;
use chrono::NaiveDateTime;
use rustc_hash::FxHashMap;

/// No invoice.
const NONE: u32 = u32::MAX;

/// One buffered line.
#[derive(Debug, Clone, Copy)]
struct Line {
    row: usize,
    customer: u32,
    time: NaiveDateTime,
    /// The purchase amount (≥ 0) or the return's size (> 0 or 0).
    amount: f64,
    invoice: u32,
    is_return: bool,
}

/// One purchase of a customer while netting.
#[derive(Debug)]
struct Purchase {
    invoice: u32,
    time: NaiveDateTime,
    first_row: usize,
    total: f64,
    remaining: f64,
    lines: usize,
}

impl Purchase {
    fn alive(&self) -> bool {
        self.remaining > self.total * 1e-9
    }
}

/// Lines buffered until the end of the log, then netted.
#[derive(Debug, Default)]
pub(crate) struct Netting {
    customers: FxHashMap<String, u32>,
    customer_ids: Vec<String>,
    invoices: FxHashMap<String, u32>,
    lines: Vec<Line>,
}

impl Netting {
    fn intern(map: &mut FxHashMap<String, u32>, text: &str) -> u32 {
        if let Some(&i) = map.get(text) {
            return i;
        }
        let i = u32::try_from(map.len()).unwrap_or(NONE - 1);
        map.insert(text.to_string(), i);
        i
    }

    /// Buffers a purchase line (`amount` ≥ 0) or a return line (`is_return`; `amount` is its
    /// size). `invoice` is the line's invoice, the cancellation prefix already removed.
    pub(crate) fn push(
        &mut self,
        row: usize,
        customer: &str,
        time: NaiveDateTime,
        amount: f64,
        invoice: Option<&str>,
        is_return: bool,
    ) {
        let c = match self.customers.get(customer) {
            Some(&c) => c,
            None => {
                let c = u32::try_from(self.customer_ids.len()).unwrap_or(NONE - 1);
                self.customers.insert(customer.to_string(), c);
                self.customer_ids.push(customer.to_string());
                c
            }
        };
        let invoice = invoice.map_or(NONE, |i| Self::intern(&mut self.invoices, i));
        self.lines.push(Line {
            row,
            customer: c,
            time,
            amount,
            invoice,
            is_return,
        });
    }

    /// Nets every customer's returns (the rules in the module docs), counts the lines in
    /// `counts` (`used`, `returns_netted`, `returns_unmatched`, `netted_out`,
    /// `purchases_reduced`) and hands the surviving purchases to `sink` in time order.
    pub(crate) fn finish(
        mut self,
        by_invoice: bool,
        counts: &mut LineCounts,
        sink: &mut impl FnMut(usize, &str, NaiveDateTime, f64) -> Result<()>,
    ) -> Result<()> {
        self.lines.sort_by_key(|l| (l.customer, l.time, l.row));
        let mut out: Vec<(NaiveDateTime, usize, u32, f64)> = Vec::new();
        let mut start = 0;
        while start < self.lines.len() {
            let c = self.lines[start].customer;
            let end = start + self.lines[start..].partition_point(|l| l.customer == c);
            let lines = &self.lines[start..end];
            let mut purchases = Self::purchases(lines, by_invoice);
            for r in lines.iter().filter(|l| l.is_return) {
                match Self::target(&purchases, r) {
                    Some(p) => {
                        purchases[p].remaining -= r.amount;
                        counts.returns_netted += 1;
                    }
                    None => counts.returns_unmatched += 1,
                }
            }
            for p in &purchases {
                if p.alive() {
                    counts.used += p.lines;
                    if p.remaining < p.total {
                        counts.purchases_reduced += 1;
                    }
                    out.push((p.time, p.first_row, c, p.remaining));
                } else {
                    counts.netted_out += p.lines;
                }
            }
            start = end;
        }
        out.sort_by_key(|o| (o.0, o.1));
        for (time, row, c, amount) in out {
            sink(row, &self.customer_ids[c as usize], time, amount)?;
        }
        Ok(())
    }

    /// A customer's purchases (lines sorted by time), grouped by invoice or by timestamp, in
    /// time order.
    fn purchases(lines: &[Line], by_invoice: bool) -> Vec<Purchase> {
        let mut purchases: Vec<Purchase> = Vec::new();
        let mut by_key: FxHashMap<u32, usize> = FxHashMap::default();
        for l in lines.iter().filter(|l| !l.is_return) {
            let existing = if by_invoice && l.invoice != NONE {
                by_key.get(&l.invoice).copied()
            } else {
                // same timestamp, no invoice: the previous purchase if it has that time
                purchases
                    .last()
                    .filter(|p| p.time == l.time && p.invoice == NONE)
                    .map(|_| purchases.len() - 1)
            };
            match existing {
                Some(i) => {
                    let p = &mut purchases[i];
                    p.total += l.amount;
                    p.remaining += l.amount;
                    p.lines += 1;
                }
                None => {
                    let invoice = if by_invoice { l.invoice } else { NONE };
                    if invoice != NONE {
                        by_key.insert(invoice, purchases.len());
                    }
                    purchases.push(Purchase {
                        invoice,
                        time: l.time,
                        first_row: l.row,
                        total: l.amount,
                        remaining: l.amount,
                        lines: 1,
                    });
                }
            }
        }
        purchases
    }

    /// The purchase a return nets against: same invoice, else same day (latest at or before
    /// it, else earliest after), else latest before it; only purchases still above zero.
    fn target(purchases: &[Purchase], r: &Line) -> Option<usize> {
        let alive = |i: &usize| purchases[*i].alive();
        let all = 0..purchases.len();
        if r.invoice != NONE
            && let Some(i) = all
                .clone()
                .filter(alive)
                .find(|&i| purchases[i].invoice == r.invoice)
        {
            return Some(i);
        }
        let day = r.time.date();
        let same_day = |i: &usize| purchases[*i].time.date() == day;
        if let Some(i) = all
            .clone()
            .filter(alive)
            .filter(same_day)
            .rfind(|&i| purchases[i].time <= r.time)
        {
            return Some(i);
        }
        if let Some(i) = all.clone().filter(alive).find(same_day) {
            return Some(i);
        }
        all.filter(alive).rfind(|&i| purchases[i].time < r.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    /// Runs the netting; returns the records passed on and the counts.
    fn net(
        lines: &[(&str, NaiveDateTime, f64, Option<&str>, bool)],
        by_invoice: bool,
    ) -> (Vec<(String, NaiveDateTime, f64)>, LineCounts) {
        let mut n = Netting::default();
        for (i, (c, time, a, inv, ret)) in lines.iter().enumerate() {
            n.push(i + 1, c, *time, *a, *inv, *ret);
        }
        let mut counts = LineCounts::default();
        let mut out = vec![];
        n.finish(by_invoice, &mut counts, &mut |_, c, time, a| {
            out.push((c.to_string(), time, a));
            Ok(())
        })
        .unwrap();
        (out, counts)
    }

    #[test]
    fn same_invoice_first_then_same_day_then_latest_earlier() {
        // invoice A (two lines, day 1), invoice B (day 3); a return on day 5 naming A nets
        // A although B is later
        let (out, c) = net(
            &[
                ("a", t(1, 9), 10.0, Some("A"), false),
                ("a", t(1, 9), 5.0, Some("A"), false),
                ("a", t(3, 9), 20.0, Some("B"), false),
                ("a", t(5, 9), 4.0, Some("A"), true),
            ],
            true,
        );
        assert_eq!(
            out,
            vec![("a".into(), t(1, 9), 11.0), ("a".into(), t(3, 9), 20.0)]
        );
        assert_eq!((c.used, c.returns_netted, c.purchases_reduced), (3, 1, 1));
        // no invoice match: the same day's purchase, not the latest earlier one
        let (out, _) = net(
            &[
                ("a", t(1, 9), 10.0, Some("A"), false),
                ("a", t(3, 9), 20.0, Some("B"), false),
                ("a", t(3, 17), 20.0, Some("X"), true),
            ],
            true,
        );
        assert_eq!(out, vec![("a".into(), t(1, 9), 10.0)]);
        // a same-day return before the purchase's time still nets it
        let (out, _) = net(
            &[
                ("a", t(1, 9), 10.0, None, false),
                ("a", t(3, 8), 5.0, None, true),
                ("a", t(3, 12), 20.0, None, false),
            ],
            false,
        );
        assert_eq!(
            out,
            vec![("a".into(), t(1, 9), 10.0), ("a".into(), t(3, 12), 15.0)]
        );
        // otherwise the latest earlier purchase
        let (out, c) = net(
            &[
                ("a", t(1, 9), 10.0, None, false),
                ("a", t(3, 9), 20.0, None, false),
                ("a", t(9, 9), 5.0, None, true),
            ],
            false,
        );
        assert_eq!(
            out,
            vec![("a".into(), t(1, 9), 10.0), ("a".into(), t(3, 9), 15.0)]
        );
        assert_eq!(c.netted_out, 0);
    }

    #[test]
    fn a_cancelled_order_is_no_purchase_and_excess_is_not_carried() {
        // the 77,000 order cancelled the same day disappears, lines and all
        let (out, c) = net(
            &[
                ("a", t(1, 9), 30.0, Some("1"), false),
                ("a", t(4, 9), 50_000.0, Some("2"), false),
                ("a", t(4, 9), 27_000.0, Some("2"), false),
                ("a", t(4, 11), 77_000.0, Some("3"), true),
                // returns more than purchase 4 holds: the excess does not reach purchase 1
                ("b", t(1, 9), 10.0, None, false),
                ("b", t(2, 9), 10.0, None, false),
                ("b", t(3, 9), 25.0, None, true),
                // nothing earlier to net against
                ("c", t(1, 9), 5.0, None, true),
                ("c", t(2, 9), 5.0, None, false),
            ],
            true,
        );
        assert_eq!(
            out,
            vec![
                ("a".into(), t(1, 9), 30.0),
                ("b".into(), t(1, 9), 10.0),
                ("c".into(), t(2, 9), 5.0),
            ]
        );
        assert_eq!(c.netted_out, 3);
        assert_eq!(c.returns_netted, 2);
        assert_eq!(c.returns_unmatched, 1);
        assert_eq!(c.used, 3);
        assert_eq!(
            c.used + c.netted_out + c.returns_netted + c.returns_unmatched,
            9
        );
    }

    #[test]
    fn a_netted_out_purchase_takes_no_second_return() {
        // two returns the same day: the first empties purchase 2, the second goes to 1
        let (out, c) = net(
            &[
                ("a", t(1, 9), 8.0, None, false),
                ("a", t(2, 9), 5.0, None, false),
                ("a", t(2, 10), 5.0, None, true),
                ("a", t(2, 11), 3.0, None, true),
            ],
            false,
        );
        assert_eq!(out, vec![("a".into(), t(1, 9), 5.0)]);
        assert_eq!((c.netted_out, c.returns_netted), (1, 2));
        // rounding: 3 × 2.55 − 7.65 is no purchase
        let (out, _) = net(
            &[
                ("a", t(1, 9), 3.0 * 2.55, None, false),
                ("a", t(1, 10), 7.65, None, true),
            ],
            false,
        );
        assert!(out.is_empty());
    }
}
