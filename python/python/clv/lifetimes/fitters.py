"""lifetimes' fitter classes over clv's native models (see the package docs for the
differences on purpose)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from .. import _clv
from .._frames import floats, floats_or_scalar

# lifetimes' fitters know no time unit: the models are labelled in "periods of one day", and
# every horizon is in the caller's unit, whatever it is
_UNIT = "days"


def _series_index(*inputs):
    for x in inputs:
        if isinstance(x, pd.Series):
            return x.index
    return None


def _shaped(values: np.ndarray, *inputs, atleast_1d: bool = False):
    """lifetimes' result type: a Series for Series inputs, a float for scalar inputs, else
    an array."""
    index = _series_index(*inputs)
    if index is not None and not atleast_1d:
        return pd.Series(values, index=index)
    if not atleast_1d and all(np.ndim(x) == 0 for x in inputs):
        return values[0]
    return values


def _at_zero(t: np.ndarray, f, value: float) -> np.ndarray:
    """`f(t)`, with `value` where t = 0 (the crate's horizons are > 0)."""
    out = np.full(len(t), value)
    pos = t != 0
    if pos.any():
        out[pos] = f(np.ascontiguousarray(t[pos]))
    return out


def _broadcast(*columns):
    arrays = [floats_or_scalar(c) for c in columns]
    n = max(len(a) for a in arrays)
    return [np.ascontiguousarray(np.broadcast_to(a, (n,))) for a in arrays]


def _history(frequency, recency, T):
    """(x, t_x, T) columns for a prediction. A customer without repeat purchases has recency
    0: lifetimes' plots pass grids with other recencies there, which its formulas ignore for
    BG/NBD; they are read as 0 (for Pareto/NBD such a cell has no meaning either way)."""
    x, tx, age = _broadcast(frequency, recency, T)
    tx = np.where(x == 0, 0.0, tx)
    return x, np.ascontiguousarray(tx), age


class BaseFitter:
    """What every lifetimes fitter has: `params_`, `summary`, the variance and the intervals."""

    _model = ""

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef

    def __repr__(self) -> str:
        name = type(self).__name__
        try:
            subjects = f" fitted with {self.data.shape[0]:d} subjects,"
        except AttributeError:
            subjects = ""
        try:
            params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
            return f"<lifetimes.{name}:{subjects} {params}>"
        except AttributeError:
            return f"<lifetimes.{name}>"

    def _unload_params(self, *names):
        if not hasattr(self, "params_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        return [self.params_[n] for n in names]

    def _native(self):
        if not hasattr(self, "_m"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        return self._m

    def _adopt(self, native, n_customers: float):
        """Takes in a native fit: the parameters, the variance (Cov θ from the observed
        information, as lifetimes' `params² · H⁻¹ / Σw`), the standard errors and lifetimes'
        symmetric 95% intervals."""
        self._m = native
        names = list(native.parameter_names)
        self.params_ = pd.Series(native.estimates, index=names, dtype=float)
        cov = native.covariance
        if cov is None:
            cov = np.full((len(names), len(names)), np.nan)
        self.variance_matrix_ = pd.DataFrame(np.asarray(cov, dtype=float), index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.values)), index=names)
        self.confidence_intervals_ = pd.DataFrame(
            {
                "lower 95% bound": self.params_ - 1.96 * self.standard_errors_,
                "upper 95% bound": self.params_ + 1.96 * self.standard_errors_,
            },
            index=names,
        )
        # the mean negative log-likelihood at the optimum (lifetimes' objective without the
        # penalty)
        self._negative_log_likelihood_ = -native.log_likelihood / n_customers

    @property
    def summary(self) -> pd.DataFrame:
        """coef, se(coef), lower 95% bound, upper 95% bound."""
        df = pd.DataFrame(index=self.params_.index)
        df["coef"] = self.params_
        df["se(coef)"] = self.standard_errors_
        df["lower 95% bound"] = self.confidence_intervals_["lower 95% bound"]
        df["upper 95% bound"] = self.confidence_intervals_["upper 95% bound"]
        return df

    def print_summary(self, decimals: int = 4, **kwargs) -> None:
        print(self.summary.round(decimals).to_string(**kwargs))

    def save_model(self, path, save_data: bool = True, save_generate_data_method: bool = True, values_to_save=None):
        """Pickles the fitter (its model travels as the model file's JSON)."""
        state = dict(self.__dict__)
        if not save_data:
            state.pop("data", None)
        with open(path, "wb") as fh:
            pickle.dump(state, fh)

    def load_model(self, path) -> None:
        with open(path, "rb") as fh:
            self.__dict__.update(pickle.load(fh))

    def __getstate__(self):
        state = dict(self.__dict__)
        if "_m" in state:
            state["_m"] = state["_m"].to_json()
        state.pop("predict", None)
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "_m" in state and isinstance(state["_m"], str):
            state["_m"] = _clv.Model.from_json(state["_m"])
        self.__dict__.update(state)
        if hasattr(self, "_predict_alias"):
            self.predict = getattr(self, self._predict_alias)

    def to_clv(self):
        """The fitted model as a `clv.Model` (its `save` writes the file `clv predict` reads)."""
        from .. import Model

        return Model(self._native())


def _start(initial_params, scale: float = 1.0, scaled: tuple = (), names=None) -> list | None:
    """lifetimes' `initial_params` (log parameters, the `scaled` ones of time-scaled data) as
    natural values."""
    if initial_params is None:
        return None
    theta = np.exp(np.asarray(initial_params, dtype=float))
    names = names if names is not None else [None] * len(theta)
    return [float(v / scale if n in scaled else v) for n, v in zip(names, theta)]


class _TransactionFitter(BaseFitter):
    """The continuous-time fitters: fit on (frequency, recency, T)."""

    _scaled = ("alpha",)
    _predict_alias = "conditional_expected_number_of_purchases_up_to_time"

    def fit(self, frequency, recency, T, weights=None, initial_params=None, verbose=False, tol=1e-7, index=None, **kwargs):
        x, tx, t = floats(frequency, "frequency"), floats(recency, "recency"), floats(T, "T")
        w = None if weights is None else floats(weights, "weights")
        names = _clv.parameter_names(self._model)
        scale = 1.0 / t.max() if len(t) and t.max() > 0 else 1.0
        native = _clv.fit_transactions(
            self._model,
            x,
            tx,
            t,
            _UNIT,
            self._penalizer(len(x)),
            None,
            w,
            _start(initial_params, scale, self._scaled, names),
            False,
        )
        self._adopt(native, float(len(x)) if w is None else float(w.sum()))
        self.data = pd.DataFrame(
            {
                "frequency": x.astype(int),
                "recency": tx,
                "T": t,
                "weights": np.ones(len(x), dtype=int) if w is None else w,
            },
            index=index,
        )
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        return self

    def _penalizer(self, rows: int) -> float:
        return float(self.penalizer_coef)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """E[purchases in (T, T + t] | frequency, recency, T]."""
        x, tx, age = _history(frequency, recency, T)
        tt = floats_or_scalar(t)
        if len(tt) not in (1, len(x)):
            tt, x, tx, age = _broadcast(t, x, tx, age)
        tt = np.ascontiguousarray(np.broadcast_to(tt, x.shape))
        # nothing is expected in no time (the crate's horizons are > 0)
        v = np.zeros(len(x))
        pos = tt != 0
        if pos.any():
            v[pos] = self._native().conditional_expected(tt[pos], x[pos], tx[pos], age[pos])
        return _shaped(v, t, frequency, recency, T)

    def conditional_probability_alive(self, frequency, recency, T):
        """P(alive at T | frequency, recency, T)."""
        x, tx, age = _history(frequency, recency, T)
        return _shaped(self._native().p_alive(x, tx, age), frequency, recency, T, atleast_1d=self._alive_1d)

    _alive_1d = True

    def conditional_probability_alive_matrix(self, max_frequency=None, max_recency=None):
        """P(alive) on the grid [recency 0..max_recency, frequency 0..max_frequency] at
        T = max_recency, as lifetimes tabulates it (recency is read as 0 at frequency 0)."""
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        f, r = np.meshgrid(np.arange(max_frequency + 1.0), np.arange(max_recency + 1.0))
        t = np.full(f.size, float(max_recency))
        return self.conditional_probability_alive(f.ravel(), r.ravel(), t).reshape(max_recency + 1, max_frequency + 1)

    def generate_new_data(self, size=1):
        """Customers simulated from the fitted model, one per customer of the fitted data (their
        ages T), as lifetimes draws them (`size` is ignored then, as in lifetimes): a DataFrame
        with frequency, recency and T (`clv::sim`, seeded from numpy's global generator)."""
        ages = np.ascontiguousarray(self.data["T"].to_numpy(dtype=float))
        seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        x, tx, t = self._native().simulate(ages, seed)
        return pd.DataFrame({"frequency": x, "recency": tx, "T": t})

    def expected_number_of_purchases_up_to_time(self, t):
        """E[X(t)] for a new customer (0 at t = 0)."""
        return _shaped(_at_zero(floats_or_scalar(t), self._native().expected, 0.0), t)

    def probability_of_n_purchases_up_to_time(self, t, n):
        """P(X(t) = n) for a new customer (at t = 0: 1 for n = 0, else 0)."""
        tt = floats_or_scalar(t)
        return _shaped(_at_zero(tt, lambda u: self._native().pmf(float(n), u), 1.0 if n == 0 else 0.0), t)


class BetaGeoFitter(_TransactionFitter):
    """BG/NBD (Fader, Hardie & Lee 2005): parameters r, alpha, a, b."""

    _model = "bgnbd"


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): parameters r, alpha, a, b."""

    _model = "mbgnbd"


class ParetoNBDFitter(_TransactionFitter):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): parameters r, alpha, s, beta."""

    _model = "pareto-nbd"
    _scaled = ("alpha", "beta")
    _alive_1d = False

    def _penalizer(self, rows: int) -> float:
        # lifetimes divides its Pareto/NBD log-likelihood by the mean weight, not the total:
        # its penalty weighs 1/rows as much as in the other fitters (and ours)
        return float(self.penalizer_coef) / max(rows, 1)

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, frequency, recency, T):
        """P(X(T, T + t] = n | frequency, recency, T)."""
        x, tx, age = _history(frequency, recency, T)
        return _shaped(self._native().conditional_pmf(float(n), float(t), x, tx, age), frequency, recency, T)


