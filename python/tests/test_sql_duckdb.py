"""The RFM summary as plain SQL in DuckDB, equal to `clv summarize` to the last digit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv.sql import summarize_duckdb, summary_sql
from conftest import REPO

duckdb = pytest.importorskip("duckdb")

SQL_FILE = REPO / "docs" / "sql" / "rfm_summary.sql"
CDNOW_VIEW = """
CREATE VIEW transactions AS
SELECT f[2] AS customer_id, strptime(f[3], '%Y%m%d') AS date, CAST(f[5] AS DOUBLE) AS amount, line
FROM (SELECT string_split_regex(trim(column0), '\\s+') AS f, row_number() OVER () AS line
      FROM read_csv('{path}', header = false, delim = '\\t', columns = {{'column0': 'VARCHAR'}}))
"""


def assert_equal_to_the_binary(out: pd.DataFrame, cli_summary: pd.DataFrame):
    assert list(out["customer_id"]) == list(cli_summary["customer_id"])
    for c in out.columns[1:]:
        assert np.array_equal(out[c].to_numpy(), cli_summary[c].to_numpy(dtype=float)), c


def test_the_sql_file_reads_the_cdnow_log_as_the_binary_does(cli_summary):
    con = duckdb.connect()
    con.execute(CDNOW_VIEW.format(path=REPO / "data" / "CDNOW_sample.txt"))
    out = con.execute(SQL_FILE.read_text()).df()
    assert_equal_to_the_binary(out, cli_summary)


def test_the_sql_file_is_what_the_package_writes():
    body = SQL_FILE.read_text().split("\nWITH params AS", 1)[1]
    assert "WITH params AS" + body == summary_sql("1997-09-30", "1998-06-30", "weeks").lstrip("\n")


def test_summarize_duckdb_over_a_dataframe(cdnow_log, cli_summary):
    con = duckdb.connect()
    tx = cdnow_log.assign(line=np.arange(len(cdnow_log)))
    con.register("tx", tx)
    out = summarize_duckdb(con, "tx", "1997-09-30", "1998-06-30", "weeks")
    assert_equal_to_the_binary(out, cli_summary)
    # in days: the same occasions, times in another unit
    days = summarize_duckdb(con, "tx", "1997-09-30", "1998-06-30", "days")
    np.testing.assert_allclose(days["T"], cli_summary["T"] * 7.0, rtol=1e-15)
