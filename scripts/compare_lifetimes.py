"""Side-by-side timing of clv and lifetimes on the same data, in the same run.

Needs a Python venv with lifetimes 0.11.3 (pip install lifetimes==0.11.3 'pandas<2.2' ...).
Run from the crate root:

    python scripts/compare_lifetimes.py [--big] [--out DIR]

It builds and runs `cargo run --release --example perf_compare -- DIR`, which writes the data
sets (CDNOW, 100k and 1M simulated BG/NBD customers, a simulated 10^6-row transaction log; with
--big also 10^7 rows) and prints clv's medians as JSON lines; then it times lifetimes on the same
files and prints a table of medians and ratios, and how far apart the two optima are.

What is timed, on each side:
  fit        BetaGeoFitter().fit(frequency, recency, T)  vs  BgNbdParams::fit (compression and
             covariance included); ParetoNBDFitter().fit  vs  ParetoNbdParams::fit (lifetimes'
             Pareto/NBD fit only up to 10^5 customers: at 10^6 it takes minutes)
  score      conditional_expected_number_of_purchases_up_to_time(39, ...) +
             conditional_probability_alive(...)  vs  predict::alive_and_expected, and vs
             predict::score, which also returns P(Y(39) = 0) (lifetimes' time is the same
             in both rows)
  summarize  pandas.read_csv + summary_data_from_transaction_data (monetary value, calibration
             and holdout via calibration_and_holdout_data)  vs  reading the CSV into
             SummaryBuilder and finishing (calibration and holdout, monetary value)
"""
import argparse
import json
import math
import statistics
import subprocess
import sys
import time
import warnings

warnings.simplefilter("ignore")
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import calibration_and_holdout_data


def median_time(runs, f):
    f()  # warm-up (imports, caches)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bgnbd_ll(params, d):
    """lifetimes' own log-likelihood formula at the given parameters (total, not mean)."""
    r, alpha, a, b = params
    x, tx, T = d["frequency"].values, d["recency"].values, d["T"].values
    from scipy.special import gammaln

    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also the 10^7-row transaction log")
    ap.add_argument("--out", default="target/perf-compare", help="where the data sets go")
    args = ap.parse_args()
    cmd = ["cargo", "run", "--release", "--quiet", "--example", "perf_compare", "--", args.out]
    if args.big:
        cmd.append("--big")
    print("running:", " ".join(cmd), file=sys.stderr)
    rust = [json.loads(l) for l in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines() if l.startswith("{")]

    rows = []
    for r in rust:
        if r["task"] == "bgnbd":
            d = pd.read_csv(r["path"])
            n = len(d)
            runs = 3 if n > 500_000 else (5 if n > 50_000 else 15)
            f = BetaGeoFitter()
            fit_s = median_time(runs, lambda: BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"]))
            f.fit(d["frequency"], d["recency"], d["T"])
            theirs = [float(f.params_[k]) for k in ("r", "alpha", "a", "b")]

            def score():
                f.conditional_expected_number_of_purchases_up_to_time(39, d["frequency"], d["recency"], d["T"])
                f.conditional_probability_alive(d["frequency"], d["recency"], d["T"])

            score_s = median_time(runs, score)
            rel = max(abs(o - t) / abs(t) for o, t in zip(r["params"], theirs))
            ll_theirs = bgnbd_ll(theirs, d)
            ll_ours = bgnbd_ll(r["params"], d)
            rows.append((r["dataset"], "BG/NBD fit", r["fit_s"], fit_s))
            rows.append((r["dataset"], "E[Y(39)] + P(alive)", r["alive_s"], score_s))
            rows.append((r["dataset"], "score (also P(Y(39)=0))", r["score_s"], score_s))
            print(
                f"{r['dataset']}: n = {n}; clv params {np.round(r['params'], 6).tolist()}, "
                f"lifetimes {np.round(theirs, 6).tolist()}; max relative difference {rel:.1e}; "
                f"LL (same formula) clv {ll_ours:.6f}, lifetimes {ll_theirs:.6f} "
                f"(relative {abs(ll_ours - ll_theirs) / abs(ll_ours):.1e}; clv's reported LL {r['ll']:.6f})"
            )
        elif r["task"] == "pareto-nbd":
            d = pd.read_csv(r["path"])
            n = len(d)
            x, tx, T = d["frequency"], d["recency"], d["T"]
            ours = r["params"]
            f = ParetoNBDFitter()
            if n <= 200_000:
                runs = 3 if n > 50_000 else 5
                fit_s = median_time(runs, lambda: ParetoNBDFitter().fit(x, tx, T))
                f.fit(x, tx, T)
                theirs = [float(f.params_[k]) for k in ("r", "alpha", "s", "beta")]
                nll = lambda p: float(ParetoNBDFitter._negative_log_likelihood(
                    np.array(p), x.values, tx.values, T.values, np.ones(n), 0.0))
                rel = max(abs(o - t) / abs(t) for o, t in zip(ours, theirs))
                print(
                    f"{r['dataset']} Pareto/NBD: clv {np.round(ours, 6).tolist()}, lifetimes "
                    f"{np.round(theirs, 6).tolist()}; max relative difference {rel:.1e}; lifetimes' own "
                    f"-LL at clv's optimum {nll(ours):.8f}, at its own {nll(theirs):.8f}"
                )
                rows.append((r["dataset"], "Pareto/NBD fit", r["fit_s"], fit_s))
            else:
                f.params_ = pd.Series(dict(zip(("r", "alpha", "s", "beta"), ours)))
            runs = 3 if n > 500_000 else 5

            def pscore():
                f.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T)
                f.conditional_probability_alive(x, tx, T)

            score_s = median_time(runs, pscore)
            rows.append((r["dataset"], "Pareto/NBD E[Y(39)] + P(alive)", r["alive_s"], score_s))
            rows.append((r["dataset"], "Pareto/NBD score (also P(Y(39)=0))", r["score_s"], score_s))
        elif r["task"] == "summarize":
            path = r["path"]

            def summarise():
                t = pd.read_csv(path, parse_dates=["date"])
                return calibration_and_holdout_data(
                    t, "customer_id", "date",
                    calibration_period_end="2025-01-01", observation_period_end="2025-06-30",
                    freq="W", monetary_value_col="amount",
                )

            runs = 1 if r["rows"] > 5_000_000 else 3
            s_s = median_time(runs, summarise)
            out = summarise()
            rows.append((r["dataset"], f"summarise {r['rows']} rows", r["summarize_s"], s_s))
            print(f"{r['dataset']}: {r['rows']} rows; customers clv {r['customers']}, lifetimes {len(out)}")

    print()
    print(f"| data | task | clv (median) | lifetimes (median) | ratio |")
    print(f"|---|---|---|---|---|")
    for d, task, ours, theirs in rows:
        def fmt(s):
            return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"
        print(f"| {d} | {task} | {fmt(ours)} | {fmt(theirs)} | {theirs / ours:.0f}x |")


if __name__ == "__main__":
    main()
