"""Models with static covariates: the apparel Pareto/NBD (CLVTools' example) fitted from
Python reaches the exact maximum the Rust tests pin, writes the file `clv fit --covariates`
writes, and scores each customer with their own parameters."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest

import clv
from conftest import TEST_DATA, clv_binary


@pytest.fixture(scope="module")
def apparel():
    tx = pd.read_csv(TEST_DATA / "apparel_trans.csv", dtype={"Id": str})
    cov = pd.read_csv(TEST_DATA / "apparel_static_cov.csv", dtype={"Id": str})
    s = clv.summarize(tx, "Id", "Date", "Price", calibration_end="2006-12-31", unit="weeks", skip_after_end=True)
    return s.merge(cov, on="Id", how="left", validate="one_to_one")


def test_apparel_pareto_nbd_reaches_the_exact_maximum(apparel):
    m = clv.fit(apparel, "pareto-nbd", purchase_cov=["Gender", "Channel"], dropout_cov=["Gender", "Channel"])
    assert m.name == "pareto-nbd-cov"
    # tests/covariates.rs: the exact maximum (CLVTools stops a little short of it)
    want = [1.838967, 92.96296, 0.591304, 49.51308, 0.286135, 0.623930, -0.641868, 0.789759]
    np.testing.assert_allclose(m.params["estimate"], want, rtol=2e-6, atol=2e-6)
    assert abs(m.log_likelihood - -5821.06269) < 1e-5
    assert m.covariates == {"purchase": ["Gender", "Channel"], "dropout": ["Gender", "Channel"], "shared": []}
    scores = m.predict(apparel, horizon=52)
    assert len(scores) == 600 and np.isfinite(scores.to_numpy()).all()
    # a customer scores with their own parameters: the channel-1 customers differ from the
    # channel-0 ones with the same history
    same = m.predict(apparel.assign(Channel=0.0), horizon=52)
    changed = apparel["Channel"] != 0
    assert (scores.loc[changed, "expected_purchases"] != same.loc[changed, "expected_purchases"]).all()
    assert (scores.loc[~changed, "expected_purchases"] == same.loc[~changed, "expected_purchases"]).all()
    with pytest.raises(KeyError):
        m.predict(apparel.drop(columns=["Gender"]), horizon=52)


def test_the_file_is_the_binarys(apparel, tmp_path):
    exe = clv_binary()
    if exe is None:
        pytest.skip("the clv binary is not built (cargo test builds it)")
    summary, cov = tmp_path / "summary.csv", tmp_path / "cov.csv"
    apparel[["Id", "frequency", "recency", "T", "monetary_value"]].rename(columns={"Id": "customer_id"}).to_csv(summary, index=False)
    apparel[["Id", "Gender", "Channel"]].rename(columns={"Id": "customer_id"}).to_csv(cov, index=False)
    rust = tmp_path / "rust.json"
    subprocess.run(
        [str(exe), "fit", "--summary", str(summary), "--model", "pareto-nbd", "--covariates", str(cov),
         "--purchase-cov", "Gender,Channel", "--dropout-cov", "Gender,Channel", "-o", str(rust), "--quiet"],
        check=True, capture_output=True,
    )
    m = clv.fit(apparel, "pareto-nbd", purchase_cov=["Gender", "Channel"], dropout_cov=["Gender", "Channel"])
    loaded = clv.load(rust)
    assert loaded.name == "pareto-nbd-cov"
    np.testing.assert_allclose(loaded.params["estimate"], m.params["estimate"], rtol=1e-12)
    assert rust.read_text() == m.to_json()
    assert clv.Model.from_json(m.to_json()).to_json() == m.to_json()


def test_spend_covariates(apparel):
    g = clv.fit(apparel, "gamma-gamma", spend_cov=["Channel"])
    assert g.name == "gamma_gamma-cov" and g.covariates == {"spend": ["Channel"]}
    e = g.conditional_expected_spend(apparel["frequency"], apparel["monetary_value"], covariates=apparel)
    assert e.shape == (600,) and np.isfinite(e).all()
    with pytest.raises(ValueError):
        g.conditional_expected_spend(apparel["frequency"], apparel["monetary_value"])
