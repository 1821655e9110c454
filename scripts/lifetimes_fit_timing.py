"""Median time of lifetimes' BG/NBD fit on CDNOW, the figure clv's fit is compared with.

Run (in a venv with lifetimes 0.11.3): python scripts/lifetimes_fit_timing.py
Compare with: cargo bench --bench bgnbd -- bgnbd/fit   (same file, same optimum)
"""
import statistics
import time
import warnings

warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter
from lifetimes.datasets import load_cdnow_summary

d = load_cdnow_summary(index_col=[0])
times = []
for _ in range(15):
    f = BetaGeoFitter()
    t0 = time.perf_counter()
    f.fit(d["frequency"], d["recency"], d["T"])
    times.append(time.perf_counter() - t0)
print(f"lifetimes BetaGeoFitter.fit on CDNOW: median {statistics.median(times) * 1e3:.1f} ms over {len(times)} runs")
print("params", {k: float(v) for k, v in f.params_.items()})
