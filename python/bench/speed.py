"""The Python package's speed, side by side in one run: clv from pandas, the same work in Rust
without Python (examples/batch_timing.rs), and lifetimes 0.11.3.

    python python/bench/speed.py SUMMARY.csv [--repeats 5] [--no-lifetimes]

SUMMARY.csv: a summary of 10^6 customers (customer_id, frequency, recency, T), e.g. the one
`cargo run --release --example perf_compare -- DIR --big --data-only` writes as
DIR/sim_1000000.csv. Needs the package installed (scripts/test installs it into
target/python-venv) and, for the lifetimes column, lifetimes 0.11.3. Reports medians of
in-process timings; reading the CSV is not timed on either side.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import time

import numpy as np
import pandas as pd

import clv

REPO = pathlib.Path(__file__).resolve().parents[2]


def median_time(repeats, f):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("summary")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--horizon", type=float, default=39.0)
    ap.add_argument("--no-lifetimes", action="store_true")
    a = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "batch_timing"], cwd=REPO, check=True)
    rust = json.loads(
        subprocess.run(
            [str(REPO / "target/release/examples/batch_timing"), a.summary, str(a.horizon), str(a.repeats)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    df = pd.read_csv(a.summary)
    n = len(df)
    fit_s, model = median_time(a.repeats, lambda: clv.fit(df, "bgnbd"))
    predict_s, scores = median_time(a.repeats, lambda: model.predict(df, a.horizon))
    assert abs(scores["expected_purchases"].sum() - rust["expected_total"]) < 1e-6 * rust["expected_total"]
    rows = [
        ("fit BG/NBD", fit_s, rust["fit_s"]),
        ("score (P(alive), E[Y], P(Y=0))", predict_s, rust["score_columns_s"]),
    ]
    lt = {}
    if not a.no_lifetimes:
        from lifetimes import BetaGeoFitter

        lt["fit"], bgf = median_time(1, lambda: BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"]))

        def lifetimes_score():
            bgf.conditional_probability_alive(df["frequency"], df["recency"], df["T"])
            return bgf.conditional_expected_number_of_purchases_up_to_time(a.horizon, df["frequency"], df["recency"], df["T"])

        lt["score"], _ = median_time(min(a.repeats, 3), lifetimes_score)
    print(f"{n} customers, median of {a.repeats} (lifetimes' fit: 1 run, its scoring: P(alive) and E[Y] only)")
    print()
    print("| job | clv from pandas | Rust, same work | Python / Rust | lifetimes | lifetimes / clv |")
    print("|---|---|---|---|---|---|")
    for (name, py, rs), key in zip(rows, ["fit", "score"]):
        l = lt.get(key)
        lcol = f"{l:.3f} s | {l / py:.0f}x" if l is not None else "- | -"
        print(f"| {name} | {py:.3f} s | {rs:.3f} s | {py / rs:.2f} | {lcol} |")
    print()
    print(f"Rust's AnyFitted::score on the summary (the library's batch function): {rust['summary_score_s']:.3f} s; "
          f"clv from pandas / that: {predict_s / rust['summary_score_s']:.2f}")


if __name__ == "__main__":
    main()
