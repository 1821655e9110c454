//! Adaptive Chebyshev interpolation of a smooth function on an interval, evaluated by
//! Clenshaw's recurrence. Used to replace thousands of evaluations of an expensive function of
//! one variable (a hypergeometric function at many arguments with the same parameters) by one
//! interpolant built from a few dozen evaluations.
//!
//! The interpolant through the n+1 Chebyshev–Lobatto points `cos(πk/n)` has coefficients
//! given by a type-I discrete cosine transform; for a function analytic in a Bernstein ellipse
//! of parameter ρ they decay like ρ^{-j}, and the interpolation error is bounded by about twice
//! the sum of the dropped coefficients (Trefethen, *Approximation Theory and Approximation
//! Practice*, ch. 8). The degree is doubled (reusing every previous point, the grids nest)
//! until the last three coefficients are below the tolerance; trailing coefficients below it
//! are then chopped.

/// A polynomial in Chebyshev form on `[lo, hi]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chebyshev {
    lo: f64,
    hi: f64,
    coefs: Vec<f64>,
}

/// Coefficients of the interpolant through `values[k] = f(cos(πk/n))`, k = 0..=n (DCT-I).
fn coefficients(values: &[f64]) -> Vec<f64> {
    let n = values.len() - 1;
    let nf = n as f64;
    // cos(π m / n) for m = 0..2n: the DCT needs only these, through j·k modulo 2n
    let table: Vec<f64> = (0..2 * n)
        .map(|m| (std::f64::consts::PI * m as f64 / nf).cos())
        .collect();
    (0..=n)
        .map(|j| {
            let mut s = 0.5 * (values[0] + values[n] * table[(j * n) % (2 * n)]);
            for (k, &v) in values.iter().enumerate().take(n).skip(1) {
                s += v * table[(j * k) % (2 * n)];
            }
            let c = 2.0 * s / nf;
            if j == 0 || j == n { 0.5 * c } else { c }
        })
        .collect()
}

impl Chebyshev {
    /// Interpolates `f` on `[lo, hi]` (lo < hi, both finite) with degree 16, 32, ... up to
    /// `max_degree`, until the last three coefficients are all `<= tol` in absolute value.
    /// `None` when that does not happen or `f` returns a non-finite value.
    pub fn fit(
        f: impl FnMut(f64) -> f64,
        lo: f64,
        hi: f64,
        tol: f64,
        max_degree: usize,
    ) -> Option<Chebyshev> {
        Self::fit_from(f, lo, hi, tol, 16, max_degree)
    }

    /// [`fit`](Self::fit) starting at degree `start` (a power of two, >= 4).
    fn fit_from(
        mut f: impl FnMut(f64) -> f64,
        lo: f64,
        hi: f64,
        tol: f64,
        start: usize,
        max_degree: usize,
    ) -> Option<Chebyshev> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return None;
        }
        let (mid, half) = (0.5 * (lo + hi), 0.5 * (hi - lo));
        let node = |k: usize, n: usize| {
            let y = (std::f64::consts::PI * k as f64 / n as f64).cos();
            // exact ends: the interval's end points are where callers' ranges come from
            if k == 0 {
                hi
            } else if k == n {
                lo
            } else {
                (mid + half * y).clamp(lo, hi)
            }
        };
        let mut n = start;
        let mut values: Vec<f64> = (0..=n).map(|k| f(node(k, n))).collect();
        loop {
            if values.iter().any(|v| !v.is_finite()) {
                return None;
            }
            let coefs = coefficients(&values);
            if coefs[n - 2..].iter().all(|c| c.abs() <= tol) {
                let keep = coefs
                    .iter()
                    .rposition(|c| c.abs() > tol)
                    .map_or(1, |i| i + 1);
                let mut coefs = coefs;
                coefs.truncate(keep);
                return Some(Chebyshev { lo, hi, coefs });
            }
            if 2 * n > max_degree {
                return None;
            }
            // the points of degree 2n: the old ones at even k, new ones at odd k
            let mut next = Vec::with_capacity(2 * n + 1);
            for k in 0..=2 * n {
                next.push(if k % 2 == 0 {
                    values[k / 2]
                } else {
                    f(node(k, 2 * n))
                });
            }
            values = next;
            n *= 2;
        }
    }

    /// The interval the interpolant covers.
    pub fn domain(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Number of coefficients kept (the cost of one evaluation).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.coefs.len()
    }

    /// Value at `x` (meant for `x` in the domain) by Clenshaw's recurrence.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        let y = (2.0 * x - (self.lo + self.hi)) / (self.hi - self.lo);
        let y2 = 2.0 * y;
        let (mut b1, mut b2) = (0.0, 0.0);
        for &c in self.coefs[1..].iter().rev() {
            let b0 = c + y2 * b1 - b2;
            b2 = b1;
            b1 = b0;
        }
        self.coefs[0] + y * b1 - b2
    }
}

