"""Columns in and out of DataFrames (pandas, polars, pyarrow) as numpy arrays, without a Python
object per row."""

from __future__ import annotations

import numpy as np
import pandas as pd


def kind_of(frame) -> str:
    """'pandas', 'polars', 'arrow' or 'mapping' (a dict of columns)."""
    mod = type(frame).__module__
    if isinstance(frame, pd.DataFrame):
        return "pandas"
    if mod.startswith("polars"):
        return "polars"
    if mod.startswith("pyarrow"):
        return "arrow"
    if isinstance(frame, dict):
        return "mapping"
    raise TypeError(
        f"expected a pandas, polars or pyarrow DataFrame (or a dict of columns), got {type(frame).__name__}"
    )


def has_column(frame, name: str) -> bool:
    kind = kind_of(frame)
    if kind == "arrow":
        return name in frame.column_names
    return name in frame.columns if kind != "mapping" else name in frame


def column(frame, name: str) -> np.ndarray:
    """The column as a numpy array (no copy where the layout allows)."""
    if not has_column(frame, name):
        cols = list(frame.column_names if kind_of(frame) == "arrow" else frame.keys() if isinstance(frame, dict) else frame.columns)
        raise KeyError(f"missing column '{name}'; columns found: {', '.join(map(str, cols))}")
    kind = kind_of(frame)
    if kind == "pandas":
        return frame[name].to_numpy()
    if kind == "polars":
        return frame.get_column(name).to_numpy()
    if kind == "arrow":
        return frame.column(name).to_numpy()
    return np.asarray(frame[name])


def floats(values, name: str = "column") -> np.ndarray:
    """A C-contiguous float64 array (nulls as NaN, which the Rust side reports by row)."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy(dtype="float64", na_value=np.nan)
    a = np.asarray(values)
    if a.dtype == object:
        a = pd.to_numeric(pd.Series(a), errors="coerce").to_numpy(dtype="float64")
    try:
        return np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must be numeric: {e}") from None


def float_column(frame, name: str) -> np.ndarray:
    """The named column as a C-contiguous float64 array."""
    return floats(column(frame, name), name)


def floats_or_scalar(values) -> np.ndarray:
    return floats(np.atleast_1d(np.asarray(values, dtype="float64")))


def times_ns(values, datetime_format: str | None = None) -> np.ndarray:
    """Date-times as int64 nanoseconds since the epoch (NaT as i64::MIN). Time-zone-aware values
    are read as the wall-clock time they state (the customer's own day), as `clv summarize`
    reads RFC 3339 offsets."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, format=datetime_format)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return np.ascontiguousarray(s.to_numpy(dtype="datetime64[ns]").view("i8"))


def timestamp_ns(value) -> int:
    """One date (a string, date, datetime or Timestamp) as nanoseconds since the epoch."""
    t = pd.Timestamp(value)
    if t.tzinfo is not None:
        t = t.tz_localize(None)
    return int(t.as_unit("ns").value)


def frame_like(template_kind: str, columns: dict, index=None):
    """A DataFrame of the input's kind from a dict of numpy arrays (pandas for dict inputs)."""
    if template_kind == "polars":
        import polars as pl

        return pl.DataFrame(columns)
    if template_kind == "arrow":
        import pyarrow as pa

        return pa.table(columns)
    return pd.DataFrame(columns, index=index)
