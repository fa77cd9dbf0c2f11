"""Kernel isolation through ctypes on libc: namespaces, a size-capped tmpfs, capabilities, landlock.

The fork server sets up namespaces, scratch and privileges once (children inherit them) and builds a
`Confiner`, whose `apply` every child runs before model code (rlimits, landlock, seccomp). Each step
reports whether it worked so strict mode can refuse to run when one is missing.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat
import struct
import sys
import sysconfig

from executors import seccomp

_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter_namespaces() -> str:
    """Private network, IPC, UTS and mount namespaces (a user namespace first when not root)."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        _check(libc().unshare(flags), "unshare")
        return "root"
    uid, gid = os.geteuid(), os.getegid()
    _check(libc().unshare(flags | CLONE_NEWUSER), "unshare(user)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    return "user"


def mount_scratch(root: str, slots: list[str], size_bytes: int, inodes: int) -> None:
    """Make every mount private, then a small tmpfs at `root` holding one size- and inode-capped tmpfs
    per slot (a slot is one child's scratch dir at a time)."""
    _check(libc().mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "mount(private)")
    _tmpfs(root, 1 << 20, 64, "0755")
    for slot in slots:
        os.mkdir(slot, 0o700)
        _tmpfs(slot, size_bytes, inodes, "0700")


def _tmpfs(path: str, size_bytes: int, inodes: int, mode: str) -> None:
    opts = f"size={size_bytes},nr_inodes={inodes},mode={mode}".encode()
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    _check(libc().mount(b"tmpfs", path.encode(), b"tmpfs", flags, opts), "mount(tmpfs)")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges(own: list[str], userns: bool) -> str:
    """Give up every capability. As real root (not `userns`, where only the caller's own uid is mapped)
    switches to an unused uid (that then owns the paths in `own`) when the Python install stays readable
    by it; otherwise keeps the uid with no capabilities at all."""
    if os.geteuid() == 0 and not userns and _world_readable(sysconfig.get_paths()["stdlib"]):
        uid = 60000 + os.getpid() % 5000
        for path in own:
            os.chown(path, uid, uid)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        return f"uid {uid}"
    for cap in range(64):  # bounding set: needs CAP_SETPCAP, so do it before capset
        if libc().prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            break
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc().syscall(126 if _machine() == "x86_64" else 91, ctypes.byref(header), data), "capset")
    return "no capabilities"


def _machine() -> str:
    return os.uname().machine


def _world_readable(path: str) -> bool:
    """Every ancestor traversable by others and the directory itself readable by others."""
    p = os.path.abspath(path)
    while True:
        mode = os.stat(p).st_mode
        if not mode & stat.S_IXOTH:
            return False
        if p == "/":
            return bool(os.stat(path).st_mode & stat.S_IROTH)
        p = os.path.dirname(p)


# ---- landlock ----------------------------------------------------------------------------------
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446
_FS_EXECUTE, _FS_WRITE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_MAKE_CHAR, _FS_MAKE_SOCK, _FS_MAKE_FIFO, _FS_MAKE_BLOCK = 1 << 6, 1 << 9, 1 << 10, 1 << 11
_NET_ALL = 3  # bind_tcp | connect_tcp
_SCOPE_ALL = 3  # abstract unix sockets | signals


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """Kernel landlock ABI version, 0 when unavailable."""
    ret = libc().syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(ret), 0)


def read_paths() -> list[str]:
    """What Python needs to import the standard library and its C extensions."""
    paths = sysconfig.get_paths()
    out = {paths["stdlib"], paths["platstdlib"]}
    out |= {os.path.dirname(m.__file__ or "") for m in sys.modules.values() if _is_ext(m)}
    out |= {p for p in ("/usr/lib", "/lib", "/lib64", "/usr/lib64", "/etc/ld.so.cache") if os.path.exists(p)}
    return sorted(p for p in out if p)


def _is_ext(module: object) -> bool:
    f = getattr(module, "__file__", None)
    return isinstance(f, str) and f.endswith(".so")


def open_paths(paths: list[str]) -> list[tuple[int, bool]]:
    """O_PATH fds (kept by the fork server) for landlock rules: (fd, is_dir)."""
    out = []
    for p in paths:
        fd = os.open(p, os.O_PATH | os.O_CLOEXEC)
        out.append((fd, stat.S_ISDIR(os.fstat(fd).st_mode)))
    return out


