//! Transaction log → RFM summary, with an optional calibration/holdout split.

use super::time::Stamp;
use super::{Granularity, RfmSummary, TimeUnit};
use crate::error::{DataIssue, Error, Result};
use chrono::{NaiveDate, NaiveDateTime};
use rustc_hash::FxHashMap;

mod closing;
use closing::{Closing, Tail};

/// A time as a user wrote it: the date alone when it is midnight.
fn show(t: NaiveDateTime) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        t.date().to_string()
    } else {
        t.to_string()
    }
}

/// One purchase: who, when, how much.
///
/// ```
/// use clv::Transaction;
/// use chrono::NaiveDate;
/// let t = Transaction::new("00001", NaiveDate::from_ymd_opt(1997, 1, 1).unwrap(), 29.33);
/// assert_eq!(t.customer, "00001");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Customer id.
    pub customer: String,
    /// When it happened.
    pub time: NaiveDateTime,
    /// Its value (>= 0).
    pub amount: f64,
}

impl Transaction {
    /// A transaction on a date (midnight) or at a date-time.
    pub fn new(customer: impl Into<String>, time: impl Into<When>, amount: f64) -> Self {
        Transaction {
            customer: customer.into(),
            time: time.into().0,
            amount,
        }
    }
}

/// A date or date-time (for [`Transaction::new`]).
#[derive(Debug, Clone, Copy)]
pub struct When(NaiveDateTime);
impl From<NaiveDate> for When {
    fn from(d: NaiveDate) -> Self {
        When(d.and_hms_opt(0, 0, 0).expect("midnight"))
    }
}
impl From<NaiveDateTime> for When {
    fn from(t: NaiveDateTime) -> Self {
        When(t)
    }
}

/// How to summarise: the end of calibration (inclusive: an occasion starting at or before it is
/// in calibration), an optional end of observation (inclusive) for a holdout window, the time
/// unit, and the purchase-occasion granularity.
///
/// ```
/// use clv::{SummaryOptions, TimeUnit};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// let opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
///     .with_observation_end(d(1998, 6, 30))
///     .unwrap();
/// assert!(opts.with_observation_end(d(1997, 1, 1)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryOptions {
    calibration_end: NaiveDateTime,
    observation_end: Option<NaiveDateTime>,
    unit: TimeUnit,
    granularity: Granularity,
    skip_after_end: bool,
}

impl SummaryOptions {
    /// Calibration ending on `calibration_end` (a date or date-time), daily occasions.
    pub fn new(calibration_end: impl Into<When>, unit: TimeUnit) -> Self {
        SummaryOptions {
            calibration_end: calibration_end.into().0,
            observation_end: None,
            unit,
            granularity: Granularity::Day,
            skip_after_end: false,
        }
    }

    /// Skips (and counts) transactions dated after the summary's last day — the observation
    /// end, or the calibration end without one — instead of refusing them: for summarising
    /// a log that runs on past the window of interest. The readers count them in
    /// [`LineCounts::after_end`](crate::io::LineCounts::after_end), the builder in
    /// [`Summarized::transactions_after_end`].
    pub fn skipping_lines_after_end(mut self) -> Self {
        self.skip_after_end = true;
        self
    }

    /// Whether transactions after the summary's last day are skipped (else refused).
    pub fn skips_lines_after_end(&self) -> bool {
        self.skip_after_end
    }

    /// Whether a transaction at `time` falls after the summary's last day (the observation
    /// end, else the calibration end), at the options' occasion granularity.
    pub fn is_after_end(&self, time: NaiveDateTime) -> bool {
        let end = self.observation_end.unwrap_or(self.calibration_end);
        self.granularity.floor(time) > self.granularity.floor(end)
    }

