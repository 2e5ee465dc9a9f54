"""The generated tasks of chapter 14 (radar-like fields, pedestrian scenes, formant-like phones)
and the torch pieces that read them: shapes, determinism, and the properties each promises."""

import numpy as np
import pytest

from rnnkit.tasks.phones import FORMANTS, phone_frames
from rnnkit.tasks.radar import radar_fields, render_blobs
from rnnkit.tasks.trajectories import pedestrian_scenes, walk

torch = pytest.importorskip("torch")
from rnnkit.torch.models.nowcast import Nowcaster, persistence  # noqa: E402
from rnnkit.torch.models.social import TrajectoryLSTM, social_tensor  # noqa: E402
from rnnkit.torch.models.speech import FrameTagger  # noqa: E402


# -- radar ----------------------------------------------------------------------------------
def test_radar_fields_shapes_and_determinism():
    a = radar_fields(5, 7, np.random.default_rng(0), size=11, blobs=2)
    b = radar_fields(5, 7, np.random.default_rng(0), size=11, blobs=2)
    assert a.frames.shape == (5, 7, 1, 11, 11) and a.frames.dtype == np.float32
    assert a.centres.shape == (5, 7, 2, 2) and a.widths.shape == a.amplitudes.shape == (5, 7, 2)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    c = radar_fields(5, 7, np.random.default_rng(1), size=11, blobs=2)
    assert not np.array_equal(a.frames, c.frames)


def test_radar_fields_are_the_blobs_they_report_moving_with_the_wind():
    f = radar_fields(40, 9, np.random.default_rng(2), size=16, max_speed=1.5,
                     dtype=np.float64)
    assert np.allclose(f.frames[:, :, 0], render_blobs(f.centres, f.widths, f.amplitudes, 16))
    t = np.arange(9)[None, :, None, None]
    assert np.allclose(f.centres - f.centres[:, :1], t * f.wind[:, None, None], atol=1e-12)
    assert np.all(np.linalg.norm(f.wind, axis=1) <= 1.5) and np.all(f.frames >= 0)
    assert np.all(f.widths >= 0.7) and np.all(f.amplitudes <= 1.0)
    # every field has at least one blob, and some fields fewer than the most
    present = f.amplitudes.max(axis=1) > 0
    assert present.any(axis=1).all() and not present.all()


def test_render_blobs_puts_a_blob_where_it_says():
    """A single blob well inside the field: its centre of mass is its centre."""
    frame = render_blobs(np.array([[6.3, 8.6]]), np.array([1.5]), np.array([0.8]), 16)
    rows, cols = np.indices(frame.shape)
    com = (rows * frame).sum() / frame.sum(), (cols * frame).sum() / frame.sum()
    assert np.allclose(com, (6.3, 8.6), atol=1e-3) and abs(frame.max() - 0.8) < 0.1


def test_radar_fields_reject_bad_arguments():
    with pytest.raises(ValueError, match="T: expected an int of at least 2"):
        radar_fields(2, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="size"):
        radar_fields(2, 3, np.random.default_rng(0), size=2)
    with pytest.raises(TypeError, match="rng"):
        radar_fields(2, 3, 0)
    with pytest.raises(ValueError, match="max_speed"):
        radar_fields(2, 3, np.random.default_rng(0), max_speed=-1.0)


def test_nowcaster_starts_as_persistence_and_checks_its_input():
    frames = torch.rand(3, 4, 1, 9, 9)
    for kind in ("conv", "fc"):
        model = Nowcaster(9, 4, kind=kind, kernel_size=3)
        one_step, forecast = model(frames, 5)
        assert one_step.shape == (3, 3, 1, 9, 9) and forecast.shape == (3, 5, 1, 9, 9)
        assert torch.equal(forecast, persistence(frames, 5))  # zero readout: no change
        assert torch.equal(one_step, frames[:, :3])
    with pytest.raises(ValueError, match="frames: expected shape"):
        model(torch.rand(3, 4, 9, 9), 2)
    with pytest.raises(ValueError, match="horizon"):
        model(frames, 0)
    with pytest.raises(ValueError, match="kind"):
        Nowcaster(9, 4, kind="gru")


# -- trajectories ---------------------------------------------------------------------------
def test_pedestrian_scenes_shapes_and_determinism():
    a = pedestrian_scenes(6, np.random.default_rng(0), people=3, T=11)
    b = pedestrian_scenes(6, np.random.default_rng(0), people=3, T=11)
    assert a.positions.shape == (6, 11, 3, 2) and a.preferred.shape == (6, 3, 2)
    assert np.array_equal(a.positions, b.positions)
    speed = np.linalg.norm(a.preferred, axis=-1)
    assert np.all((speed >= 1.0) & (speed <= 1.6))


def test_a_lone_walker_moves_at_constant_velocity():
    start, pref = np.array([[[0.5, -1.0]]]), np.array([[[1.2, 0.3]]])
    pos = walk(start, pref, 6, dt=0.4)
    expect = start[:, None] + 0.4 * np.arange(6)[None, :, None, None] * pref[:, None]
    assert np.allclose(pos, expect, atol=1e-12)


