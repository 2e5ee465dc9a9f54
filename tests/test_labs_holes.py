"""Every hole of issue 12, as a cheating notebook built from a real lab: each scores 0 for the
exercises it touches, and is reported where there is something to report.

Most cheats start from the shipped Lab 1 (every answer still a stub), so any point they earned
would be a point the code did not earn. Helpers come from test_labs_grade.py.
"""

import json
import os
import time

import pytest
from test_labs_grade import (
    LAB1,
    ROOT,
    add_cell,
    cell_defining,
    check_cells,
    lab,
    load,
    messages,
    run,
    save,
    scores,
    set_source,
    solution,
    source,
)

from labkit.grade import main

ZERO = {"1a": 0, "1b": 0, "1c": 0, "1d": 0, "1e": 0}


def _assert_zero(summary):
    assert summary["score"] == 0 and summary["max_score"] == 10, messages(summary)
    assert scores(summary) == ZERO


# ------------------------------------------------------------------ nbval's tags and markers


def test_nbval_tags_and_marker_comments_on_checks_and_stubs_score_zero(tmp_path):
    nb = lab()
    for cell in check_cells(nb):
        cell["metadata"]["tags"] += ["raises-exception", "nbval-ignore-output", "nbval-skip",
                                     "skip-execution"]
        set_source(cell, "# NBVAL_RAISES_EXCEPTION\n# NBVAL_SKIP\n" + source(cell))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "NotImplementedError" in source(cell):
            cell["metadata"]["tags"] = ["raises-exception"]
            set_source(cell, "# NBVAL_RAISES_EXCEPTION\n" + source(cell))
    summary = run(nb, tmp_path)
    _assert_zero(summary)
    assert all(m.startswith("exercise 1") and "not implemented yet" in m
               for m in messages(summary).values())


