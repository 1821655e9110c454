"""clv: customer lifetime value ("buy till you die" models) fitted by maximum likelihood in Rust.

The native API::

    import clv
    summary = clv.summarize(transactions, customer_id_col="customer_id", datetime_col="date",
                            monetary_value_col="amount", calibration_end="1997-09-30",
                            observation_end="1998-06-30", unit="weeks")
    model = clv.fit(summary, model="bgnbd")        # or "pareto-nbd", "mbgnbd", "bgcnbd", ...
    model.params                                     # estimates, standard errors, 95% intervals
    scores = model.predict(summary, horizon=39)      # p_alive, expected_purchases, prob_no_purchase
    spend = clv.fit(summary, model="gamma-gamma")
    value = model.clv(summary, spend, horizon=52, step=4, discount_rate=0.01, period=4)
    model.save("model.json")                         # the file `clv fit` writes; clv.load reads it

`clv.lifetimes` is the lifetimes 0.11.3 API over the same models (change one import).
`clv.spark` and `clv.sql` take the same summary to Spark and to SQL engines (DuckDB).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from . import _clv
from ._clv import ClvError, TRANSACTION_MODELS
from ._frames import (
    column,
    float_column,
    floats,
    floats_or_scalar,
    frame_like,
    has_column,
    kind_of,
    timestamp_ns,
    times_ns,
)

__all__ = [
    "ClvError",
    "MODELS",
    "TRANSACTION_MODELS",
    "Model",
    "compare",
    "fit",
    "load",
    "summarize",
]

#: Every model `fit` takes by name.
MODELS = list(TRANSACTION_MODELS) + ["gamma-gamma", "bgbb", "sbg"]

_SPEND = {"gamma-gamma", "gamma_gamma", "gammagamma"}


def summarize(
    transactions,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    *,
    calibration_end,
    observation_end=None,
    unit: str = "weeks",
    granularity: str = "day",
    datetime_format: str | None = None,
    skip_after_end: bool = False,
    skip_missing_customer: bool = False,
):
    """Summarises a transaction log (pandas, polars or pyarrow) into one row per customer,
    with exactly `clv summarize`'s conventions: transactions in the same occasion (`granularity`:
    the same day by default) are one purchase, their amounts summed; frequency = repeat
    occasions up to the calibration end (whole day: transactions on that day count), recency
    and T measured from the first occasion, monetary_value = mean spend of the repeat
    occasions, litt = Σ ln(inter-purchase times); with `observation_end`, the holdout columns.

    Customers keep their order of first appearance. Dates may be datetime64 (time-zone-aware
    values are read as the wall-clock time they state) or text (`datetime_format`, else
    pandas' parser). A row after the observation end (or the calibration end without one) is
    an error naming it unless `skip_after_end`; a missing customer id is an error unless
    `skip_missing_customer` (the count of skipped rows is in `result.attrs["clv"]`).

    Returns a DataFrame of the input's kind (pandas for a dict); for pandas, `attrs["clv"]`
    holds the time unit, the regularity estimate (Wheat & Morrison's k), the customers first
    seen in the holdout and the skipped-row counts.
    """
    kind = kind_of(transactions)
    ids = column(transactions, customer_id_col)
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    when = times_ns(column(transactions, datetime_col), datetime_format)
    amounts = (
        None
        if monetary_value_col is None
        else float_column(transactions, monetary_value_col)
    )
    try:
        out = _clv.summarize_codes(
            np.ascontiguousarray(codes, dtype=np.int64),
            when,
            amounts,
            timestamp_ns(calibration_end),
            None if observation_end is None else timestamp_ns(observation_end),
            unit,
            granularity,
            skip_after_end,
            skip_missing_customer,
        )
    except ClvError as e:
        # the Rust side knows customers by their codes: name them by their ids
        if e.customer is not None:
            code = e.customer
            e.customer = uniques[int(code)]
            e.args = (str(e.args[0]).replace(f"(customer {code})", f"(customer {e.customer})"),)
        raise
    cols = {customer_id_col: np.asarray(uniques)[out["code"]]}
    for name in ["frequency", "recency", "T", "monetary_value", "litt", "frequency_holdout", "monetary_value_holdout"]:
        if name in out:
            cols[name] = out[name]
    if out["duration_holdout"] is not None:
        cols["duration_holdout"] = np.full(len(out["code"]), out["duration_holdout"])
    frame = frame_like(kind, cols)
    if kind in ("pandas", "mapping"):
        reg = out["regularity"]
        frame.attrs["clv"] = {
            "time_unit": unit,
            "first_purchase": pd.to_datetime(out["first_purchase_ns"]),
            "calibration_spend": out["calibration_spend"],
            "regularity": None if reg is None else {"k": reg[0], "interval": (reg[1], reg[2]), "customers": reg[3]},
            "first_seen_in_holdout": list(np.asarray(uniques)[out["first_seen_in_holdout"]]),
            "transactions_after_end": out["transactions_after_end"],
            "missing_customer": out["missing_customer"],
        }
    return frame


def _unit_of(summary, unit):
    if unit is not None:
        return unit
    if isinstance(summary, pd.DataFrame):
        attrs = summary.attrs.get("clv", {})
        if "time_unit" in attrs:
            return attrs["time_unit"]
        if "time_unit" in summary.columns and len(summary):
            return str(summary["time_unit"].iloc[0])
    return "weeks"


def fit(
    summary,
    model: str = "bgnbd",
    *,
    penalizer: float = 0.0,
    unit: str | None = None,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    monetary_value_col: str = "monetary_value",
    litt_col: str = "litt",
    weights_col: str | None = None,
    n_periods_col: str = "n_periods",
    start=None,
    allow_unconverged: bool = False,
    covariates=None,
    purchase_cov=None,
    dropout_cov=None,
    shared_cov=None,
    spend_cov=None,
) -> "Model":
    """Fits `model` by maximum likelihood to a summary (any DataFrame kind, or a dict of
    columns).

    - transaction models (`clv.TRANSACTION_MODELS`: bgnbd, pareto-nbd, mbgnbd, nbd, ggomnbd,
      bgcnbd, mbgcnbd) use frequency, recency and T (and litt for the CNBD-k models);
    - `gamma-gamma` uses frequency and monetary_value (customers with frequency 0 are left out);
    - `bgbb` uses frequency, recency and n_periods (whole numbers of opportunities);
    - `sbg` uses `renewals` and `churned` columns (see `fit_sbg` for a cohort's counts).

    `weights_col` names a column of counts (how many customers share each row): the compressed
    histories a warehouse hands over. `unit` labels the time unit (default: the summary's
    `attrs`, else weeks). The GIL is released while Rust fits.

    Static covariates (numeric columns; encode categories as dummies first): `purchase_cov`,
    `dropout_cov` and `shared_cov` (one coefficient on both processes) list columns for
    bgnbd, pareto-nbd, mbgnbd and nbd (purchase only); `spend_cov` for gamma-gamma. The
    columns are read from `covariates` (a frame with one row per summary row) or the summary.
    """
    unit = _unit_of(summary, unit)
    if any(c for c in (purchase_cov, dropout_cov, shared_cov, spend_cov)):
        return _fit_covariates(
            summary, model.lower(), unit, penalizer, allow_unconverged, covariates,
            purchase_cov, dropout_cov, shared_cov, spend_cov,
            (frequency_col, recency_col, T_col, monetary_value_col),
        )
    weights = None if weights_col is None else float_column(summary, weights_col)
    start = None if start is None else [float(v) for v in start]
    name = model.lower()
    f = lambda c: float_column(summary, c)  # noqa: E731
    if name in _SPEND:
        native = _clv.fit_spend(f(frequency_col), f(monetary_value_col), unit, penalizer, weights, start, allow_unconverged)
    elif name == "bgbb":
        native = _clv.fit_bgbb(f(frequency_col), f(recency_col), f(n_periods_col), unit, penalizer, weights, start, allow_unconverged)
    elif name == "sbg":
        churned = np.ascontiguousarray(column(summary, "churned"), dtype=bool)
        native = _clv.fit_sbg(unit, f("renewals"), churned, weights, None, penalizer)
    else:
        litt = f(litt_col) if name.endswith("cnbd") and has_column(summary, litt_col) else None
        native = _clv.fit_transactions(
            name, f(frequency_col), f(recency_col), f(T_col), unit, penalizer, litt, weights, start, allow_unconverged
        )
    return Model(native)


def _group(frame, names):
    """(names, 2-D float array) of covariate columns, or None."""
    if not names:
        return None
    names = [names] if isinstance(names, str) else list(names)
    z = np.column_stack([float_column(frame, n) for n in names])
    return names, np.ascontiguousarray(z, dtype=np.float64)


def _fit_covariates(summary, name, unit, penalizer, allow_unconverged, covariates, purchase, dropout, shared, spend, cols):
    z = summary if covariates is None else covariates
    fc, rc, tc, mc = cols
    f = lambda c: float_column(summary, c)  # noqa: E731
    if name in _SPEND:
        if not spend:
            raise ValueError("gamma-gamma takes spend_cov (purchase, dropout and shared covariates go with the transaction models)")
        return Model(_clv.fit_spend_cov(f(fc), f(rc), f(tc), f(mc), unit, _group(z, spend), penalizer))
    if spend:
        raise ValueError(f"spend_cov goes with gamma-gamma, not {name}")
    if not purchase:
        raise ValueError("a model with covariates needs purchase_cov (dropout_cov and shared_cov are optional)")
    return Model(
        _clv.fit_transactions_cov(
            name, f(fc), f(rc), f(tc), unit, _group(z, purchase), _group(z, dropout), _group(z, shared), penalizer, allow_unconverged
        )
    )


def fit_sbg(alive, unit: str = "periods_of_365.25_days", penalizer: float = 0.0) -> "Model":
    """Fits the shifted-beta-geometric model to one cohort's counts alive at the start of
    periods 0, 1, ..., N (Fader & Hardie 2007's table; shares work too)."""
    return Model(_clv.fit_sbg(unit, None, None, None, floats(alive, "alive"), penalizer))


def compare(
    summary,
    models=None,
    *,
    unit: str | None = None,
    penalizer: float = 0.0,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    litt_col: str = "litt",
    frequency_holdout_col: str = "frequency_holdout",
    duration_holdout_col: str = "duration_holdout",
):
    """Fits the named transaction models (default: all) to one summary and compares them:
    log-likelihood, AIC, BIC, and, when the summary has holdout columns, the holdout
    predictions' bias, MAE and MSLE. Returns a pandas DataFrame (one row per model, the
    recommended one flagged) with `attrs["clv"]` holding the reason for the recommendation, the
    likelihood-ratio tests of nested pairs and each fitted model."""
    unit = _unit_of(summary, unit)
    f = lambda c: float_column(summary, c)  # noqa: E731
    litt = f(litt_col) if has_column(summary, litt_col) else None
    hx = f(frequency_holdout_col) if has_column(summary, frequency_holdout_col) else None
    dur = float(f(duration_holdout_col)[0]) if hx is not None and has_column(summary, duration_holdout_col) else None
    rows, recommended, reason, tests = _clv.compare_models(
        f(frequency_col), f(recency_col), f(T_col), unit, None if models is None else list(models), litt, hx, dur, penalizer
    )
    fitted = {r["model"]: (None if r["model_json"] is None else Model.from_json(r["model_json"])) for r in rows}
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "model_json"} for r in rows]).set_index("model")
    table.attrs["clv"] = {"recommended": recommended, "reason": reason, "tests": tests, "models": fitted}
    return table


def load(path) -> "Model":
    """Loads a model file (as `clv fit` or `Model.save` writes it)."""
    with open(os.fspath(path), encoding="utf-8") as fh:
        return Model.from_json(fh.read())


class Model:
    """A fitted model of any family (transaction model, Gamma-Gamma, BG/BB, sBG)."""

    def __init__(self, native):
        self._m = native

    # -- persistence --
    @staticmethod
    def from_json(text: str) -> "Model":
        return Model(_clv.Model.from_json(text))

    def to_json(self) -> str:
        return self._m.to_json()

    def save(self, path) -> None:
        """Writes the model file (the same JSON `clv fit` writes)."""
        with open(os.fspath(path), "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    def __getstate__(self):
        return {"model_file": self.to_json()}

    def __setstate__(self, state):
        self._m = _clv.Model.from_json(state["model_file"])

    def __repr__(self) -> str:
        return repr(self._m)

    # -- the fit --
    @property
    def name(self) -> str:
        return self._m.name

    @property
    def time_unit(self) -> str:
        return self._m.time_unit

    @property
    def native(self):
        """The native model (`clv._clv.Model`)."""
        return self._m

    @property
    def params(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% Wald intervals (on the parameters' free scale:
        log for positive ones), one row per parameter."""
        names = self._m.parameter_names
        se = self._m.standard_errors
        ci = self._m.confidence_intervals(0.95)
        n = len(names)
        return pd.DataFrame(
            {
                "estimate": self._m.estimates,
                "se": se if se is not None else [np.nan] * n,
                "lower_95": [c[0] for c in ci] if ci is not None else [np.nan] * n,
                "upper_95": [c[1] for c in ci] if ci is not None else [np.nan] * n,
            },
            index=pd.Index(names, name="parameter"),
        )

    @property
    def log_likelihood(self) -> float:
        return self._m.log_likelihood

    @property
    def aic(self) -> float:
        return self._m.aic

    @property
    def bic(self) -> float:
        return self._m.bic

    @property
    def n_customers(self) -> float:
        return self._m.n_customers

    @property
    def warnings(self):
        return self._m.warnings

    @property
    def convergence(self) -> dict:
        return self._m.convergence

    @property
    def covariance(self):
        return self._m.covariance

    # -- predictions --
    def predict(
        self,
        summary,
        horizon: float,
        *,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        n_periods_col: str = "n_periods",
        covariates=None,
    ):
        """Per customer: P(alive), expected purchases in the next `horizon` time units and the
        probability of none (transaction models), or for BG/BB P(alive) and expected
        transactions in the next `horizon` opportunities. Returns a DataFrame of the input's
        kind (same row order; the pandas index kept). A model with covariates reads them from
        `covariates` (one row per summary row) or the summary, by the names it was fitted
        with."""
        kind = kind_of(summary)
        f = lambda c: float_column(summary, c)  # noqa: E731
        index = summary.index if kind == "pandas" else None
        if self.name == "bgbb":
            x, tx, n = f(frequency_col), f(recency_col), f(n_periods_col)
            cols = {
                "p_alive": self._m.bgbb_p_alive(x, tx, n, 0.0),
                "expected_purchases": self._m.bgbb_conditional_expected(float(horizon), x, tx, n),
            }
        elif self.covariates:
            names = self.covariates
            z = summary if covariates is None else covariates
            p, e, zero = self._m.score_cov(
                f(frequency_col), f(recency_col), f(T_col), float(horizon),
                _group(z, names["purchase"]), _group(z, names["dropout"]), _group(z, names["shared"]),
            )
            cols = {"p_alive": p, "expected_purchases": e, "prob_no_purchase": zero}
        else:
            p, e, z = self._m.score(f(frequency_col), f(recency_col), f(T_col), float(horizon))
            cols = {"p_alive": p, "expected_purchases": e, "prob_no_purchase": z}
        return frame_like(kind, cols, index=index)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        return self._m.p_alive(floats(frequency), floats(recency), floats(T))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        return self._m.conditional_expected(floats_or_scalar(t), floats(frequency), floats(recency), floats(T))

    def conditional_pmf(self, n, t, frequency, recency, T) -> np.ndarray:
        return self._m.conditional_pmf(float(n), float(t), floats(frequency), floats(recency), floats(T))

    def expected_purchases(self, t) -> np.ndarray:
        return self._m.expected(floats_or_scalar(t))

    def pmf(self, n, t) -> np.ndarray:
        return self._m.pmf(float(n), floats_or_scalar(t))

    def conditional_expected_spend(self, frequency, monetary_value, covariates=None) -> np.ndarray:
        """E[mean transaction value | frequency, mean value] (Gamma-Gamma; with spend
        covariates, read from `covariates` by the names the model was fitted with)."""
        if self.covariates:
            if covariates is None:
                raise ValueError(f"this model takes spend covariates: {self.covariates['spend']}")
            return self._m.conditional_expected_spend_cov(floats(frequency), floats(monetary_value), _group(covariates, self.covariates["spend"]))
        return self._m.conditional_expected_spend(floats(frequency), floats(monetary_value))

    @property
    def covariates(self) -> dict:
        """The covariate names the model takes, by process (empty without covariates)."""
        return dict(self._m.covariates)

    def clv(
        self,
        summary,
        spend: "Model",
        horizon: float,
        *,
        step: float = 1.0,
        discount_rate: float = 0.0,
        period: float | None = None,
        continuous: bool = False,
        margin: float = 1.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        monetary_value_col: str = "monetary_value",
    ) -> np.ndarray:
        """Discounted CLV per customer over `horizon` (in the model's time unit), in steps of
        `step`: Σ margin · E[spend | x, m̄] · (E[Y(tᵢ)] − E[Y(tᵢ₋₁)]) · (1 + discount_rate)^(−tᵢ/period)
        (`period` defaults to one time unit; `continuous=True` makes `discount_rate` a force
        per unit, e^(−δ tᵢ)). `spend` is a fitted Gamma-Gamma model."""
        f = lambda c: float_column(summary, c)  # noqa: E731
        return self._m.value(
            spend._m,
            f(frequency_col),
            f(recency_col),
            f(T_col),
            f(monetary_value_col),
            float(horizon),
            float(step),
            float(discount_rate),
            None if period is None else float(period),
            continuous,
            float(margin),
        )
