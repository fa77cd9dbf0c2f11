"""Inside the sandbox: load the program, answer calls with plain values. Nothing here is trusted.

The child never sees expected values or test code: it receives the program, optional setup code, the
names the tests use, and calls (`f(args)` with plain-data args). It replies with literal text, a handle
for objects that are not data, or an exception type name. Whatever it sends is parsed by the judge as
data only, so a patched child can at worst answer wrongly.
Requests (marshal, written by the trusted judge; far fewer objects touched than json, so fewer
copy-on-write faults): b"L"+{program, setup, names, calls} (load, then answer `calls`), b"C"+call,
b"B"+[call, ...] (calls queued ahead: one reply each, in order), b"G"+[handle, attr].
Replies: b"K"+json names | b"S"+msg (syntax) | b"X"+json[type,msg] (load error) | b"V"+literal |
b"R"+json[handle,type,truth] | b"E"+json[type,msg].
Stdin/stdout jobs: b"P"+program, then this case's input as raw bytes and EOF on the same pipe. The child
sends no frame back: it runs the program as a script with fds 0-2 its only fds (stdin the rest of the
request pipe, stdout the reply pipe, stderr the output pipe), so the reply pipe carries the script's
stdout and nothing else. It exits 0 when the script ends (or exits with code 0); otherwise it writes
EXC_MARK + json[type, msg] as the last line of stderr and exits 1 (uncaught exception) or 2 (the
program does not compile).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import marshal
import os
import re
import sys
import types
from typing import NoReturn

from executors import literal, proto

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,80}")
EXC_MARK = b"\x00sandbox-exception "  # starts the last stderr line of a script that raised


def _exc(e: BaseException) -> list[str]:
    name = type(e).__name__
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        name = "Exception"
    try:
        msg = str(e)[:300]
    except BaseException:
        msg = ""
    return [name, msg]


class _Server:
    def __init__(self, req_fd: int, resp_fd: int) -> None:
        self.req_fd = req_fd
        self.resp_fd = resp_fd
        self.g: dict = {"__name__": "solution", "__builtins__": builtins}
        self.refs: list[object] = []

    def reply(self, tag: bytes, body: bytes = b"") -> None:
        proto.write_frame(self.resp_fd, tag + body)

    def handle(self, obj: object) -> int:
        self.refs.append(obj)
        return len(self.refs) - 1

    def value(self, v: object) -> None:
        try:
            text = literal.encode(v)
        except Exception:
            text = None
        if text is None:
            try:
                truth = bool(v)  # one bit the program could return as plain True/False anyway
            except BaseException:
                truth = None
            self.reply(b"R", json.dumps([self.handle(v), type(v).__name__[:80], truth]).encode())
        else:
            self.reply(b"V", text.encode("utf-8", "surrogatepass"))

    def load(self, msg: dict) -> None:
        try:
            code = compile(msg["program"], "<program>", "exec", dont_inherit=True)
            setup = compile(msg["setup"], "<setup>", "exec", dont_inherit=True) if msg["setup"] else None
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as e:
            self.reply(b"S", f"{type(e).__name__}: {e}"[:300].encode("utf-8", "replace"))
            return
        try:
            exec(code, self.g)
            if setup is not None:
                exec(setup, self.g)
        except BaseException as e:
            self.reply(b"X", json.dumps(_exc(e)).encode())
            return
        names: dict[str, object] = {}
        for name in msg["names"]:
            if name not in self.g:
                continue
            v = self.g[name]
            if callable(v) and not isinstance(v, type):
                names[name] = ["f"]
                continue
            try:
                names[name] = ["v", literal.encode(v)]
            except Exception:
                names[name] = ["r", self.handle(v), type(v).__name__[:80]]
        self.reply(b"K", json.dumps(names).encode())
        self.batch(msg.get("calls") or ())

    def batch(self, calls: list) -> None:
        """Answer calls queued ahead by the judge, one reply frame each, in order."""
        for c in calls:
            self.guarded(self.call, c)

    def guarded(self, fn, body: object) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(body)
        except BaseException as e:  # failure while replying (e.g. MemoryError): say so once
            self.reply(b"E", json.dumps(_exc(e)).encode())

    def target(self, t: object) -> object:
        return self.g[t] if isinstance(t, str) else self.refs[t]  # type: ignore[index]

    def call(self, msg: list) -> None:
        target, attr, args, kwargs = msg
        try:
            fn = self.target(target)
            if attr is not None:
                fn = getattr(fn, attr)
            a = literal.from_wire(args, ref=self.refs.__getitem__)
            k = literal.from_wire(kwargs, ref=self.refs.__getitem__)
            v = fn(*a, **k)
        except BaseException as e:
            self.reply(b"E", json.dumps(_exc(e)).encode())
            return
        self.value(v)

    def getattr(self, msg: list) -> None:
        target, attr = msg
        try:
            v = getattr(self.target(target), attr)
        except BaseException as e:
            self.reply(b"E", json.dumps(_exc(e)).encode())
            return
        self.value(v)

    def serve(self) -> None:
        while True:
            frame = proto.read_frame(self.req_fd)
            if frame is None:
                os._exit(0)
            op, body = frame[:1], marshal.loads(frame[1:])
            if op == b"L":
                self.guarded(self.load, body)
            elif op == b"C":
                self.guarded(self.call, body)
            elif op == b"B":
                self.batch(body)
            elif op == b"G":
                self.guarded(self.getattr, body)
            elif op == b"P":
                self.script(body)

    def script(self, program: str) -> None:
        """Run the program once as a script on this case's stdin (module docstring); never returns."""
        try:
            code = compile(program, "<program>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as e:
            _exit_raised(e, 2)
        os.dup2(self.req_fd, 0)
        os.dup2(self.resp_fd, 1)
        os.close(self.req_fd)
        os.close(self.resp_fd)
        out = sys.stdout = open(1, "w", closefd=False, errors="replace")  # noqa: SIM115  (block-buffered)
        main = types.ModuleType("__main__")
        sys.modules["__main__"], sys.argv = main, ["main.py"]
        builtins.exit = builtins.quit = sys.exit  # what `site` would add (workers run without it)
        raised: BaseException | None = None
        try:
            exec(code, main.__dict__)
            _join_threads()
        except SystemExit as e:
            raised = None if e.code is None or (type(e.code) in (int, bool) and e.code == 0) else e
        except BaseException as e:
            raised = e
        for stream in {id(s): s for s in (sys.stdout, sys.stderr, out)}.values():
            with contextlib.suppress(BaseException):
                stream.flush()
        if raised is not None:
            _exit_raised(raised, 1)
        os._exit(0)


def _exit_raised(e: BaseException, code: int) -> NoReturn:
    with contextlib.suppress(BaseException):
        os.write(2, b"\n" + EXC_MARK + json.dumps(_exc(e)).encode() + b"\n")
    os._exit(code)


def _join_threads() -> None:
    """Wait for the script's non-daemon threads, as the interpreter does at exit (`threading.Thread(
    target=main)` with a larger stack is a common trick for deep recursion)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon and t.is_alive():
            t.join()


def serve(req_fd: int, resp_fd: int) -> None:
    """Child main loop; never returns (the child ends with _exit, so atexit hooks do not run).
    The caller has set sys.stdin/stdout/stderr on fds 0-2 (the fork server builds them once)."""
    try:
        _Server(req_fd, resp_fd).serve()
    finally:
        os._exit(0)
