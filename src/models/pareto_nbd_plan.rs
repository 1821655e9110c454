//! Pareto/NBD's [`SchedulePlan`]: ln G tabulated once per distinct frequency.
//!
//! P(alive) and P(Y(t) = 0) need G(a, b, z) (see [`super::pareto_nbd`]) at z = d/(big + y) for
//! y = t_x, T and T + t (d = |α − β|, big = max(α, β)); a and b depend on the customer only
//! through x. For each frequency group, one Chebyshev interpolant of ln G in z over the group's
//! range, [d/(big + T_max + h_max), d/big] (h_max the largest planned horizon), replaces the
//! series: one Clenshaw sum per argument instead of a series whose length grows as z nears 1.
//!
//! Discounted schedules (CLV) are tabulated too, once for all frequencies: given alive, a
//! customer's schedule value is `(r+x)/(α+T) · F(β+T)` with
//! `F(b) = Σᵢ dᵢ [m(tᵢ; b) − m(tᵢ₋₁; b)]`, `m(t; b) = b/(s−1) · [1 − (b/(b+t))^(s−1)]`
//! (FHL note eq. 17 at the posterior), so one piecewise Chebyshev interpolant of ln F in
//! ln b over the customers' ages replaces a sum over the schedule's steps.
//! Built to an absolute tolerance of [`TOL`] in ln G (a relative tolerance on G); groups too
//! small to repay it, ranges reaching z > [`Z_MAX`] (where the interpolant converges slowly)
//! and customers outside the range are evaluated directly. E[Y(t)] given alive is in closed
//! form and evaluated per customer.

use super::pareto_nbd::{
    LnG, ParetoNbdParams, Recips, ln_g, mean_count, mean_count_at, p_alive_from, p_zero_from,
    series_ab,
};
use super::plan::{Schedule, SchedulePlan, direct};
use crate::data::{Customer, FrequencyGroups};
use crate::special::{Chebyshev, Piecewise, ln1p_div};
use std::sync::Arc;

/// Interpolation tolerance on ln G: the series is accurate to ~1e-16 relative, so the
/// coefficients decay to that floor; 1e-14 sits above it.
const TOL: f64 = 1e-14;
/// Largest interpolation degree tried before a group is evaluated directly.
const MAX_DEGREE: usize = 128;
/// Groups with fewer customers are evaluated directly (building costs ~40-130 series).
const MIN_CUSTOMERS: usize = 48;
/// Largest z tabulated: the singularity of G at z = 1 slows the interpolant's convergence.
const Z_MAX: f64 = 0.9;

enum Table {
    Direct,
    /// α = β: z = 0 for every customer, ln G = -ln a.
    Exact(f64),
    /// ln G(z) on the group's range of z.
    Cheb(Chebyshev),
}

pub(super) struct ParetoNbdPlan {
    model: ParetoNbdParams,
    th: [f64; 4],
    schedules: Arc<[Schedule]>,
    groups: Arc<FrequencyGroups>,
    tables: Vec<Table>,
    /// Per schedule, ln F(b) in ln b (for schedules of more than one step).
    schedule_tables: Vec<Option<Piecewise>>,
    /// |α − β| and max(α, β).
    d: f64,
    big: f64,
}

