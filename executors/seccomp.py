"""A seccomp-BPF filter for sandboxed children, assembled by hand (ctypes only, no libseccomp).

Denied (EPERM): every socket call (so no network of any family, AF_UNIX included), exec, fork/vfork and
clone without CLONE_THREAD (threads still work), ptrace and cross-process memory access, namespace and
mount changes, bpf, io_uring, perf, keyrings, modules, clock and system changes, chmod/chown/utime/xattr
(landlock does not cover metadata), memfd, priority and scheduler changes, and signals or prlimit aimed
at any process but the caller. clone3 gets ENOSYS so glibc falls back to clone. Other architectures'
calling conventions (x32, i386) kill the process.
Two layers: the fork server installs the common one on itself once (children inherit it), and each child
adds a short one for what the server itself needs or what depends on the child's pid.
"""

from __future__ import annotations

import ctypes
import platform
import struct

_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000

_DENY = [
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "execve",
    "execveat",
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "bpf",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "open_by_handle_at",
    "name_to_handle_at",
    "quotactl",
    "acct",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "syslog",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "memfd_create",
    "setpriority",
    "sched_setaffinity",
    "sched_setscheduler",
    "sched_setparam",
    "ioprio_set",
    "migrate_pages",
    "move_pages",
    "kcmp",
    "process_madvise",
    "process_mrelease",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    "mknod",
    "mknodat",
]
_OWN_PID_ARG0 = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "prlimit64")

# (AUDIT_ARCH, syscall numbers) per machine; aarch64 lacks the legacy calls (fork, chmod, ...).
_X86_64 = {
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "ptrace": 101,
    "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165, "umount2": 166, "pivot_root": 155,
    "chroot": 161, "unshare": 272, "setns": 308, "bpf": 321, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249,
    "userfaultfd": 323, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "quotactl": 179, "acct": 163,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, "syslog": 103,
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93, "lchown": 94,
    "fchownat": 260, "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261, "setxattr": 188,
    "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199,
    "memfd_create": 319, "setpriority": 141, "sched_setaffinity": 203, "sched_setscheduler": 144,
    "sched_setparam": 142, "ioprio_set": 251, "migrate_pages": 256, "move_pages": 279, "kcmp": 312,
    "process_madvise": 440, "process_mrelease": 448, "pidfd_open": 434, "pidfd_getfd": 438,
    "pidfd_send_signal": 424, "tkill": 200, "mknod": 133, "mknodat": 259, "kill": 62, "tgkill": 234,
    "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "prlimit64": 302,
}  # fmt: skip
_AARCH64 = {
    "socket": 198, "socketpair": 199, "connect": 203, "bind": 200, "listen": 201, "accept": 202,
    "accept4": 242, "execve": 221, "execveat": 281, "clone": 220, "clone3": 435, "ptrace": 117,
    "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40, "umount2": 39, "pivot_root": 41,
    "chroot": 51, "unshare": 97, "setns": 268, "bpf": 280, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "perf_event_open": 241, "keyctl": 219, "add_key": 217, "request_key": 218,
    "userfaultfd": 282, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
    "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225,
    "open_by_handle_at": 265, "name_to_handle_at": 264, "quotactl": 60, "acct": 89, "settimeofday": 170,
    "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, "syslog": 116, "fchmod": 52,
    "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54, "utimensat": 88, "setxattr": 5,
    "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16,
    "memfd_create": 279, "setpriority": 140, "sched_setaffinity": 122, "sched_setscheduler": 119,
    "sched_setparam": 118, "ioprio_set": 30, "migrate_pages": 238, "move_pages": 239, "kcmp": 272,
    "process_madvise": 440, "process_mrelease": 448, "pidfd_open": 434, "pidfd_getfd": 438,
    "pidfd_send_signal": 424, "tkill": 130, "mknodat": 33, "kill": 129, "tgkill": 131,
    "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "prlimit64": 261,
}  # fmt: skip
_ARCHES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64)}


def supported() -> str | None:
    """None if this machine's architecture has a filter, else why not."""
    return None if platform.machine() in _ARCHES else f"seccomp filter has no table for {platform.machine()}"