class Confiner:
    """Everything a child does to confine itself, prepared once in the fork server.

    Every ctypes object (landlock ruleset attributes and rules, the seccomp program) is built before
    fork, so the child's part is a short run of C calls: a child that touches fewer pages of the
    inherited heap takes fewer copy-on-write faults, which are most of a sandboxed program's cost.
    Landlock: read-only Python install, read-write own scratch, nothing else; on ABI >= 4 TCP
    bind/connect are denied too; on ABI >= 6 signals and abstract unix sockets are scoped to the sandbox.
    """

    def __init__(
        self, rlimits: list[tuple[int, int, int]], ll_abi: int, read_fds: list[tuple[int, bool]], sc: bytes | None
    ) -> None:
        lc = libc()
        self.prctl, self.syscall = lc.prctl, lc.syscall
        self.rlimits = rlimits
        self.ll_abi = ll_abi
        if ll_abi:
            fs = _FS_ALL_V1 | (_FS_REFER if ll_abi >= 2 else 0) | (_FS_TRUNCATE if ll_abi >= 3 else 0)
            fs |= _FS_IOCTL_DEV if ll_abi >= 5 else 0
            self._attr = _RulesetAttr(fs, _NET_ALL if ll_abi >= 4 else 0, _SCOPE_ALL if ll_abi >= 6 else 0)
            size = 24 if ll_abi >= 6 else 16 if ll_abi >= 4 else 8
            self.ll_create = (ctypes.byref(self._attr), ctypes.c_size_t(size))
            ro_dir = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
            self._rules = [_PathBeneath(ro_dir if d else _FS_EXECUTE | _FS_READ_FILE, fd) for fd, d in read_fds]
            rw = fs & ~(_FS_EXECUTE | _FS_MAKE_CHAR | _FS_MAKE_SOCK | _FS_MAKE_FIFO | _FS_MAKE_BLOCK | _FS_IOCTL_DEV)
            self.scratch_rule = _PathBeneath(rw, -1)
            self._rules.append(self.scratch_rule)
            self.rule_refs = [ctypes.byref(r) for r in self._rules]
        self.sc_buf = None
        if sc is not None:
            program, self.sc_pid_at = sc, seccomp.pid_offset(sc)
            self.sc_buf = ctypes.create_string_buffer(program, len(program))
            self._prog = seccomp.SockFprog(len(program) // 8, ctypes.cast(self.sc_buf, ctypes.c_void_p))
            self.sc_prog = ctypes.byref(self._prog)

    def apply(self, scratch_fd: int) -> None:
        """In the child, before any model code: rlimits, no_new_privs, landlock, seccomp (OSError on failure)."""
        for res, soft, hard in self.rlimits:
            resource.setrlimit(res, (soft, hard))
        prctl, syscall = self.prctl, self.syscall
        if prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            _check(-1, "prctl(NO_NEW_PRIVS)")
        if self.ll_abi:
            self.scratch_rule.fd = scratch_fd
            rs = _check(syscall(_LL_CREATE, *self.ll_create, 0), "landlock_create_ruleset")
            for ref in self.rule_refs:
                _check(syscall(_LL_ADD, rs, 1, ref, 0), "landlock_add_rule")
            _check(syscall(_LL_RESTRICT, rs, 0), "landlock_restrict_self")
            os.close(rs)
        if self.sc_buf is not None:
            struct.pack_into("=I", self.sc_buf, self.sc_pid_at, os.getpid())
            if prctl(22, 2, self.sc_prog, 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
                _check(-1, "seccomp filter")


def child_rlimits(memory_mb: int, cpu_s: int, file_bytes: int, open_files: int) -> list[tuple[int, int, int]]:
    """Kernel resource limits of one child as (resource, soft, hard); soft = hard, so it cannot raise them."""
    mem = memory_mb << 20
    return [
        (resource.RLIMIT_AS, mem, mem),
        (resource.RLIMIT_DATA, mem, mem),
        (resource.RLIMIT_CPU, cpu_s, cpu_s + 1),  # SIGXCPU at the soft limit, SIGKILL one second later
        (resource.RLIMIT_FSIZE, file_bytes, file_bytes),
        (resource.RLIMIT_NOFILE, open_files, open_files),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_MEMLOCK, 0, 0),
        (resource.RLIMIT_MSGQUEUE, 0, 0),
        (resource.RLIMIT_NPROC, 64, 64),
    ]


def set_name(name: bytes) -> None:
    """Name the process (ps, top, perf show it; 15 bytes at most)."""
    libc().prctl(15, name[:15], 0, 0, 0)  # PR_SET_NAME


def close_from(first: int) -> None:
    """Close every fd >= first (close_range; a loop over /proc when the kernel lacks it)."""
    if libc().syscall(436, ctypes.c_uint(first), ctypes.c_uint(0xFFFFFFFF), ctypes.c_uint(0)) != 0:
        os.closerange(first, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
