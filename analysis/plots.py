"""Report figures (matplotlib, Agg backend): curves with seed bands, a forest plot, per-problem wins/losses.

Each function writes one PNG and returns its path; matplotlib is imported only when one is called.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

VERDICT_COLOURS = {"supported": "tab:green", "equivalent within": "tab:blue"}  # by prefix


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(curves: pd.DataFrame, path: Path, max_metrics: int = 8) -> Path:
    """Per-iteration mean over seeds per condition, band = +/- 1 sd over seeds; one panel per metric in
    the order the metrics first appear (callers put the primary metric first), up to 4 panels a row.

    curves: columns condition, seed, iteration, metric, value (one row per seed and iteration).
    """
    plt = _pyplot()
    metrics = list(pd.unique(curves["metric"]))[:max_metrics] or ["(none)"]
    cols = min(4, len(metrics))
    rows_n = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(5 * cols, 3.6 * rows_n), squeeze=False)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        rows = curves[curves["metric"] == metric]
        stats = rows.groupby(["condition", "iteration"])["value"].agg(["mean", "std"]).reset_index()
        for cond, s in stats.groupby("condition"):
            ax.plot(s["iteration"], s["mean"], marker="o", ms=3, label=cond)
            sd = s["std"].fillna(0.0)
            ax.fill_between(s["iteration"], s["mean"] - sd, s["mean"] + sd, alpha=0.2)
        ax.set(title=metric, xlabel="iteration", ylabel="value (mean ± 1 sd over seeds)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_forest(comparisons: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Delta (pp) per comparison: thick bar = hierarchical bootstrap interval, thin = Welch t-interval;
    against the base model (paired by seed) one thick bar, the paired t-interval the verdict reads.

    comparisons: rows of ``AnalysisResult.comparisons`` for one suite.
    """
    plt = _pyplot()
    c = comparisons.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(c) + 1.4))
    y = np.arange(len(c))[::-1]
    for yi, r in zip(y, c.itertuples(), strict=True):
        colour = next((c for k, c in VERDICT_COLOURS.items() if str(r.verdict).startswith(k)), "tab:gray")
        if str(getattr(r, "seed_test", "welch")).startswith("paired_t"):
            ax.plot([r.paired_ci_low_pp, r.paired_ci_high_pp], [yi, yi], color=colour, lw=4, alpha=0.6)
            ax.plot(r.paired_delta_pp, yi, "o", color=colour)
        else:
            ax.plot([r.ci_low_pp, r.ci_high_pp], [yi, yi], color=colour, lw=1)
            ax.plot([r.hier_ci_low_pp, r.hier_ci_high_pp], [yi, yi], color=colour, lw=4, alpha=0.6)
            ax.plot(r.delta_pp, yi, "o", color=colour)
        ax.annotate(r.verdict, (1.01, yi), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, c["comparison"])
    ax.set(xlabel="delta (pp): thick = hierarchical 95% interval, thin = Welch t 95%", title=title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_trajectory(rates: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Per-problem pass rate (rows: problems, columns: iterations), one panel per condition, first seed.

    rates: rows of ``AnalysisResult.problem_trajectory`` for one suite.
    """
    plt = _pyplot()
    conds = sorted(rates["condition"].unique())
    problems = sorted(rates["problem_id"].unique())
    fig, axes = plt.subplots(1, len(conds), figsize=(2.6 * len(conds) + 1, 0.12 * len(problems) + 1.6), squeeze=False)
    for ax, cond in zip(axes[0], conds, strict=True):
        mine = rates[rates["condition"] == cond]
        seed = mine["seed"].min()
        grid = mine[mine["seed"] == seed].pivot(index="problem_id", columns="iteration", values="pass_rate")
        grid = grid.reindex(problems)
        image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
        ax.set_yticks([])
        ax.set(title=f"{cond} (seed {seed})", xlabel="iteration")
    axes[0][0].set_ylabel(f"{len(problems)} problems")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="pass rate")
    fig.suptitle(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_wins_losses(problem_deltas: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Per comparison, the per-problem deltas sorted (green = treatment better, red = worse).

    problem_deltas: rows of ``AnalysisResult.problem_deltas`` for one suite.
    """
    plt = _pyplot()
    groups = list(problem_deltas.groupby(["treatment", "baseline"], sort=False))
    cols = min(3, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 2.8 * rows), squeeze=False)
    for ax, ((treat, base), g) in zip(axes.ravel(), groups, strict=False):
        d = np.sort(g["delta_pp"].to_numpy())[::-1]
        ax.bar(np.arange(d.size), d, width=1.0, color=np.where(d > 0, "tab:green", "tab:red"))
        wins, losses = int(np.sum(d > 0)), int(np.sum(d < 0))
        ax.set(title=f"{treat} vs {base}: {wins} won, {losses} lost, {d.size - wins - losses} tied",
               xlabel="problems (sorted)", ylabel="delta (pp)")  # fmt: skip
        ax.title.set_fontsize(9)
        ax.axhline(0, color="black", lw=0.6)
    for ax in axes.ravel()[len(groups) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


PROFILE_ROWS = (
    ("error", "share of samples by verdict"),
    ("ruff", "Ruff findings per program by category"),
    ("length", "completion length (tokens)"),
)


def plot_profiles(profiles: pd.DataFrame, path: Path, title: str = "") -> Path:
    """One column per condition, one row per profile present (error shares and Ruff findings stacked by
    kind, length as a line), x = iteration; values are means over seeds.

    profiles: rows of ``AnalysisResult.profiles`` for one suite (or the rollouts).
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    conds = sorted(profiles["condition"].unique())
    rows = [(p, label) for p, label in PROFILE_ROWS if (profiles["profile"] == p).any()]
    fig, axes = plt.subplots(len(rows), len(conds), figsize=(3.2 * len(conds) + 1.5, 2.6 * len(rows)), squeeze=False)
    for r, (prof, label) in enumerate(rows):
        mine = profiles[profiles["profile"] == prof]
        keys = sorted(mine["key"].unique())
        colours = {k: plt.get_cmap("tab20")(i % 20) for i, k in enumerate(keys)}
        top = mine.groupby(["condition", "iteration"])["value"].sum().max() if prof != "length" else mine["value"].max()
        for c, cond in enumerate(conds):
            ax = axes[r][c]
            grid = mine[mine["condition"] == cond].pivot(index="iteration", columns="key", values="value")
            grid = grid.fillna(0.0).astype(float).set_axis(grid.index.astype(int), axis=0)
            if prof == "length":
                ax.plot(grid.index, grid.iloc[:, 0] if not grid.empty else [], marker="o", ms=3)
            elif not grid.empty:
                ax.stackplot(grid.index, grid.T.to_numpy(), labels=list(grid.columns),
                             colors=[colours[k] for k in grid.columns])  # fmt: skip
            ax.set_ylim(0, max(float(top or 0) * 1.05, 1e-9))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set(title=cond if r == 0 else "", xlabel="iteration" if r == len(rows) - 1 else "")
            ax.grid(alpha=0.3)
        axes[r][0].set_ylabel(label, fontsize=8)
        if prof != "length":
            handles = [plt.Rectangle((0, 0), 1, 1, color=colours[k]) for k in keys]
            axes[r][-1].legend(handles, keys, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_head_to_head(h2h: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Per comparison, tasks improved (up) and regressed (down) in each seed, and the net (dot).

    h2h: rows of ``AnalysisResult.head_to_head`` for one suite.
    """
    plt = _pyplot()
    comps = list(dict.fromkeys(f"{t} vs {b}" for t, b in zip(h2h["treatment"], h2h["baseline"], strict=True)))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(comps) + 1.5), 3.6))
    width = 0.8 / max(1, h2h["seed"].nunique())
    for j, seed in enumerate(sorted(h2h["seed"].unique())):
        mine = h2h[h2h["seed"] == seed]
        xs = [
            comps.index(f"{t} vs {b}") + j * width - 0.4 + width / 2
            for t, b in zip(mine["treatment"], mine["baseline"], strict=True)
        ]
        ax.bar(xs, mine["improved"], width * 0.9, color="tab:green", alpha=0.8, label="improved" if j == 0 else None)
        ax.bar(xs, -mine["regressed"], width * 0.9, color="tab:red", alpha=0.8, label="regressed" if j == 0 else None)
        ax.plot(xs, mine["improved"] - mine["regressed"], "k.", label="net" if j == 0 else None)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(comps)), comps, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="tasks (one bar per seed)", title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sequential(looks: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Each comparison's path over the looks of an adaptive run: the delta (pp) and its repeated confidence
    interval against seeds per arm, 0 and the decision at the last look marked.

    looks: analysis/adaptive.py records (comparison, n_baseline, n_treatment, delta_pp, rci_low_pp,
    rci_high_pp, decision), one row per comparison and look.
    """
    plt = _pyplot()
    names = list(pd.unique(looks["comparison"])) or ["(none)"]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        g = looks[looks["comparison"] == name]
        n = np.minimum(g["n_baseline"], g["n_treatment"]).to_numpy()
        lo = np.clip(g["rci_low_pp"].to_numpy(float), -100, 100)  # the first looks' intervals are near-infinite
        hi = np.clip(g["rci_high_pp"].to_numpy(float), -100, 100)
        ax.fill_between(n, lo, hi, alpha=0.25, step=None, label="repeated 95% interval")
        ax.plot(n, g["delta_pp"], "o-", label="delta")
        ax.axhline(0, color="black", lw=0.8)
        last = g.iloc[-1]
        ax.set(title=f"{name}: {last['decision']} at {int(n[-1])} seeds", xlabel="seeds per arm", ylabel="delta (pp)")
        span = max(5.0, float(np.nanmax(np.abs(np.r_[g["delta_pp"], lo[-1], hi[-1]]))) * 1.6)
        ax.set_ylim(-span, span)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title or "adaptive seeds: each comparison's path over the looks")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
