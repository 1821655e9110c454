"""Spark: the RFM summary as a DataFrame function with `clv summarize`'s conventions, the fit
on the driver from compressed histories (counts as weights), and scoring on the executors
with `mapInArrow` (or a `pandas_udf`).

    from clv import spark as cs
    summary = cs.summarize(transactions, "customer_id", "date", "amount",
                           calibration_end="1997-09-30", observation_end="1998-06-30")
    model = cs.fit(summary, model="bgnbd")            # distinct histories with counts, fitted here
    scores = cs.score(summary, model, horizon=39)     # p_alive, expected_purchases, prob_no_purchase

The same code runs on a cluster: only the compressed histories (a few thousand rows for
millions of customers) come to the driver, and the model travels to the executors as its model
file (a few hundred bytes). See docs/python.md.
"""

from __future__ import annotations

import numpy as np

from . import Model, fit as _fit
from .sql import unit_days

SCORE_COLUMNS = ("p_alive", "expected_purchases", "prob_no_purchase")


def _functions():
    from pyspark.sql import functions as F

    return F


def summarize(
    transactions,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    *,
    calibration_end,
    observation_end=None,
    unit: str = "weeks",
    order_col: str | None = None,
):
    """The RFM summary of a Spark DataFrame of transactions, with exactly `clv summarize`'s
    conventions (see `clv.sql` for the list): same-day purchases merged, whole-day calibration
    and observation ends, holdout columns, mean repeat spend, litt. Every sum runs in time
    order (higher-order `aggregate` over a sorted array), as the Rust summariser adds.

    Days are calendar dates of `datetime_col` (`to_date`: for a timestamp, its date in the
    session time zone; a DATE or text column as it is). `order_col` gives the file's order:
    the output keeps customers in order of first appearance, and a day's amounts are summed in
    that order (without it, customers are ordered by id). Returns a Spark DataFrame with the
    summary's columns; rows after the observation end are left out."""
    import pandas as pd

    F = _functions()
    day0 = F.lit("1970-01-01").cast("date")
    cal_d = (pd.Timestamp(calibration_end).normalize() - pd.Timestamp("1970-01-01")).days
    obs = calibration_end if observation_end is None else observation_end
    obs_d = (pd.Timestamp(obs).normalize() - pd.Timestamp("1970-01-01")).days
    unit_s = 86400.0 * unit_days(unit)
    amount = F.lit(0.0) if monetary_value_col is None else F.col(monetary_value_col).cast("double")
    order = F.monotonically_increasing_id() if order_col is None else F.col(order_col)
    tx = transactions.select(
        F.col(customer_id_col).alias("customer_id"),
        F.datediff(F.to_date(F.col(datetime_col)), day0).alias("d"),
        amount.alias("amount"),
        order.alias("line"),
    ).where(F.col("d") <= F.lit(obs_d))
    # occasions: one per customer and day, the day's amounts summed in file order
    by_line = F.array_sort(F.collect_list(F.struct("line", "amount")))
    occasions = tx.groupBy("customer_id", "d").agg(
        F.aggregate(by_line, F.lit(0.0), lambda acc, s: acc + s["amount"]).alias("amount"),
        F.min("line").alias("first_line"),
    )
    per = occasions.groupBy("customer_id").agg(
        F.array_sort(F.collect_list(F.struct("d", "amount"))).alias("occ"),
        F.min("first_line").alias("first_line"),
    )
    cal = F.filter(F.col("occ"), lambda o: o["d"] <= F.lit(cal_d))
    hold = F.filter(F.col("occ"), lambda o: o["d"] > F.lit(cal_d))
    n_cal = F.size(cal)
    x = n_cal - 1
    first_d = F.element_at(F.col("occ"), 1)["d"]
    last_d = F.element_at(cal, -1)["d"]
    # the repeat occasions and the ones before each (slice needs a length >= 1)
    n_repeats = F.greatest(n_cal - 1, F.lit(1))
    repeats = F.slice(cal, 2, n_repeats)
    repeat_sum = F.aggregate(repeats, F.lit(0.0), lambda acc, o: acc + o["amount"])
    # each inter-purchase time in seconds, in order; Σ ln of them by the native summariser's
    # own arithmetic (Spark's ln is Java's StrictMath.log, which can differ in the last bit)
    gaps = F.zip_with(repeats, F.slice(cal, 1, n_repeats), lambda a, b: ((a["d"] - b["d"]) * 86400).cast("double"))
    log_gaps = _log_sums_udf()(F.when(x > 0, gaps).otherwise(F.array().cast("array<double>")))
    hx = F.size(hold)
    hold_sum = F.aggregate(hold, F.lit(0.0), lambda acc, o: acc + o["amount"])
    ln_second = float(np.log(1.0 / unit_s))
    seconds = lambda days: (days * 86400).cast("double")  # noqa: E731
    out = per.where(first_d <= F.lit(cal_d)).select(
        "customer_id",
        x.cast("double").alias("frequency"),
        (seconds(last_d - first_d) / F.lit(unit_s)).alias("recency"),
        (seconds(F.lit(cal_d) - first_d) / F.lit(unit_s)).alias("T"),
        F.when(x > 0, repeat_sum / x.cast("double")).otherwise(F.lit(0.0)).alias("monetary_value"),
        F.when(x > 0, log_gaps + x.cast("double") * F.lit(ln_second)).otherwise(F.lit(0.0)).alias("litt"),
        hx.cast("double").alias("frequency_holdout"),
        F.when(hx > 0, hold_sum / hx.cast("double")).otherwise(F.lit(0.0)).alias("monetary_value_holdout"),
        (F.lit(float((obs_d - cal_d) * 86400)) / F.lit(unit_s)).alias("duration_holdout"),
        "first_line",
    )
    out = out.orderBy("first_line" if order_col is not None else "customer_id").drop("first_line")
    if observation_end is None:
        out = out.drop("frequency_holdout", "monetary_value_holdout", "duration_holdout")
    if monetary_value_col is None:
        out = out.drop("monetary_value")
    return out


