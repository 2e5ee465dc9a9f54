"""The student's side of a graded run: execute the student's cells, then answer calls.

This file runs in a separate process that the grader (:mod:`labkit.grade`) starts in an empty
temporary folder, with ``python -I -S`` (no ``PYTHON*`` variables, no user or site ``.pth``
files, not even the current folder on ``sys.path``) and a clean environment. The grader
copies this file, :mod:`labkit.checks` and a copy of rnnkit (with the lab's forbidden reference
functions replaced by stubs, see :mod:`labkit.release`) into a folder of its own and puts only
that folder and the interpreter's ``site-packages`` on ``sys.path``.

It imports nothing from labkit: it is standalone on purpose, so what the student's code
patches here can change only what the student's own functions return. Nothing here decides a
grade. The check cells run in the grader's process (:mod:`labkit.remote`), which calls the
student's functions through this process and compares what comes back with values it computes
itself.

Protocol, over two pipes (file descriptors given on the command line): each message is a
4-byte big-endian length and a payload. From the grader: a pickle (trusted data). From here:
JSON (the grader never unpickles what this process sends), in which arrays are ``np.save``
bytes in base64 and anything that is not plain data stays here and travels as a handle.
"""

import base64
import io
import json
import linecache
import os
import pickle
import struct
import sys
import traceback

_handles = {}
_RFD = _WFD = None


def _send(obj):
    data = json.dumps(obj).encode()
    os.write(_WFD, struct.pack(">I", len(data)))
    view = memoryview(data)
    while view:
        view = view[os.write(_WFD, view):]


