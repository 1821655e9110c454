//! What moves CLV: the value of a customer base now, and under a change of each of the four
//! levers every CLV article names — average order value, purchase frequency, dropout (churn)
//! and margin — by segment, with the CLV-to-acquisition-cost ratio.
//!
//! Each lever acts on the future: from the end of calibration T on, every customer who is
//! still alive buys more often, or drops out less, while their history — and so P(alive) and
//! the posterior of their rates — stays as fitted. The models' expectations take such a change
//! in closed form ([`Levers`], one implementation per model, each citing its identity):
//!
//! | lever | change |
//! |---|---|
//! | order value +δ | every order is worth δ more: the Gamma-Gamma scale v → (1+δ)v and each customer's observed mean spend × (1+δ), so each expected spend, and CLV, is exactly (1+δ) times |
//! | purchase rate +δ | each alive customer's purchase rate λ → (1+δ)λ (the CNBD-k phase rate likewise) |
//! | dropout −δ | each alive customer's dropout → (1−δ)× (the BG-type probability p per purchase, the Pareto/NBD rate μ, the GGom/NBD η); NBD has no dropout |
//! | margin +δ points | margin m → m + δ |
//!
//! (Moving the population parameters instead, e.g. α → α/(1+δ), would also re-read every
//! history under the new population: a silent customer of a faster-buying population is more
//! likely gone, and on CDNOW "+10% purchase rate" then *lowers* the CLV of likely-churned
//! customers. That answers another question than the lever.)

use crate::data::{Customer, RfmSummary};
use crate::error::{Error, Result};
use crate::models::{GammaGammaParams, TransactionModel};
use crate::value::ClvOptions;

/// A model's expected purchases under the purchase and dropout levers.
pub trait Levers {
    /// E[Y(t) | x, t_x, T] at each t of `ts`, written to `out` (same length), when from T on
    /// every alive customer's purchase rate is multiplied by `rate` (> 0) and their dropout (a
    /// probability per purchase or a rate, as the model has it) by `dropout` (0 < dropout <=
    /// 1); the history, P(alive) and the posterior stay as fitted. With `rate` = `dropout` = 1
    /// it is [`TransactionModel::conditional_expectations`]. Returns whether the model has a
    /// dropout process (false: `dropout` is ignored).
    fn expectations_under(
        &self,
        c: &Customer,
        ts: &[f64],
        rate: f64,
        dropout: f64,
        out: &mut [f64],
    ) -> bool;
}

/// `factor · E[Y(dilation · t)]` at each t: the form the levers take in the models whose
/// expectation given the rates is a function of rate × time.
pub(crate) fn dilated<M: TransactionModel>(
    m: &M,
    c: &Customer,
    ts: &[f64],
    dilation: f64,
    factor: f64,
    out: &mut [f64],
) {
    let scaled: Vec<f64> = ts.iter().map(|t| t * dilation).collect();
    m.conditional_expectations(c, &scaled, out);
    for o in out.iter_mut() {
        *o *= factor;
    }
}

/// The size of each lever's change.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct LeverSizes {
    /// Relative change of the average order value (0.1: +10%).
    pub order_value: f64,
    /// Relative change of the purchase rate (0.1: +10%).
    pub purchase_rate: f64,
    /// Relative reduction of the dropout (0.1: −10%).
    pub dropout: f64,
    /// Margin points added (0.01: +1 point).
    pub margin: f64,
}

impl Default for LeverSizes {
    /// +10% order value, +10% purchase rate, −10% dropout, +1 point of margin.
    fn default() -> Self {
        LeverSizes {
            order_value: 0.1,
            purchase_rate: 0.1,
            dropout: 0.1,
            margin: 0.01,
        }
    }
}

impl LeverSizes {
    /// The same relative change `change` (e.g. 0.1) for order value, purchase rate and dropout,
    /// and `margin_points` (e.g. 0.01) for the margin.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless 0 < `change` < 1 and `margin_points` is finite and > 0.
    pub fn new(change: f64, margin_points: f64) -> Result<Self> {
        if !(change.is_finite() && change > 0.0 && change < 1.0) {
            return Err(Error::InvalidOption {
                name: "lever change",
                reason: format!("must be in (0, 1), got {change}"),
            });
        }
        if !(margin_points.is_finite() && margin_points > 0.0) {
            return Err(Error::InvalidOption {
                name: "margin points",
                reason: format!("must be finite and > 0, got {margin_points}"),
            });
        }
        Ok(LeverSizes {
            order_value: change,
            purchase_rate: change,
            dropout: change,
            margin: margin_points,
        })
    }
}

