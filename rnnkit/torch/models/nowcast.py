"""Next-frame models for the radar-like fields of ``rnnkit.tasks.radar`` (book chapter 14).

``Nowcaster`` reads T_in frames and predicts the frames that follow, one at a time, feeding
each prediction back as the next input (a rollout). Its core is either a ``ConvLSTM`` cell
(``kind="conv"``: images as states, Shi et al.'s model) or a fully connected LSTM cell on the
flattened frames (``kind="fc"``: the baseline that ignores that neighbouring pixels are
neighbours). Either way the readout predicts the *change* from the input frame (a 1x1
convolution of the hidden frames, or a linear map of the hidden vector), so a model that
learns nothing copies the last frame, the persistence baseline.
"""

import torch
from torch import nn

from rnnkit.torch.cells.conv_lstm import ConvLSTMCell
from rnnkit.torch.cells.lstm import LSTMCell

__all__ = ["Nowcaster", "persistence"]


def persistence(frames, horizon):
    """The copy-the-last-frame forecast: (N, horizon, C, S1, S2) from frames (N, T, C, S1, S2)."""
    return frames[:, -1:].expand(-1, horizon, -1, -1, -1)


class Nowcaster(nn.Module):
    """Predict the next frames of a sequence (module docstring).

    Args:
        size: S, the side of the square frames; channels: C.
        hidden: Hc hidden channels (``kind="conv"``) or H hidden units (``kind="fc"``).
        kind: "conv" or "fc". kernel_size: of the ConvLSTM (odd).
    """

    def __init__(self, size, hidden, *, kind="conv", channels=1, kernel_size=5):
        super().__init__()
        if kind not in ("conv", "fc"):
            raise ValueError(f"kind: expected 'conv' or 'fc', got {kind!r}")
        self.kind, self.size, self.channels = kind, size, channels
        if kind == "conv":
            self.cell = ConvLSTMCell(channels, hidden, kernel_size)
            self.readout = nn.Conv2d(hidden, channels, 1)
        else:
            self.cell = LSTMCell(channels * size * size, hidden)
            self.readout = nn.Linear(hidden, channels * size * size)
        with torch.no_grad():  # start as persistence: a zero change
            self.readout.weight.zero_()
            self.readout.bias.zero_()

    def _step(self, x, state):
        """One step: frames x (N, C, S, S) -> predicted next frames (N, C, S, S), state."""
        if self.kind == "conv":
            state = self.cell(x, state)
            return x + self.readout(state[0]), state
        state = self.cell(x.flatten(1), state)
        return x + self.readout(state[0]).view_as(x), state

    def forward(self, frames, horizon):
        """Read ``frames`` (N, T_in, C, S, S) and roll out ``horizon`` (>= 1) frames.

        Returns:
            one_step: the prediction of frames 2 .. T_in from the frames before, (N, T_in-1, C,
                S, S) (a training signal; T_in - 1 may be 0).
            forecast: frames T_in+1 .. T_in+horizon, (N, horizon, C, S, S), each predicted from
                the previous prediction.
        """
        if frames.dim() != 5 or tuple(frames.shape[2:]) != (self.channels, self.size,
                                                             self.size):
            raise ValueError(f"frames: expected shape (N, T, C, S, S) with C = {self.channels}, "
                             f"S = {self.size}, got {tuple(frames.shape)}")
        if not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"horizon: expected a positive int, got {horizon!r}")
        state, preds = None, []
        for x in frames.unbind(1):
            pred, state = self._step(x, state)
            preds.append(pred)
        out = [preds[-1]]
        for _ in range(horizon - 1):
            pred, state = self._step(out[-1], state)
            out.append(pred)
        one_step = torch.stack(preds[:-1], 1) if len(preds) > 1 else frames[:, :0]
        return one_step, torch.stack(out, 1)