/// Chebyshev interpolants on equal pieces of an interval: evaluation costs the degree of one
/// piece, so splitting a function that needs 20 terms on the whole interval into pieces of 8
/// or fewer makes each evaluation about twice as fast (Clenshaw's recurrence is a chain of
/// dependent multiply-adds).
#[derive(Debug, Clone, PartialEq)]
pub struct Piecewise {
    lo: f64,
    hi: f64,
    scale: f64,
    pieces: Vec<Chebyshev>,
}

impl Piecewise {
    /// Interpolates `f` on `[lo, hi]` to `tol` with 1, 2, 4, ... up to 16 pieces, until every
    /// piece needs at most `max_terms` coefficients (or 16 pieces are reached). `None` when a
    /// piece does not converge by degree `max_degree`.
    pub fn fit(
        mut f: impl FnMut(f64) -> f64,
        lo: f64,
        hi: f64,
        tol: f64,
        max_degree: usize,
        max_terms: usize,
    ) -> Option<Piecewise> {
        let mut k = 1usize;
        loop {
            let w = (hi - lo) / k as f64;
            let pieces = (0..k)
                .map(|i| {
                    let a = lo + i as f64 * w;
                    let b = if i + 1 == k {
                        hi
                    } else {
                        lo + (i + 1) as f64 * w
                    };
                    Chebyshev::fit_from(&mut f, a, b, tol, if k == 1 { 16 } else { 8 }, max_degree)
                })
                .collect::<Option<Vec<_>>>()?;
            if k >= 16 || pieces.iter().all(|p| p.coefs.len() <= max_terms) {
                return Some(Piecewise {
                    lo,
                    hi,
                    scale: k as f64 / (hi - lo),
                    pieces,
                });
            }
            k *= 2;
        }
    }

    /// The interval covered.
    pub fn domain(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Value at `x` (meant for `x` in the domain).
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        let i = (((x - self.lo) * self.scale) as usize).min(self.pieces.len() - 1);
        self.pieces[i].eval(x)
    }

    /// The largest number of coefficients of a piece.
    #[cfg(test)]
    pub fn max_len(&self) -> usize {
        self.pieces.iter().map(|p| p.coefs.len()).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_polynomials_exactly_and_chops() {
        // 3 T_0 + 2 T_1 - T_3 on [-1, 1]; 4y³ - 3y for T_3
        let p = |y: f64| 3.0 + 2.0 * y - (4.0 * y * y * y - 3.0 * y);
        let c = Chebyshev::fit(p, -1.0, 1.0, 1e-14, 64).unwrap();
        assert_eq!(c.len(), 4);
        for y in [-1.0, -0.3, 0.0, 0.77, 1.0] {
            assert!((c.eval(y) - p(y)).abs() < 1e-14);
        }
    }

    #[test]
    fn converges_for_analytic_functions_and_gives_up_otherwise() {
        let c = Chebyshev::fit(f64::exp, 0.0, 3.0, 1e-15, 128).unwrap();
        let worst = (0..=300)
            .map(|i| {
                let x = 3.0 * i as f64 / 300.0;
                (c.eval(x) / x.exp() - 1.0).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 1e-14, "{worst}");
        // |x| has a kink: coefficients decay like 1/j², never below 1e-12 by degree 128
        assert!(Chebyshev::fit(f64::abs, -1.0, 1.0, 1e-12, 128).is_none());
        assert!(Chebyshev::fit(|x| 1.0 / x, 0.0, 1.0, 1e-12, 128).is_none());
        assert!(Chebyshev::fit(f64::exp, 1.0, 1.0, 1e-12, 128).is_none());
    }

    #[test]
    fn pieces_are_short_and_accurate() {
        let f = |x: f64| (1.0 + x * x).ln(); // poles at ±i: slow convergence on [-3, 3]
        let whole = Chebyshev::fit(f, -3.0, 3.0, 1e-14, 128).unwrap();
        let p = Piecewise::fit(f, -3.0, 3.0, 1e-14, 128, 10).unwrap();
        assert!(
            p.pieces.len() > 1 && p.max_len() < whole.len() / 2,
            "{}",
            p.max_len()
        );
        let worst = (0..=600)
            .map(|i| {
                let x = -3.0 + 6.0 * i as f64 / 600.0;
                (p.eval(x) - f(x)).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 1e-13, "{worst}");
    }
}
