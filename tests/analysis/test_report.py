import re

from analysis import AnalysisSpec, analyze, write_report


def test_report_writes_tables_plots_markdown_and_self_contained_html(outcomes, tmp_path):
    res = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=500))
    paths = write_report(res, tmp_path / "rep", outcomes_df=outcomes)
    names = {p.name for p in paths}
    assert {"report.md", "report.html", "comparisons.csv", "conditions.csv", "analysis.json"} <= names
    assert {"curves.png", "forest_heldout.png", "wins_losses_heldout.png", "trajectory_heldout.png"} <= names
    assert {"trajectory.csv", "trajectory_summary.csv"} <= names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    md = (tmp_path / "rep" / "report.md").read_text()
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", md):
        assert (tmp_path / "rep" / link).is_file()
    assert "C_vs_A" in md and "Verdict rules" in md
    html = (tmp_path / "rep" / "report.html").read_text()
    # curves, forest, wins/losses, per-problem trajectory, head-to-head (no profiles: no diagnostics columns)
    assert html.count("data:image/png;base64,") == 5
    assert not re.search(r'src="(?!data:)', html)


def test_report_curves_come_from_the_metrics_table(outcomes, tmp_path):
    import pandas as pd

    metrics = pd.DataFrame({"condition": ["A", "A", "B", "B"], "seed": [0, 0, 0, 0], "iteration": [0, 1, 0, 1],
                            "metric": "train/reward", "value": [0.1, 0.2, 0.1, 0.3]})  # fmt: skip
    res = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=200), metrics_df=metrics)
    assert set(res.curves["metric"]) == {"train/reward"}
    assert (tmp_path / "curves.png") in write_report(res, tmp_path, metrics_df=metrics)


def test_an_adaptive_study_leads_with_its_decisions_and_marks_the_verdicts_descriptive(outcomes, tmp_path):
    from analysis.adaptive import AdaptiveDesign, replay

    res = analyze(outcomes, AnalysisSpec(baseline="A", n_boot=200))
    scores = res.seeds[res.seeds["suite"] == res.primary_suite][["condition", "seed", "score"]]
    n = int(scores.groupby("condition").size().min())
    looks, _ = replay(scores, (("B", "A"), ("C", "A")), AdaptiveDesign(2, 1, n))
    paths = write_report(res, tmp_path, adaptive=looks)
    assert {"adaptive.png", "adaptive_decisions.csv"} <= {p.name for p in paths}
    md = (tmp_path / "report.md").read_text()
    assert md.index("Adaptive decisions") < md.index("Verdicts (descriptive")
    assert md.index("![adaptive]") < md.index("![curves]")  # the decisions' paths come first
    plain = write_report(res, tmp_path / "plain")
    assert "descriptive" not in (tmp_path / "plain" / "report.md").read_text() and len(plain) < len(paths)
