//! BG/NBD's fast [`SchedulePlan`]: E[Y(t)] given alive tabulated once per distinct frequency.
//!
//! Given alive at T, eq. (10)'s expectation is eq. (9) at the posterior (r+x, α+T, a, b+x),
//! which depends on the customer only through x and u = t/(α+T): M_x(u) = mean_count(r+x, 1,
//! a, b+x, u). For each distinct x, two Chebyshev interpolants replace the hypergeometric
//! function:
//!
//! 1. `L_x(s) = ln(M_x(u)/u)` in `s = ln(1+u)`, over the range of u the group's ages and the
//!    schedules' horizons produce. In s, M is analytic in the strip |Im s| < π (the branch cut
//!    u <= -1 sits at Im s = ±π), so the coefficients decay geometrically even when u spans
//!    decades; dividing by u and taking logs makes the error relative and the function flat.
//! 2. For each schedule, `ln F_x(v)` with `F_x = Σᵢ dᵢ (M_x(tᵢ/β) - M_x(tᵢ₋₁/β))` in
//!    `v = ln β`, β = α+T, over the group's ages: one Clenshaw sum per customer and schedule
//!    instead of one 2F1 per horizon.
//!
//! Both are built to an absolute tolerance of [`TOL`] in log space (a relative tolerance on the
//! values); groups too small to repay the construction, or whose interpolants do not converge
//! by degree [`MAX_DEGREE`], are evaluated directly, as is any customer outside the tabulated
//! range. P(alive) is always computed directly (it is cheap).

use super::bgnbd::{BgNbdParams, ln_odds_x, mean_count, p_alive_repeat};
use super::plan::{Schedule, SchedulePlan, direct};
use crate::data::{Customer, FrequencyGroups};
use crate::models::TransactionModel;
use crate::special::{Chebyshev, Piecewise};
use std::sync::Arc;

/// Interpolation tolerance in log space: the relative error of each interpolant. ln_hyp2f1 is
/// accurate to a few 1e-13 relative in its log, which sets the noise floor the coefficients
/// decay to; 1e-11 sits safely above it.
pub(super) const TOL: f64 = 1e-12;
/// Largest interpolation degree tried before a group falls back to direct evaluation.
pub(super) const MAX_DEGREE: usize = 128;
/// Coefficients per piece of the per-customer interpolants: evaluation cost is a chain of this
/// many multiply-adds.
const PIECE_TERMS: usize = 10;
/// A group is tabulated when its customers need at least this many evaluations of E[Y(t)]:
/// building costs about 30-60 direct evaluations.
const MIN_EVALS: usize = 64;

enum Table {
    Direct,
    /// Every customer of the group has the same β: the schedule values given alive.
    Const {
        beta: f64,
        values: Vec<f64>,
    },
    /// ln F per schedule, in v = ln β; and ln[a/(b+x-1)] for P(alive).
    Cheb(Vec<Piecewise>, f64),
}

/// A model of the BG/NBD family: given alive at T, its predictions are BG/NBD's at
/// [`given_alive`](BgFamily::given_alive), and its P(alive) is BG/NBD's formula at those
/// parameters (for x = 0 too when [`DROPOUT_AT_ZERO`](BgFamily::DROPOUT_AT_ZERO)).
pub(super) trait BgFamily: TransactionModel + Copy + Send + Sync + 'static {
    /// Whether a customer without repeat purchases may have dropped out (MBG/NBD).
    const DROPOUT_AT_ZERO: bool;
    /// The BG/NBD parameters whose predictions given alive equal this model's.
    fn given_alive(&self) -> BgNbdParams;
}

impl BgFamily for BgNbdParams {
    const DROPOUT_AT_ZERO: bool = false;
    fn given_alive(&self) -> BgNbdParams {
        *self
    }
}

pub(super) struct BgNbdPlan<M> {
    model: M,
    bg: BgNbdParams,
    groups: Arc<FrequencyGroups>,
    schedules: Arc<[Schedule]>,
    tables: Vec<Table>,
}

/// E[Y(t)] given alive as a function of u = t/β, from the s-interpolant.
#[inline]
fn m_from(ls: &Chebyshev, u: f64) -> f64 {
    let (lo, hi) = ls.domain();
    u * ls.eval(u.ln_1p().clamp(lo, hi)).exp()
}

/// A schedule's value given alive from M(u).
fn schedule_value(s: &Schedule, beta: f64, m: impl Fn(f64) -> f64) -> f64 {
    let mut prev = 0.0;
    let mut total = 0.0;
    for (&t, &d) in s.horizons().iter().zip(s.factors()) {
        let e = m(t / beta);
        total += d * (e - prev);
        prev = e;
    }
    total
}

impl<M: BgFamily> BgNbdPlan<M> {
    pub(super) fn new(
        model: &M,
        groups: &Arc<FrequencyGroups>,
        schedules: &Arc<[Schedule]>,
    ) -> Self {
        let bg = model.given_alive();
        let tables = (0..groups.len())
            .map(|g| Self::table(&bg, groups, g, schedules))
            .collect();
        BgNbdPlan {
            model: *model,
            bg,
            groups: groups.clone(),
            schedules: schedules.clone(),
            tables,
        }
    }