    /// Adds a holdout window ending at `end`, which must not precede the calibration end.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an observation end before the calibration end.
    pub fn with_observation_end(mut self, end: impl Into<When>) -> Result<Self> {
        let end = end.into().0;
        if end < self.calibration_end {
            return Err(Error::InvalidOption {
                name: "observation end",
                reason: format!(
                    "{} is before the calibration end {}",
                    show(end),
                    show(self.calibration_end)
                ),
            });
        }
        self.observation_end = Some(end);
        Ok(self)
    }

    /// Sets which transactions form one purchase occasion.
    pub fn with_granularity(mut self, g: Granularity) -> Self {
        self.granularity = g;
        self
    }

    /// The calibration end.
    pub fn calibration_end(&self) -> NaiveDateTime {
        self.calibration_end
    }
    /// The observation end, if any.
    pub fn observation_end(&self) -> Option<NaiveDateTime> {
        self.observation_end
    }
    /// The time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The occasion granularity.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }
}

/// The result of summarising: the calibration summary and the customers that could not be in
/// it because their first purchase falls in the holdout window (reported, never dropped
/// silently).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Summarized {
    /// One row per customer whose first purchase is in the calibration period.
    pub summary: RfmSummary,
    /// Customers first seen after the calibration end (in the holdout window).
    pub first_seen_in_holdout: Vec<String>,
    /// Realised history of the summary's customers (same order): acquisition date and spend.
    pub history: History,
    /// Purchase regularity from each customer's last two calibration gaps (Wheat & Morrison;
    /// is an Erlang-k model worth fitting?); `None` when no customer has three occasions.
    pub regularity: Option<crate::diagnostics::Regularity>,
    /// The latest transaction pushed (calibration or holdout): an observation end well after
    /// it usually means the log was cut earlier than the user thinks.
    pub last_transaction: Option<NaiveDateTime>,
    /// Transactions pushed with a date after the summary's last day and skipped
    /// ([`SummaryOptions::skipping_lines_after_end`]).
    pub transactions_after_end: usize,
}

/// What each customer of a summary has already done: when they were acquired and what they
/// have spent in the calibration period, first purchase included — the "historical CLV" to put
/// beside the predicted one (see [`crate::history`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct History {
    /// Start of the first purchase occasion.
    pub first_purchase: Vec<NaiveDateTime>,
    /// Total spend in the calibration period, all occasions.
    pub calibration_spend: Vec<f64>,
}

/// Summarises a slice of transactions; see [`SummaryBuilder`] for the streaming form.
///
/// Conventions (those of the CDNOW summary in Fader, Hardie & Lee 2005): transactions in the same
/// occasion (by default the same day) are one purchase with their amounts summed; `x` = number
/// of occasions in calibration minus one; `t_x` = last occasion - first occasion; `T` =
/// calibration end - first occasion; the monetary value is the mean value of the *repeat*
/// occasions (the first is left out), 0 when x = 0.
///
/// ```
/// use clv::{summarize, SummaryOptions, TimeUnit, Transaction};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(1997, m, day).unwrap();
/// let tx = vec![
///     Transaction::new("a", d(1, 15), 20.0),
///     Transaction::new("a", d(1, 1), 10.0), // out of order: fine
///     Transaction::new("a", d(1, 1), 5.0),  // same day: same occasion
///     Transaction::new("b", d(1, 8), 7.0),
/// ];
/// let out = summarize(&tx, &SummaryOptions::new(d(1, 29), TimeUnit::Weeks)).unwrap();
/// let s = out.summary;
/// assert_eq!(s.frequency(), &[1.0, 0.0]);
/// assert_eq!(s.recency(), &[2.0, 0.0]);
/// assert_eq!(s.age(), &[4.0, 3.0]);
/// assert_eq!(s.monetary_value().unwrap(), &[20.0, 0.0]);
/// assert_eq!(out.history.calibration_spend, &[35.0, 7.0]);
/// ```
///
/// # Errors
/// [`Error::EmptyData`] when no transaction falls in the calibration period;
/// [`Error::InvalidData`] naming the customer of an invalid amount.
pub fn summarize(transactions: &[Transaction], options: &SummaryOptions) -> Result<Summarized> {
    let mut b = SummaryBuilder::new(*options);
    for (i, t) in transactions.iter().enumerate() {
        b.push(i + 1, &t.customer, t.time, t.amount)?;
    }
    if b.needs_replay() {
        b.begin_replay();
        for t in transactions {
            b.replay(&t.customer, t.time, t.amount);
        }
    }
    b.finish()
}

