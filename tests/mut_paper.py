"""The MUT cells as Jozefowicz et al. (2015) print them, for the NumPy and the torch tests.

Written independently of rnnkit: one example at a time, column vectors, W acting on the left.
Imports nothing but NumPy.
"""

import numpy as np


def sigm(a):
    return 1.0 / (1.0 + np.exp(-a))


def paper_step(kind, p, x, h):
    """One step of Jozefowicz et al. (2015), one example: x (D,), h (H,), W acting on the left."""
    W = {n: v.T for n, v in p.items() if v.ndim == 2}  # rnnkit's rows -> the paper's columns
    if kind == "mut1":
        z = sigm(W["W_xz"] @ x + p["b_z"])
        r = sigm(W["W_xr"] @ x + W["W_hr"] @ h + p["b_r"])
        cand = np.tanh(W["W_hh"] @ (r * h) + np.tanh(x) + p["b_h"])
    elif kind == "mut2":
        z = sigm(W["W_xz"] @ x + W["W_hz"] @ h + p["b_z"])
        r = sigm(x + W["W_hr"] @ h + p["b_r"])
        cand = np.tanh(W["W_hh"] @ (r * h) + W["W_xh"] @ x + p["b_h"])
    else:
        z = sigm(W["W_xz"] @ x + W["W_hz"] @ np.tanh(h) + p["b_z"])
        r = sigm(W["W_xr"] @ x + W["W_hr"] @ h + p["b_r"])
        cand = np.tanh(W["W_hh"] @ (r * h) + W["W_xh"] @ x + p["b_h"])
    return cand * z + h * (1 - z)
