"""Side-by-side timing of clv and its peers (lifetimes, PyMC-Marketing) on the same data, in
the same run: in process (fits and scoring) and as whole processes (the `clv` binary against
the same job written with lifetimes, reading and writing files, peak memory included).

Needs a Python venv with lifetimes 0.11.3 and, for its section, pymc-marketing
(`pip install lifetimes==0.11.3 pymc-marketing`). Run from the crate root:

    python scripts/compare_lifetimes.py [--big] [--out DIR] [--no-pymc] [--no-whole]

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
  MBG/NBD    ModifiedBetaGeoFitter against MbgNbdParams (fit, and scoring as for BG/NBD)
  BG/BB      BetaGeoBetaBinomFitter.fit on the donations data (weighted), and scoring 10^6
             customers: conditional_probability_alive(0, ...) +
             conditional_expected_number_of_purchases_up_to_time(5, ...) against
             BgBbParams::p_alive + conditional_expected_transactions (one thread)
  PyMC-Marketing  BetaGeoModel / ParetoNBDModel fit(method="map") (its default priors, so
             the MAP is not the MLE: parameters are printed), the first fit in the process
             (compilation included) and a second one
  whole process   `clv fit`, `clv predict`, `clv summarize` on the 10^6-row summary and the
             transaction log, against a Python script doing the same with lifetimes (read,
             fit or score or summarise, write), each started fresh: median wall time of 3 runs
             and peak RSS; outputs are deleted before each run
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
from lifetimes import BetaGeoBetaBinomFitter, BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
import os
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



def run_process(cmd, outputs=()):
    """Wall time and peak RSS (MiB) of one fresh process, its outputs deleted first. The RSS
    comes from /usr/bin/time: Linux carries a process's peak RSS across exec, so a child of
    this (large) Python process would report this process's peak through wait4."""
    for o in outputs:
        if os.path.exists(o):
            os.remove(o)
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", *cmd], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {p.stderr}")
    rss = [l for l in p.stderr.splitlines() if l.startswith("MAXRSS ")][-1]
    return wall, int(rss.split()[1]) / 1024


def median_process(runs, cmd, outputs=()):
    res = [run_process(cmd, outputs) for _ in range(runs)]
    return statistics.median(r[0] for r in res), max(r[1] for r in res)


LIFETIMES_FIT = """
import sys, json, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter
d = pd.read_csv(sys.argv[1])
f = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
json.dump({k: float(v) for k, v in f.params_.items()}, open(sys.argv[2], "w"))
"""

LIFETIMES_PREDICT = """
import sys, json, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter
d = pd.read_csv(sys.argv[1])
f = BetaGeoFitter()
f.params_ = pd.Series(json.load(open(sys.argv[2])))
x, tx, T = d["frequency"], d["recency"], d["T"]
out = pd.DataFrame({"customer_id": d["customer_id"],
                    "p_alive": f.conditional_probability_alive(x, tx, T),
                    "expected_purchases": f.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T)})
out.to_csv(sys.argv[3], index=False)
"""

LIFETIMES_SUMMARIZE = """
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from lifetimes.utils import calibration_and_holdout_data
t = pd.read_csv(sys.argv[1], parse_dates=["date"])
s = calibration_and_holdout_data(t, "customer_id", "date", calibration_period_end="2025-01-01",
                                 observation_period_end="2025-06-30", freq="W",
                                 monetary_value_col="amount")
s.to_csv(sys.argv[2])
"""


def whole_process(out_dir, big):
    """clv's binary against the same job in a lifetimes script, each a fresh process."""
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "clv"], check=True)
    clv = os.path.join("target", "release", "examples", "clv")
    summary = os.path.join(out_dir, "sim_1000000.csv")
    log = os.path.join(out_dir, "transactions_10000000.csv" if big else "transactions_1000000.csv")
    m, mj = os.path.join(out_dir, "wp_model.json"), os.path.join(out_dir, "wp_lifetimes.json")
    p, pl = os.path.join(out_dir, "wp_pred.csv"), os.path.join(out_dir, "wp_pred_lifetimes.csv")
    s, sl = os.path.join(out_dir, "wp_summary.csv"), os.path.join(out_dir, "wp_summary_lifetimes.csv")
    py = sys.executable
    rows = []
    fit = median_process(3, [clv, "fit", "--summary", summary, "--model", "bgnbd", "-o", m, "--quiet"], [m])
    fit_l = median_process(3, [py, "-c", LIFETIMES_FIT, summary, mj], [mj])
    rows.append(("clv fit, 10^6-row summary (BG/NBD)", fit, fit_l))
    pred = median_process(3, [clv, "predict", "--model", m, "--summary", summary, "--horizon", "39", "-o", p], [p])
    pred_l = median_process(3, [py, "-c", LIFETIMES_PREDICT, summary, mj, pl], [pl])
    rows.append(("clv predict, 10^6 customers (P(alive), E[Y(39)]; clv also P(Y(39)=0))", pred, pred_l))
    runs = 1 if big else 3
    summ = median_process(3, [clv, "summarize", "--transactions", log, "--calibration-end", "2025-01-01",
                              "--observation-end", "2025-06-30", "-o", s, "--quiet"], [s])
    summ_l = median_process(runs, [py, "-c", LIFETIMES_SUMMARIZE, log, sl], [sl])
    rows.append((f"clv summarize, {os.path.basename(log)}", summ, summ_l))
    print()
    print("Whole processes (median wall time of fresh runs; peak RSS):")
    print()
    print("| job | clv | clv peak RSS | lifetimes | lifetimes peak RSS | ratio |")
    print("|---|---|---|---|---|---|")
    for job, (t, r), (tl, rl) in rows:
        print(f"| {job} | {t:.3f} s | {r:.0f} MiB | {tl:.2f} s | {rl:.0f} MiB | {tl / t:.0f}x |")