/// One customer's purchase occasions folded in time order: the first occasion, the repeat
/// occasions in calibration and those in the holdout. Constant size.
#[derive(Debug, Clone, Copy, Default)]
struct Folded {
    occasions: u32,
    first: i64,
    first_amount: f64,
    cal_repeats: u32,
    cal_last: i64,
    cal_repeat_sum: f64,
    /// Σ ln(gap in seconds) over the calibration repeats' inter-purchase times.
    cal_log_gaps: f64,
    /// The last two calibration gaps in seconds (previous, last), for the regularity estimate.
    cal_gaps: (i64, i64),
    holdout: u32,
    holdout_sum: f64,
}

impl Folded {
    /// Adds the next occasion (later than every previous one).
    fn close(&mut self, key: i64, amount: f64, cal_key: i64) {
        if self.occasions == 0 {
            self.first = key;
            self.first_amount = amount;
            self.cal_last = key;
        } else if key <= cal_key {
            self.cal_repeats += 1;
            // occasions are distinct and in time order: the gap is >= 1 second
            self.cal_log_gaps += ((key - self.cal_last) as f64).ln();
            self.cal_gaps = (self.cal_gaps.1, key - self.cal_last);
            self.cal_last = key;
            self.cal_repeat_sum += amount;
        } else {
            self.holdout += 1;
            self.holdout_sum += amount;
        }
        self.occasions += 1;
    }
}

/// Customer ids → account numbers, without a heap string per customer: the ids are kept in
/// one text arena in account order, and a map goes from a 64-bit hash of the id to the first
/// account with that hash, with the id's length and first bytes beside it, so that one probe
/// (one cache miss on a large table) finds and checks the usual short id; a longer id is
/// checked against the arena. An id whose hash an earlier, different id already took (rare)
/// goes to a second map keyed by the id itself.
#[derive(Debug, Default)]
struct Index {
    by_hash: FxHashMap<u64, Slot>,
    collided: FxHashMap<String, usize>,
    text: String,
    ends: Vec<usize>,
}

/// An account number with the start of its id: 24 bytes, so an entry of the map is 32 (the
/// table of a large log is smaller, with fewer fresh pages and cache misses).
#[derive(Debug, Clone, Copy)]
struct Slot {
    account: u32,
    len: u32,
    head: [u8; Slot::HEAD],
}

impl Slot {
    const HEAD: usize = 16;

    /// `None` for an account number or an id length past `u32` (billions of customers or a
    /// 4 GiB id; such an id goes to the map keyed by the id itself).
    fn new(account: usize, id: &str) -> Option<Self> {
        let b = id.as_bytes();
        let mut head = [0u8; Self::HEAD];
        let k = b.len().min(Self::HEAD);
        head[..k].copy_from_slice(&b[..k]);
        Some(Slot {
            account: u32::try_from(account).ok()?,
            len: u32::try_from(b.len()).ok()?,
            head,
        })
    }

    /// Whether `id` is this slot's id: decided here for ids of up to 16 bytes, else `None`
    /// (the arena decides) unless the length or the first bytes already differ.
    fn matches(&self, id: &str) -> Option<bool> {
        let b = id.as_bytes();
        if b.len() != self.len as usize {
            return Some(false);
        }
        let k = b.len().min(Self::HEAD);
        if !super::same_bytes(&b[..k], &self.head[..k]) {
            return Some(false);
        }
        (b.len() <= Self::HEAD).then_some(true)
    }
}

