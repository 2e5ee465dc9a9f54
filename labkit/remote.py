"""The grader's side of a graded run: start the student's process, call into it, trust nothing.

:class:`Student` starts :mod:`labkit.sandbox` in a new session (its own process group) in an
empty temporary folder, sends it the student's cells one by one, then lets the check cells,
which run here in the grader's process, call the student's functions. A student function is a
:class:`Remote`: calling it sends the arguments (pickled: trusted data) and receives the result
as JSON (never unpickled here), decoded by :func:`decode` into NumPy arrays, tuples, lists,
dicts, strings and numbers, rnnkit objects rebuilt here from their data, or, for anything else
(a torch module, a class the student wrote), another :class:`Remote`. An array, list or dict
argument that the student's function changed in place fails the check (:class:`InputChanged`)
rather than being copied back: a function that zeroed its inputs would otherwise make the
reference, computed on them after the call, agree. An rnnkit object argument (a model that a
training exercise updates) is updated here from what the student's process left it as.
Functions of the grader's that a check passes to the student's code (a reference forward, a
buggy backward) run here when the student calls them.

So whatever the student's code patches in its own process (the check helpers, NumPy, builtins,
IPython's input transformers or exception handler), the only effect is on the values their
functions return; the comparisons and the points are computed here.

Each request has a deadline. When it passes, the student's process group gets SIGINT; if no
answer comes within :data:`GRACE_S` seconds the code ignored the interrupt and the process is
killed (:class:`StudentTimeout` says which).
"""

import base64
import builtins
import functools
import importlib
import io
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
import types

import numpy as np

__all__ = ["Student", "Remote", "StudentError", "StudentTimeout", "StudentDied", "InputChanged",
           "decode"]

GRACE_S = 3.0
_MAX_MESSAGE = 1 << 30


class StudentError(Exception):
    """The student's code raised; ``reply`` holds its type, message and where it arose."""

    def __init__(self, reply):
        self.reply = reply
        super().__init__(describe_error(reply))


class StudentNotImplemented(StudentError, NotImplementedError):
    """The student's code raised NotImplementedError (a stub still in place)."""

    def __str__(self):
        return self.reply.get("message") or "not implemented"


_TYPED = {}


def _typed_error(reply):
    """A StudentError that is also the builtin exception it was in the student's process
    (a check's ``except ValueError`` still catches it); ``str`` is the bare message."""
    name = reply.get("type")
    if reply.get("not_implemented"):
        return StudentNotImplemented(reply)
    base = getattr(builtins, name, None) if isinstance(name, str) else None
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(
            base, StudentError):
        return StudentError(reply)
    if name not in _TYPED:
        _TYPED[name] = type(f"Student{name}", (StudentError, base),
                            {"__str__": lambda self: str(self.reply.get("message", ""))})
    return _TYPED[name](reply)


class StudentTimeout(Exception):
    """The student's code ran past its deadline; ``ignored`` if it ignored SIGINT too."""

    def __init__(self, seconds, ignored):
        self.seconds, self.ignored = seconds, ignored
        what = ("and ignored the interrupt (SIGINT): it was killed" if ignored
                else "and was interrupted")
        super().__init__(f"ran past the time limit of {seconds:g} s {what}")


class StudentDied(Exception):
    """The student's process exited (os._exit, a crash in compiled code, out of memory)."""


class _NoAnswer(Exception):
    """No answer within the grace period after SIGINT."""


class ProtocolError(Exception):
    """The student's process sent something that is not a valid answer."""


def describe_error(reply):
    """One line: the error and the student's cell (and function) where it arose."""
    text = reply.get("text") or f"{reply.get('type', 'Error')}: {reply.get('message', '')}"
    where = reply.get("where")
    if where:
        cell, line, fn = where
        place = f"your code cell {cell}"
        if line:
            place += f", line {line}"
        if fn and fn != "<module>":
            place += f", in {fn}"
        return f"{text.splitlines()[-1] if text else 'error'} ({place})"
    return text.splitlines()[-1] if text else "error"