class _Asm:
    """Tiny BPF assembler: jumps to named labels, resolved in `assemble`."""

    def __init__(self) -> None:
        self.ins: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: object = 0, jf: object = 0) -> None:
        self.ins.append((code, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.ins)

    def assemble(self) -> bytes:
        out = bytearray()
        for i, (code, jt, jf, k) in enumerate(self.ins):
            t = self.labels[jt] - i - 1 if isinstance(jt, str) else jt
            f = self.labels[jf] - i - 1 if isinstance(jf, str) else jf
            assert 0 <= t < 256 and 0 <= f < 256, "bpf jump out of range"  # type: ignore[operator]
            out += struct.pack("=HBBI", code, t, f, k & 0xFFFFFFFF)
        return bytes(out)


# Denied to children only: the fork server hands each child's pidfd out, and chmods the directories a dead
# child left unlistable so it can wipe its scratch.
_SERVER_NEEDS = ("pidfd_open", "chmod", "fchmod", "fchmodat", "fchmodat2")


def build_common() -> bytes:
    """The layer the fork server installs on itself once; every child inherits it.

    Kills other architectures' calling conventions, denies _DENY (but what the server needs) and makes
    clone3 ENOSYS so glibc falls back to clone, which the child layer can inspect.
    """
    arch, nrs = _ARCHES[platform.machine()]
    a = _Asm()
    a.op(_LD_W_ABS, 4)
    a.op(_JEQ_K, arch, 0, "kill")
    a.op(_LD_W_ABS, 0)
    if arch == _ARCHES["x86_64"][0]:
        a.op(_JGE_K, _X32_BIT, "kill", 0)
    for name in _DENY:
        if name in nrs and name not in _SERVER_NEEDS:
            a.op(_JEQ_K, nrs[name], "eperm", 0)
    a.op(_JEQ_K, nrs["clone3"], "enosys", 0)
    a.op(_RET_K, _RET_ALLOW)
    a.label("eperm")
    a.op(_RET_K, _RET_ERRNO | 1)
    a.label("enosys")
    a.op(_RET_K, _RET_ERRNO | 38)
    a.label("kill")
    a.op(_RET_K, _RET_KILL_PROCESS)
    return a.assemble()


def build_child(own_pid: int) -> bytes:
    """The short layer each child adds on top of the common one (the kernel evaluates both; the
    stricter answer wins): no fork-like clone, no pidfd_open, signals and prlimit only to itself.
    Short on purpose: installing a filter costs time in proportion to its length, once per child."""
    _, nrs = _ARCHES[platform.machine()]
    a = _Asm()
    a.op(_LD_W_ABS, 0)
    a.op(_JEQ_K, nrs["clone"], "clone", 0)
    for name in _SERVER_NEEDS:
        if name in nrs:  # aarch64 has no legacy chmod
            a.op(_JEQ_K, nrs[name], "eperm", 0)
    for name in _OWN_PID_ARG0:
        a.op(_JEQ_K, nrs[name], "own_pid", 0)
    a.op(_RET_K, _RET_ALLOW)
    a.label("clone")
    a.op(_LD_W_ABS, 16)  # args[0] low word: flags
    a.op(_JSET_K, _CLONE_THREAD, "allow", "eperm")
    a.label("own_pid")  # args[0] must be 0 (self / own group) or our pid; high word must be 0
    a.op(_LD_W_ABS, 20)
    a.op(_JEQ_K, 0, 0, "eperm")
    a.op(_LD_W_ABS, 16)
    a.op(_JEQ_K, own_pid, "allow", 0)
    a.op(_JEQ_K, 0, "allow", "eperm")
    a.label("allow")
    a.op(_RET_K, _RET_ALLOW)
    a.label("eperm")
    a.op(_RET_K, _RET_ERRNO | 1)
    return a.assemble()


_PID_MARK = 0x7EADBEEF


def template() -> bytes:
    """`build_child` with a marker where the child's pid goes (see `pid_offset`)."""
    program = build_child(_PID_MARK)
    assert program.count(struct.pack("=I", _PID_MARK)) == 1
    return program


def pid_offset(program: bytes) -> int:
    """Byte offset of the pid marker in a `template()` program."""
    return program.index(struct.pack("=I", _PID_MARK))


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(program: bytes) -> None:
    """no_new_privs + load a filter into the calling thread (before any other thread exists)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter")


_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