impl Index {
    /// The id of account `i`.
    fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn get(&self, id: &str) -> Option<usize> {
        self.get_hashed(id, super::id_hash(id))
    }

    /// [`get`](Self::get) with the id's hash `h` (`id_hash(id)`) already known.
    fn get_hashed(&self, id: &str, h: u64) -> Option<usize> {
        let Some(slot) = self.by_hash.get(&h) else {
            // (an id without a slot of its own: see `Slot::new`)
            return if self.collided.is_empty() {
                None
            } else {
                self.collided.get(id).copied()
            };
        };
        let account = slot.account as usize;
        let same = slot.matches(id).unwrap_or_else(|| self.id(account) == id);
        if same {
            Some(account)
        } else {
            self.collided.get(id).copied()
        }
    }

    /// Adds `id` (not yet in the index) as the next account.
    fn insert(&mut self, id: &str) -> usize {
        self.insert_hashed(id, super::id_hash(id))
    }

    /// [`insert`](Self::insert) with the id's hash `h` already known.
    fn insert_hashed(&mut self, id: &str, h: u64) -> usize {
        let i = self.ends.len();
        self.text.push_str(id);
        self.ends.push(self.text.len());
        match (self.by_hash.entry(h), Slot::new(i, id)) {
            (std::collections::hash_map::Entry::Vacant(v), Some(slot)) => {
                v.insert(slot);
            }
            _ => {
                self.collided.insert(id.to_string(), i);
            }
        }
        i
    }

    /// The ids in account order.
    fn into_ids(self) -> Vec<String> {
        (0..self.ends.len())
            .map(|i| self.id(i).to_string())
            .collect()
    }

    fn from_ids(ids: Vec<String>) -> Self {
        let mut index = Index::default();
        for id in &ids {
            index.insert(id);
        }
        index
    }
}

/// A customer's state while the log streams in.
#[derive(Debug)]
enum Account {
    /// Transactions so far in time order: the folded closed occasions and the open one (the
    /// latest, which a same-occasion transaction may still add to).
    InOrder { folded: Folded, open: (i64, f64) },
    /// An earlier occasion arrived after a later one: the folded state cannot take it, so the
    /// customer's transactions are collected again by a replay of the log.
    Unordered,
    /// Every transaction kept (replay, or a builder asked to keep everything).
    All(Vec<(i64, f64)>),
}

/// Streaming summariser: push transactions one at a time, then
/// [`finish`](SummaryBuilder::finish).
///
/// Memory is proportional to the number of customers, not of transactions: each customer is a
/// constant-size fold of their occasions as long as their transactions arrive in time order
/// (logs sorted by time, or grouped by customer and sorted, the usual exports). A customer
/// whose transactions arrive out of order is marked; [`needs_replay`](Self::needs_replay) then
/// says the log must be pushed again through [`replay`](Self::replay) (after
/// [`begin_replay`](Self::begin_replay)), which collects only those customers' transactions.
/// [`read_transactions_into`](crate::io::read_transactions_into) and [`summarize`] do this
/// themselves; a source that cannot be read twice uses [`keep_all`](Self::keep_all), which
/// keeps every occasion and accepts any order in one pass.
///
/// ```
/// use clv::{SummaryBuilder, SummaryOptions, TimeUnit};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(1997, m, day).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// let log = [("a", d(1, 15), 20.0), ("a", d(1, 1), 10.0), ("b", d(1, 8), 7.0)];
/// let mut b = SummaryBuilder::new(SummaryOptions::new(d(1, 29), TimeUnit::Weeks));
/// for (i, (c, t, a)) in log.iter().enumerate() {
///     b.push(i + 1, c, *t, *a).unwrap();
/// }
/// assert!(b.needs_replay()); // "a" went back in time
/// b.begin_replay();
/// for (c, t, a) in &log {
///     b.replay(c, *t, *a);
/// }
/// assert_eq!(b.finish().unwrap().summary.frequency(), &[1.0, 0.0]);
/// ```
#[derive(Debug)]
pub struct SummaryBuilder {
    options: SummaryOptions,
    cal_key: i64,
    obs_key: Option<i64>,
    keep_all: bool,
    unordered: usize,
    replaying: bool,
    /// customer id → position in `accounts` (the ids are kept only here until `finish`)
    index: Index,
    /// After [`absorb_shards`](Self::absorb_shards): the ids in account order, moved into
    /// `index` only if more transactions come (`finish` needs no index).
    merged_ids: Option<Vec<String>>,
    /// Shards taken in by [`absorb_shards`](Self::absorb_shards) and not merged yet: `finish`
    /// folds them on their own threads; anything else merges them first.
    pending: Vec<SummaryBuilder>,
    accounts: Vec<Account>,
    /// The row of each account's first transaction (the order of first appearance when
    /// shards are merged).
    first_rows: Vec<usize>,
    /// The last customer pushed (their id, and their account: `None` before the first push).
    last_id: String,
    last_account: Option<usize>,
    last_time: Option<Stamp>,
    after_end: usize,
}

