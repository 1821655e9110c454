"""Shared data for the package's tests: the repository's CDNOW files, read the way a user
would read them."""

from __future__ import annotations

import os
import pathlib

import pandas as pd
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "data"
TEST_DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def cdnow_log() -> pd.DataFrame:
    """The CDNOW sample's transactions: customer (the sample id, text), date, amount."""
    log = pd.read_csv(
        DATA / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log[["customer_id", "date", "amount"]]


@pytest.fixture(scope="session")
def cli_summary() -> pd.DataFrame:
    """`clv summarize` of the CDNOW log (calibration to 1997-09-30, holdout to 1998-06-30, weeks),
    as the binary wrote it (tests/cli.rs checks the file is still what it writes)."""
    # as text, then converted one by one (exact: pandas' fast float parser is not in every
    # version)
    s = pd.read_csv(TEST_DATA / "cdnow_log_summary.csv", dtype=str)
    for c in s.columns:
        if c not in ("customer_id", "time_unit"):
            s[c] = [float(v) for v in s[c]]
    return s


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The published CDNOW summary (x, t_x, T in weeks, zbar) with lifetimes' column names."""
    s = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", dtype=str)
    s = s.astype({"x": float, "t_x": float, "T": float, "zbar": float})
    return s.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def clv_binary() -> pathlib.Path | None:
    """The `clv` example binary (`cargo test` builds it), for the Rust side of round trips."""
    env = os.environ.get("CLV_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "examples" / "clv"
        if p.exists():
            return p
    return None