def _log_sums_udf():
    """A pandas UDF: Σ ln over each row's array, by `clv._clv.log_sums`."""
    import pandas as pd

    F = _functions()

    def log_sums(gaps):
        from . import _clv

        lengths = np.fromiter((len(g) for g in gaps), dtype=np.int64, count=len(gaps))
        flat = np.concatenate([np.asarray(g, dtype=np.float64) for g in gaps]) if len(gaps) else np.zeros(0)
        return pd.Series(_clv.log_sums(np.ascontiguousarray(flat), lengths))

    log_sums.__annotations__ = {"gaps": pd.Series, "return": pd.Series}
    return F.pandas_udf(log_sums, "double")


def compress(summary, frequency_col: str = "frequency", recency_col: str = "recency", T_col: str = "T"):
    """The distinct (frequency, recency, T) histories with their counts (`weight`), computed
    in Spark: what the fit needs, a few thousand rows whatever the number of customers."""
    F = _functions()
    return summary.groupBy(
        F.col(frequency_col).alias("frequency"), F.col(recency_col).alias("recency"), F.col(T_col).alias("T")
    ).agg(F.count(F.lit(1)).cast("double").alias("weight"))


def fit(summary, model: str = "bgnbd", *, unit: str = "weeks", penalizer: float = 0.0, **columns) -> Model:
    """Compresses the histories in Spark, brings the distinct rows with their counts to the
    driver and fits there, the counts as weights (the same optimum as a fit on every customer).
    For the transaction models without litt (bgnbd, pareto-nbd, mbgnbd, nbd, ggomnbd)."""
    rows = compress(summary, **columns).toPandas()
    return _fit(rows, model, unit=unit, penalizer=penalizer, weights_col="weight")


def _score_batches(model_json: str, horizon: float, cols):
    """The mapInArrow function: each Arrow batch scored by the native model."""

    def run(batches):
        import pyarrow as pa

        from . import _clv

        m = _clv.Model.from_json(model_json)
        for batch in batches:
            x, tx, t = (np.ascontiguousarray(batch.column(batch.schema.get_field_index(c)).to_numpy(zero_copy_only=False), dtype=np.float64) for c in cols)
            p, e, z = m.score(x, tx, t, horizon)
            arrays = list(batch.columns) + [pa.array(p), pa.array(e), pa.array(z)]
            names = list(batch.schema.names) + list(SCORE_COLUMNS)
            yield pa.RecordBatch.from_arrays(arrays, names=names)

    return run


def score(summary, model: Model, horizon: float, *, frequency_col: str = "frequency", recency_col: str = "recency", T_col: str = "T", method: str = "arrow"):
    """Adds p_alive, expected_purchases and prob_no_purchase to a Spark summary, scored on the
    executors by the native model (the same numbers as `model.predict`). `method="arrow"` uses
    `mapInArrow` (no pandas on the executors); `method="pandas"` a `pandas_udf` returning a
    struct."""
    from pyspark.sql import types as T

    F = _functions()
    cols = (frequency_col, recency_col, T_col)
    text = model.to_json()
    if method == "arrow":
        fields = list(summary.schema.fields) + [T.StructField(c, T.DoubleType()) for c in SCORE_COLUMNS]
        return summary.mapInArrow(_score_batches(text, float(horizon), cols), T.StructType(fields))
    if method != "pandas":
        raise ValueError(f"method must be 'arrow' or 'pandas', got '{method}'")
    import pandas as pd

    schema = T.StructType([T.StructField(c, T.DoubleType()) for c in SCORE_COLUMNS])

    def scores(x, tx, t):
        from . import _clv

        m = _clv.Model.from_json(text)
        p, e, z = m.score(*(np.ascontiguousarray(s.to_numpy(dtype=np.float64)) for s in (x, tx, t)), float(horizon))
        return pd.DataFrame({"p_alive": p, "expected_purchases": e, "prob_no_purchase": z})

    # the type hints Spark reads to choose the UDF's kind (series in, a frame out), as objects:
    # this module's annotations are strings
    scores.__annotations__ = {"x": pd.Series, "tx": pd.Series, "t": pd.Series, "return": pd.DataFrame}
    s = F.pandas_udf(scores, schema)(*(F.col(c) for c in cols))
    return summary.withColumn("_scores", s).select("*", *(F.col("_scores")[c].alias(c) for c in SCORE_COLUMNS)).drop("_scores")
