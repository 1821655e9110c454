"""lifetimes' own Quickstart, run through lifetimes 0.11.3 and through clv.lifetimes, every output
compared.

Tolerances: lifetimes stops its scipy minimiser when the mean objective (in time-scaled
log-parameters) changes by less than tol=1e-7, which leaves its estimates about 1e-6 to 1e-5
(relative) short of the optimum; clv's fits stop at a gradient norm below 1e-9 and reach a
log-likelihood at least as high (checked). Estimates are compared to 2e-5 relative, predictions
(smooth in the parameters) to 2e-6; the summaries, which involve no optimiser, exactly.

Differences on purpose (see clv.lifetimes' docs): lifetimes' Pareto/NBD has no standard errors
(its `summary` raises), ours has them; simulated data (`generate_new_data`) come from another
generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA

L = pytest.importorskip("lifetimes")
LU = pytest.importorskip("lifetimes.utils")
import clv.lifetimes as C  # noqa: E402
import clv.lifetimes.utils as CU  # noqa: E402

PARAMS_RTOL = 2e-5
PRED_RTOL = 2e-6
# P(alive) of the most frequent buyers is as small as 1e-15 and as steep in the parameters as
# exp(-(r + x) ln(...)) with x in the dozens: there lifetimes' 1e-6 in the parameters becomes
# 5e-6 relative, 1e-20 absolute
PRED_ATOL = 1e-12
EXAMPLE = pd.read_csv(
    pd.io.common.stringify_path(__import__("pathlib").Path(L.__file__).parent / "datasets" / "example_transactions.csv")
)


def cdnow_summary():
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col=[0])


def cdnow_with_money():
    s = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col=[0])
    return s.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def quickstart(lib, utils):
    """The Quickstart's steps (plots left out: their inputs are kept), with every output."""
    out = {}
    data = cdnow_summary()
    bgf = lib.BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(data["frequency"], data["recency"], data["T"])
    out["bgf"] = bgf
    out["repr"] = repr(bgf)
    out["summary"] = bgf.summary
    out["alive_matrix"] = bgf.conditional_probability_alive_matrix()
    t = 1
    data["predicted_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(t, data["frequency"], data["recency"], data["T"])
    out["top5"] = data.sort_values(by="predicted_purchases").tail(5)
    out["expected_new"] = bgf.expected_number_of_purchases_up_to_time(np.arange(0, 40.0, 4.0))
    out["pmf_new"] = bgf.probability_of_n_purchases_up_to_time(10, 2)

    transaction_data = EXAMPLE.copy()
    summary = utils.summary_data_from_transaction_data(transaction_data, "id", "date", observation_period_end="2014-12-31")
    out["tx_summary"] = summary
    bgf2 = lib.BetaGeoFitter(penalizer_coef=0.0).fit(summary["frequency"], summary["recency"], summary["T"])
    out["bgf_tx"] = bgf2

    cal = utils.calibration_and_holdout_data(
        transaction_data, "id", "date", calibration_period_end="2014-09-01", observation_period_end="2014-12-31"
    )
    out["cal_holdout"] = cal
    bgf3 = lib.BetaGeoFitter(penalizer_coef=0.0).fit(cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
    out["bgf_cal"] = bgf3
    out["holdout_predicted"] = bgf3.predict(cal["duration_holdout"], cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])

    individual = summary.iloc[20]
    out["individual"] = bgf2.predict(10, individual["frequency"], individual["recency"], individual["T"])

    money = cdnow_with_money()
    returning = money[money["frequency"] > 0]
    out["corr"] = returning[["monetary_value", "frequency"]].corr()
    ggf = lib.GammaGammaFitter(penalizer_coef=0)
    ggf.fit(returning["frequency"], returning["monetary_value"])
    out["ggf"] = ggf
    out["profit"] = ggf.conditional_expected_average_profit(money["frequency"], money["monetary_value"])
    out["profit_mean"] = out["profit"].mean()
    bgf4 = lib.BetaGeoFitter(penalizer_coef=0.0).fit(money["frequency"], money["recency"], money["T"])
    out["clv"] = ggf.customer_lifetime_value(bgf4, money["frequency"], money["recency"], money["T"], money["monetary_value"], time=12, discount_rate=0.01)
    return out


@pytest.fixture(scope="module")
def both():
    return quickstart(L, LU), quickstart(C, CU)


def lifetimes_objective(theirs, params: pd.Series) -> float:
    """lifetimes' own objective (mean negative log-likelihood, in its time-scaled parameters)
    at `params`."""
    d = theirs.data
    w = d["weights"].to_numpy(dtype=float)
    f = type(theirs)._negative_log_likelihood
    p = params.to_numpy(dtype=float).copy()
    if isinstance(theirs, L.GammaGammaFitter):
        return f(np.log(p), d["frequency"].to_numpy(), d["monetary_value"].to_numpy(), w, 0.0)
    if isinstance(theirs, L.BetaGeoBetaBinomFitter):
        return f(np.log(p), d["frequency"].to_numpy(), d["recency"].to_numpy(), d["n_periods"].to_numpy(), w, 0.0)
    scale = theirs._scale
    for name in ("alpha", "beta"):
        if name in params.index:
            p[list(params.index).index(name)] *= scale
    # lifetimes' Pareto/NBD objective takes the parameters themselves, the others their logs
    theta = p if isinstance(theirs, L.ParetoNBDFitter) else np.log(p)
    return f(theta, d["frequency"].to_numpy(), d["recency"].to_numpy() * scale, d["T"].to_numpy() * scale, w, 0.0)


def close_fit(theirs, ours):
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), rtol=PARAMS_RTOL)
    assert list(ours.params_.index) == list(theirs.params_.index)
    # where the estimates differ, lifetimes stopped short: its own objective is lower at ours
    assert lifetimes_objective(theirs, ours.params_) <= lifetimes_objective(theirs, theirs.params_) + 1e-13


