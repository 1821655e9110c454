//! Customers grouped by frequency: what batch predictions precompute per distinct `x`.

use super::{Customer, RfmSummary};
use std::collections::HashMap;

/// The distinct frequencies of a set of customers, each with its number of customers and the
/// range of their ages `T`. Predictions that depend on a customer only through `x` and `T`
/// (BG/NBD's E[Y(t)] given alive) are tabulated once per group over that range
/// ([`TransactionModel::plan`](crate::TransactionModel::plan)).
///
/// ```
/// use clv::{FrequencyGroups, RfmSummary, TimeUnit};
/// let s = RfmSummary::new(
///     vec!["a".into(), "b".into(), "c".into()],
///     vec![0.0, 2.0, 2.0],
///     vec![0.0, 30.0, 12.0],
///     vec![38.0, 39.0, 20.0],
///     TimeUnit::Weeks,
/// ).unwrap();
/// let g = FrequencyGroups::new(&s);
/// assert_eq!(g.len(), 2);
/// let i = g.find(2.0).unwrap();
/// assert_eq!((g.count(i), g.age_range(i)), (2, (20.0, 39.0)));
/// assert_eq!(g.find(5.0), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyGroups {
    x: Vec<f64>,
    count: Vec<usize>,
    t_min: Vec<f64>,
    t_max: Vec<f64>,
    index: Index,
}

/// x → group: a dense table for the usual small frequencies, a hash map beyond.
#[derive(Debug, Clone, PartialEq)]
enum Index {
    Dense(Vec<u32>),
    Sparse(HashMap<u64, u32>),
}

const DENSE_LIMIT: f64 = (1 << 20) as f64;
const NONE: u32 = u32::MAX;

impl FrequencyGroups {
    /// Groups the customers of a summary.
    pub fn new(summary: &RfmSummary) -> Self {
        Self::from_customers(summary.customers())
    }

    /// Groups any customers (validated [`Customer`]s have integer `x >= 0`).
    pub fn from_customers(customers: impl IntoIterator<Item = Customer>) -> Self {
        let mut g = FrequencyGroups {
            x: Vec::new(),
            count: Vec::new(),
            t_min: Vec::new(),
            t_max: Vec::new(),
            index: Index::Dense(Vec::new()),
        };
        let mut sparse: HashMap<u64, u32> = HashMap::new();
        let mut dense: Vec<u32> = Vec::new();
        for c in customers {
            let (x, t) = (c.frequency(), c.age());
            let slot = if x < DENSE_LIMIT {
                let k = x as usize;
                if k >= dense.len() {
                    dense.resize(k + 1, NONE);
                }
                &mut dense[k]
            } else {
                sparse.entry(x as u64).or_insert(NONE)
            };
            if *slot == NONE {
                *slot = g.x.len() as u32;
                g.x.push(x);
                g.count.push(0);
                g.t_min.push(t);
                g.t_max.push(t);
            }
            let i = *slot as usize;
            g.count[i] += 1;
            g.t_min[i] = g.t_min[i].min(t);
            g.t_max[i] = g.t_max[i].max(t);
        }
        g.index = if sparse.is_empty() {
            Index::Dense(dense)
        } else {
            // some frequencies are huge: index all of them by hash
            for (k, &v) in dense.iter().enumerate() {
                if v != NONE {
                    sparse.insert(k as u64, v);
                }
            }
            Index::Sparse(sparse)
        };
        g
    }

    /// Groups for every frequency 0..=`max_frequency` with ages over [0, `max_age`], each
    /// counted as many customers (2^20), so that every plan tabulates them: the groups of a
    /// scorer that does not know its customers in advance ([`crate::scorer::Scorer`]).
    ///
    /// ```
    /// let g = clv::FrequencyGroups::covering(3, 52.0);
    /// assert_eq!(g.len(), 4);
    /// assert_eq!(g.age_range(g.find(3.0).unwrap()), (0.0, 52.0));
    /// ```
    pub fn covering(max_frequency: u32, max_age: f64) -> Self {
        let n = max_frequency as usize + 1;
        let max_age = if max_age.is_finite() && max_age > 0.0 {
            max_age
        } else {
            0.0
        };
        FrequencyGroups {
            x: (0..n).map(|x| x as f64).collect(),
            count: vec![1 << 20; n],
            t_min: vec![0.0; n],
            t_max: vec![max_age; n],
            index: if (n as f64) < DENSE_LIMIT {
                Index::Dense((0..n as u32).collect())
            } else {
                Index::Sparse((0..n as u64).map(|x| (x, x as u32)).collect())
            },
        }
    }

    /// Number of distinct frequencies.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The group of frequency `x`, if any customer has it.
    #[inline]
    pub fn find(&self, x: f64) -> Option<usize> {
        if !(x >= 0.0 && x.fract() == 0.0) {
            return None;
        }
        let i = match &self.index {
            Index::Dense(d) => *d.get(x as usize).filter(|_| x < DENSE_LIMIT)?,
            Index::Sparse(m) => *m.get(&(x as u64))?,
        };
        (i != NONE).then_some(i as usize)
    }

    /// The frequency of group `i`.
    pub fn frequency(&self, i: usize) -> f64 {
        self.x[i]
    }

    /// Number of customers in group `i`.
    pub fn count(&self, i: usize) -> usize {
        self.count[i]
    }

    /// Smallest and largest age `T` in group `i`.
    pub fn age_range(&self, i: usize) -> (f64, f64) {
        (self.t_min[i], self.t_max[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_frequencies_use_the_hash_index() {
        let cs = [
            Customer::new(3.0, 1.0, 2.0).unwrap(),
            Customer::new(5e6, 9.0, 10.0).unwrap(),
            Customer::new(3.0, 1.0, 7.0).unwrap(),
        ];
        let g = FrequencyGroups::from_customers(cs);
        assert_eq!(g.len(), 2);
        assert_eq!(g.age_range(g.find(3.0).unwrap()), (2.0, 7.0));
        assert_eq!(g.count(g.find(5e6).unwrap()), 1);
        assert_eq!(g.find(4.0), None);
        assert_eq!(g.find(2.5), None);
    }
}
