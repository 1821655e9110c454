//! Log-space arithmetic: sums and differences of numbers held as logarithms.

/// `ln(exp(x) + exp(y))` without overflow or underflow.
///
/// ```
/// let v = clv::special::log_add_exp(1000.0, 1000.0);
/// assert!((v - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
#[inline]
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if hi == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if hi == f64::INFINITY {
        return f64::INFINITY;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// `ln(exp(x) - exp(y))` for `x >= y`; `-inf` when `x == y`, NaN when `x < y`.
///
/// ```
/// let v = clv::special::log_sub_exp(2f64.ln(), 0.0);
/// assert!(v.abs() < 1e-15);
/// ```
#[inline]
pub fn log_sub_exp(x: f64, y: f64) -> f64 {
    if y > x {
        return f64::NAN;
    }
    if y == f64::NEG_INFINITY {
        return x;
    }
    x + log1m_exp(y - x)
}

/// `ln(1 + exp(x))` (the softplus), accurate for every finite `x`.
///
/// ```
/// assert!((clv::special::log1p_exp(-50.0) - (-50f64).exp()).abs() < 1e-30);
/// assert_eq!(clv::special::log1p_exp(800.0), 800.0);
/// ```
#[inline]
pub fn log1p_exp(x: f64) -> f64 {
    if x > 36.0 {
        x + (-x).exp()
    } else if x > -37.0 {
        x.exp().ln_1p()
    } else {
        x.exp()
    }
}

/// `ln(1 - exp(x))` for `x <= 0`, accurate near 0 and for very negative `x`
/// (Mächler 2012, "Accurately computing log(1 - exp(-|a|))").
///
/// ```
/// let v = clv::special::log1m_exp(-1e-20);
/// assert!((v - (1e-20f64).ln()).abs() < 1e-12);
/// ```
#[inline]
pub fn log1m_exp(x: f64) -> f64 {
    if x > 0.0 {
        f64::NAN
    } else if x > -std::f64::consts::LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// `ln(sum(exp(x_i)))` over a slice; `-inf` for an empty slice.
///
/// ```
/// let v = clv::special::log_sum_exp(&[0.0, 0.0, 0.0, 0.0]);
/// assert!((v - 4f64.ln()).abs() < 1e-15);
/// ```
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !hi.is_finite() {
        return hi;
    }
    hi + xs.iter().map(|&x| (x - hi).exp()).sum::<f64>().ln()
}

/// A real number stored as `sign * exp(ln)`: the form in which quantities far beyond `f64`'s
/// range (such as 2F1 values up to `e^20000`) are carried and combined.
///
/// ```
/// use clv::special::SignedLog;
/// let x = SignedLog::from_f64(-3.0);
/// let y = SignedLog::from_f64(5.0);
/// assert!(((x + y).to_f64() - 2.0).abs() < 1e-15);
/// assert!(((x * y).to_f64() + 15.0).abs() < 1e-13);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedLog {
    /// `ln |value|` (`-inf` for zero).
    pub ln: f64,
    /// `-1.0`, `0.0` or `1.0`.
    pub sign: f64,
}

impl SignedLog {
    /// Zero.
    pub const ZERO: SignedLog = SignedLog {
        ln: f64::NEG_INFINITY,
        sign: 0.0,
    };
    /// One.
    pub const ONE: SignedLog = SignedLog { ln: 0.0, sign: 1.0 };

    /// Builds from a logarithm and a sign; a zero sign gives [`SignedLog::ZERO`].
    pub fn new(ln: f64, sign: f64) -> Self {
        if sign == 0.0 || ln == f64::NEG_INFINITY {
            Self::ZERO
        } else {
            SignedLog {
                ln,
                sign: sign.signum(),
            }
        }
    }

    /// Converts an ordinary number.
    pub fn from_f64(x: f64) -> Self {
        Self::new(x.abs().ln(), if x == 0.0 { 0.0 } else { x.signum() })
    }

    /// Back to an ordinary number (may overflow to ±inf).
    pub fn to_f64(self) -> f64 {
        if self.sign == 0.0 {
            0.0
        } else {
            self.sign * self.ln.exp()
        }
    }
}

impl std::ops::Mul for SignedLog {
    type Output = SignedLog;
    fn mul(self, rhs: SignedLog) -> SignedLog {
        SignedLog::new(self.ln + rhs.ln, self.sign * rhs.sign)
    }
}

impl std::ops::Add for SignedLog {
    type Output = SignedLog;
    fn add(self, rhs: SignedLog) -> SignedLog {
        if self.sign == 0.0 {
            return rhs;
        }
        if rhs.sign == 0.0 {
            return self;
        }
        if self.sign == rhs.sign {
            SignedLog::new(log_add_exp(self.ln, rhs.ln), self.sign)
        } else if self.ln >= rhs.ln {
            SignedLog::new(log_sub_exp(self.ln, rhs.ln), self.sign)
        } else {
            SignedLog::new(log_sub_exp(rhs.ln, self.ln), rhs.sign)
        }
    }
}

/// `ln(1 + t/a)` for `t >= 0`, `a > 0`, without overflow when `t/a` exceeds the f64 range
/// (then `ln t − ln a + ln(1 + a/t)`).
///
/// ```
/// use clv::special::ln1p_div;
/// assert!((ln1p_div(3.0, 1.5) - 3f64.ln()).abs() < 1e-15);
/// let big = ln1p_div(f64::MAX, 0.5);
/// assert!((big - (f64::MAX.ln() + 2f64.ln())).abs() < 1e-12);
/// ```
#[inline]
pub fn ln1p_div(t: f64, a: f64) -> f64 {
    let q = t / a;
    if q.is_finite() {
        q.ln_1p()
    } else {
        t.ln() - a.ln() + (a / t).ln_1p()
    }
}

/// `t/(a + t)` for `t >= 0`, `a > 0`, without overflow of `a + t` (as `1/(1 + a/t)` for
/// large `t`).
///
/// ```
/// assert_eq!(clv::special::frac_of_sum(f64::MAX, 1.0), 1.0);
/// assert_eq!(clv::special::frac_of_sum(1.0, 3.0), 0.25);
/// ```
#[inline]
pub fn frac_of_sum(t: f64, a: f64) -> f64 {
    let s = a + t;
    if s.is_finite() {
        t / s
    } else {
        1.0 / (1.0 + a / t)
    }
}
