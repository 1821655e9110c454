//! The loop every mpmath reference table is checked with: `tests/data/<model>_reference.csv`,
//! header `params,<the model's parameters>,x,t_x,T,t,n,quantity,value`, one value per line.
//! Included with `#[path = "support/reference_table.rs"] mod reference_table;`.

use clv::Customer;

/// One line of a table.
pub struct Row<'a> {
    /// The model's parameters, in the header's order.
    pub params: Vec<f64>,
    /// The customer (x, t_x, T), when the line has one.
    pub customer: Option<Customer>,
    /// The horizon t (NaN when absent).
    pub t: f64,
    /// The count n (0 when absent).
    pub n: u64,
    /// What the value is (`p_alive`, `pmf`, ...).
    pub quantity: &'a str,
}

/// Checks every line: `got(row)` must be finite and within `rel_tol` of the value (relative;
/// absolute when the value is 0). Returns the number of lines and the worst error, and prints
/// them (`cargo test -- --nocapture` shows the figure the docs quote).
pub fn check(text: &str, rel_tol: f64, got: impl Fn(&Row) -> f64) -> (usize, f64) {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let xi = header.iter().position(|h| *h == "x").unwrap();
    let (mut worst, mut count) = (0.0_f64, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap_or(f64::NAN);
        let row = Row {
            params: (1..xi).map(num).collect(),
            customer: (!f[xi].is_empty())
                .then(|| Customer::new(num(xi), num(xi + 1), num(xi + 2)).unwrap()),
            t: num(xi + 3),
            n: f[xi + 4].parse().unwrap_or(0),
            quantity: f[xi + 5],
        };
        let want = num(xi + 6);
        let g = got(&row);
        let rel = if want == 0.0 {
            g.abs()
        } else {
            ((g - want) / want).abs()
        };
        assert!(
            g.is_finite() && rel < rel_tol,
            "{line}: got {g:e}, rel err {rel:e}"
        );
        worst = worst.max(rel);
        count += 1;
    }
    eprintln!("{count} reference values, worst relative error {worst:e}");
    (count, worst)
}