class Remote:
    """A function, class or object that lives in the student's process."""

    __slots__ = ("_student", "_target", "_type", "_callable")

    def __init__(self, student, target, type_name="function", is_callable=True):
        self._student, self._target = student, target
        self._type, self._callable = type_name, is_callable

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"'{self._type}' object (made by your code) is not callable")
        return self._student.call(self._target, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._student.getattr(self._target, name)

    def __repr__(self):
        return f"<{self._type} from your notebook>"

    def _labkit_describe(self):
        """What the value is, for a check's message (labkit.checks asks the type for it)."""
        return f"a {self._type} object"


def _expired(*args, **kwargs):
    raise RuntimeError("a function the grader passed to an earlier call of yours cannot be "
                       "called after that call returned")


class _Pickler(pickle.Pickler):
    def __init__(self, file, student):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.student = student

    def persistent_id(self, obj):
        if isinstance(obj, Remote):
            return obj._target
        if _callback(obj):
            key = len(self.student.callbacks) + 1
            self.student.callbacks[key] = obj
            return ("cb", key)
        return None


def _callback(obj):
    """Whether ``obj`` is a function of the grader's to call back rather than to pickle: the
    check cells' own functions, lambdas and closures, and rnnkit's (which may be stubs in the
    student's process). Library functions (copyreg, NumPy) pickle by reference."""
    if isinstance(obj, functools.partial):
        return True
    if not isinstance(obj, (types.FunctionType, types.MethodType)):
        return False
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", "")
    return (module.startswith(("rnnkit", "labkit", "__")) or "<" in qualname
            or isinstance(obj, types.MethodType))


def _array(text):
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def _rebuild(spec, state):
    module, _, qualname = spec.partition(":")
    if not module.startswith("rnnkit.") or not isinstance(state, dict):
        raise ProtocolError(f"not an rnnkit object: {spec!r}")
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not isinstance(cls, type) or cls.__module__ != module:
        raise ProtocolError(f"not an rnnkit class: {spec!r}")
    for key, value in state.items():
        # An attribute may not shadow a method (a "model" whose evaluate is the student's
        # function), nor hide code of the student's anywhere inside.
        if not isinstance(key, str) or callable(getattr(cls, key, None)) or _holds_remote(value):
            raise ProtocolError(f"a {cls.__name__} whose attribute {key!r} is not data")
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _holds_remote(value, depth=0):
    if isinstance(value, Remote) or callable(value) and not isinstance(value, type):
        return not isinstance(value, np.ndarray)
    if depth > 60:
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_remote(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_holds_remote(v, depth + 1) for v in value.values())
    return False


def decode(value, student=None, depth=0):
    """Turn the JSON the student's process sent back into values (no code runs)."""
    if depth > 60:
        raise ProtocolError("nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(v, student, depth + 1) for v in value]
    if type(value) is not dict or len(value) == 0:
        raise ProtocolError(f"unexpected value of type {type(value).__name__}")
    if "~nd" in value:
        return _array(value["~nd"])
    if "~np" in value:
        return _array(value["~np"])[()]
    if "~torch" in value:
        arr = _array(value["~torch"])
        torch = sys.modules.get("torch")
        return torch.from_numpy(arr) if torch is not None else arr
    if "~dtype" in value:
        return np.dtype(str(value["~dtype"]))
    if "~tuple" in value:
        return tuple(decode(v, student, depth + 1) for v in value["~tuple"])
    if "~dict" in value:
        out = {}
        for pair in value["~dict"]:
            k, v = pair
            k = decode(k, student, depth + 1)
            try:
                out[k] = decode(v, student, depth + 1)
            except TypeError:
                raise ProtocolError("unhashable key") from None
        return out
    if "~cb" in value and student is not None:
        return student.callbacks[int(value["~cb"])]
    if "~obj" in value:
        return _rebuild(str(value["~obj"]), decode(value["state"], student, depth + 1))
    if "~h" in value and student is not None:
        return Remote(student, ("h", int(value["~h"])), str(value.get("type", "object")),
                      bool(value.get("callable")))
    raise ProtocolError("unknown value")


class InputChanged(AssertionError):
    """A student's function changed an array, list or dict it was given."""


def _same(a, b, depth=0):
    if depth > 60:
        return False
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True)))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k], depth + 1) for k in a))
    try:
        return bool(a == b) or a is b
    except Exception:  # noqa: BLE001
        return False


