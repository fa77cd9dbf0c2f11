"""The fork server's scratch wipe: whatever a dead program left is removed, and nothing it points to.

The wipe runs without privileges, as in the fork server (root would list a mode-0o300 dir anyway): as root,
the tree is handed to uid `nobody` and wiped by a forked process running as that user.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from executors.scratch import wipe

NOBODY = 65534


def _hostile_tree(root: Path, outside: Path) -> None:
    """What a program can leave in its scratch: nested dirs it made unlistable or read-only, symlinks out."""
    os.makedirs(root / "a" / "b")
    (root / "a" / "b" / "f").write_text("x")
    os.symlink(outside, root / "a" / "link_file")
    os.symlink(outside.parent, root / "link_dir")
    (root / "hidden").mkdir()
    (root / "hidden" / "g").write_text("y")
    os.chmod(root / "hidden", 0o300)  # write-only: rmtree cannot list it
    (root / "ro").mkdir()
    (root / "ro" / "h").write_text("z")
    os.chmod(root / "ro", 0o500)  # read-only: its entries cannot be unlinked
    os.chmod(root / "a" / "b", 0o000)


def _unprivileged(fn: Callable[[], bool], tree: Path | None = None) -> bool:
    """fn() run without privileges (over `tree`, handed to that user first)."""
    if os.geteuid() != 0:
        return fn()
    if tree is not None:
        for d, dirs, files in os.walk(tree):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(d, name), NOBODY, NOBODY)
        os.lchown(tree, NOBODY, NOBODY)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            os._exit(0 if fn() else 1)
        finally:
            os._exit(2)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


@pytest.fixture
def base():
    d = Path(tempfile.mkdtemp(prefix="codeablate-wipe-"))  # traversable by `nobody`, unlike tmp_path
    os.chmod(d, 0o755)
    if os.geteuid() == 0:  # the wiper owns the dir the scratch lives in, as the fork server does
        os.chown(d, NOBODY, NOBODY)
    outside = d / "host" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("keep me")
    yield d, outside
    shutil.rmtree(d, ignore_errors=True)


def test_an_unprivileged_rmtree_would_leave_files_behind(base):
    d, outside = base
    _hostile_tree(d / "c0", outside)
    assert not _unprivileged(
        lambda: (shutil.rmtree(d / "c0", ignore_errors=True), not (d / "c0").exists())[1], d / "c0"
    )


def test_wipe_removes_everything_and_follows_no_link(base):
    d, outside = base
    scratch = d / "c1"
    _hostile_tree(scratch, outside)
    assert _unprivileged(lambda: wipe(str(scratch)), scratch)
    assert not scratch.exists()
    assert outside.read_text() == "keep me" and sorted(os.listdir(outside.parent)) == ["secret.txt"]


def test_wipe_keep_empties_a_slot_but_leaves_it(base):
    d, outside = base
    slot = d / "s0"
    slot.mkdir()
    _hostile_tree(slot, outside)
    assert _unprivileged(lambda: wipe(str(slot), keep=True), slot)
    assert slot.is_dir() and os.listdir(slot) == []
    assert outside.read_text() == "keep me"
    assert _unprivileged(lambda: wipe(str(slot), keep=True), slot)  # already empty


def test_wipe_handles_trees_deeper_than_path_max(base):
    """A program can nest directories past PATH_MAX (mkdir + chdir); full-path calls then fail."""
    d, _ = base
    scratch = d / "c2"

    def build_and_wipe() -> bool:
        os.mkdir(scratch)
        os.chdir(scratch)
        for _ in range(20):  # 20 x 250 characters > 4096
            os.mkdir("x" * 250)
            os.chdir("x" * 250)
        with open("deep.txt", "w") as f:
            f.write("z")
        os.mkdir("locked", 0o300)
        os.chdir(d)
        return wipe(str(scratch)) and not scratch.exists()

    assert _unprivileged(build_and_wipe)
