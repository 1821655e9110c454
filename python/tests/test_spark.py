"""Spark in local mode: the summary function (equal to `clv summarize` to the last digit), the
fit from compressed histories with counts as weights, scoring with mapInArrow and pandas_udf."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import clv

pyspark = pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
from clv import spark as cs  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    # the executors' Python is this one (with numpy, pandas and clv)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("clv-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def transactions(spark, cdnow_log):
    return spark.createDataFrame(cdnow_log.assign(line=np.arange(len(cdnow_log))))


def summarize(transactions, **kw):
    return cs.summarize(transactions, "customer_id", "date", "amount", calibration_end="1997-09-30", observation_end="1998-06-30", **kw)


def test_summary_equals_the_binary_to_the_last_digit(transactions, cli_summary):
    out = summarize(transactions, order_col="line").toPandas()
    assert list(out["customer_id"]) == list(cli_summary["customer_id"])
    for c in out.columns[1:]:
        assert np.array_equal(out[c].to_numpy(), cli_summary[c].to_numpy(dtype=float)), c
    # without the file's order: customers by id, the same rows
    by_id = summarize(transactions).toPandas()
    expected = cli_summary.sort_values("customer_id").reset_index(drop=True)
    assert list(by_id["customer_id"]) == list(expected["customer_id"])
    assert np.array_equal(by_id["litt"].to_numpy(), expected["litt"].to_numpy(dtype=float))


def test_fit_on_compressed_histories_is_the_fit_on_every_customer(transactions, cli_summary):
    summary = summarize(transactions, order_col="line")
    compressed = cs.compress(summary).toPandas()
    assert len(compressed) < len(cli_summary) and compressed["weight"].sum() == len(cli_summary)
    for model in ("bgnbd", "pareto-nbd"):
        driver = cs.fit(summary, model)
        full = clv.fit(cli_summary, model)
        np.testing.assert_allclose(driver.params["estimate"], full.params["estimate"], rtol=1e-9)
        np.testing.assert_allclose(driver.params["se"], full.params["se"], rtol=1e-6)
        assert abs(driver.log_likelihood - full.log_likelihood) < 1e-8 * abs(full.log_likelihood)
        assert driver.n_customers == full.n_customers == len(cli_summary)


@pytest.mark.parametrize("method", ["arrow", "pandas"])
def test_scores_equal_the_library(transactions, cli_summary, method):
    summary = summarize(transactions, order_col="line")
    model = clv.fit(cli_summary, "bgnbd")
    scored = cs.score(summary, model, 39.0, method=method).toPandas()
    expected = model.predict(cli_summary, 39.0)
    assert list(scored["customer_id"]) == list(cli_summary["customer_id"])
    for c in cs.SCORE_COLUMNS:
        assert np.array_equal(scored[c].to_numpy(), expected[c].to_numpy()), c
