"""lifetimes.utils' summary functions with lifetimes' arguments and results, summarised in Rust.

lifetimes' conventions, kept here: dates are floored to periods of `freq` (pandas periods:
`W` weeks run Monday to Sunday), several transactions in one period are one purchase (their
amounts summed), rows after `observation_period_end` are dropped, customers are sorted by id,
T and recency are whole periods divided by `freq_multiplier`, monetary_value is the mean of
the repeat periods' sums (of every period's with `include_first_transaction`). In
`calibration_and_holdout_data` the calibration/holdout split compares the raw timestamps with
`calibration_period_end`, and monetary_value_holdout is the mean of the holdout transactions
(not of the periods), as lifetimes computes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _clv
from .._frames import floats

__all__ = ["summary_data_from_transaction_data", "calibration_and_holdout_data"]


def _period_start(times: pd.Series, freq: str) -> pd.Series:
    """Each timestamp's period start (lifetimes' `to_period(freq).to_timestamp()`)."""
    if freq == "D":
        return times.dt.normalize()
    return times.dt.to_period(freq).dt.start_time


def _period_days(freq: str) -> float:
    """One period in days (lifetimes divides by `np.timedelta64(1, freq)`)."""
    return float(np.timedelta64(1, freq) / np.timedelta64(1, "ns")) / 86_400e9


def _ns(s: pd.Series) -> np.ndarray:
    return np.ascontiguousarray(s.to_numpy(dtype="datetime64[ns]").view("i8"))


def _summary(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, end, freq, freq_multiplier, include_first_transaction):
    """The summary up to `end` (a period start), as lifetimes' function returns it."""
    times = pd.to_datetime(transactions[datetime_col], format=datetime_format)
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)
    starts = _period_start(times, freq)
    codes, uniques = pd.factorize(transactions[customer_id_col].to_numpy(), use_na_sentinel=True)
    amounts = None if monetary_value_col is None else floats(transactions[monetary_value_col], monetary_value_col)
    days = _period_days(freq)
    out = _clv.summarize_codes(
        np.ascontiguousarray(codes, dtype=np.int64),
        _ns(starts),
        amounts,
        int(end.value),
        None,
        "days" if days == 1.0 else f"periods_of_{days!r}_days",
        "exact",
        True,  # rows after the end are dropped
        True,  # so are rows without a customer (pandas' groupby drops them)
    )
    frequency = out["frequency"]
    cols = {
        "frequency": frequency + 1.0 if include_first_transaction else frequency,
        "recency": out["recency"] / freq_multiplier,
        "T": out["T"] / freq_multiplier,
    }
    if monetary_value_col is not None:
        if include_first_transaction:
            cols["monetary_value"] = out["calibration_spend"] / (frequency + 1.0)
        else:
            cols["monetary_value"] = out["monetary_value"]
    index = pd.Index(np.asarray(uniques)[out["code"]], name=customer_id_col)
    return pd.DataFrame(cols, index=index).sort_index().astype(float)


def summary_data_from_transaction_data(
    transactions,
    customer_id_col,
    datetime_col,
    monetary_value_col=None,
    datetime_format=None,
    observation_period_end=None,
    freq="D",
    freq_multiplier=1,
    include_first_transaction=False,
):
    """One row per customer (index: the customer id) with frequency, recency, T (and
    monetary_value), as lifetimes' function of the same name computes them."""
    if observation_period_end is None:
        end = pd.to_datetime(transactions[datetime_col].max(), format=datetime_format)
    else:
        end = pd.to_datetime(observation_period_end, format=datetime_format)
    end = end.to_period(freq).to_timestamp()
    if end.tzinfo is not None:
        end = end.tz_localize(None)
    return _summary(
        transactions,
        customer_id_col,
        datetime_col,
        monetary_value_col,
        datetime_format,
        end.as_unit("ns"),
        freq,
        freq_multiplier,
        include_first_transaction,
    )


def calibration_and_holdout_data(
    transactions,
    customer_id_col,
    datetime_col,
    calibration_period_end,
    observation_period_end=None,
    freq="D",
    freq_multiplier=1,
    datetime_format=None,
    monetary_value_col=None,
    include_first_transaction=False,
):
    """The calibration summary (columns suffixed `_cal`) joined with the holdout's
    frequency_holdout (distinct periods with a purchase), monetary_value_holdout (mean holdout
    transaction) and duration_holdout, as lifetimes computes them."""
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    tx = transactions[cols].copy()
    tx[datetime_col] = pd.to_datetime(tx[datetime_col], format=datetime_format)
    if observation_period_end is None:
        observation_period_end = tx[datetime_col].max()
    obs = pd.to_datetime(observation_period_end, format=datetime_format)
    cal = pd.to_datetime(calibration_period_end, format=datetime_format)
    calibration = tx.loc[tx[datetime_col] <= cal]
    summary = summary_data_from_transaction_data(
        calibration,
        customer_id_col,
        datetime_col,
        datetime_format=datetime_format,
        observation_period_end=cal,
        freq=freq,
        freq_multiplier=freq_multiplier,
        monetary_value_col=monetary_value_col,
        include_first_transaction=include_first_transaction,
    )
    summary.columns = [c + "_cal" for c in summary.columns]
    holdout = tx.loc[(obs >= tx[datetime_col]) & (tx[datetime_col] > cal)]
    if holdout.empty:
        raise ValueError(
            "There is no data available. Check the `observation_period_end` and  `calibration_period_end` "
            "and confirm that values in `transactions` occur prior to those dates."
        )
    periods = holdout[datetime_col].dt.to_period(freq)
    grouped = holdout.assign(_period=periods).groupby(customer_id_col, sort=False)
    held = pd.DataFrame({"frequency_holdout": grouped["_period"].nunique()})
    if monetary_value_col:
        held["monetary_value_holdout"] = grouped[monetary_value_col].mean()
    combined = summary.join(held, how="left").fillna(0)
    delta = (obs.to_period(freq) - cal.to_period(freq)).n
    combined["duration_holdout"] = delta / freq_multiplier
    return combined
