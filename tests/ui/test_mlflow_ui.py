"""The MLflow UI on a finished smoke study, in a real browser (Playwright driving Debian's chromium, which
.ci/run installs): the page the study prints opens the runs table (not MLflow 3.17's GenAI overview), the
study run expands to its condition runs, and the compare view of the conditions shows their mean and sd
metrics. The screenshots are kept under the test's output folder."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
EXPAND = 'button[data-component-id$="runnamecellrenderer.tsx_46"]'  # a parent run's expand toggle (MLflow 3.17)


def _chromium() -> str:
    found = os.environ.get("CODEABLATE_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if not found:
        pytest.fail("no chromium for the browser test: apt-get install chromium (as .ci/run does), or set "
                    "CODEABLATE_CHROMIUM to a Chrome/Chromium binary")  # fmt: skip
    return found


def _scroll_to(page, link) -> None:
    """The compare page renders its metric rows lazily: scroll until the metric's row exists, then show it."""
    for _ in range(60):
        if link.count():
            link.scroll_into_view_if_needed()
            return
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(250)
    raise AssertionError(f"not on the compare page: {link}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path):
    out = tmp_path_factory.mktemp("ui") / "aux_kl"
    cmd = [sys.executable, "-m", "study.run", "--space", "aux_kl", "--smoke", "--seeds", "2", "--out", str(out),
           "--cache-dir", str(cache_dir)]  # fmt: skip
    study = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert study.returncode == 0, study.stdout[-3000:] + study.stderr[-3000:]
    (line,) = [ln for ln in study.stdout.splitlines() if ln.startswith("MLflow: ")]
    page, command = re.fullmatch(r"MLflow: (\S+) after (mlflow ui .*)", line).groups()  # type: ignore[union-attr]
    port = _free_port()
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # the venv's mlflow, as the user's shell has it
    server = subprocess.Popen([*command.split(), "--host", "127.0.0.1", "--port", str(port)], cwd=out,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PATH": path})  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "mlflow ui did not start"
            time.sleep(0.5)
    yield page.replace("http://127.0.0.1:5000", base), out
    server.terminate()
    server.wait(timeout=30)


def test_the_printed_page_expands_and_compares_the_conditions(ui, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    page_url, _ = ui
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"], headless=True)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.goto(page_url)
        rows = page.locator(".ag-pinned-left-cols-container .ag-row")
        rows.first.wait_for(timeout=60_000)
        assert "/runs" in page.url and "Overview" not in page.title()  # the runs table, not the GenAI overview
        assert rows.count() == 1  # the study run; conditions and trials nested under it
        page.screenshot(path=str(shots / "1_runs.png"))
        rows.first.locator(EXPAND).click()
        names = ("aux_kl__A", "aux_kl__C-light", "aux_kl__C-reg")
        conditions = [rows.filter(has=page.get_by_text(name, exact=True)) for name in names]
        for row in conditions:
            expect(row).to_have_count(1)
        for row in conditions:
            row.locator("input.ag-checkbox-input").check(force=True)
        page.screenshot(path=str(shots / "2_selected.png"))
        page.locator('[data-testid="runs-compare-button"]').click()
        page.wait_for_url(re.compile(r".*compare-runs.*"), timeout=30_000)
        expect(page.get_by_text("Comparing 3 Runs")).to_be_visible(timeout=30_000)
        for metric in ("eval/heldout/pass_at_1", "eval/heldout/pass_at_1_sd"):  # mean and sd over seeds
            _scroll_to(page, page.get_by_role("link", name=metric, exact=True))
        page.screenshot(path=str(shots / "3_compare.png"), full_page=True)
        browser.close()
    print(f"screenshots: {shots}")