def test_walkers_repel_each_other():
    """Two walkers heading straight at each other: never closer than without the force, and
    pushed apart sideways once slightly offset; with A = 0 they pass through each other."""
    start = np.array([[[-3.0, 0.05], [3.0, -0.05]]])
    pref = np.array([[[1.2, 0.0], [-1.2, 0.0]]])
    free = walk(start, pref, 16, A=0.0)
    pushed = walk(start, pref, 16)
    gap = lambda p: np.linalg.norm(p[0, :, 0] - p[0, :, 1], axis=-1).min()  # noqa: E731
    assert gap(free) < 0.3 and gap(pushed) > gap(free) + 0.05
    assert pushed[0, -1, 0, 1] > 0.2 > -0.2 > pushed[0, -1, 1, 1]  # each steps to its own side
    # the force is mutual and opposite: the pair's centre of mass keeps its straight line
    assert np.allclose(pushed.mean(axis=2), free.mean(axis=2), atol=1e-9)


def test_social_tensor_matches_a_loop_over_walkers():
    rng = np.random.default_rng(3)
    N, P, H, G, cell = 2, 5, 3, 4, 0.7
    pos = torch.tensor(rng.uniform(-1.5, 1.5, (N, P, 2)))
    h = torch.tensor(rng.standard_normal((N, P, H)))
    got = social_tensor(pos, h, G, cell).reshape(N, P, G, G, H)
    expect = torch.zeros(N, P, G, G, H, dtype=torch.float64)
    for n in range(N):
        for i in range(P):
            for j in range(P):
                rel = (pos[n, j] - pos[n, i]).numpy()
                m, q = (int(v) for v in np.floor(rel / cell + G / 2))
                if j != i and 0 <= m < G and 0 <= q < G:
                    expect[n, i, m, q] += h[n, j]
    assert torch.equal(got, expect) and expect.abs().sum() > 0


def test_trajectory_lstm_shapes_and_that_only_the_social_model_sees_the_others():
    torch.manual_seed(0)
    obs = torch.tensor(pedestrian_scenes(3, np.random.default_rng(4)).positions[:, :8],
                       dtype=torch.float32)
    moved = obs.clone()
    moved[:, :, 1:] += 0.3  # shift everyone but walker 0
    for social in (False, True):
        model = TrajectoryLSTM(8, 4, social=social)
        pred, pred_moved = model(obs, 5), model(moved, 5)
        assert pred.shape == (3, 5, 4, 2)
        changed = not torch.allclose(pred[:, :, 0], pred_moved[:, :, 0])
        assert changed == social
    with pytest.raises(ValueError, match="observed: expected shape"):
        model(obs[:, :1], 3)


# -- phones ---------------------------------------------------------------------------------
def test_phone_frames_shapes_determinism_and_labels():
    u = phone_frames(8, 50, np.random.default_rng(0))
    v = phone_frames(8, 50, np.random.default_rng(0))
    assert u.frames.shape == (8, 50, 16) and u.labels.shape == (8, 50)
    assert np.array_equal(u.frames, v.frames) and np.array_equal(u.labels, v.labels)
    assert u.labels.min() >= 0 and u.labels.max() < len(FORMANTS)
    changes = u.labels[:, 1:] != u.labels[:, :-1]
    assert np.array_equal(changes, u.starts[:, 1:]) and u.starts[:, 0].all()
    runs = np.concatenate([np.diff(np.flatnonzero(row)) for row in u.starts])  # whole phones
    assert runs.min() >= 3 and runs.max() <= 9


def test_phone_frames_hold_their_formants_then_glide():
    u = phone_frames(20, 40, np.random.default_rng(1), noise=0.0, glide=2)
    ends = np.zeros_like(u.starts)
    ends[:, :-1] = u.starts[:, 1:]  # the last frame of each phone (but the row's last)
    gliding = ends | np.roll(ends, -1, axis=1) & ~u.starts
    steady = ~gliding
    steady[:, -2:] = False  # the row's last phone may be cut before or inside its glide
    assert np.allclose(u.formants[steady], FORMANTS[u.labels[steady]])
    assert not np.isclose(u.formants[ends], FORMANTS[u.labels[ends]]).all(axis=-1).any()
    # with no noise a frame is its two bumps, highest at the formant bands
    n, t = np.argwhere(steady)[0]
    assert set(np.argsort(u.frames[n, t])[-2:]) == set(FORMANTS[u.labels[n, t]].astype(int))


def test_phone_frames_noise_has_the_asked_deviation():
    clean = phone_frames(50, 60, np.random.default_rng(2), noise=0.0, dtype=np.float64)
    noisy = phone_frames(50, 60, np.random.default_rng(2), noise=0.8, dtype=np.float64)
    assert np.array_equal(clean.labels, noisy.labels)
    assert abs((noisy.frames - clean.frames).std() - 0.8) < 0.01


def test_phone_frames_reject_bad_arguments():
    with pytest.raises(ValueError, match="durations"):
        phone_frames(2, 10, np.random.default_rng(0), durations=(2, 5), glide=2)
    with pytest.raises(ValueError, match="bands"):
        phone_frames(2, 10, np.random.default_rng(0), bands=8)


def test_frame_tagger_shapes():
    for bi in (False, True):
        model = FrameTagger(16, 6, 8, 2, bidirectional=bi)
        assert model(torch.rand(3, 10, 16)).shape == (3, 10, 6)
