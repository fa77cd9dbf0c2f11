"""Simulated outcome tables with seed-level and problem-level variation (for calibration, tests, benchmarks).

Model, on the logit scale: ``logit p[arm, seed, problem] = mu + effect[arm] + u[arm, seed] + v[problem]
+ t[cluster(problem)] [arm treated] + w[arm, seed, problem]`` with ``u ~ N(0, sd_seed^2)``, ``v ~ N(0,
sd_problem^2)`` shared by all arms (pairing), ``w ~ N(0, sd_residual^2)``; each sample passes with
probability ``p``. Two departures, off by default:
- clustered effects: problems fall in ``n_clusters`` clusters (problem i in cluster i mod n_clusters) and the
  treatment's effect varies by cluster, ``t ~ N(0, sd_cluster^2)``, drawn once per study;
- collapsed seeds: with probability ``p_collapse`` a seed's run collapses, ``u += collapse_shift``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(60)
_GH_W = _GH_W / _GH_W.sum()


@dataclass(frozen=True)
class SimModel:
    """Sizes and variance components of one simulated study (sds on the logit scale)."""

    n_seeds: int = 5
    n_problems: int = 164
    n_samples: int = 5
    mu: float = 0.0
    sd_seed: float = 0.3
    sd_problem: float = 1.5
    sd_residual: float = 0.5
    n_clusters: int = 0
    sd_cluster: float = 0.0
    p_collapse: float = 0.0
    collapse_shift: float = -3.0

    def clusters(self) -> NDArray[np.int64] | None:
        """Cluster index per problem (n_problems,), or None without clusters."""
        return np.arange(self.n_problems) % self.n_clusters if self.n_clusters else None


def draw_problems(rng: np.random.Generator, model: SimModel) -> NDArray[np.float64]:
    """Problem effects v: (n_problems,)."""
    return rng.normal(0.0, model.sd_problem, model.n_problems)


def draw_interaction(rng: np.random.Generator, model: SimModel) -> NDArray[np.float64]:
    """The treatment x cluster effects of one study, per problem: (n_problems,) (zeros without clusters,
    drawing nothing)."""
    groups = model.clusters()
    if groups is None or model.sd_cluster == 0:
        return np.zeros(model.n_problems)
    return rng.normal(0.0, model.sd_cluster, model.n_clusters)[groups]


def draw_arm(
    rng: np.random.Generator, model: SimModel, v: NDArray[np.float64], effect: float = 0.0
) -> NDArray[np.bool_]:
    """Outcomes of one arm on problems ``v``: (n_seeds, n_problems, n_samples) bool. ``v`` of a treated arm
    includes its cluster interaction (``v + draw_interaction(...)``)."""
    r, n = model.n_seeds, v.size
    u = rng.normal(0.0, model.sd_seed, (r, 1))
    if model.p_collapse > 0:
        u = u + model.collapse_shift * (rng.random((r, 1)) < model.p_collapse)
    w = rng.normal(0.0, model.sd_residual, (r, n))
    p = expit(model.mu + effect + u + v[None, :] + w)
    return rng.random((r, n, model.n_samples)) < p[..., None]


def expected_score(
    model: SimModel, effect: float, v: NDArray[np.float64] | None = None, treated: bool = False
) -> float:
    """Expected pass@1 of an arm: over seeds and residuals given problems ``v`` (with a treated arm's
    interaction in it), or over problems and clusters too when ``v`` is None (Gauss-Hermite quadrature;
    a treated arm's cluster interaction widens the spread); a mixture over collapsed and healthy seeds."""
    out = 0.0
    for weight, shift in ((1 - model.p_collapse, 0.0), (model.p_collapse, model.collapse_shift)):
        if weight == 0:
            continue
        if v is None:
            extra = model.sd_cluster**2 if treated else 0.0
            sd = np.sqrt(model.sd_seed**2 + model.sd_problem**2 + model.sd_residual**2 + extra)
            out += weight * float(_GH_W @ expit(model.mu + effect + shift + sd * _GH_X))
        else:
            sd = np.sqrt(model.sd_seed**2 + model.sd_residual**2)
            out += weight * float(np.mean(expit(model.mu + effect + shift + v[:, None] + sd * _GH_X[None, :]) @ _GH_W))
    return out


def simulate_outcomes(
    rng: np.random.Generator,
    model: SimModel,
    effects: dict[str, float],
    suite: str = "heldout",
    iterations: int = 1,
) -> pd.DataFrame:
    """A tidy outcomes table (the trial contract) for conditions ``effects`` (name -> logit shift).

    Iterations 0..iterations-1 share seeds' effects and ramp the condition effect up linearly.
    """
    v = draw_problems(rng, model)
    problems = np.array([f"{suite}/{i}" for i in range(model.n_problems)])
    frames = []
    for cond, effect in effects.items():
        for it in range(iterations):
            ramp = (it + 1) / iterations
            cube = draw_arm(rng, model, v, effect * ramp - 0.5 * (1 - ramp))
            s, p, j = np.indices(cube.shape)
            frames.append(pd.DataFrame({
                "condition": cond, "seed": s.ravel(), "iteration": it, "suite": suite,
                "problem_id": problems[p.ravel()], "sample": j.ravel(), "passed": cube.ravel(),
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def draw_seed_scores(
    rng: np.random.Generator, model: SimModel, effects: tuple[float, ...], n_studies: int, chunk: int = 2000
) -> tuple[NDArray[np.float64], ...]:
    """Per-seed pass@1 of each arm (logit shifts ``effects``) in ``n_studies`` studies, each (n_studies,
    n_seeds): the fraction of the n_problems x n_samples samples passed, problems shared by the arms of a
    study (the model above, drawn in chunks of studies to bound memory; no cluster interaction)."""
    out: list[list[NDArray[np.float64]]] = [[] for _ in effects]
    r, n = model.n_seeds, model.n_problems
    for lo in range(0, n_studies, chunk):
        m = min(chunk, n_studies - lo)
        v = rng.normal(0.0, model.sd_problem, (m, 1, n))
        for arm, effect in enumerate(effects):
            u = rng.normal(0.0, model.sd_seed, (m, r, 1))
            if model.p_collapse > 0:
                u = u + model.collapse_shift * (rng.random((m, r, 1)) < model.p_collapse)
            p = expit(model.mu + effect + u + v + rng.normal(0.0, model.sd_residual, (m, r, n)))
            out[arm].append(rng.binomial(model.n_samples, p).sum(axis=2) / (n * model.n_samples))
    return tuple(np.concatenate(parts) for parts in out)