impl SummaryBuilder {
    /// An empty builder (constant memory per customer; see the type's docs for logs out of
    /// time order).
    pub fn new(options: SummaryOptions) -> Self {
        let g = options.granularity;
        SummaryBuilder {
            cal_key: g.key(Stamp::of(options.calibration_end)),
            obs_key: options.observation_end.map(|t| g.key(Stamp::of(t))),
            options,
            keep_all: false,
            unordered: 0,
            replaying: false,
            index: Index::default(),
            merged_ids: None,
            pending: Vec::new(),
            accounts: Vec::new(),
            first_rows: Vec::new(),
            last_id: String::new(),
            last_account: None,
            last_time: None,
            after_end: 0,
        }
    }

    /// A builder that keeps every occasion: any order in one pass, memory proportional to the
    /// number of purchase occasions.
    pub fn keep_all(options: SummaryOptions) -> Self {
        SummaryBuilder {
            keep_all: true,
            ..Self::new(options)
        }
    }

    /// Adds one transaction; `row` (1-based) is only used in error messages.
    ///
    /// # Errors
    /// [`Error::InvalidData`] naming the customer and field of an amount that is not finite or is
    /// negative.
    pub fn push(
        &mut self,
        row: usize,
        customer: &str,
        time: NaiveDateTime,
        amount: f64,
    ) -> Result<()> {
        self.push_stamp(row, customer, None, Stamp::of(time), amount)
    }

    /// [`push`](Self::push) with the time as a [`Stamp`] and, when the caller has it, the id's
    /// hash (`id_hash(customer)`): log readers' hot path.
    #[inline]
    pub(crate) fn push_stamp(
        &mut self,
        row: usize,
        customer: &str,
        hash: Option<u64>,
        time: Stamp,
        amount: f64,
    ) -> Result<()> {
        let err = |field, issue| Error::InvalidData {
            row: Some(row),
            customer: Some(customer.to_string()),
            field,
            issue,
        };
        if !amount.is_finite() {
            return Err(err("amount", DataIssue::NotFinite(amount)));
        }
        if amount < 0.0 {
            return Err(err("amount", DataIssue::Negative(amount)));
        }
        let key = self.options.granularity.key(time);
        // after the summary's last occasion (`SummaryOptions::is_after_end`, on the key)
        if self.options.skip_after_end && key > self.obs_key.unwrap_or(self.cal_key) {
            self.after_end += 1;
            return Ok(());
        }
        if !self.replaying && self.last_time.is_none_or(|t| time > t) {
            self.last_time = Some(time);
        }
        match self.obs_key {
            Some(end) if key > end => {
                return Err(err(
                    "date",
                    DataIssue::AfterObservationEnd {
                        date: show(time.time()),
                        end: show(self.options.observation_end.expect("set")),
                    },
                ));
            }
            None if key > self.cal_key => {
                return Err(err(
                    "date",
                    DataIssue::AfterCalibrationEnd {
                        date: show(time.time()),
                        end: show(self.options.calibration_end),
                    },
                ));
            }
            _ => {}
        }
        self.ensure_index();
        // logs grouped by customer repeat the last customer: no lookup then
        let idx = match self.last_account {
            Some(i) if super::same_id(&self.last_id, customer) => i,
            _ => {
                let h = hash.unwrap_or_else(|| super::id_hash(customer));
                let i = match self.index.get_hashed(customer, h) {
                    Some(i) => i,
                    None => self.open_account(row, customer, h, key),
                };
                self.last_id.clear();
                self.last_id.push_str(customer);
                self.last_account = Some(i);
                i
            }
        };
        let cal_key = self.cal_key;
        match &mut self.accounts[idx] {
            Account::InOrder { folded, open } => {
                if key == open.0 {
                    open.1 += amount;
                } else if key > open.0 {
                    folded.close(open.0, open.1, cal_key);
                    *open = (key, amount);
                } else {
                    self.accounts[idx] = Account::Unordered;
                    self.unordered += 1;
                }
            }
            Account::Unordered => {}
            Account::All(v) => v.push((key, amount)),
        }
        Ok(())
    }

