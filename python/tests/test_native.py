"""The native API: summarize, fit, predict, CLV, compare, model files, errors."""

from __future__ import annotations

import pickle
import subprocess
import threading

import numpy as np
import pandas as pd
import pytest

import clv
from conftest import clv_binary

SUMMARY_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "litt",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
]


def summarize_cdnow(log):
    return clv.summarize(
        log,
        "customer_id",
        "date",
        "amount",
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        unit="weeks",
    )


def test_summarize_equals_the_binary_to_the_last_digit(cdnow_log, cli_summary):
    s = summarize_cdnow(cdnow_log)
    assert list(s["customer_id"]) == list(cli_summary["customer_id"])
    for c in SUMMARY_COLUMNS:
        # the file holds shortest round-trip decimals: equal floats, bit for bit
        assert np.array_equal(s[c].to_numpy(), cli_summary[c].to_numpy(dtype=float)), c
    attrs = s.attrs["clv"]
    assert attrs["time_unit"] == "weeks"
    assert attrs["regularity"]["customers"] > 100


def test_summarize_takes_polars_and_arrow_frames(cdnow_log, cli_summary):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    for frame in (pl.from_pandas(cdnow_log), pa.Table.from_pandas(cdnow_log)):
        s = summarize_cdnow(frame)
        assert type(s).__module__.split(".")[0] == type(frame).__module__.split(".")[0]
        for c in SUMMARY_COLUMNS:
            assert np.array_equal(np.asarray(s[c]), cli_summary[c].to_numpy(dtype=float)), c


def test_summarize_accepts_text_dates_and_unsorted_rows(cdnow_log, cli_summary):
    log = cdnow_log.sample(frac=1.0, random_state=7).reset_index(drop=True)
    log["date"] = log["date"].dt.strftime("%Y-%m-%d")
    s = summarize_cdnow(log).set_index("customer_id").loc[cli_summary["customer_id"]]
    for c in SUMMARY_COLUMNS:
        # shuffled rows sum a day's amounts in another order: equal to rounding
        np.testing.assert_allclose(s[c].to_numpy(), cli_summary[c].to_numpy(dtype=float), rtol=1e-13, atol=1e-13)


def test_summarize_errors_name_the_row_and_the_customer(cdnow_log):
    log = cdnow_log.copy()
    log.loc[10, "amount"] = -5.0
    with pytest.raises(clv.ClvError) as e:
        summarize_cdnow(log)
    assert e.value.kind == "invalid_data"
    assert e.value.row == 11
    assert e.value.customer == log.loc[10, "customer_id"]
    assert e.value.field == "amount"
    assert f"(customer {e.value.customer})" in str(e.value)
    late = cdnow_log.copy()
    late.loc[3, "date"] = pd.Timestamp("1999-01-01")
    with pytest.raises(clv.ClvError) as e:
        summarize_cdnow(late)
    assert (e.value.row, e.value.field) == (4, "date")
    s = clv.summarize(late, "customer_id", "date", "amount", calibration_end="1997-09-30",
                      observation_end="1998-06-30", skip_after_end=True)
    assert s.attrs["clv"]["transactions_after_end"] == 1
    missing = cdnow_log.copy()
    missing.loc[5, "customer_id"] = None
    with pytest.raises(clv.ClvError) as e:
        summarize_cdnow(missing)
    assert (e.value.row, e.value.field) == (6, "customer")


def test_fit_reports_the_published_cdnow_optimum(cdnow_summary):
    m = clv.fit(cdnow_summary, "bgnbd")
    p = m.params
    # Fader, Hardie & Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426; LL -9582.4
    np.testing.assert_allclose(p["estimate"], [0.2426, 4.4135, 0.7929, 2.4258], atol=1e-4)
    assert abs(m.log_likelihood + 9582.4) < 0.05
    assert (p["se"] > 0).all() and (p["lower_95"] < p["estimate"]).all()
    assert m.convergence["converged"]
    for name in clv.TRANSACTION_MODELS:
        if name.endswith("cnbd") or name == "ggomnbd":
            continue
        assert clv.fit(cdnow_summary, name).name == name


def test_weights_are_honoured(cdnow_summary):
    full = clv.fit(cdnow_summary, "pareto-nbd")
    grouped = cdnow_summary.groupby(["frequency", "recency", "T"], as_index=False).size()
    compressed = clv.fit(grouped, "pareto-nbd", weights_col="size")
    # the 2,357 CDNOW customers are 1,016 distinct histories (the figure docs/python.md gives)
    assert (len(grouped), len(cdnow_summary)) == (1016, 2357)
    np.testing.assert_allclose(compressed.params["estimate"], full.params["estimate"], rtol=1e-9)
    assert compressed.n_customers == full.n_customers == len(cdnow_summary)
    # doubling every weight doubles the log-likelihood and keeps the optimum
    grouped["twice"] = 2.0 * grouped["size"]
    twice = clv.fit(grouped, "pareto-nbd", weights_col="twice")
    np.testing.assert_allclose(twice.params["estimate"], full.params["estimate"], rtol=1e-7)
    assert abs(twice.log_likelihood - 2 * full.log_likelihood) < 1e-6 * abs(full.log_likelihood)


