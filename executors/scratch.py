"""Wiping a dead child's scratch dir, whatever the program left in it (used by the fork server, and by the
pool for a weak-mode temp dir whose fork server was killed before it could clean up)."""

from __future__ import annotations

import glob
import os


def wipe(path: str, keep: bool = False) -> bool:
    """Empty a dead child's scratch dir and remove it (`keep`: a slot mount root stays); True when clean.

    Works relative to open directories, so depth and path length do not matter (a program can nest
    directories past PATH_MAX), chmods each directory before entering it (a program can leave one it can
    write but not list, mode 0o300, or none at all, 000), and follows no symlink: directories are opened
    O_NOFOLLOW and chmodded through their O_PATH descriptor.
    """
    try:  # usually empty
        if keep:
            with os.scandir(path) as entries:
                if next(entries, None) is None:
                    return True
        else:
            os.rmdir(path)
            return True
    except FileNotFoundError:
        return not keep
    except OSError:
        pass
    try:
        root = _open_dir(path, None)
        try:
            _empty(root)
        finally:
            os.close(root)
        if not keep:
            os.rmdir(path)
    except OSError:
        return False
    return not os.path.lexists(path) if not keep else not os.listdir(path)


def _open_dir(name: str, dir_fd: int | None) -> int:
    """A readable fd of directory `name` (never a symlink), made owner-accessible first."""
    pfd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=dir_fd)
    try:
        os.chmod(f"/proc/self/fd/{pfd}", 0o700)  # the inode itself: no path to swap for a link
        return os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=pfd)
    finally:
        os.close(pfd)


def _empty(root: int) -> None:
    """Remove everything inside the open directory `root`, depth-first without recursion."""
    frames: list[tuple[int, str | None, list[tuple[str, bool]]]] = [(root, None, _entries(root))]
    while frames:
        fd, name, todo = frames[-1]
        if not todo:
            frames.pop()
            if name is not None:
                os.close(fd)
                os.rmdir(name, dir_fd=frames[-1][0])
            continue
        entry, is_dir = todo.pop()
        if is_dir:
            sub = _open_dir(entry, fd)
            frames.append((sub, entry, _entries(sub)))
        else:
            os.unlink(entry, dir_fd=fd)


def _entries(fd: int) -> list[tuple[str, bool]]:
    with os.scandir(fd) as entries:
        return [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]


def remove_leftovers(tmp: str, worker_pid: int) -> None:
    """Remove the weak-mode scratch root(s) of a worker's fork server that was killed before shutdown."""
    for path in glob.glob(os.path.join(tmp, f"sandbox-{worker_pid}-*")):
        wipe(path)