def pymc_section(rust):
    """PyMC-Marketing's MAP fits, the first in the process (compilation) and a second one."""
    try:
        from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel
    except ImportError:
        print("\n(pymc-marketing not installed: its section is skipped)")
        return
    import logging
    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("pymc_marketing").setLevel(logging.ERROR)
    rows = []
    for r in rust:
        if r["task"] not in ("bgnbd", "pareto-nbd") or r["dataset"] == "sim_100000":
            continue
        if r["task"] == "pareto-nbd" and r["customers"] > 200_000:
            continue
        d = pd.read_csv(r["path"])
        d = d.rename(columns={d.columns[0]: "customer_id"})[["customer_id", "frequency", "recency", "T"]]
        model = BetaGeoModel if r["task"] == "bgnbd" else ParetoNBDModel
        times, params = [], None
        for _ in range(2):
            t0 = time.perf_counter()
            m = model(data=d)
            m.fit(method="map", progressbar=False)
            times.append(time.perf_counter() - t0)
            params = m.fit_summary()
        label = "BG/NBD" if r["task"] == "bgnbd" else "Pareto/NBD"
        print(f"PyMC-Marketing {label} MAP on {r['dataset']}: {params.round(4).to_dict()}; clv MLE {np.round(r['params'], 4).tolist()}")
        rows.append((r["dataset"], f"{label} fit (PyMC-Marketing MAP, first fit: compilation included)", r["fit_s"], times[0]))
        rows.append((r["dataset"], f"{label} fit (PyMC-Marketing MAP, second fit)", r["fit_s"], times[1]))
    print()
    print("| data | task | clv (median) | PyMC-Marketing | ratio |")
    print("|---|---|---|---|---|")
    for d, task, ours, theirs in rows:
        print(f"| {d} | {task} | {fmt(ours)} | {fmt(theirs)} | {theirs / ours:.0f}x |")


def fmt(s):
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="also the 10^7-row transaction log")
    ap.add_argument("--out", default="target/perf-compare", help="where the data sets go")
    ap.add_argument("--no-pymc", action="store_true", help="skip PyMC-Marketing")
    ap.add_argument("--no-whole", action="store_true", help="skip the whole-process runs")
    ap.add_argument("--only-whole", action="store_true",
                    help="only the whole-process runs (on the data sets already in --out)")
    args = ap.parse_args()
    if args.only_whole:
        whole_process(args.out, args.big)
        return
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
        elif r["task"] == "mbgnbd":
            d = pd.read_csv(r["path"])
            n = len(d)
            x, tx, T = d["frequency"], d["recency"], d["T"]
            runs = 3 if n > 500_000 else (5 if n > 50_000 else 15)
            fit_s = median_time(runs, lambda: ModifiedBetaGeoFitter().fit(x, tx, T))
            f = ModifiedBetaGeoFitter().fit(x, tx, T)
            theirs = [float(f.params_[k]) for k in ("r", "alpha", "a", "b")]
            rel = max(abs(o - t) / abs(t) for o, t in zip(r["params"], theirs))
            print(f"{r['dataset']} MBG/NBD: clv {np.round(r['params'], 6).tolist()}, lifetimes "
                  f"{np.round(theirs, 6).tolist()}; max relative difference {rel:.1e}")

            def mscore():
                f.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T)
                f.conditional_probability_alive(x, tx, T)

            score_s = median_time(runs, mscore)
            rows.append((r["dataset"], "MBG/NBD fit", r["fit_s"], fit_s))
            rows.append((r["dataset"], "MBG/NBD E[Y(39)] + P(alive)", r["alive_s"], score_s))
        elif r["task"] == "bgbb":
            d = pd.read_csv(r["path"])
            fit_s = median_time(15, lambda: BetaGeoBetaBinomFitter().fit(
                d["frequency"], d["recency"], d["periods"], weights=d["weights"]))
            f = BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"], weights=d["weights"])
            theirs = [float(f.params_[k]) for k in ("alpha", "beta", "gamma", "delta")]
            rel = max(abs(o - t) / abs(t) for o, t in zip(r["params"], theirs))
            print(f"donations BG/BB: clv {np.round(r['params'], 6).tolist()}, lifetimes "
                  f"{np.round(theirs, 6).tolist()}; max relative difference {rel:.1e}")
            big = pd.read_csv(r["big_path"])

            def bscore():
                f.conditional_probability_alive(0, big["frequency"], big["recency"], big["periods"])
                f.conditional_expected_number_of_purchases_up_to_time(5, big["frequency"], big["recency"], big["periods"])

            score_s = median_time(3, bscore)
            rows.append(("donations (11,104)", "BG/BB fit", r["fit_s"], fit_s))
            rows.append((f"{r['scored']} customers", "BG/BB P(alive) + E[X(n, n+5)] (clv on one thread)", r["score_s"], score_s))
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
        print(f"| {d} | {task} | {fmt(ours)} | {fmt(theirs)} | {theirs / ours:.0f}x |")
    if not args.no_pymc:
        pymc_section(rust)
    if not args.no_whole:
        whole_process(args.out, args.big)


if __name__ == "__main__":
    main()