def test_predict_and_clv(cdnow_summary):
    m = clv.fit(cdnow_summary, "bgnbd")
    scores = m.predict(cdnow_summary, horizon=39)
    assert list(scores.columns) == ["p_alive", "expected_purchases", "prob_no_purchase"]
    assert (scores.index == cdnow_summary.index).all()
    # customer 1 (x 2, t_x 30.43, T 38.86): E[Y(39)] = 1.226 (FHL 2005)
    assert abs(scores["expected_purchases"].iloc[0] - 1.226) < 1e-3
    direct = m.conditional_expected_purchases(39.0, cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"])
    np.testing.assert_allclose(scores["expected_purchases"], direct, rtol=1e-10)
    np.testing.assert_allclose(scores["p_alive"], m.p_alive(cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]), rtol=1e-10)
    gg = clv.fit(cdnow_summary, "gamma-gamma")
    np.testing.assert_allclose(gg.params["estimate"], [6.25, 3.74, 15.44], atol=0.01)
    v = m.clv(cdnow_summary, gg, horizon=52.0, step=4.345, discount_rate=0.01, period=4.345)
    assert v.shape == (len(cdnow_summary),) and np.isfinite(v).all() and (v >= 0).all()
    bad = cdnow_summary.copy()
    bad.loc[3, "recency"] = 100.0
    with pytest.raises(clv.ClvError) as e:
        m.predict(bad, 39)
    assert (e.value.row, e.value.field, e.value.kind) == (4, "recency", "invalid_data")


def test_model_files_round_trip_bit_for_bit(cdnow_summary, tmp_path):
    m = clv.fit(cdnow_summary, "bgnbd")
    path = tmp_path / "model.json"
    m.save(path)
    back = clv.load(path)
    assert back.to_json() == m.to_json()
    assert pickle.loads(pickle.dumps(m)).to_json() == m.to_json()
    a = m.predict(cdnow_summary, 39)
    b = back.predict(cdnow_summary, 39)
    assert np.array_equal(a.to_numpy(), b.to_numpy())


def test_a_model_fitted_in_python_scores_in_rust_and_back(cdnow_summary, tmp_path):
    exe = clv_binary()
    if exe is None:
        pytest.skip("the clv binary is not built (cargo test builds it)")
    run = lambda *a: subprocess.run([str(exe), *map(str, a)], check=True, capture_output=True)  # noqa: E731
    summary = tmp_path / "summary.csv"
    cdnow_summary[["customer_id", "frequency", "recency", "T"]].to_csv(summary, index=False)
    m = clv.fit(cdnow_summary, "bgnbd")
    py_model, rust_model = tmp_path / "py_model.json", tmp_path / "rust_model.json"
    m.save(py_model)
    run("fit", "--summary", summary, "--model", "bgnbd", "-o", rust_model, "--quiet")
    # the same fit gives the same file, byte for byte: the same model on either side
    assert py_model.read_text() == rust_model.read_text()
    assert clv.load(rust_model).to_json() == m.to_json()
    py_scores, rust_scores = tmp_path / "py_scores.csv", tmp_path / "rust_scores.csv"
    run("predict", "--model", py_model, "--summary", summary, "--horizon", 39, "-o", py_scores)
    run("predict", "--model", rust_model, "--summary", summary, "--horizon", 39, "-o", rust_scores)
    assert py_scores.read_bytes() == rust_scores.read_bytes()
    # Python's batch scorer (tables over frequency and age) and the binary's streamed chunks
    # evaluate the same formulas through different tables: equal to 1e-10
    rust = pd.read_csv(rust_scores)
    py = m.predict(cdnow_summary, 39)
    col = [c for c in rust.columns if c.startswith("expected")][0]
    np.testing.assert_allclose(rust[col], py["expected_purchases"], rtol=1e-10)
    np.testing.assert_allclose(rust["p_alive"], py["p_alive"], rtol=1e-10)


def test_compare_flags_one_model(cdnow_log):
    s = summarize_cdnow(cdnow_log)
    table = clv.compare(s, ["bgnbd", "pareto-nbd", "mbgnbd", "nbd"])
    assert table["recommended"].sum() == 1
    assert set(table.index) == {"bgnbd", "pareto-nbd", "mbgnbd", "nbd"}
    assert "holdout_mae" in table.columns
    assert table.attrs["clv"]["models"]["bgnbd"].name == "bgnbd"


def test_discrete_and_contractual_models():
    don = pd.read_csv(clv_data("donations.csv"))
    m = clv.fit(don.rename(columns={"periods": "n_periods"}), "bgbb", weights_col="weights", unit="periods_of_365.25_days")
    # Fader, Hardie & Shang (2010): alpha 1.204, beta 0.750, gamma 0.657, delta 2.783
    np.testing.assert_allclose(m.params["estimate"], [1.204, 0.750, 0.657, 2.783], atol=2e-3)
    p = m.predict(don.rename(columns={"periods": "n_periods"}), horizon=5)
    assert ((p["p_alive"] > 0) & (p["p_alive"] <= 1)).all()
    cohorts = pd.read_csv(clv_data("sbg_cohorts.csv"))
    regular = cohorts[cohorts["cohort"] == "regular"].sort_values("year")["alive"].to_numpy(dtype=float)
    sbg = clv.fit_sbg(regular[:8])
    # Fader & Hardie (2007), the regular cohort: alpha 0.704, beta 1.182
    np.testing.assert_allclose(sbg.params["estimate"], [0.704, 1.182], atol=2e-3)
    assert sbg.native.survival(np.array([0.0]))[0] == 1.0


def clv_data(name):
    from conftest import DATA

    return DATA / name


def test_scoring_releases_the_gil(cdnow_summary):
    m = clv.fit(cdnow_summary, "bgnbd")
    big = pd.concat([cdnow_summary] * 40, ignore_index=True)
    results = []
    threads = [threading.Thread(target=lambda: results.append(m.predict(big, 39))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r.equals(results[0]) for r in results)