def _recv_exact(n):
    chunks = []
    while n:
        chunk = os.read(_RFD, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class Callback:
    """A function of the grader's (a reference, a check's helper), called back over the pipe."""

    def __init__(self, cid):
        self.cid = cid

    def __call__(self, *args, **kwargs):
        _send({"op": "callback", "id": self.cid, "args": _enc(list(args)),
               "kwargs": _enc(kwargs)})
        return _serve(until_reply=True)


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        kind, key = pid
        if kind == "h":
            return _handles[key]
        if kind == "name":
            return _ns[key]
        return Callback(key)


def _loads(data):
    return _Unpickler(io.BytesIO(data)).load()


def _array(a):
    buf = io.BytesIO()
    import numpy as np
    np.save(buf, a, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode()


def _enc(obj, depth=0):
    """Encode ``obj`` as JSON-able data; what is not data becomes a handle."""
    if depth > 50:
        return _handle(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)) and type(obj) in (
            bool, int, float, str):
        return obj
    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if np is not None:
        if type(obj) is np.ndarray and obj.dtype.kind in "biufcUS":
            return {"~nd": _array(obj)}
        if isinstance(obj, np.dtype) and obj.kind in "biufcUS" and obj.names is None:
            return {"~dtype": obj.str}
        if isinstance(obj, np.generic) and obj.dtype.kind in "biufcUS":
            return {"~np": _array(np.asarray(obj))}
    if torch is not None and type(obj) is torch.Tensor:
        a = obj.detach().cpu()
        if a.dtype == torch.bfloat16:
            a = a.float()
        return {"~torch": _array(a.numpy())}
    if type(obj) is list:
        return [_enc(v, depth + 1) for v in obj]
    if isinstance(obj, tuple) and type(obj).__module__ != "torch.return_types":
        return {"~tuple": [_enc(v, depth + 1) for v in obj]}
    if type(obj) is dict:
        return {"~dict": [[_enc(k, depth + 1), _enc(v, depth + 1)] for k, v in obj.items()]}
    if isinstance(obj, Callback):
        return {"~cb": obj.cid}
    cls = type(obj)
    if (cls.__module__.startswith("rnnkit.") and not cls.__module__.startswith("rnnkit.torch")
            and hasattr(obj, "__dict__") and not isinstance(obj, type)
            and not callable(obj) or cls.__module__ == "rnnkit.torch.train"
            and cls.__name__ == "History"):
        return {"~obj": f"{cls.__module__}:{cls.__qualname__}",
                "state": _enc(dict(vars(obj)), depth + 1)}
    return _handle(obj)


def _handle(obj):
    hid = len(_handles) + 1
    _handles[hid] = obj
    return {"~h": hid, "type": type(obj).__name__, "callable": callable(obj)}


def _where(tb):
    """(cell, line, function) of the innermost frame in a student cell, or None."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<your code cell "):
            found = (int(name[len("<your code cell "):-1]), lineno, frame.f_code.co_name)
    return found


def _error(err):
    where = _where(err.__traceback__)
    text = "".join(traceback.format_exception_only(type(err), err)).strip()
    return {"op": "error", "type": type(err).__name__, "message": str(err)[:2000],
            "text": text[:2000], "where": where,
            "not_implemented": isinstance(err, NotImplementedError)}


_ns = {"__name__": "__main__", "__builtins__": __builtins__}
_shell = None


def _run_cell(n, source):
    """Run one student cell; return the reply to send."""
    code = source
    if _shell is not None:
        try:
            code = _shell.transform_cell(source)
        except Exception:  # noqa: BLE001 (a cell IPython cannot parse: report as Python would)
            code = source
    name = f"<your code cell {n}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    try:
        compiled = compile(code, name, "exec")
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        return {"op": "error", "type": type(err).__name__, "message": str(err),
                "text": f"{type(err).__name__}: {getattr(err, 'msg', err)}",
                "where": [n, line, None], "syntax": True, "not_implemented": False}
    try:
        exec(compiled, _ns)  # noqa: S102 (the student's own cell, in the student's process)
    except SystemExit as err:
        reply = _error(err)
        reply["exit"] = True
        return reply
    except BaseException as err:  # noqa: BLE001 (KeyboardInterrupt included: it is reported)
        return _error(err)
    if _shell is not None and getattr(_shell, "exit_now", False):
        _shell.exit_now = False
        return {"op": "error", "type": "SystemExit", "message": "exit()", "text": "exit()",
                "where": [n, None, None], "exit": True, "not_implemented": False}
    return {"op": "ok"}


def _exit(*args):
    """``exit()`` and ``quit()`` in a cell: stop the cell as ``sys.exit`` does (reported)."""
    raise SystemExit(*args)


def _resolve(target):
    kind, key = target
    if kind == "name":
        if key not in _ns:
            raise NameError(f"name {key!r} is not defined")
        return _ns[key]
    return _handles[key]


def _handle_request(msg):
    op = msg["op"]
    if op == "cell":
        return _run_cell(msg["n"], msg["source"])
    if op == "names":
        return {"op": "reply", "value": [n for n in msg["names"] if n in _ns]}
    try:
        if op == "call":
            fn = _resolve(msg["target"])
            args, kwargs = msg["args"], msg["kwargs"]
            value = fn(*args, **kwargs)
            after = [_enc(a) if _mutable(a) else None for a in args]
            after_kw = {k: _enc(v) for k, v in kwargs.items() if _mutable(v)}
            return {"op": "reply", "value": _enc(value), "after": after, "after_kw": after_kw}
        if op == "getattr":
            return {"op": "reply", "value": _enc(getattr(_resolve(msg["target"]), msg["name"]))}
    except BaseException as err:  # noqa: BLE001 (whatever the student's code raises is reported)
        return _error(err)
    return {"op": "error", "type": "ProtocolError", "message": f"unknown op {op!r}",
            "text": "", "where": None, "not_implemented": False}


def _mutable(a):
    np = sys.modules.get("numpy")
    if np is not None and type(a) is np.ndarray:
        return True
    if type(a) in (list, dict):
        return True
    return type(a).__module__.startswith("rnnkit.") and hasattr(a, "__dict__")


def _serve(until_reply=False):
    """Answer requests; with ``until_reply``, return the value of the next callback reply."""
    while True:
        try:
            (n,) = struct.unpack(">I", _recv_exact(4))
            msg = _loads(_recv_exact(n))
        except EOFError:
            os._exit(0)
        if msg["op"] == "callback-reply":
            if until_reply:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg["value"]
            continue
        if msg["op"] == "bye":
            os._exit(0)
        try:
            reply = _handle_request(msg)
        except KeyboardInterrupt as err:
            reply = _error(err)
        _send(reply)


def main():
    global _RFD, _WFD, _shell
    _RFD, _WFD = int(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        from IPython.core.interactiveshell import InteractiveShell

        _shell = InteractiveShell.instance(user_ns=_ns)
        _ns.setdefault("get_ipython", lambda: _shell)
        _ns["exit"] = _ns["quit"] = _exit
    except Exception:  # noqa: BLE001 (without IPython, magics fail in the student's cell)
        _shell = None
    _send({"op": "ready", "pid": os.getpid()})
    _serve()


if __name__ == "__main__":
    main()