/// The customers' CLV now and under each lever, in summary order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LeverValues {
    /// CLV now.
    pub now: Vec<f64>,
    /// With the order value raised.
    pub order_value: Vec<f64>,
    /// With the purchase rate raised.
    pub purchase_rate: Vec<f64>,
    /// With the dropout lowered; `None` for a model without dropout.
    pub dropout: Option<Vec<f64>>,
    /// With the margin raised.
    pub margin: Vec<f64>,
}

/// Every customer's CLV now and under each lever of `sizes` (see the module docs).
///
/// ```
/// use clv::drivers::{lever_values, LeverSizes};
/// use clv::value::ClvOptions;
/// use clv::{BgNbdParams, GammaGammaParams, ParetoNbdParams, RfmSummary, TimeUnit};
/// let gg = GammaGammaParams::new(6.25, 3.74, 15.44)?;
/// let s = RfmSummary::new(vec!["a".into(), "b".into()], vec![2.0, 0.0], vec![30.0, 0.0],
///     vec![38.0, 20.0], TimeUnit::Weeks)?.with_monetary_value(vec![25.0, 0.0])?;
/// let o = ClvOptions::new(52.0, TimeUnit::Weeks)?.with_margin(0.3)?;
/// let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let v = lever_values(&bg, &gg, &s, &o, &LeverSizes::default())?;
/// assert!((v.order_value[0] / v.now[0] - 1.1).abs() < 1e-12); // exactly +10%
/// // more purchases, but each one is a chance to drop out: less than +10%
/// assert!(v.purchase_rate[0] > v.now[0] && v.purchase_rate[0] < 1.1 * v.now[0]);
/// assert!(v.dropout.as_ref().unwrap()[0] > v.now[0]);
/// assert!((v.margin[0] / v.now[0] - 0.31 / 0.3).abs() < 1e-12);
/// // Pareto/NBD's dropout runs on the clock: +10% purchase rate is exactly +10%
/// let pn = ParetoNbdParams::new(0.553, 10.58, 0.606, 11.67)?;
/// let v = lever_values(&pn, &gg, &s, &o, &LeverSizes::default())?;
/// assert!((v.purchase_rate[0] / v.now[0] - 1.1).abs() < 1e-12);
/// # Ok::<(), clv::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidOption`] for a summary without monetary values or in another unit than
/// `opts`; the errors of [`crate::value::summary_values`].
pub fn lever_values<M>(
    model: &M,
    spend: &GammaGammaParams,
    summary: &RfmSummary,
    opts: &ClvOptions,
    sizes: &LeverSizes,
) -> Result<LeverValues>
where
    M: TransactionModel + Levers + Clone + Send + Sync + 'static,
{
    use crate::value::summary_values;
    let m = summary.monetary_value().ok_or(Error::InvalidOption {
        name: "summary",
        reason: "has no monetary values (a spend per customer is needed for CLV)".into(),
    })?;
    let now = summary_values(model, spend, summary, opts)?;
    // CLV = margin × E[spend] × discounted purchases: the Gamma-Gamma is a scale family, so
    // scaling v and the observed means by f scales every expected spend, and CLV, by f
    // (`order_value_is_the_moved_spend_model` checks it); the margin enters as a factor
    let f = 1.0 + sizes.order_value;
    let order_value = now.iter().map(|v| v * f).collect();
    let wider = (*opts).with_margin(opts.margin() + sizes.margin)?;
    let margin = if opts.margin() > 0.0 {
        let k = wider.margin() / opts.margin();
        now.iter().map(|v| v * k).collect()
    } else {
        summary_values(model, spend, summary, &wider)?
    };
    // the purchase and dropout levers: discounted expectations under the change, times
    // margin × expected spend
    let schedule = opts.schedule();
    let under = |rate: f64, dropout: f64| -> Result<(Vec<f64>, bool)> {
        let has_dropout = std::sync::atomic::AtomicBool::new(true);
        let v: Result<Vec<f64>> = crate::par::map_range(summary.len(), |i| {
            let c = summary.customer(i);
            let mut e = vec![0.0; schedule.horizons().len()];
            if !model.expectations_under(&c, schedule.horizons(), rate, dropout, &mut e) {
                has_dropout.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            crate::value::value(spend, &c, m[i], schedule.value(&e), opts)
        })
        .into_iter()
        .collect();
        Ok((v?, has_dropout.into_inner()))
    };
    let (purchase_rate, _) = under(1.0 + sizes.purchase_rate, 1.0)?;
    let (dropout, has_dropout) = under(1.0, 1.0 - sizes.dropout)?;
    Ok(LeverValues {
        now,
        order_value,
        purchase_rate,
        dropout: has_dropout.then_some(dropout),
        margin,
    })
}

/// One row of the driver table: a segment's customers, its CLV now and under each lever.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DriverRow {
    /// Segment label (`"all"` for the whole base).
    pub segment: String,
    /// Customers.
    pub customers: usize,
    /// Total CLV now.
    pub clv: f64,
    /// Total CLV with the order value raised.
    pub order_value: f64,
    /// Total CLV with the purchase rate raised.
    pub purchase_rate: f64,
    /// Total CLV with the dropout lowered (`None`: no dropout in the model).
    pub dropout: Option<f64>,
    /// Total CLV with the margin raised.
    pub margin: f64,
}