def test_v3_worksheets_beside_v4_cells_is_refused(tmp_path, capsys):
    nb = lab()
    nb["worksheets"] = [{"cells": solution()["cells"]}]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"score": 10, "max_score": 10, "tests": []}))  # stale
    code = main([str(save(nb, tmp_path / LAB1)), "--results", str(results)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and "'worksheets' list (nbformat 3)" in err, err
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["max_score"] == 10


# ------------------------------------------------------------ code that changes what checks see

CHEATS = {
    "rebound check helpers": '''
import labkit.checks as lc
import rnnkit.gradcheck as gc
lc.check_close = lambda *a, **k: 0.0
lc.check_shape = lambda *a, **k: None
lc.require = lambda name, ns: (lambda *a, **k: (np.zeros((1, 3)), ()))
check_close, check_shape, require = lc.check_close, lc.check_shape, lc.require
gc.rel_error = lambda *a: 0.0
''',
    "patched numeric core": '''
np.abs = lambda x, *a, **k: np.zeros_like(x)
np.max = lambda *a, **k: 0.0
np.maximum = lambda a, b, *r, **k: np.ones_like(a)
np.all = lambda *a, **k: True
np.ndarray.max = None
''',
    "input transformer": '''
def _cheat(lines):
    text = "".join(lines)
    if "check_close" in text or "require(" in text:
        return ["print('all checks passed')\\n"]
    return lines
get_ipython().input_transformers_cleanup.append(_cheat)
get_ipython().input_transformers_post.append(_cheat)
''',
    "set_custom_exc": '''
get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
''',
    "shadowed builtins": '''
import builtins
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.NotImplementedError = type("NotImplementedError", (Exception,), {})
builtins.abs = lambda x: 0
''',
}


@pytest.mark.parametrize("cheat", CHEATS, ids=lambda k: k.replace(" ", "-"))
def test_code_that_changes_what_the_checks_see_scores_zero(cheat, tmp_path):
    nb = lab()
    add_cell(nb, CHEATS[cheat])
    _assert_zero(run(nb, tmp_path))


def test_an_array_impostor_is_not_an_array(tmp_path):
    # An ndarray subclass whose arithmetic and comparisons always say "equal".
    nb = solution()
    add_cell(nb, '''
class Agreeable(np.ndarray):
    def __sub__(self, other):
        return np.zeros(self.shape)
    __rsub__ = __sub__
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)
''')
    set_source(cell_defining(nb, "rnn_step_forward"), '''def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.zeros((x.shape[0], Wx.shape[1])).view(Agreeable)
    return h_next, (x, h_prev, Wx, Wh, h_next)
''')
    summary = run(nb, tmp_path)
    assert scores(summary)["1a"] == 0
    assert "expected an array of shape (1, 3), got a Agreeable object" in messages(summary)["1a"]


# ------------------------------------------------------------------ calling rnnkit's reference


def test_calling_the_reference_implementation_scores_zero(tmp_path):
    nb = solution()
    set_source(cell_defining(nb, "rnn_step_forward"), '''def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return ref.rnn_step_forward(x, h_prev, Wx, Wh, b)
''')
    set_source(cell_defining(nb, "rnn_forward"), '''def rnn_forward(x, h0, Wx, Wh, b):
    import importlib
    return importlib.import_module("rnnkit.cells.rnn").rnn_forward(x, h0, Wx, Wh, b)
''')
    summary = run(nb, tmp_path)
    assert scores(summary) == ZERO  # 1c-1e call the cheating rnn_forward
    ex = messages(summary)
    assert ("rnnkit.cells.rnn.rnn_step_forward is rnnkit's answer to exercise 1a: it is not "
            "available when the lab is graded; write your own") in ex["1a"]
    assert "rnnkit.cells.rnn.rnn_forward is rnnkit's answer to exercise 1b, 1c, 1d, 1e" in (
        ex["1b"])


def test_lab2_gradcheck_by_calling_check_backward_scores_zero(tmp_path):
    name = "lab02_bptt.ipynb"
    nb = solution(name)
    set_source(cell_defining(nb, "bptt_gradcheck"), '''
def bptt_gradcheck(forward, backward, x, h0, Wx, Wh, b, dh):
    return check_backward(forward, backward, [x, h0, Wx, Wh, b], dh)
''')
    summary = run(nb, tmp_path, name)
    assert scores(summary) == {"2a": 3, "2b": 3, "2c": 0, "2d": 2, "2e": 3}
    assert "rnnkit.gradcheck.check_backward is rnnkit's answer to exercise 2c" in (
        messages(summary)["2c"])


# ------------------------------------------------------------------ where the checks come from


def _passing_checks(nb):
    for cell in check_cells(nb):
        set_source(cell, "print('all checks passed')\n")
    return nb


def test_renamed_copy_with_edited_checks_scores_zero(tmp_path, capsys):
    summary = run(_passing_checks(lab()), tmp_path, "mine.ipynb")
    assert summary["lab"] == LAB1  # found by its exercise tags
    _assert_zero(summary)
    # with no tags left, the lab must be named: until then nothing is graded
    nb = _passing_checks(lab())
    for cell in check_cells(nb):
        cell["metadata"]["tags"] = []
    path = save(nb, tmp_path / "untagged" / "mine.ipynb")
    results = tmp_path / "r.json"
    assert main([str(path), "--results", str(results)]) == 2
    assert "cannot tell which lab mine.ipynb is: name it with --lab" in capsys.readouterr().err
    assert json.loads(results.read_text())["score"] == 0
    summary = run(nb, tmp_path, "mine.ipynb", lab="lab01_rnn_forward")
    _assert_zero(summary)


def test_reference_option_must_be_a_released_lab(tmp_path, capsys):
    cheat = save(_passing_checks(lab()), tmp_path / LAB1)
    results = tmp_path / "results.json"
    for bad in (tmp_path / "missing.ipynb", cheat):
        assert main([str(cheat), "--reference", str(bad), "--results", str(results)]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and "--lab" in err, err
        data = json.loads(results.read_text())
        assert data["score"] == 0
    # the real released lab is accepted, and the cheat still scores 0
    assert main([str(cheat), "--reference", str(ROOT / "labs" / LAB1),
                 "--results", str(results)]) == 1
    assert json.loads(results.read_text())["score"] == 0


def test_an_edited_labs_folder_in_the_current_directory_is_not_used(tmp_path, monkeypatch):
    # An edited labs/ (committed to git or not) is what the old grader compared with.
    edited = _passing_checks(lab())
    save(edited, tmp_path / "labs" / LAB1)
    monkeypatch.chdir(tmp_path)
    summary = run(edited, tmp_path, reference=None)
    _assert_zero(summary)
    summary = run(edited, tmp_path)
    assert summary["max_score"] == 10  # maxima from the manifest, not the submission


# ------------------------------------------------------------------ processes and environment


def test_a_process_left_behind_cannot_rewrite_results(tmp_path):
    results, pidfile = tmp_path / "results.json", tmp_path / "daemon.pid"
    nb = lab()
    add_cell(nb, f'''
import json, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open({str(pidfile)!r}, "w") as f:
            f.write(str(os.getpid()))
        for _ in range(100):
            try:
                with open({str(results)!r}, "w") as f:
                    json.dump({{"score": 10, "max_score": 10, "tests": []}}, f)
            except OSError:
                pass
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
time.sleep(0.3)
''')
    summary = run(nb, tmp_path, results=results)
    _assert_zero(summary)
    pid = int(pidfile.read_text())
    time.sleep(1.0)
    assert json.loads(results.read_text())["score"] == 0
    assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read()


def test_clean_environment_empty_folder_and_nothing_beside_the_notebook(tmp_path, monkeypatch):
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "evil-ran"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in ("sitecustomize.py", "usercustomize.py", "evilplugin.py", "startup.py"):
        (evil / name).write_text(payload)
    monkeypatch.setenv("PYTHONPATH", str(evil))
    monkeypatch.setenv("PYTEST_PLUGINS", "evilplugin")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p evilplugin")
    monkeypatch.setenv("PYTHONSTARTUP", str(evil / "startup.py"))
    monkeypatch.setenv("LABKIT_GRADE_LOG", str(tmp_path / "log"))
    # beside the notebook: an rnnkit whose reference agrees with anything, and a conftest.py
    fake = tmp_path / "sub" / "rnnkit" / "cells"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text(payload)
    (fake / "__init__.py").write_text(payload)
    (fake / "rnn.py").write_text(payload)
    (tmp_path / "sub" / "conftest.py").write_text(payload)
    seen = tmp_path / "seen.json"
    nb = lab()
    add_cell(nb, f'''
import json, os, sys
json.dump({{"env": sorted(os.environ), "cwd": sorted(os.listdir(".")), "path": sys.path,
           "rnnkit": __import__("rnnkit").__file__}}, open({str(seen)!r}, "w"))
''')
    _assert_zero(run(nb, tmp_path))
    assert not marker.exists(), marker.read_text()
    data = json.loads(seen.read_text())
    assert data["cwd"] == [LAB1]
    assert not {"PYTHONPATH", "PYTEST_PLUGINS", "PYTEST_ADDOPTS", "PYTHONSTARTUP",
                "LABKIT_GRADE_LOG"} & set(data["env"]), data["env"]
    assert str(tmp_path / "sub") not in data["rnnkit"] and str(evil) not in data["path"]


# ------------------------------------------------------------------ malformed input

MALFORMED = {
    "a number in source": lambda nb: nb["cells"][1].update(source=["import numpy\n", 42]),
    "a cell that is not an object": lambda nb: nb["cells"].insert(1, "print('hi')"),
    "no cells list": lambda nb: nb.update(cells={"0": {}}),
    "nbformat 3": lambda nb: nb.update(nbformat=3),
    "tags not strings": lambda nb: nb["cells"][1]["metadata"].update(tags=[1, 2]),
    "an unknown cell type": lambda nb: nb["cells"][1].update(cell_type="python"),
}


@pytest.mark.parametrize("case", [*MALFORMED, "not JSON", "a JSON list", "empty file"])
def test_malformed_input_exits_2_with_one_line_and_zero_results(case, tmp_path, capsys):
    path = tmp_path / LAB1
    if case in MALFORMED:
        nb = load(ROOT / "labs" / LAB1)
        MALFORMED[case](nb)
        path.write_text(json.dumps(nb))
    else:
        path.write_text({"not JSON": '{"cells": [', "a JSON list": "[1, 2]",
                         "empty file": ""}[case])
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"score": 10, "max_score": 10, "tests": []}))  # stale
    assert main([str(path), "--results", str(results)]) == 2
    out = capsys.readouterr()
    assert out.err.startswith("error: ") and out.err.count("\n") == 1, out.err
    assert "Traceback" not in out.err + out.out
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["max_score"] == 10 and len(data["tests"]) == 5