def test_fits(both):
    l, c = both
    for key in ["bgf", "bgf_tx", "bgf_cal", "ggf"]:
        close_fit(l[key], c[key])
    assert c["repr"] == l["repr"].replace("lifetimes.", "lifetimes.")
    assert list(c["summary"].columns) == list(l["summary"].columns)
    np.testing.assert_allclose(c["summary"].to_numpy(), l["summary"].to_numpy(), rtol=PARAMS_RTOL)


def test_predictions(both):
    l, c = both
    lm, cm = l["alive_matrix"], c["alive_matrix"]
    assert lm.shape == cm.shape
    np.testing.assert_allclose(cm, lm, rtol=PRED_RTOL, atol=PRED_ATOL)
    pd.testing.assert_frame_equal(c["top5"], l["top5"], rtol=PRED_RTOL, atol=PRED_ATOL)
    np.testing.assert_allclose(c["expected_new"], l["expected_new"], rtol=PRED_RTOL, atol=PRED_ATOL)
    np.testing.assert_allclose(c["pmf_new"], l["pmf_new"], rtol=PRED_RTOL, atol=PRED_ATOL)
    pd.testing.assert_series_equal(c["holdout_predicted"], l["holdout_predicted"], rtol=PRED_RTOL, atol=PRED_ATOL)
    assert type(c["individual"]) is type(l["individual"]) or np.ndim(c["individual"]) == np.ndim(l["individual"])
    np.testing.assert_allclose(c["individual"], l["individual"], rtol=PRED_RTOL, atol=PRED_ATOL)


def test_summaries_are_equal(both):
    l, c = both
    pd.testing.assert_frame_equal(c["tx_summary"], l["tx_summary"], check_exact=True)
    pd.testing.assert_frame_equal(c["cal_holdout"], l["cal_holdout"], check_exact=True)


def test_spend_and_clv(both):
    l, c = both
    pd.testing.assert_frame_equal(c["corr"], l["corr"])
    pd.testing.assert_series_equal(c["profit"], l["profit"], rtol=PRED_RTOL, atol=PRED_ATOL)
    assert abs(c["profit_mean"] - l["profit_mean"]) < PRED_RTOL * abs(l["profit_mean"])
    pd.testing.assert_series_equal(c["clv"], l["clv"], rtol=PRED_RTOL, atol=PRED_ATOL)


@pytest.mark.parametrize("freq", ["D", "W"])
def test_utils_on_the_cdnow_log(cdnow_log, freq):
    """The summary functions on the CDNOW transaction log itself, with spend."""
    args = dict(calibration_period_end="1997-09-30", observation_period_end="1998-06-30", freq=freq, monetary_value_col="amount")
    theirs = LU.calibration_and_holdout_data(cdnow_log, "customer_id", "date", **args)
    ours = CU.calibration_and_holdout_data(cdnow_log, "customer_id", "date", **args)
    # a day's amounts are summed in another order: equal to rounding in monetary values
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-14, atol=1e-12)
    assert (ours[["frequency_cal", "recency_cal", "T_cal", "frequency_holdout"]] == theirs[["frequency_cal", "recency_cal", "T_cal", "frequency_holdout"]]).all(axis=None)
    for first in (False, True):
        a = LU.summary_data_from_transaction_data(cdnow_log, "customer_id", "date", monetary_value_col="amount", observation_period_end="1997-09-30", freq=freq, freq_multiplier=7 if freq == "D" else 1, include_first_transaction=first)
        b = CU.summary_data_from_transaction_data(cdnow_log, "customer_id", "date", monetary_value_col="amount", observation_period_end="1997-09-30", freq=freq, freq_multiplier=7 if freq == "D" else 1, include_first_transaction=first)
        pd.testing.assert_frame_equal(b, a, check_exact=False, rtol=1e-14, atol=1e-12)