    #[cfg(feature = "csv")]
    /// Looks up the accounts of the next few customers without changing anything, so that
    /// their cache misses overlap (a lookup in a large table is a miss to memory; one after
    /// another, the rest of each push keeps the processor from starting the next one early).
    /// A log in time order changes customer at every row: this about halves its cost.
    pub(crate) fn warm_up<'a>(&self, ids: impl Iterator<Item = (&'a str, u64)>) {
        if self.merged_ids.is_some() || !self.pending.is_empty() {
            return;
        }
        let mut seen = 0usize;
        let mut prev: Option<&str> = self.last_account.map(|_| self.last_id.as_str());
        for (id, h) in ids {
            // a repeated customer is found without a lookup (`push` keeps the last one)
            if prev.is_some_and(|p| super::same_id(p, id)) {
                continue;
            }
            prev = Some(id);
            if let Some(i) = self.index.get_hashed(id, h)
                && let Some(Account::InOrder { open, .. }) = self.accounts.get(i)
            {
                seen = seen.wrapping_add(open.0 as usize);
            }
        }
        std::hint::black_box(seen);
    }

    /// A new account for `customer` (hash `h`), first seen at `row` at occasion `key`.
    fn open_account(&mut self, row: usize, customer: &str, h: u64, key: i64) -> usize {
        let i = self.index.insert_hashed(customer, h);
        debug_assert_eq!(i, self.accounts.len());
        self.first_rows.push(row);
        self.accounts.push(if self.keep_all {
            Account::All(Vec::new())
        } else {
            Account::InOrder {
                folded: Folded::default(),
                open: (key, 0.0),
            }
        });
        i
    }

    /// Moves the ids of merged shards into the index (before more transactions come).
    #[inline]
    fn ensure_index(&mut self) {
        if self.merged_ids.is_some() || !self.pending.is_empty() {
            self.build_merged_index();
        }
    }

    #[cold]
    fn build_merged_index(&mut self) {
        self.merge_pending();
        if let Some(ids) = self.merged_ids.take() {
            self.index = Index::from_ids(ids);
        }
    }

    #[cfg(feature = "csv")]
    /// Whether nothing has been pushed yet.
    pub(crate) fn is_fresh(&self) -> bool {
        self.accounts.is_empty()
            && !self.replaying
            && self.merged_ids.is_none()
            && self.pending.is_empty()
    }

    #[cfg(feature = "csv")]
    /// An empty builder with the same options and policy (keep every occasion or not), for a
    /// shard of the customers.
    pub(crate) fn shard(&self) -> SummaryBuilder {
        SummaryBuilder {
            keep_all: self.keep_all,
            ..Self::new(self.options)
        }
    }

    #[cfg(feature = "csv")]
    /// Takes in shards that summarised disjoint sets of customers, each from the rows of a log
    /// in file order (with the log's row numbers): the result is the builder that pushing
    /// every row in order would have given, customers in order of first appearance.
    /// `self` must be fresh. The shards are kept as they are until something other than
    /// [`finish`](Self::finish) needs the accounts in one piece ([`Self::merge_pending`]).
    pub(crate) fn absorb_shards(&mut self, shards: Vec<SummaryBuilder>) {
        debug_assert!(self.is_fresh());
        for sh in &shards {
            self.unordered += sh.unordered;
            self.after_end += sh.after_end;
            self.last_time = match (self.last_time, sh.last_time) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        self.pending = shards;
    }

    /// The id of account `i`.
    fn id_of(&self, i: usize) -> &str {
        match &self.merged_ids {
            Some(ids) => &ids[i],
            None => self.index.id(i),
        }
    }

    /// Merges the absorbed shards' accounts and ids into this builder's, in order of first
    /// appearance ([`first_appearance`]).
    fn merge_pending(&mut self) {
        let shards = std::mem::take(&mut self.pending);
        if shards.is_empty() {
            return;
        }
        let order = first_appearance(&shards);
        let mut parts: Vec<(Vec<String>, Vec<Account>)> = Vec::with_capacity(shards.len());
        for sh in shards {
            let ids = match sh.merged_ids {
                Some(m) => m,
                None => sh.index.into_ids(),
            };
            parts.push((ids, sh.accounts));
        }
        // each account is moved out once (a cheap placeholder left behind)
        let mut merged = Vec::with_capacity(order.len());
        self.accounts.reserve_exact(order.len());
        self.first_rows.reserve_exact(order.len());
        for (row, k, i) in order {
            let (ids, accounts) = &mut parts[k as usize];
            merged.push(std::mem::take(&mut ids[i as usize]));
            self.accounts.push(std::mem::replace(
                &mut accounts[i as usize],
                Account::Unordered,
            ));
            self.first_rows.push(row);
        }
        self.merged_ids = Some(merged);
    }

    /// Whether some customer's transactions arrived out of time order, so that the log must be
    /// replayed before [`finish`](Self::finish).
    pub fn needs_replay(&self) -> bool {
        self.unordered > 0 && !self.replaying
    }

    /// Starts the replay: the out-of-order customers will collect every transaction.
    pub fn begin_replay(&mut self) {
        self.merge_pending();
        for a in &mut self.accounts {
            if matches!(a, Account::Unordered) {
                *a = Account::All(Vec::new());
            }
        }
        self.replaying = true;
    }

    /// Pushes a transaction again during the replay (the rows were validated by
    /// [`push`](Self::push)); only the out-of-order customers' transactions are kept.
    pub fn replay(&mut self, customer: &str, time: NaiveDateTime, amount: f64) {
        self.ensure_index();
        if let Some(i) = self.index.get(customer)
            && let Account::All(v) = &mut self.accounts[i]
            && !self.keep_all
            && !(self.options.skip_after_end && self.options.is_after_end(time))
        {
            let key = self.options.granularity.floor(time).and_utc().timestamp();
            v.push((key, amount));
        }
    }

    /// The options the builder summarises with.
    pub fn options(&self) -> &SummaryOptions {
        &self.options
    }

    /// Number of distinct customers seen so far.
    pub fn customers(&self) -> usize {
        self.accounts.len()
            + self
                .pending
                .iter()
                .map(|sh| sh.accounts.len())
                .sum::<usize>()
    }

    /// Builds the summary (customers in order of first appearance). Errors if the log has to
    /// be replayed ([`needs_replay`](Self::needs_replay)) and was not.
    ///
    /// # Errors
    /// [`Error::EmptyData`] when no customer made a purchase by the calibration end.
    pub fn finish(mut self) -> Result<Summarized> {
        if self.customers() == 0 {
            return Err(Error::EmptyData("no transactions"));
        }
        if self.needs_replay() {
            return Err(Error::InvalidOption {
                name: "transactions",
                reason: format!(
                    "{} customers' transactions are out of time order: replay the log \
                     (SummaryBuilder::replay) or use SummaryBuilder::keep_all",
                    self.unordered
                ),
            });
        }
        let closing = Closing::of(&self);
        let tail = Tail {
            last_transaction: self.last_time.map(Stamp::time),
            after_end: self.after_end,
        };
        let mut shards = if self.pending.is_empty() {
            vec![self]
        } else {
            std::mem::take(&mut self.pending)
        };
        // (only these builders keep every occasion of some customers)
        if shards.iter().any(|sh| sh.keep_all || sh.replaying) {
            for sh in &mut shards {
                closing::sort_kept(&mut sh.accounts);
            }
        }
        closing.finish_shards(shards, tail)
    }
}