    fn table(m: &BgNbdParams, groups: &FrequencyGroups, g: usize, schedules: &[Schedule]) -> Table {
        let per_customer: usize = schedules.iter().map(|s| s.horizons().len()).sum();
        if schedules.is_empty() || groups.count(g) * per_customer < MIN_EVALS {
            return Table::Direct;
        }
        let x = groups.frequency(g);
        let (r, a, b) = (m.r() + x, m.a(), m.b() + x);
        let direct_m = |u: f64| mean_count(r, 1.0, a, b, u);
        let (t_min, t_max) = groups.age_range(g);
        let (beta_lo, beta_hi) = (m.alpha() + t_min, m.alpha() + t_max);
        if beta_lo == beta_hi {
            let values = schedules
                .iter()
                .map(|s| schedule_value(s, beta_lo, direct_m))
                .collect();
            return Table::Const {
                beta: beta_lo,
                values,
            };
        }
        let h_lo = schedules
            .iter()
            .map(|s| s.horizons()[0])
            .fold(f64::INFINITY, f64::min);
        let h_hi = schedules
            .iter()
            .map(|s| *s.horizons().last().expect("schedules are non-empty"))
            .fold(0.0, f64::max);
        let (s_lo, s_hi) = ((h_lo / beta_hi).ln_1p(), (h_hi / beta_lo).ln_1p());
        let l = |s: f64| {
            let u = s.exp_m1();
            direct_m(u).ln() - u.ln()
        };
        let Some(ls) = Chebyshev::fit(l, s_lo, s_hi, TOL, MAX_DEGREE) else {
            return Table::Direct;
        };
        let (v_lo, v_hi) = (beta_lo.ln(), beta_hi.ln());
        let mut out = Vec::with_capacity(schedules.len());
        for s in schedules {
            let f = |v: f64| schedule_value(s, v.exp(), |u| m_from(&ls, u)).ln();
            match Piecewise::fit(f, v_lo, v_hi, TOL, MAX_DEGREE, PIECE_TERMS) {
                Some(c) => out.push(c),
                None => return Table::Direct,
            }
        }
        Table::Cheb(out, ln_odds_x(m, x))
    }
}

