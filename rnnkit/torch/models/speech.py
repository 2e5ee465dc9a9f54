"""A framewise tagger for speech-like frames (``rnnkit.tasks.phones``; book chapter 14).

Stacked, optionally bidirectional LSTM layers (``rnnkit.torch.cells.LSTM``, torch.nn's fused
kernel with ``fast=True``) and a linear map of the top layer's states to phone scores at every
frame, as in Graves, Mohamed and Hinton's acoustic models before their CTC output layer.
"""

from torch import nn

from rnnkit.torch.cells.lstm import LSTM

__all__ = ["FrameTagger"]


class FrameTagger(nn.Module):
    """Frames (N, T, D) -> per-frame class scores (N, T, K).

    Args:
        input_size: D; classes: K; hidden: H per direction; num_layers: L;
        bidirectional: read the frames both ways; fast: use torch.nn's fused LSTM kernel.
    """

    def __init__(self, input_size, classes, hidden=32, num_layers=1, *, bidirectional=False,
                 fast=True):
        super().__init__()
        self.rnn = LSTM(input_size, hidden, num_layers, bidirectional=bidirectional, fast=fast)
        self.head = nn.Linear((2 if bidirectional else 1) * hidden, classes)

    def forward(self, frames):
        out, _ = self.rnn(frames)
        return self.head(out)  # (N, T, K)
