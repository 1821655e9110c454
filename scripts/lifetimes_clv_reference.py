"""lifetimes 0.11.3's customer_lifetime_value on CDNOW, for tests/data/lifetimes_clv_cdnow.csv.

Run (in a venv with lifetimes): python scripts/lifetimes_clv_reference.py > tests/data/lifetimes_clv_cdnow.csv
Fits BetaGeoFitter and GammaGammaFitter (repeat buyers) with lifetimes, then computes
customer_lifetime_value(time=12, discount_rate=0.01, freq="W"): monthly steps of 4.345 weeks,
1% per month. The first line carries both models' parameters.
"""
import warnings

warnings.simplefilter("ignore")
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

d = load_cdnow_summary_data_with_monetary_value()
bg = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
rb = d[d["frequency"] > 0]
gg = GammaGammaFitter().fit(rb["frequency"], rb["monetary_value"])
clv = gg.customer_lifetime_value(bg, d["frequency"], d["recency"], d["T"], d["monetary_value"], time=12, discount_rate=0.01, freq="W")
p = bg.params_
g = gg.params_
print(f"# bgnbd {float(p['r'])!r} {float(p['alpha'])!r} {float(p['a'])!r} {float(p['b'])!r} gamma_gamma {float(g['p'])!r} {float(g['q'])!r} {float(g['v'])!r}")
print("customer_id,clv")
for cid, v in clv.items():
    print(f"{cid},{v!r}")
