"""`python -m study.plan`: seeds and cost before any GPU is spent; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from study.plan import main


def test_without_a_pilot_the_plan_scales_with_the_assumed_spread(tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan.json"
    assert (
        main(["--space", "aux_kl", "--assume-sd", "2", "4", "--effect", "10", "--sims", "150", "--json", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "no pilot" in text and "alpha / m" in text
    rows = json.loads(out.read_text())["comparisons"]
    assert {r["comparison"] for r in rows} == {"C-light vs A", "C-reg vs A", "A vs base@0"}
    by = {(r["comparison"], r["basis"]): r for r in rows}
    two, four = by[("C-light vs A", "assumed sd 2 pp")], by[("C-light vs A", "assumed sd 4 pp")]
    assert two["alpha_test"] == 0.025  # two comparisons between conditions: Holm's first step
    assert four["mde_pp"] == pytest.approx(2 * two["mde_pp"], rel=0.02)  # the rule is scale-free here
    assert two["seeds_needed"] < four["seeds_needed"]
    assert by[("A vs base@0", "assumed sd 2 pp")]["test"] == "paired t"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--space", "aux_kl", "--pilot", "nowhere"], "--pilot: no study.json in nowhere"),
        (["--space", "aux_kl", "--power", "1.5"], "--power and --confidence are probabilities"),
        (["--space", "nope"], "--space: no space file 'nope'"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv: list[str], needle: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err