def test_a_returned_model_cannot_bring_its_own_methods(tmp_path):
    # Lab 3f evaluates the model train_shakespeare returns: an rnnkit CharRNN is rebuilt in the
    # grader from its data, and an attribute that would shadow evaluate() is refused.
    name = "lab03_char_lm.ipynb"
    nb, sol = lab(name), solution(name)
    cell_defining(nb, "build_vocab")["source"] = cell_defining(sol, "build_vocab")["source"]
    set_source(cell_defining(nb, "train_shakespeare"), '''
def train_shakespeare(train_ids, V, steps):
    model = CharRNN(V, 8, "rnn", rng=np.random.default_rng(0))
    model.evaluate = lambda *args, **kwargs: 0.01  # "validation loss": tiny
    return model
''')
    summary = run(nb, tmp_path, name)
    assert scores(summary)["3a"] == 2 and scores(summary)["3f"] == 0
    assert "a CharRNN whose attribute 'evaluate' is not data" in messages(summary)["3f"]


def test_changing_the_inputs_so_the_reference_agrees_scores_zero(tmp_path):
    # Zero every input and return tanh(0): a reference computed on the inputs after the call
    # would agree. Inputs changed in place are refused, not copied back.
    nb = lab()
    set_source(cell_defining(nb, "rnn_forward"), '''def rnn_forward(x, h0, Wx, Wh, b):
    for a in (x, h0, Wx, Wh, b):
        a[...] = 0
    return np.zeros((x.shape[0], x.shape[1], Wh.shape[0])), []
''')
    summary = run(nb, tmp_path)
    assert scores(summary)["1b"] == 0
    assert messages(summary)["1b"].startswith(  # the hand example: h0 and b are zeros
        "your rnn_forward changed its argument 1, argument 3, argument 4 in place: it must "
        "leave its inputs as they were (work on a copy)")


