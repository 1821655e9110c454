"""The RFM summary as plain SQL, with exactly `clv summarize`'s conventions, for SQL engines
(it runs unchanged in DuckDB): the warehouse computes the summary, `clv.fit` fits it.

Conventions (those of `clv summarize`, and of the CDNOW summary in Fader, Hardie & Lee 2005):

- transactions on the same day are one purchase occasion, their amounts summed;
- the calibration and observation ends are whole days: transactions on the end day count;
- frequency = calibration occasions − 1; recency = last − first calibration occasion; T =
  calibration end − first occasion; in the unit (`unit_days` days), as seconds / (86400·days);
- monetary_value = mean amount of the repeat calibration occasions (0 without repeats);
- litt = Σ ln(inter-purchase seconds) + frequency · ln(1 second in the unit) (0 without repeats);
- frequency_holdout = occasions after the calibration end, up to the observation end;
  monetary_value_holdout = their mean amount; duration_holdout = observation end − calibration
  end in the unit;
- customers whose first occasion is after the calibration end are not in the summary;
  transactions after the observation end are left out (`clv summarize` stops at them with an
  error unless told to skip them);
- every sum runs in time order (`list_reduce` over an ordered list), as the Rust summariser
  adds, so that the results equal `clv summarize`'s to the last digit; a day's amounts are
  summed in `line` order (the file's order), which matters only for three or more amounts
  whose sum rounds differently in another order.

The query reads a relation `transactions(customer_id, date, amount, line)` (`line`: any
column giving the file's order; `row_number() OVER ()` right after reading a file keeps
DuckDB's reading order) and takes its settings from the `params` CTE at its top.
"""

from __future__ import annotations

import pandas as pd

#: The query, with the settings of the CDNOW example (weeks, calibration to 1997-09-30,
#: holdout to 1998-06-30) in its `params` CTE.
SUMMARY_SQL = """
WITH params AS (
    SELECT CAST('{calibration_end}' AS TIMESTAMP) AS calibration_end,
           CAST('{observation_end}' AS TIMESTAMP) AS observation_end,
           CAST({unit_days} AS DOUBLE) AS unit_days
),
days AS (
    SELECT epoch(date_trunc('day', calibration_end)) AS cal_s,
           epoch(date_trunc('day', observation_end)) AS obs_s,
           CAST(86400 AS DOUBLE) * unit_days AS unit_s
    FROM params
),
occasions AS (
    -- same-day purchases merged, their amounts summed in file order
    SELECT t.customer_id,
           epoch(date_trunc('day', CAST(t.date AS TIMESTAMP))) AS s,
           list_reduce(list(CAST(t.amount AS DOUBLE) ORDER BY t.line), lambda a, b: a + b) AS amount,
           min(t.line) AS first_line
    FROM transactions AS t, days
    WHERE epoch(date_trunc('day', CAST(t.date AS TIMESTAMP))) <= days.obs_s
    GROUP BY 1, 2
),
ranked AS (
    SELECT o.*,
           row_number() OVER (PARTITION BY o.customer_id ORDER BY o.s) AS k,
           o.s - lag(o.s) OVER (PARTITION BY o.customer_id ORDER BY o.s) AS gap,
           o.s <= days.cal_s AS in_calibration
    FROM occasions AS o, days
),
customers AS (
    SELECT customer_id,
           min(first_line) AS first_line,
           min(s) AS first_s,
           max(s) FILTER (WHERE in_calibration) AS last_s,
           count(*) FILTER (WHERE in_calibration) - 1 AS x,
           list_reduce(list(amount ORDER BY s) FILTER (WHERE in_calibration AND k > 1), lambda a, b: a + b) AS repeat_sum,
           list_reduce(list(ln(gap) ORDER BY s) FILTER (WHERE in_calibration AND k > 1), lambda a, b: a + b) AS log_gaps,
           count(*) FILTER (WHERE NOT in_calibration) AS hx,
           list_reduce(list(amount ORDER BY s) FILTER (WHERE NOT in_calibration), lambda a, b: a + b) AS holdout_sum
    FROM ranked
    GROUP BY customer_id
)
SELECT c.customer_id,
       CAST(c.x AS DOUBLE) AS frequency,
       (c.last_s - c.first_s) / d.unit_s AS recency,
       (d.cal_s - c.first_s) / d.unit_s AS "T",
       CASE WHEN c.x > 0 THEN c.repeat_sum / CAST(c.x AS DOUBLE) ELSE 0.0 END AS monetary_value,
       CASE WHEN c.x > 0 THEN c.log_gaps + CAST(c.x AS DOUBLE) * ln(CAST(1 AS DOUBLE) / d.unit_s) ELSE 0.0 END AS litt,
       CAST(c.hx AS DOUBLE) AS frequency_holdout,
       CASE WHEN c.hx > 0 THEN c.holdout_sum / CAST(c.hx AS DOUBLE) ELSE 0.0 END AS monetary_value_holdout,
       (d.obs_s - d.cal_s) / d.unit_s AS duration_holdout
FROM customers AS c, days AS d
WHERE c.first_s <= d.cal_s
ORDER BY c.first_line
"""

def unit_days(unit: str) -> float:
    """Days in a time unit token (`days`, `weeks`, `periods_of_<d>_days`), read as the crate
    reads it."""
    from . import _clv

    return _clv.unit_days(unit)


def summary_sql(calibration_end, observation_end, unit: str = "weeks") -> str:
    """The summary query with these settings (dates as anything pandas reads)."""
    fmt = lambda d: pd.Timestamp(d).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    return SUMMARY_SQL.format(
        calibration_end=fmt(calibration_end),
        observation_end=fmt(observation_end),
        unit_days=repr(unit_days(unit)),
    )


def summarize_duckdb(con, relation: str, calibration_end, observation_end, unit: str = "weeks"):
    """Runs the summary query in DuckDB over `relation` (a table, a view or a parenthesised
    query with columns customer_id, date, amount, line) and returns a pandas DataFrame."""
    sql = summary_sql(calibration_end, observation_end, unit)
    sql = sql.replace("WITH params AS", f"WITH transactions AS (SELECT * FROM {relation}),\nparams AS", 1)
    return con.execute(sql).df()