/// The customers of shards that summarised disjoint sets of customers, in order of first
/// appearance: (first row, shard, account) each. Each shard's first rows increase (its
/// customers in order of first appearance), so the order of the whole is a merge of the
/// shards' orders, not a sort.
fn first_appearance(shards: &[SummaryBuilder]) -> Vec<(usize, u32, u32)> {
    if let [one] = shards {
        // its accounts are in order of first appearance (whatever row numbers a caller gave)
        return (0..one.first_rows.len())
            .map(|i| (one.first_rows[i], 0, i as u32))
            .collect();
    }
    let total: usize = shards.iter().map(|sh| sh.first_rows.len()).sum();
    let mut order = Vec::with_capacity(total);
    let mut next = vec![0usize; shards.len()];
    for _ in 0..total {
        let (k, row) = shards
            .iter()
            .enumerate()
            .filter_map(|(k, sh)| sh.first_rows.get(next[k]).map(|&r| (k, r)))
            .min_by_key(|&(_, r)| r)
            .expect("rows remain");
        order.push((row, k as u32, next[k] as u32));
        next[k] += 1;
    }
    debug_assert!(order.windows(2).all(|w| w[0].0 < w[1].0));
    order
}

/// The CDNOW sample summarised from its transaction log (calibration to 1997-09-30, holdout to
/// 1998-06-30): a summary with litt and holdout columns for the crate's unit tests.
#[cfg(all(test, feature = "csv"))]
pub(crate) fn cdnow_log_summary() -> RfmSummary {
    use crate::io::{TransactionFormat, read_transactions_into};
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let opts = SummaryOptions::new(d(1997, 9, 30), TimeUnit::Weeks)
        .with_observation_end(d(1998, 6, 30))
        .unwrap();
    let mut b = SummaryBuilder::new(opts);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/CDNOW_sample.txt");
    read_transactions_into(path, &TransactionFormat::cdnow_sample(), &mut b).unwrap();
    b.finish().unwrap().summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_without_a_slot_are_found_by_the_id_itself() {
        // an account number past u32 gets no slot (Slot::new), and goes to the map keyed by
        // the id, where a lookup with no slot for the hash must still find it
        assert!(Slot::new(u32::MAX as usize + 1, "a").is_none());
        assert!(Slot::new(u32::MAX as usize, "a").is_some());
        let mut index = Index::default();
        let a = index.insert("a");
        let long = "x".repeat(40);
        let b = index.insert(&long);
        index.text.push_str("far");
        index.ends.push(index.text.len());
        index.collided.insert("far".to_string(), 2);
        assert_eq!(index.get("a"), Some(a));
        assert_eq!(index.get(&long), Some(b));
        assert_eq!(index.get("far"), Some(2));
        assert_eq!(index.get("b"), None);
        assert_eq!(index.get(&"x".repeat(39)), None);
    }
}