class BetaGeoBetaBinomFitter(BaseFitter):
    """BG/BB (Fader, Hardie & Shang 2010), discrete opportunities: alpha, beta, gamma, delta."""

    _model = "bgbb"
    _predict_alias = "conditional_expected_number_of_purchases_up_to_time"

    def fit(self, frequency, recency, n_periods, weights=None, initial_params=None, verbose=False, tol=1e-7, index=None, fit_method="Nelder-Mead", maxiter=2000, **kwargs):
        x, tx, n = floats(frequency, "frequency"), floats(recency, "recency"), floats(n_periods, "n_periods")
        w = None if weights is None else floats(weights, "weights")
        start = _start(initial_params)
        native = _clv.fit_bgbb(x, tx, n, _UNIT, float(self.penalizer_coef), w, start, False)
        self._adopt(native, float(len(x)) if w is None else float(w.sum()))
        self.data = pd.DataFrame(
            {
                "frequency": np.asarray(frequency),
                "recency": np.asarray(recency),
                "n_periods": np.asarray(n_periods),
                "weights": np.ones(len(x), dtype=int) if weights is None else np.asarray(weights),
            },
            index=index,
        )
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        return self

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future, frequency, recency, n_periods):
        """E[transactions in the next m opportunities | frequency, recency, n_periods]."""
        x, tx, n = _broadcast(frequency, recency, n_periods)
        v = self._native().bgbb_conditional_expected(float(m_periods_in_future), x, tx, n)
        return _shaped(v, frequency, recency, n_periods)

    def conditional_probability_alive(self, m_periods_in_future, frequency, recency, n_periods):
        """P(alive at opportunity n_periods + m | history)."""
        x, tx, n = _broadcast(frequency, recency, n_periods)
        v = self._native().bgbb_p_alive(x, tx, n, float(m_periods_in_future))
        return _shaped(v, frequency, recency, n_periods)

    def expected_number_of_transactions_in_first_n_periods(self, n):
        """Expected number of customers with each count of transactions in the first n
        opportunities (for the counts seen in the data), as lifetimes tabulates it."""
        counts = self.data.groupby("frequency")["weights"].sum()
        x = np.asarray(counts.index, dtype=float)
        probs = np.array([self._native().bgbb_pmf(k, np.array([float(n)]))[0] for k in x])
        idx = pd.Index(np.asarray(counts.index), name="frequency")
        return pd.DataFrame(probs * counts.sum(), index=idx, columns=["model"])


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"): p, q, v."""

    _model = "gamma_gamma"

    def fit(self, frequency, monetary_value, weights=None, initial_params=None, verbose=False, tol=1e-7, index=None, q_constraint=False, **kwargs):
        x, m = floats(frequency, "frequency"), floats(monetary_value, "monetary_value")
        w = None if weights is None else floats(weights, "weights")
        start = _start(initial_params)
        native = _clv.fit_spend(x, m, _UNIT, float(self.penalizer_coef), w, start, False)
        self._adopt(native, native.n_customers)
        self.data = pd.DataFrame(
            {"monetary_value": m, "frequency": x, "weights": np.ones(len(x)) if w is None else w},
            index=index,
        )
        return self

    def conditional_expected_average_profit(self, frequency=None, monetary_value=None):
        """E[mean transaction value | frequency, monetary_value] (the population mean for
        frequency 0)."""
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        if frequency is None:
            frequency = self.data["frequency"]
        x, m = _broadcast(frequency, monetary_value)
        return _shaped(self._native().conditional_expected_spend(x, m), frequency, monetary_value)

    def customer_lifetime_value(self, transaction_prediction_model, frequency, recency, T, monetary_value, time=12, discount_rate=0.01, freq="D"):
        """Discounted CLV over `time` months: Σₖ E[spend] · (E[X(k·f)] − E[X((k−1)·f)]) /
        (1 + discount_rate)^k, with f the periods per month for `freq` (W 4.345, M 1, D 30,
        H 720), as lifetimes computes it."""
        factor = {"W": 4.345, "M": 1.0, "D": 30, "H": 30 * 24}[freq]
        index = _series_index(frequency, recency, T, monetary_value)
        x, tx, t, m = _broadcast(frequency, recency, T, monetary_value)
        if isinstance(transaction_prediction_model, _TransactionFitter):
            v = transaction_prediction_model._native().value(
                self._native(), x, tx, t, m, float(time * factor), float(factor), float(discount_rate), float(factor), False, 1.0
            )
        else:
            # another library's fitter: lifetimes' own sum, with its predictions
            spend = self._native().conditional_expected_spend(x, m)
            v = np.zeros(len(x))
            for i in np.arange(1, time + 1) * factor:
                e = np.asarray(transaction_prediction_model.predict(i, x, tx, t)) - np.asarray(
                    transaction_prediction_model.predict(i - factor, x, tx, t)
                )
                v += spend * e / (1 + discount_rate) ** (i / factor)
        return pd.Series(v, index=index if index is not None else pd.RangeIndex(len(v)), name="clv")
