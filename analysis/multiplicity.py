"""Multiple-comparison adjustment: Holm for a declared family, Benjamini-Hochberg for exploratory grids."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.multitest import multipletests

Family = Literal["declared", "exploratory"]


def holm(p: ArrayLike) -> NDArray[np.float64]:
    """Holm step-down adjusted p-values (FWER), statsmodels ``multipletests(method='holm')``. NaNs pass."""
    return _adjust(p, "holm")


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (FDR), statsmodels ``method='fdr_bh'``. NaNs pass through."""
    return _adjust(p, "fdr_bh")


def adjust(p: ArrayLike, family: Family) -> NDArray[np.float64]:
    """Adjusted p for the family kind: Holm for 'declared', BH for 'exploratory'."""
    return holm(p) if family == "declared" else benjamini_hochberg(p)


def _adjust(p: ArrayLike, method: str) -> NDArray[np.float64]:
    p_arr = np.asarray(p, dtype=float)
    out = np.full_like(p_arr, np.nan)
    ok = np.isfinite(p_arr)
    if ok.any():
        out[ok] = multipletests(p_arr[ok], method=method)[1]
    return out