def test_lab5_steps_may_not_use_the_torch_twin_but_5e_may(tmp_path):
    pytest.importorskip("torch", reason="lab 5 uses torch, which is not installed")
    # 5a answered with rnnkit.torch's LSTMCell scores 0; 5e, which may use rnnkit.torch, is
    # graded in a run of its own where its LSTM is real: the model builds, and 5e fails only
    # on its own stub.
    name = "lab05_lstm_gru.ipynb"
    nb = lab(name)
    set_source(cell_defining(nb, "lstm_step_forward"), '''
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    import torch
    from rnnkit.torch.cells.lstm import LSTMCell
    cell = LSTMCell(Wx.shape[0], Wx.shape[1] // 4, dtype=torch.float64)
    raise RuntimeError("unreachable")
''')
    cell = cell_defining(nb, "AddingLSTM")
    given_train = source(cell)[source(cell).index("def train_adding"):]
    set_source(cell, given_train + '''

class AddingLSTM(nn.Module):
    def __init__(self, H):
        super().__init__()
        self.rnn = LSTM(2, H, fast=True)

    def forward(self, x):
        raise RuntimeError("built fine")
''')
    ex = messages(run(nb, tmp_path, name))
    assert "rnnkit.torch.cells.lstm.LSTMCell is rnnkit's answer to exercise 5a, 5b, 5c" in (
        ex["5a"]), ex["5a"]
    assert "not implemented yet: train_adding" in ex["5e"], ex["5e"]  # LSTM(...) was allowed


def test_a_reference_passed_to_one_call_cannot_be_kept_for_later(tmp_path):
    # Lab 2c's check hands rnnkit's forward and backward to bptt_gradcheck; kept in a global,
    # they would answer 2d (whose own reference is a stub) if they outlived the call.
    name = "lab02_bptt.ipynb"
    nb = solution(name)
    cell = cell_defining(nb, "bptt_gradcheck")
    set_source(cell, source(cell).replace('    """Compare', '''    global KEPT
    if "KEPT" not in globals():
        KEPT = (forward, backward)
    """Compare''', 1))
    set_source(cell_defining(nb, "tbptt_grads"), '''
def tbptt_grads(x, h0, Wx, Wh, b, dh, k):
    forward, backward = KEPT
    T = x.shape[1]
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    h_start = h0
    for s in range(0, T, k):
        h, cache = forward(x[:, s:s + k], h_start, Wx, Wh, b)
        _, _, dWx_c, dWh_c, db_c = backward(dh[:, s:s + k], cache)
        dWx, dWh, db = dWx + dWx_c, dWh + dWh_c, db + db_c
        h_start = h[:, -1]
    return dWx, dWh, db
''')
    summary = run(nb, tmp_path, name)
    assert scores(summary) == {"2a": 3, "2b": 3, "2c": 2, "2d": 0, "2e": 3}, messages(summary)
    assert "cannot be called after that call returned" in messages(summary)["2d"]


def test_the_graded_notebook_is_plain_v4_with_released_checks_and_clean_student_cells():
    from labkit.notebook import graded_notebook, load_submission
    from labkit.release import load_manifest

    released = load_manifest()["labs"][LAB1]["notebook"]
    nb = solution()
    for cell in check_cells(nb):
        set_source(cell, "pass\n")
        cell["metadata"]["tags"] += ["raises-exception"]
    stub = cell_defining(nb, "rnn_forward")
    stub["metadata"]["tags"] = ["raises-exception", "nbval-skip"]
    set_source(stub, "# NBVAL_SKIP\n" + source(stub))
    graded = graded_notebook(load_submission(json.dumps(nb)), released)
    assert graded["nbformat"] == 4 and "worksheets" not in graded
    checks = [c for c in graded["cells"] if c["metadata"].get("tags")]
    assert ["".join(c["source"]) for c in checks] == [c["source"] for c in released["cells"]
                                                     if "tags" in c["metadata"]]
    mine = [c for c in graded["cells"] if not c["metadata"]]
    assert not any("NBVAL" in "".join(c["source"]) for c in mine)
    assert not any("".join(c["source"]) == "pass\n" for c in mine)  # its own checks: dropped
    # each released check sits right after the student's cell that it checks
    order = ["".join(c["source"])[:20] for c in graded["cells"]]
    assert order.index("def rnn_forward(x, h") + 1 == order.index(
        'forward = require("r')
