-- The RFM summary of a transaction log with exactly `clv summarize`'s conventions, as plain SQL
-- that runs unchanged in DuckDB (clv.sql.summary_sql writes it; python/tests/test_sql_duckdb.py
-- checks this file is what it writes, and that it gives tests/data/cdnow_log_summary.csv).
-- Input: a relation `transactions(customer_id, date, amount, line)`, `line` giving the file's
-- order. Settings: the `params` CTE (here the CDNOW example: weeks, calibration to
-- 1997-09-30, holdout to 1998-06-30). For the CDNOW sample, first, in DuckDB:
--
--   CREATE VIEW transactions AS
--   SELECT f[2] AS customer_id, strptime(f[3], '%Y%m%d') AS date, CAST(f[5] AS DOUBLE) AS amount, line
--   FROM (SELECT string_split_regex(trim(column0), '\s+') AS f, row_number() OVER () AS line
--         FROM read_csv('data/CDNOW_sample.txt', header = false, delim = '\t', columns = {'column0': 'VARCHAR'}));
WITH params AS (
    SELECT CAST('1997-09-30 00:00:00' AS TIMESTAMP) AS calibration_end,
           CAST('1998-06-30 00:00:00' AS TIMESTAMP) AS observation_end,
           CAST(7.0 AS DOUBLE) AS unit_days
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
