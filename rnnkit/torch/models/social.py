"""Social LSTM for trajectories (Alahi et al. 2016; book chapter 14), and the same model alone.

Every walker of a scene has an LSTM (one set of weights shared by all) that reads its
displacement at each step and predicts the next one. In the social model, a walker's step also
reads a *social tensor*: a G x G grid centred on the walker, ``cell`` metres per grid cell, in
which each cell holds the sum of the hidden states of the other walkers standing in it::

    S_i[m, n, :] = sum_{j != i} 1[j in cell (m, n) of i's grid] h_j        # (G, G, H)
    e_i = relu(W_e d_i + b_e);  a_i = relu(W_a vec(S_i) + b_a)
    h_i, c_i = LSTM([e_i, a_i], (h_i, c_i))
    d_i^next = W_o h_i + b_o

``social=False`` drops ``a_i``: a vanilla LSTM per walker that never sees the others. The
paper predicts a bivariate Gaussian per step and trains by its likelihood; this one predicts
the displacement and trains by squared error (the mean of that Gaussian). Every walker of a
batch is present at every step (no entering or leaving).
"""

import torch
from torch import nn

from rnnkit.torch.cells.lstm import LSTMCell

__all__ = ["social_tensor", "TrajectoryLSTM"]


def social_tensor(pos, h, grid, cell):
    """Pool the others' hidden states on each walker's grid.

    Args:
        pos: positions, (N, P, 2); h: hidden states, (N, P, H).
        grid: G, cells per side; cell: side of a grid cell (same unit as pos).
    Returns:
        (N, P, G*G*H): for walker i, cell (m, n) (m along the first coordinate, row-major)
        holds the sum of h_j over the walkers j != i with ``floor(rel / cell + G / 2) ==
        (m, n)``, where ``rel = pos_j - pos_i``.
    """
    N, P, H = h.shape
    rel = pos[:, None, :, :] - pos[:, :, None, :]  # (N, P, P, 2): rel[i, j] = pos_j - pos_i
    idx = torch.floor(rel / cell + grid / 2).long()  # grid coordinates of j around i
    inside = ((idx >= 0) & (idx < grid)).all(-1) & ~torch.eye(P, dtype=torch.bool,
                                                               device=pos.device)
    flat = (idx[..., 0] * grid + idx[..., 1]).clamp(0, grid * grid - 1)  # (N, P, P)
    onehot = nn.functional.one_hot(flat, grid * grid).to(h.dtype) * inside[..., None]
    return torch.einsum("nijg,njh->nigh", onehot, h).reshape(N, P, grid * grid * H)


class TrajectoryLSTM(nn.Module):
    """An LSTM per walker, with social pooling or without (module docstring).

    Args:
        hidden: H; embed: width of the displacement (and social) embeddings.
        social: pool the neighbours' hidden states; grid: G; cell: metres per grid cell.
        scale: displacements are divided by it on the way in and multiplied on the way out.
    """

    def __init__(self, hidden=32, embed=16, *, social=True, grid=4, cell=0.75, scale=0.5):
        super().__init__()
        self.social, self.grid, self.cell, self.scale = social, grid, cell, scale
        self.embed = nn.Linear(2, embed)
        self.pool = nn.Linear(grid * grid * hidden, embed) if social else None
        self.lstm = LSTMCell(2 * embed if social else embed, hidden)
        self.out = nn.Linear(hidden, 2)

    def _step(self, pos, d, state):
        """One step for every walker: positions (N, P, 2), displacements (N, P, 2)."""
        N, P, _ = pos.shape
        h, c = state
        x = torch.relu(self.embed(d / self.scale))
        if self.social:
            a = torch.relu(self.pool(social_tensor(pos, h, self.grid, self.cell)))
            x = torch.cat((x, a), dim=-1)
        h, c = self.lstm(x.reshape(N * P, -1), (h.reshape(N * P, -1), c.reshape(N * P, -1)))
        h, c = h.view(N, P, -1), c.view(N, P, -1)
        return self.scale * self.out(h), (h, c)

    def forward(self, observed, horizon):
        """Read observed positions (N, T_obs, P, 2), T_obs >= 2; predict the next ``horizon``.

        Returns:
            positions, (N, horizon, P, 2): each step's predicted displacement is added to the
            last position and fed back as the next input.
        """
        if observed.dim() != 4 or observed.shape[-1] != 2 or observed.shape[1] < 2:
            raise ValueError(f"observed: expected shape (N, T_obs, P, 2) with T_obs >= 2, got "
                             f"{tuple(observed.shape)}")
        N, T_obs, P, _ = observed.shape
        H = self.lstm.hidden_size
        state = (observed.new_zeros(N, P, H), observed.new_zeros(N, P, H))
        for t in range(1, T_obs):
            d_next, state = self._step(observed[:, t], observed[:, t] - observed[:, t - 1],
                                       state)
        pos, out = observed[:, -1], []
        for _ in range(horizon):
            pos = pos + d_next
            out.append(pos)
            if len(out) < horizon:
                d_next, state = self._step(pos, d_next, state)
        return torch.stack(out, dim=1)