impl<M: BgFamily> SchedulePlan for BgNbdPlan<M> {
    fn eval(&self, c: &Customer, out: &mut [f64]) -> f64 {
        let beta = self.bg.alpha() + c.age();
        match self.groups.find(c.frequency()).map(|g| &self.tables[g]) {
            Some(Table::Cheb(tables, k)) => {
                let v = beta.ln();
                let (lo, hi) = tables[0].domain();
                if (lo..=hi).contains(&v) {
                    let pa = if c.frequency() == 0.0 && !M::DROPOUT_AT_ZERO {
                        1.0
                    } else {
                        p_alive_repeat(&self.bg, c, *k)
                    };
                    for (o, t) in out.iter_mut().zip(tables) {
                        *o = pa * t.eval(v).exp();
                    }
                    return pa;
                }
            }
            Some(Table::Const { beta: b, values }) if *b == beta => {
                let pa = self.model.p_alive(c);
                for (o, v) in out.iter_mut().zip(values) {
                    *o = pa * v;
                }
                return pa;
            }
            _ => {}
        }
        direct(&self.model, &self.schedules, c, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-horizon schedule (39) and a 13-step discounted one (every 4 weeks, 1% a step):
    /// the schedules both plan tests evaluate.
    pub(super) fn one_horizon_and_13_discounted_steps() -> Arc<[Schedule]> {
        Arc::from([
            Schedule::horizon(39.0).unwrap(),
            Schedule::new(
                (1..=13).map(|i| 4.0 * i as f64).collect(),
                (1..=13).map(|i| 1.0 / 1.01f64.powi(i)).collect(),
            )
            .unwrap(),
        ])
    }
    use crate::TimeUnit;
    use crate::sim::{simulate_bgnbd, uniform_ages};

    /// Plan vs direct on simulated customers over parameter sets from CDNOW's to extreme ones,
    /// with a one-horizon schedule and a 13-step discounted one.
    #[test]
    fn matches_direct_evaluation() {
        let sets = [
            (0.243, 4.414, 0.793, 2.426),
            (0.243, 4.414, 1.0 + 1e-7, 2.426),
            (2.0, 0.5, 0.3, 0.4),
            (5.0, 30.0, 2.5, 8.0),
            (0.05, 100.0, 0.05, 0.05),
            (40.0, 2.0, 8.0, 1.5),
            (0.243, 4.414, 1.001, 2.426),
            (40.0, 0.2, 0.5, 200.0), // x in the thousands
        ];
        let schedules = one_horizon_and_13_discounted_steps();
        for (k, &(r, alpha, a, b)) in sets.iter().enumerate() {
            let m = BgNbdParams::new(r, alpha, a, b).unwrap();
            let ages = uniform_ages(4000, 0.5, 78.0, k as u64).unwrap();
            let s = simulate_bgnbd(&m, &ages, TimeUnit::Weeks, 9 + k as u64).unwrap();
            let groups = Arc::new(FrequencyGroups::new(&s));
            let plan = BgNbdPlan::new(&m, &groups, &schedules);
            let tabulated = plan
                .tables
                .iter()
                .filter(|t| !matches!(t, Table::Direct))
                .count();
            let eligible = (0..groups.len())
                .filter(|&g| groups.count(g) * 14 >= MIN_EVALS)
                .count();
            let longest = plan.tables.iter().fold(0, |n, t| match t {
                Table::Cheb(c, _) => c.iter().fold(n, |n, c| n.max(c.max_len())),
                _ => n,
            });
            let (mut worst, mut out, mut refv) = (0.0f64, [0.0; 2], [0.0; 2]);
            for c in s.customers() {
                let pa = plan.eval(&c, &mut out);
                let pa_ref = direct(&m, &schedules, &c, &mut refv);
                assert_eq!(pa, pa_ref);
                for j in 0..2 {
                    // subnormal values (P(alive) ~ 1e-310) carry fewer digits in both
                    if refv[j] >= f64::MIN_POSITIVE {
                        worst = worst.max((out[j] / refv[j] - 1.0).abs());
                    } else {
                        assert!((out[j] - refv[j]).abs() < 1e-3 * refv[j] + 1e-320);
                    }
                }
            }
            eprintln!(
                "set {k}: {} groups, {eligible} worth tabulating, {tabulated} tabulated \
                 (at most {longest} coefficients), worst relative difference {worst:.2e}",
                groups.len()
            );
            assert!(worst < 1e-10, "set {k}: {worst}");
            // a = 1 ± 1e-6 is evaluated by symmetric differences, too noisy to interpolate
            if k != 1 {
                assert_eq!(tabulated, eligible, "set {k}");
            }
        }
    }

    /// One age for the whole group (a weekly cohort): values are tabulated as constants; and
    /// customers the plan was not built for are evaluated directly.
    #[test]
    fn constant_ages_and_unplanned_customers() {
        let m = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let cs: Vec<Customer> = (0..70)
            .map(|i| Customer::new(3.0, 1.0 + i as f64 * 0.5, 39.0).unwrap())
            .collect();
        let groups = Arc::new(FrequencyGroups::from_customers(cs.iter().copied()));
        let schedules: Arc<[Schedule]> = Arc::from([Schedule::horizon(52.0).unwrap()]);
        let plan = BgNbdPlan::new(&m, &groups, &schedules);
        assert!(matches!(plan.tables[0], Table::Const { .. }));
        let others = [
            Customer::new(3.0, 1.0, 45.0).unwrap(), // planned x, other age
            Customer::new(7.0, 1.0, 39.0).unwrap(), // unplanned x
        ];
        let (mut out, mut refv) = ([0.0], [0.0]);
        for c in cs.iter().chain(&others) {
            let pa = plan.eval(c, &mut out);
            assert_eq!(pa, direct(&m, &schedules, c, &mut refv));
            assert!((out[0] / refv[0] - 1.0).abs() < 1e-14, "{c:?}");
        }
    }
}

#[cfg(test)]
mod mbg_tests {
    use super::tests::one_horizon_and_13_discounted_steps;
    use super::*;
    use crate::MbgNbdParams;
    use crate::TimeUnit;
    use crate::sim::{Simulate, uniform_ages};

    /// MBG/NBD's plan (BG/NBD's tables at b + 1, MBG/NBD's P(alive), one-time buyers included)
    /// against direct evaluation.
    #[test]
    fn mbgnbd_plan_matches_direct_evaluation() {
        let schedules = one_horizon_and_13_discounted_steps();
        for (k, &(r, alpha, a, b)) in [(0.525, 6.183, 0.891, 1.614), (2.0, 0.5, 0.3, 0.4)]
            .iter()
            .enumerate()
        {
            let m = MbgNbdParams::new(r, alpha, a, b).unwrap();
            let ages = uniform_ages(4000, 0.5, 78.0, k as u64).unwrap();
            let s = m.simulate(&ages, TimeUnit::Weeks, 3 + k as u64).unwrap();
            let groups = Arc::new(FrequencyGroups::new(&s));
            let plan = m.plan(&groups, &schedules);
            let (mut worst, mut out, mut refv) = (0.0f64, [0.0; 2], [0.0; 2]);
            let mut zeros_below_one = 0;
            for c in s.customers() {
                let pa = plan.eval(&c, &mut out);
                let pa_ref = direct(&m, &schedules, &c, &mut refv);
                assert_eq!(pa, pa_ref);
                if c.frequency() == 0.0 && pa < 1.0 {
                    zeros_below_one += 1;
                }
                for j in 0..2 {
                    if refv[j] >= f64::MIN_POSITIVE {
                        worst = worst.max((out[j] / refv[j] - 1.0).abs());
                    }
                }
            }
            assert!(worst < 1e-10, "set {k}: {worst}");
            assert!(zeros_below_one > 100, "{zeros_below_one}");
        }
    }
}
