"""The lifetimes 0.11.3 API over clv's models: change one import.

    from clv.lifetimes import BetaGeoFitter, GammaGammaFitter
    from clv.lifetimes.utils import summary_data_from_transaction_data

The fitters take lifetimes' constructor arguments and `fit` signatures, expose the same
attributes (`params_`, `summary`, `data`, `variance_matrix_`, `standard_errors_`,
`confidence_intervals_`) and methods, and return the same types (a Series for Series inputs,
an array or a float otherwise). Fits run in Rust (Newton or L-BFGS with analytic gradients) to
a tighter optimum than lifetimes' scipy defaults; predictions are the crate's, checked against
mpmath. Where we differ on purpose:

- `fit(..., tol=, verbose=, **kwargs)` are accepted; the crate's own convergence criteria apply
  (tighter than `tol=1e-7`), and a fit that does not converge raises `clv.ClvError` (lifetimes
  raises `ConvergenceError`), as does data that cannot identify the model.
- `initial_params` are lifetimes' (log of the time-scaled parameters) and are converted.
- Invalid histories (recency > T, a fractional or negative frequency, ...) raise
  `clv.ClvError` naming the row, where lifetimes raises a bare `ValueError` or computes
  anyway (ClvError is a ValueError). In `fit`, recency > 0 with frequency 0 is an error, as
  in lifetimes; in predictions (lifetimes' plots pass such grids) that recency is read as 0.
- `GammaGammaFitter.fit` leaves customers with frequency 0 out (the model is defined on repeat
  buyers; lifetimes' docs filter them first). `q_constraint` is accepted and ignored.
- `save_model`/`load_model` pickle the model file (no dill); `generate_new_data` (for
  `plot_period_transactions`) simulates with the crate's `clv::sim`, so its draws differ
  from numpy's.
"""

from .fitters import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from . import utils

__all__ = [
    "BetaGeoFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "BetaGeoBetaBinomFitter",
    "GammaGammaFitter",
    "utils",
]
