//! Static customer covariates: one row of numbers per customer of a summary (in its order),
//! one named column per covariate, for the models with covariates
//! ([`crate::models::pareto_nbd_cov`]).

use crate::error::{DataIssue, Error, Result};

/// A validated covariate matrix: `len()` rows of `names().len()` finite numbers.
///
/// ```
/// use clv::Covariates;
/// let z = Covariates::new(vec!["gender".into(), "channel".into()],
///     vec![vec![0.0, 1.0], vec![1.0, 1.0], vec![1.0, 0.0]])?;
/// assert_eq!(z.row(1), &[1.0, 1.0]);
/// let g = z.select(&["gender"])?;
/// assert_eq!(g.row(2), &[1.0]);
/// assert!(z.select(&["age"]).is_err());
/// // every column must vary (a constant one says nothing), checked where data come in
/// let flat = Covariates::new(vec!["c".into()], vec![vec![1.0], vec![1.0]])?;
/// assert!(flat.check_varies().is_err());
/// # Ok::<(), clv::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    names: Vec<String>,
    values: Vec<f64>,
    rows: usize,
}

impl Covariates {
    /// Covariates from rows (one per customer, each with one value per name; no names: a
    /// process without covariates).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for duplicate names; [`Error::InvalidData`] naming the row
    /// for a row of the wrong length or a value that is not finite.
    pub fn new(names: Vec<String>, rows: Vec<Vec<f64>>) -> Result<Self> {
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::InvalidOption {
                    name: "covariates",
                    reason: format!("column '{n}' appears twice"),
                });
            }
        }
        let k = names.len();
        let mut values = Vec::with_capacity(rows.len() * k);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != k {
                return Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: None,
                    field: "covariates",
                    issue: DataIssue::Unparseable {
                        text: format!("{} values", r.len()),
                        expected: format!("{k} values ({})", names.join(", ")),
                    },
                });
            }
            if let Some(&v) = r.iter().find(|v| !v.is_finite()) {
                return Err(Error::InvalidData {
                    row: Some(i + 1),
                    customer: None,
                    field: "covariates",
                    issue: DataIssue::NotFinite(v),
                });
            }
            values.extend_from_slice(r);
        }
        Ok(Covariates {
            names,
            values,
            rows: rows.len(),
        })
    }

    /// Column names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Number of rows (customers).
    pub fn len(&self) -> usize {
        self.rows
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    /// Row `i` (customer `i` of the summary).
    ///
    /// # Panics
    /// When `i >= len()`.
    pub fn row(&self, i: usize) -> &[f64] {
        let k = self.names.len();
        &self.values[i * k..(i + 1) * k]
    }

    /// The named columns, in the order given.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming a column that is not there.
    pub fn select(&self, columns: &[&str]) -> Result<Covariates> {
        let idx: Vec<usize> = columns
            .iter()
            .map(|c| {
                self.names
                    .iter()
                    .position(|n| n == c)
                    .ok_or_else(|| Error::InvalidOption {
                        name: "covariates",
                        reason: format!("no column '{c}' (columns: {})", self.names.join(", ")),
                    })
            })
            .collect::<Result<_>>()?;
        let rows = (0..self.rows)
            .map(|i| idx.iter().map(|&j| self.row(i)[j]).collect())
            .collect();
        Covariates::new(columns.iter().map(|c| c.to_string()).collect(), rows)
    }

    /// Refuses a column that takes one value only (it cannot tell customers apart, and its
    /// coefficient is not identified).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first constant column.
    pub fn check_varies(&self) -> Result<()> {
        for (j, n) in self.names.iter().enumerate() {
            let first = self.row(0).get(j).copied();
            if (0..self.rows).all(|i| Some(self.row(i)[j]) == first) {
                return Err(Error::InvalidOption {
                    name: "covariates",
                    reason: format!(
                        "column '{n}' is constant ({}): it says nothing about how customers differ",
                        first.map_or("empty".into(), |v| v.to_string())
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The rows of `rows` grouped by their covariate values (compared bitwise), groups in order of
/// first appearance: the customers who share one pattern share their parameters.
pub(crate) fn group_by_pattern<'a>(
    rows: impl Iterator<Item = usize>,
    values: impl Fn(usize) -> Vec<&'a [f64]>,
) -> Vec<Vec<usize>> {
    let mut index: std::collections::HashMap<Vec<u64>, usize> = Default::default();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for i in rows {
        let key: Vec<u64> = values(i)
            .iter()
            .flat_map(|r| r.iter())
            .map(|v| v.to_bits())
            .collect();
        let g = *index.entry(key).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[g].push(i);
    }
    members
}
