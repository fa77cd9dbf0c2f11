import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "study.analyze", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def table(tmp_path_factory, outcomes) -> Path:
    path = tmp_path_factory.mktemp("cli") / "outcomes.parquet"
    outcomes.to_parquet(path)
    return path


def test_cli_prints_tables_and_writes_json_and_report(table, tmp_path):
    proc = run_cli(str(table), "--baseline", "A", "--n-boot", "500", "--json", str(tmp_path / "r.json"),
                   "--report", str(tmp_path / "rep"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "C_vs_A" in proc.stdout and "verdict" in proc.stdout
    assert json.loads((tmp_path / "r.json").read_text())["spec"]["baseline"] == "A"
    assert (tmp_path / "rep" / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.csv"], "file not found"),
        (["{table}", "--baseline", "Z"], "unknown condition 'Z'"),
        (["{table}", "--suite", "nope"], "unknown suite 'nope'"),
        (["{table}", "--metric", "accuracy"], "unknown metric"),
        (["{table}", "--compare", "C"], "expected TREAT:BASE"),
        (["{nocol}"], "missing column(s) passed"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(table, tmp_path, outcomes, args, needle):
    nocol = tmp_path / "nocol.csv"
    outcomes.drop(columns="passed").head(50).to_csv(nocol, index=False)
    proc = run_cli(*[a.format(table=table, nocol=nocol) for a in args])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]


def test_cli_takes_baseline_and_comparisons_from_a_resolved_study(table, tmp_path):
    from study.profile import load_profile
    from study.resolve import Options, resolve_study
    from study.space import load_space

    space = tmp_path / "s.yaml"
    space.write_text(
        "name: s\ntrainable: grpo\nseeds: 4\nbaseline: B\nconditions: {A: {}, B: {}, C: {}, D: {}}\n"
        "comparisons: [[C, B]]\nfamily: exploratory\nmetrics: [{name: eval/heldout/pass_at_1}]\n"
        "params: {iterations: 1}\n"
    )
    study = resolve_study(load_space(str(space)), load_profile("tiny"), Options(), tmp_path, tmp_path)
    (tmp_path / "study.json").write_text(json.dumps({"study": study.model_dump(mode="json")}))
    proc = run_cli(str(table), "--study", str(tmp_path), "--n-boot", "200", "--json",
                   str(tmp_path / "r.json"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "r.json").read_text())["spec"]
    assert spec["baseline"] == "B" and spec["family"] == "exploratory"
    assert [tuple(c) for c in spec["comparisons"]] == [("C", "B")]
    bad = run_cli(str(table), "--study", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "--study: no study.json" in bad.stderr