impl ParetoNbdPlan {
    pub(super) fn new(
        model: &ParetoNbdParams,
        groups: &Arc<FrequencyGroups>,
        schedules: &Arc<[Schedule]>,
    ) -> Self {
        let th = model.to_array();
        let (alpha, beta) = (th[1], th[3]);
        let (big, d) = (alpha.max(beta), (alpha - beta).abs());
        let h_max = schedules
            .iter()
            .filter_map(|s| s.horizons().last().copied())
            .fold(0.0, f64::max);
        let mut rc = Recips::default();
        let tables = (0..groups.len())
            .map(|g| {
                let x = groups.frequency(g);
                let (a, b) = series_ab(&th, x);
                if d == 0.0 {
                    return Table::Exact(-a.ln());
                }
                let (_, t_max) = groups.age_range(g);
                let (z_lo, z_hi) = (d / (big + t_max + h_max), d / big);
                if groups.count(g) < MIN_CUSTOMERS || z_hi > Z_MAX || z_lo >= z_hi {
                    return Table::Direct;
                }
                let f = |z: f64| {
                    let [lg]: [LnG; 1] = ln_g(a, b, [z], [1.0 - z], false, &mut rc);
                    lg.v
                };
                Chebyshev::fit(f, z_lo, z_hi, TOL, MAX_DEGREE).map_or(Table::Direct, Table::Cheb)
            })
            .collect();
        let customers: usize = (0..groups.len()).map(|g| groups.count(g)).sum();
        let ages = (0..groups.len()).map(|g| groups.age_range(g));
        let (t_lo, t_hi) = ages.fold((f64::INFINITY, 0.0f64), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
        let schedule_tables = schedules
            .iter()
            .map(|sch| {
                // worth it for many steps and customers; the range of b must be non-empty
                if sch.horizons().len() < 2 || customers < MIN_CUSTOMERS || t_lo >= t_hi {
                    return None;
                }
                let s = th[2];
                let f = |v: f64| schedule_factor(sch, s, v.exp()).ln();
                Piecewise::fit(
                    f,
                    (beta + t_lo).ln(),
                    (beta + t_hi).ln(),
                    TOL,
                    MAX_DEGREE,
                    10,
                )
            })
            .collect();
        ParetoNbdPlan {
            model: *model,
            th,
            schedules: schedules.clone(),
            groups: groups.clone(),
            tables,
            schedule_tables,
            d,
            big,
        }
    }

    /// ln G at the ages `y` of a customer of frequency `x`, when tabulated and in range.
    fn ln_gs<const N: usize>(&self, x: f64, y: [f64; N]) -> Option<[f64; N]> {
        let table = &self.tables[self.groups.find(x)?];
        match table {
            Table::Direct => None,
            Table::Exact(v) => Some([*v; N]),
            Table::Cheb(ch) => {
                let (lo, hi) = ch.domain();
                let mut out = [0.0; N];
                for (o, &yi) in out.iter_mut().zip(&y) {
                    let z = self.d / (self.big + yi);
                    if !(lo..=hi).contains(&z) {
                        return None;
                    }
                    *o = ch.eval(z);
                }
                Some(out)
            }
        }
    }

    /// P(alive) from the table ([`p_alive_from`]).
    fn p_alive(&self, c: &Customer) -> Option<f64> {
        let (x, tx, t) = (c.frequency(), c.recency(), c.age());
        if tx >= t {
            return Some(1.0);
        }
        let [g_tx, g_t] = self.ln_gs(x, [tx, t])?;
        p_alive_from(&self.th, x, tx, t, g_tx, g_t)
    }
}

/// `F(b) = Σᵢ dᵢ [m(tᵢ; b) − m(tᵢ₋₁; b)]` with `m(t; b) = b·L·(1 − e^{−(s−1)L})/((s−1)L)`,
/// L = ln(1 + t/b): the schedule's value given alive, divided by (r+x)/(α+T).
fn schedule_factor(sch: &Schedule, s: f64, b: f64) -> f64 {
    let mut prev = 0.0;
    let mut total = 0.0;
    for (&h, &d) in sch.horizons().iter().zip(sch.factors()) {
        let m = mean_count(1.0, 1.0, s, b, h);
        total += d * (m - prev);
        prev = m;
    }
    total
}

impl SchedulePlan for ParetoNbdPlan {
    fn eval(&self, c: &Customer, out: &mut [f64]) -> f64 {
        let Some(pa) = self.p_alive(c) else {
            return direct(&self.model, &self.schedules, c, out);
        };
        let [r, alpha, s, beta] = self.th;
        let (rx, at, bt) = (r + c.frequency(), alpha + c.age(), beta + c.age());
        let lb = bt.ln();
        for ((o, sch), tab) in out
            .iter_mut()
            .zip(self.schedules.iter())
            .zip(&self.schedule_tables)
        {
            if let Some(tab) = tab {
                let (lo, hi) = tab.domain();
                if (lo..=hi).contains(&lb) {
                    *o = pa * rx / at * tab.eval(lb).exp();
                    continue;
                }
            }
            let mut prev = 0.0;
            let mut total = 0.0;
            for (&h, &f) in sch.horizons().iter().zip(sch.factors()) {
                let e = mean_count(rx, at, s, bt, h);
                total += f * (e - prev);
                prev = e;
            }
            *o = pa * total;
        }
        pa
    }

    /// All three from one table lookup: G at z_{t_x}, z_T, z_{T+t}; the logarithms of α+T and
    /// β+T and ln(1 + t/(β+T)) shared between P(alive), E[Y(t)] and P(Y(t) = 0). It is
    /// [`p_alive_from`] and [`p_zero_from`] fused (the hot path of `predict::score`), tested
    /// equal to the direct evaluation.
    fn score(&self, c: &Customer, t: f64) -> Option<crate::models::Score> {
        let (x, tx, tt) = (c.frequency(), c.recency(), c.age());
        let [r, alpha, s, beta] = self.th;
        let [g_tx, g_t, g_tt] = self.ln_gs(x, [tx, tt, tt + t])?;
        let (rx, at, bt) = (r + x, alpha + tt, beta + tt);
        let (la, lb) = (at.ln(), bt.ln());
        let a = rx + s;
        let ge = alpha >= beta;
        let pa = if tx >= tt {
            1.0
        } else {
            let c_tx = -a * (self.big + tx).ln() + rx * la + s * lb;
            let c_t = if ge { s * (lb - la) } else { rx * (la - lb) };
            let odds = s * ((c_tx + g_tx).exp() - (c_t + g_t).exp());
            if !odds.is_finite() {
                return None;
            }
            1.0 / (1.0 + odds.max(0.0))
        };
        // E[Y(t)] given alive: mean_count at the posterior, sharing ln(1 + t/(β+T))
        let (l_a, l_b) = (ln1p_div(t, at), ln1p_div(t, bt));
        let e_alive = mean_count_at(rx, at, s, bt, l_b);
        // P(X(t) = 0) at the posterior
        let (e_small, l_big, ln_ratio) = if ge {
            (s, l_a, lb - la)
        } else {
            (rx, l_b, la - lb)
        };
        let ln_rho0 = e_small * ln_ratio;
        let zero = (-rx * l_a - s * l_b).exp()
            + s * ((g_t + ln_rho0).exp() - (g_tt + ln_rho0 - a * l_big).exp());
        zero.is_finite().then(|| crate::models::Score {
            p_alive: pa,
            expected_purchases: pa * e_alive,
            prob_no_purchase: pa * zero.clamp(0.0, 1.0) + (1.0 - pa),
        })
    }