def _write_back(orig, new):
    """Make the grader's argument ``orig`` what the student's function left it as."""
    if isinstance(orig, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == orig.shape and orig.flags.writeable:
            if not np.array_equal(orig, new, equal_nan=orig.dtype.kind in "fc"):
                orig[...] = new
    elif type(orig) is list and type(new) is list:
        orig[:] = new
    elif type(orig) is dict and type(new) is dict:
        orig.clear()
        orig.update(new)
    elif type(new) is type(orig) and hasattr(orig, "__dict__"):
        vars(orig).update(vars(new))


class Student:
    """The student's process: run cells in it, then call what they defined.

    Args:
        site: folder holding ``_labkit_sandbox.py`` and the packages the student may import.
        workdir: the empty folder the process runs in.
        env: its whole environment.
        output: open file that receives the process's stdout and stderr.
    """

    def __init__(self, site, workdir, env, output, start_timeout=60.0):
        self.callbacks = {}
        self._interrupting = False
        self.dead = None
        self.deadline = None
        self.limit = None
        g_r, s_w = os.pipe()
        s_r, g_w = os.pipe()
        paths = [str(site), *_site_packages()]
        boot = (f"import sys; sys.path[:0] = {paths!r}; "
                "import _labkit_sandbox; _labkit_sandbox.main()")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", boot, str(s_r), str(s_w)], cwd=workdir, env=env,
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            pass_fds=(s_r, s_w), start_new_session=True)
        os.close(s_r)
        os.close(s_w)
        self.rfd, self.wfd = g_r, g_w
        self.deadline, self.limit = time.monotonic() + start_timeout, start_timeout
        ready = self._recv()
        if ready.get("op") != "ready":
            raise ProtocolError("the student's process did not start")

    # ---------------------------------------------------------------- transport
    def _send(self, msg):
        buf = io.BytesIO()
        _Pickler(buf, self).dump(msg)
        data = buf.getvalue()
        try:
            os.write(self.wfd, struct.pack(">I", len(data)))
            view = memoryview(data)
            while view:
                view = view[os.write(self.wfd, view):]
        except (BrokenPipeError, OSError):
            self._died()

    def _read(self, n):
        chunks = []
        while n:
            wait = None if self.deadline is None else self.deadline - time.monotonic()
            if wait is not None and wait <= 0:
                if self._interrupting:
                    raise _NoAnswer
                self._timeout()
            ready, _, _ = select.select([self.rfd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self.rfd, min(n, 1 << 20))
            if not chunk:
                self._died()
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        if n > _MAX_MESSAGE:
            raise ProtocolError("message too large")
        try:
            msg = json.loads(self._read(n))
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError("an answer that is not JSON") from None
        if not isinstance(msg, dict):
            raise ProtocolError("an answer that is not an object")
        return msg

    def _died(self):
        self.kill()
        self.dead = self.dead or "died"
        raise StudentDied("the Python process running your code exited")

    def _timeout(self):
        limit = self.limit
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            pass
        self.deadline = time.monotonic() + GRACE_S
        self._interrupting = True
        try:
            reply = self._recv_reply()
        except (_NoAnswer, StudentDied, ProtocolError):
            self.kill()
            self.dead = "ignored SIGINT"
            raise StudentTimeout(limit, ignored=True) from None
        finally:
            self._interrupting = False
        self.deadline = None
        self.late = reply
        raise StudentTimeout(limit, ignored=False)

    def _recv_reply(self):
        """Wait for the reply to the last request, serving callbacks meanwhile."""
        while True:
            msg = self._recv()
            if msg.get("op") != "callback":
                return msg
            try:
                fn = self.callbacks[int(msg["id"])]
                args = decode(msg.get("args", []), self)
                kwargs = decode(msg.get("kwargs", {}), self)
                if not isinstance(args, list) or not isinstance(kwargs, dict):
                    raise ProtocolError("bad callback arguments")
                out = {"op": "callback-reply", "value": fn(*args, **kwargs)}
            except Exception as err:  # noqa: BLE001 (the grader's function failed: say so)
                out = {"op": "callback-reply", "error": f"{type(err).__name__}: {err}"}
            self._send(out)

    # ---------------------------------------------------------------- requests
    def set_deadline(self, seconds):
        self.limit = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def request(self, msg):
        if self.dead:
            raise StudentDied(f"the student's process is gone ({self.dead})")
        self._send(msg)
        reply = self._recv_reply()
        if reply.get("op") == "error":
            if msg.get("op") != "cell":
                raise _typed_error(reply)
            raise StudentError(reply)
        if reply.get("op") not in ("ok", "reply"):
            raise ProtocolError(f"unexpected answer {reply.get('op')!r}")
        return reply

    def run_cell(self, n, source):
        """Run the student's code cell number ``n``; raise StudentError if it fails."""
        self.request({"op": "cell", "n": n, "source": source})

    def defined(self, names):
        return set(self.request({"op": "names", "names": list(names)})["value"])

    def call(self, target, args, kwargs):
        args = list(args)
        first = len(self.callbacks) + 1
        try:
            reply = self.request({"op": "call", "target": target, "args": args,
                                  "kwargs": kwargs})
        finally:
            # A function of the grader's passed to this call (a reference backward, in Lab 2c)
            # can be called back only during the call: kept for later, it is a dead handle.
            for key in range(first, len(self.callbacks) + 1):
                self.callbacks[key] = _expired
        changed = []
        pairs = [(f"argument {i + 1}", orig, new) for i, (orig, new) in
                 enumerate(zip(args, reply.get("after") or [], strict=False))]
        pairs += [(f"argument {key}", kwargs[key], new)
                  for key, new in (reply.get("after_kw") or {}).items() if key in kwargs]
        for label, orig, new in pairs:
            if new is None:
                continue
            new = decode(new, self)
            if isinstance(orig, (np.ndarray, list, dict)):
                # Arrays, lists and dicts are inputs: changing one in place is refused, never
                # copied back (else a function could zero its inputs and the reference computed
                # after the call on them would agree).
                if not _same(orig, new):
                    changed.append(label)
            else:
                _write_back(orig, new)  # an rnnkit object (a model being trained)
        if changed:
            name = target[1] if target[0] == "name" else "function"
            raise InputChanged(f"your {name} changed its {', '.join(changed)} in place: it "
                               "must leave its inputs as they were (work on a copy)")
        return decode(reply["value"], self)

    def getattr(self, target, name):
        return decode(self.request({"op": "getattr", "target": target, "name": name})["value"],
                      self)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.rfd = self.wfd = -1
        self.dead = self.dead or "stopped"


def _site_packages():
    import sysconfig

    seen = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path and path not in seen and os.path.isdir(path):
            seen.append(path)
    return seen