impl DriverRow {
    /// Mean CLV per customer now.
    pub fn mean(&self) -> f64 {
        self.clv / self.customers.max(1) as f64
    }
    /// Relative change of the total under a lever's total `v`.
    pub fn change(&self, v: f64) -> f64 {
        if self.clv == 0.0 {
            0.0
        } else {
            v / self.clv - 1.0
        }
    }
    /// CLV per customer over the cost of acquiring one.
    pub fn clv_to_cac(&self, acquisition_cost: f64) -> f64 {
        self.mean() / acquisition_cost
    }
}

/// The driver table: the whole base first, then each segment (`segment[i]` indexes
/// `labels` for customer i), in label order.
///
/// # Errors
/// [`Error::InvalidOption`] when `segment` has another length than the values or an index out
/// of `labels`.
pub fn driver_table(
    values: &LeverValues,
    segment: &[usize],
    labels: &[String],
) -> Result<Vec<DriverRow>> {
    let n = values.now.len();
    if segment.len() != n || segment.iter().any(|&s| s >= labels.len()) {
        return Err(Error::InvalidOption {
            name: "segments",
            reason: format!(
                "need one label index below {} per customer ({n}), got {}",
                labels.len(),
                segment.len()
            ),
        });
    }
    let row = |name: &str, pick: &dyn Fn(usize) -> bool| DriverRow {
        segment: name.to_string(),
        customers: (0..n).filter(|&i| pick(i)).count(),
        clv: (0..n).filter(|&i| pick(i)).map(|i| values.now[i]).sum(),
        order_value: (0..n)
            .filter(|&i| pick(i))
            .map(|i| values.order_value[i])
            .sum(),
        purchase_rate: (0..n)
            .filter(|&i| pick(i))
            .map(|i| values.purchase_rate[i])
            .sum(),
        dropout: values
            .dropout
            .as_ref()
            .map(|d| (0..n).filter(|&i| pick(i)).map(|i| d[i]).sum()),
        margin: (0..n).filter(|&i| pick(i)).map(|i| values.margin[i]).sum(),
    };
    let mut rows = vec![row("all", &|_| true)];
    for (k, label) in labels.iter().enumerate() {
        let r = row(label, &|i| segment[i] == k);
        if r.customers > 0 {
            rows.push(r);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::future::{FuturePurchases, SimRng};
    use crate::models::cnbd::{BgCnbdParams, MbgCnbdParams};
    use crate::models::{BgNbdParams, GgomNbdParams, MbgNbdParams, NbdParams, ParetoNbdParams};
    use rand::{Rng, SeedableRng};

    fn customers() -> Vec<Customer> {
        crate::future::tests::customers()
    }

    const TS: [f64; 3] = [5.0, 26.0, 52.0];

    /// No change is the model's own expectation; more purchases or less dropout is more.
    fn check_identity_and_direction<M: TransactionModel + Levers>(m: &M, exact_rate: bool) {
        for c in customers() {
            let mut base = [0.0; 3];
            m.conditional_expectations(&c, &TS, &mut base);
            let mut same = [0.0; 3];
            let has_dropout = m.expectations_under(&c, &TS, 1.0, 1.0, &mut same);
            for (a, b) in base.iter().zip(&same) {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1e-300),
                    "{c:?}: {a} vs {b}"
                );
            }
            let mut up = [0.0; 3];
            m.expectations_under(&c, &TS, 1.1, 1.0, &mut up);
            let mut less = [0.0; 3];
            m.expectations_under(&c, &TS, 1.0, 0.9, &mut less);
            for i in 0..3 {
                if base[i] > 1e-12 {
                    assert!(up[i] > base[i] && up[i] <= 1.1 * base[i] * (1.0 + 1e-12));
                    if exact_rate {
                        assert!((up[i] / base[i] - 1.1).abs() < 1e-12, "{c:?}");
                    }
                    if has_dropout {
                        assert!(less[i] > base[i], "{c:?}: {} vs {}", less[i], base[i]);
                    } else {
                        assert_eq!(less[i], base[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn every_model_keeps_its_expectation_and_moves_the_right_way() {
        check_identity_and_direction(
            &BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap(),
            false,
        );
        check_identity_and_direction(
            &MbgNbdParams::new(0.525, 6.183, 0.891, 1.614).unwrap(),
            false,
        );
        check_identity_and_direction(
            &ParetoNbdParams::new(0.553, 10.58, 0.606, 11.67).unwrap(),
            true,
        );
        check_identity_and_direction(&NbdParams::new(0.385, 12.07).unwrap(), true);
        check_identity_and_direction(
            &GgomNbdParams::new(0.55, 10.6, 0.05, 0.6, 11.7).unwrap(),
            true,
        );
        check_identity_and_direction(&BgCnbdParams::new(3, 1.5, 6.0, 0.5, 3.0).unwrap(), false);
        check_identity_and_direction(&MbgCnbdParams::new(2, 1.2, 4.0, 0.7, 2.5).unwrap(), false);
    }

    /// Order value as the issue states it: the Gamma-Gamma scale v and the observed mean spends
    /// moved by 10% give exactly 1.1 × the CLV (what `lever_values` uses).
    #[test]
    fn order_value_is_the_moved_spend_model() {
        use crate::value::{ClvOptions, summary_values};
        let bg = BgNbdParams::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let gg = GammaGammaParams::new(6.25, 3.74, 15.44).unwrap();
        let s = RfmSummary::new(
            (0..4).map(|i| i.to_string()).collect(),
            vec![0.0, 1.0, 2.0, 7.0],
            vec![0.0, 5.0, 30.0, 35.0],
            vec![38.0, 20.0, 38.0, 39.0],
            crate::TimeUnit::Weeks,
        )
        .unwrap()
        .with_monetary_value(vec![0.0, 12.0, 25.0, 40.0])
        .unwrap();
        let o = ClvOptions::new(52.0, crate::TimeUnit::Weeks)
            .unwrap()
            .with_margin(0.3)
            .unwrap();
        let now = summary_values(&bg, &gg, &s, &o).unwrap();
        let richer = GammaGammaParams::new(6.25, 3.74, 15.44 * 1.1).unwrap();
        let scaled = s
            .clone()
            .with_monetary_value(vec![0.0, 13.2, 27.5, 44.0])
            .unwrap();
        let moved = summary_values(&bg, &richer, &scaled, &o).unwrap();
        let wider = summary_values(&bg, &gg, &s, &o.with_margin(0.31).unwrap()).unwrap();
        let levers = lever_values(&bg, &gg, &s, &o, &LeverSizes::default()).unwrap();
        for i in 0..4 {
            assert!((moved[i] / now[i] - 1.1).abs() < 1e-12, "{i}");
            assert!(
                (levers.order_value[i] / moved[i] - 1.0).abs() < 1e-12,
                "{i}"
            );
            assert!((levers.margin[i] / wider[i] - 1.0).abs() < 1e-12, "{i}");
        }
    }

    /// The closed forms against a simulation of the same change: alive and the latent rates
    /// from the posterior ([`FuturePurchases`] draws the unchanged future; here the rates are
    /// drawn the same way and the future is run with rate × c and dropout × d).
    #[test]
    fn closed_forms_match_a_simulation_of_the_change() {
        let (rate, dropout, t) = (1.3, 0.6, 30.0);
        let draws = 200_000;
        let se_ok = |mean: f64, sd: f64, exact: f64, what: &str| {
            let se = sd / (draws as f64).sqrt();
            assert!(
                (mean - exact).abs() < 4.5 * se + 1e-6,
                "{what}: {mean} vs {exact}"
            );
        };
        let gamma = |s: f64, r: f64, rng: &mut SimRng| crate::future::gamma(s, r, rng).unwrap();
        let beta = |a: f64, b: f64, rng: &mut SimRng| crate::future::beta(a, b, rng).unwrap();
        // CNBD-k (k = 3): phase j since the last purchase, λ | j, p, then Erlang gaps at cλ
        // and dropout draws at dp
        let m = BgCnbdParams::new(3, 1.5, 6.0, 0.5, 3.0).unwrap();
        // GGom/NBD: η | alive ~ Gamma(s, β + e^{bT} − 1), residual life under dη
        let g = GgomNbdParams::new(0.55, 10.6, 0.05, 0.6, 11.7).unwrap();
        for c in customers() {
            let mut rng = SimRng::seed_from_u64(3);
            let pa = m.p_alive(&c);
            let (mut sum, mut sum2) = (0.0, 0.0);
            for _ in 0..draws {
                // the same posterior as FuturePurchases, with the change applied
                let n = if crate::future::alive(pa, &mut rng) {
                    let (x, tt) = (c.frequency(), c.age());
                    let d = (tt - c.recency()).max(0.0);
                    let shape = 1.5 + 3.0 * x;
                    let w: Vec<f64> = (0..3)
                        .map(|j| {
                            let jf = j as f64;
                            let ln_d = if j == 0 { 0.0 } else { jf * d.ln() };
                            (statrs::function::gamma::ln_gamma(shape + jf)
                                - (shape + jf) * (6.0 + tt).ln()
                                + ln_d
                                - statrs::function::gamma::ln_gamma(jf + 1.0))
                            .exp()
                        })
                        .collect();
                    let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
                    let mut j = 0;
                    while j < 2 && u >= w[j] {
                        u -= w[j];
                        j += 1;
                    }
                    let lambda = rate * gamma(shape + j as f64, 6.0 + tt, &mut rng);
                    let p = dropout * beta(0.5, 3.0 + x, &mut rng);
                    let mut now = gamma((3 - j) as f64, lambda, &mut rng);
                    let mut count = 0.0;
                    while now <= t {
                        count += 1.0;
                        if rng.random::<f64>() < p {
                            break;
                        }
                        now += gamma(3.0, lambda, &mut rng);
                    }
                    count
                } else {
                    0.0
                };
                sum += n;
                sum2 += n * n;
            }
            let mean = sum / draws as f64;
            let sd = (sum2 / draws as f64 - mean * mean).max(0.0).sqrt();
            let mut e = [0.0];
            m.expectations_under(&c, &[t], rate, dropout, &mut e);
            se_ok(mean, sd, e[0], &format!("CNBD-3 {c:?}"));

            // GGom/NBD: Rao-Blackwellised over λ (E[λ | alive] (r+x)/(α+T), independent of η)
            let pa = g.p_alive(&c);
            let tt = c.age();
            let (mut sum, mut sum2) = (0.0, 0.0);
            for _ in 0..draws {
                let v = if crate::future::alive(pa, &mut rng) {
                    let eta = dropout * gamma(0.6, 11.7 + (0.05 * tt).exp_m1(), &mut rng);
                    let e = -(1.0 - rng.random::<f64>()).ln();
                    let life = (e * (-0.05 * tt).exp() / eta).ln_1p() / 0.05;
                    rate * (0.55 + c.frequency()) / (10.6 + tt) * life.min(t)
                } else {
                    0.0
                };
                sum += v;
                sum2 += v * v;
            }
            let mean = sum / draws as f64;
            let sd = (sum2 / draws as f64 - mean * mean).max(0.0).sqrt();
            g.expectations_under(&c, &[t], rate, dropout, &mut e);
            se_ok(mean, sd, e[0], &format!("GGom {c:?}"));
            // the unchanged future of FuturePurchases agrees with the model at c = d = 1
            let mut e1 = [0.0];
            m.expectations_under(&c, &[t], 1.0, 1.0, &mut e1);
            let mut times: Vec<f64> = Vec::new();
            let mut total = 0usize;
            let pa = m.p_alive(&c);
            for _ in 0..20_000 {
                times.clear();
                m.draw_future(&c, pa, t, &mut rng, &mut times).unwrap();
                total += times.len();
            }
            let mc = total as f64 / 20_000.0;
            assert!(
                (mc - e1[0]).abs() < 0.05 * e1[0].max(0.05),
                "{mc} vs {}",
                e1[0]
            );
        }
    }
}