    /// P(Y(t) = 0) = P(alive)·P_post(X(t) = 0) + 1 − P(alive), the posterior's P(X(t) = 0) in
    /// the linear form of `p_zero_linear`: its G arguments are z_T and z_{T+t} of this
    /// customer, both in the table.
    fn prob_no_purchase(&self, c: &Customer, p_alive: f64, t: f64) -> Option<f64> {
        let [r, alpha, s, beta] = self.th;
        let (x, tt) = (c.frequency(), c.age());
        let [g0, gt] = self.ln_gs(x, [tt, tt + t])?;
        let zero = p_zero_from(r + x, alpha + tt, s, beta + tt, t, g0, gt)?;
        Some(p_alive * zero + (1.0 - p_alive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeUnit;
    use crate::models::TransactionModel;
    use crate::sim::{Simulate, uniform_ages};

    /// Plan vs direct on simulated customers, over parameter sets with α < β, α > β (z up to
    /// 0.8), α = β and x in the hundreds, for a one-horizon and a 13-step discounted schedule.
    #[test]
    fn matches_direct_evaluation() {
        // (parameters, whether most customers are tabulated): the last has frequencies in the
        // hundreds, spread over groups too small to tabulate (the fallback)
        let sets = [
            ((0.553, 10.578, 0.606, 11.669), true),
            ((0.5, 23.0, 0.8, 10.0), true),
            ((0.8, 50.0, 1.5, 10.0), true),
            ((0.5, 7.0, 1.0, 7.0), true),
            ((30.0, 2.0, 0.3, 20.0), false),
        ];
        let schedules: Arc<[Schedule]> = Arc::from([
            Schedule::horizon(39.0).unwrap(),
            Schedule::new(
                (1..=13).map(|i| 4.0 * i as f64).collect(),
                (1..=13).map(|i| 1.0 / 1.01f64.powi(i)).collect(),
            )
            .unwrap(),
        ]);
        for ((r, alpha, s, beta), mostly_tabulated) in sets {
            let m = ParetoNbdParams::new(r, alpha, s, beta).unwrap();
            let ages = uniform_ages(5000, 0.5, 78.0, 1).unwrap();
            let sm = m.simulate(&ages, TimeUnit::Weeks, 2).unwrap();
            let groups = Arc::new(FrequencyGroups::new(&sm));
            let plan = m.plan(&groups, &schedules);
            let (mut got, mut want) = ([0.0; 2], [0.0; 2]);
            let mut tabulated = 0;
            for c in sm.customers() {
                let pa = plan.eval(&c, &mut got);
                let pa_direct = direct(&m, &schedules, &c, &mut want);
                assert!(
                    (pa - pa_direct).abs() <= 1e-12 * pa_direct.max(1e-300).max(1e-3),
                    "{c:?}: {pa} {pa_direct}"
                );
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-11 * w.abs().max(1e-10),
                        "{c:?}: {g} vs {w}"
                    );
                }
                if let Some(p0) = plan.prob_no_purchase(&c, pa, 39.0) {
                    tabulated += 1;
                    let w = m.prob_no_purchase_given(pa, &c, 39.0);
                    assert!((p0 - w).abs() <= 1e-12, "{c:?}: {p0} vs {w}");
                    let sc = plan.score(&c, 39.0).unwrap();
                    let d = m.score(&c, 39.0);
                    assert!((sc.p_alive - d.p_alive).abs() <= 1e-12 * d.p_alive.max(1e-3));
                    let rel = (sc.expected_purchases / d.expected_purchases - 1.0).abs();
                    assert!(
                        rel <= 1e-11 || d.expected_purchases < 1e-300,
                        "{c:?}: {sc:?} {d:?}"
                    );
                    assert!((sc.prob_no_purchase - d.prob_no_purchase).abs() <= 1e-12);
                }
            }
            assert_eq!(
                tabulated > 2500,
                mostly_tabulated,
                "{r} {alpha} {s} {beta}: {tabulated}"
            );
        }
    }
}
