"""convattn: the companion package of the course *Convolution vs. Attention*.

One idea ties the course together: every layer mixes positions, and its **connection matrix**
(outputs × inputs) says how strongly each output depends on each input. Fully connected: dense and learned.
Convolution: banded and constant along its diagonals. Attention: computed from the input. CoAtNet: both.

Shape alphabet, used in every docstring and shape comment:

=========  ====================================================
``B``      batch
``C``      channels (images) or features per token (sequences)
``H, W``   image height and width; images are ``(B, C, H, W)``
``N``      sequence length; sequences are ``(B, N, C)``
``nh``     number of attention heads; ``hd`` head size
``k``      kernel size (``kh, kw`` in 2-D)
=========  ====================================================

A chapter reads ``from convattn import linear, plot_connections, ...`` and tells its story.
"""

from . import check, palette
from .connections import fc_connections, linear_map_matrix
from .counting import count_params, fc_params, image_fc_params, loglog_slope
from .data import Digits, load_digits_split, permute_pixels, pixel_permutation
from .fc import linear
from .models import MLP
from .train import History, accuracy, batch_order, fit
from .viz import plot_connections, plot_image_grid, plot_matrix, plot_scaling

__version__ = "0.1.0"

__all__ = [
    # chapter 1: fully connected
    "linear",
    "fc_connections",
    "linear_map_matrix",
    "count_params",
    "fc_params",
    "image_fc_params",
    "loglog_slope",
    # data, models, training
    "Digits",
    "load_digits_split",
    "pixel_permutation",
    "permute_pixels",
    "MLP",
    "History",
    "fit",
    "accuracy",
    "batch_order",
    # drawing
    "plot_connections",
    "plot_matrix",
    "plot_scaling",
    "plot_image_grid",
    "palette",
    # exercises
    "check",
]