def test_other_fitters_on_cdnow_and_donations():
    s = cdnow_summary()
    for cls in ["ModifiedBetaGeoFitter", "ParetoNBDFitter"]:
        theirs = getattr(L, cls)().fit(s["frequency"], s["recency"], s["T"])
        ours = getattr(C, cls)().fit(s["frequency"], s["recency"], s["T"])
        if cls == "ModifiedBetaGeoFitter":
            close_fit(theirs, ours)
            rtol = PRED_RTOL
        else:
            # lifetimes' Pareto/NBD (Nelder-Mead on a time-scaled objective) stops well short
            # of the optimum: 1e-5 to 2e-4 relative in s and beta, depending on the pandas
            # version under it. Its own objective is lower at our estimates.
            assert lifetimes_objective(theirs, ours.params_) < lifetimes_objective(theirs, theirs.params_)
            np.testing.assert_allclose(ours.params_, theirs.params_, rtol=1e-3)
            rtol = 1e-3
        args = (s["frequency"], s["recency"], s["T"])
        np.testing.assert_allclose(ours.conditional_probability_alive(*args), theirs.conditional_probability_alive(*args), rtol=rtol, atol=PRED_ATOL)
        pd.testing.assert_series_equal(
            ours.conditional_expected_number_of_purchases_up_to_time(10, *args),
            theirs.conditional_expected_number_of_purchases_up_to_time(10, *args),
            rtol=rtol,
            atol=PRED_ATOL,
        )
    theirs = L.ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])
    ours = C.ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])
    pd.testing.assert_series_equal(
        ours.conditional_probability_of_n_purchases_up_to_time(2, 10, s["frequency"], s["recency"], s["T"]),
        theirs.conditional_probability_of_n_purchases_up_to_time(2, 10, s["frequency"], s["recency"], s["T"]),
        rtol=1e-3,
    )
    assert (ours.standard_errors_ > 0).all()
    don = pd.read_csv(DATA / "donations.csv")
    args = (don["frequency"], don["recency"], don["periods"])
    theirs = L.BetaGeoBetaBinomFitter().fit(*args, weights=don["weights"])
    ours = C.BetaGeoBetaBinomFitter().fit(*args, weights=don["weights"])
    close_fit(theirs, ours)
    for m in (1, 5, 10):
        pd.testing.assert_series_equal(ours.conditional_probability_alive(m, *args), theirs.conditional_probability_alive(m, *args), rtol=PRED_RTOL, atol=PRED_ATOL)
        pd.testing.assert_series_equal(
            ours.conditional_expected_number_of_purchases_up_to_time(m, *args),
            theirs.conditional_expected_number_of_purchases_up_to_time(m, *args),
            rtol=PRED_RTOL,
            atol=PRED_ATOL,
        )
    pd.testing.assert_frame_equal(
        ours.expected_number_of_transactions_in_first_n_periods(6),
        theirs.expected_number_of_transactions_in_first_n_periods(6),
        rtol=PRED_RTOL,
    )


def test_lifetimes_plots_take_our_fitters(both):
    """The Quickstart's plots (lifetimes.plotting) accept clv.lifetimes' fitters and draw the
    same matrices and bars. plot_history_alive is left out: it fails on this pandas with
    lifetimes' own fitter too (calculate_alive_path)."""
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from lifetimes import plotting

    l, c = both
    for plot in (plotting.plot_frequency_recency_matrix, plotting.plot_probability_alive_matrix):
        theirs = plot(l["bgf"]).images[0].get_array()
        plt.close("all")
        ours = plot(c["bgf"]).images[0].get_array()
        plt.close("all")
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=PRED_RTOL, atol=PRED_ATOL)
    # simulated repeat-purchase counts against the observed ones (the draws differ by design)
    ax = plotting.plot_period_transactions(c["bgf"])
    plt.close("all")
    assert len(ax.patches) > 0
    cal = c["cal_holdout"]
    theirs = plotting.plot_calibration_purchases_vs_holdout_purchases(l["bgf_cal"], l["cal_holdout"]).lines
    plt.close("all")
    ours = plotting.plot_calibration_purchases_vs_holdout_purchases(c["bgf_cal"], cal).lines
    plt.close("all")
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.get_ydata(), b.get_ydata(), rtol=PRED_RTOL, atol=PRED_ATOL)
