import numpy as np
import pandas as pd
import pytest

from analysis.simulate import SimModel, simulate_outcomes


@pytest.fixture(scope="session")
def outcomes() -> pd.DataFrame:
    """4 conditions x 4 seeds x 40 problems x 3 samples, 2 iterations, one clear winner (C)."""
    model = SimModel(n_seeds=4, n_problems=40, n_samples=3, sd_seed=0.1)
    return simulate_outcomes(np.random.default_rng(7), model, {"A": 0.0, "B": 0.0, "C": 1.5, "D": 0.1}, iterations=2)
