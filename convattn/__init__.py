"""convattn: the companion package of the course *Convolution vs. Attention*.

One idea ties the course together: every layer mixes positions, and its **connection
matrix** (outputs × inputs) says how strongly each output depends on each input. Fully
connected: dense and learned. Convolution: banded and constant along its diagonals.
Attention: computed from the input. CoAtNet: both.

Shape alphabet, used in every docstring and shape comment:

=========  ====================================================
``B``      batch
``C``      channels (images) or features per token (sequences)
``H, W``   image height and width; images are ``(B, C, H, W)``
``N``      sequence length; sequences are ``(B, N, C)``
``nh``     number of attention heads; ``hd`` head size
``k``      kernel size (``kh, kw`` in 2-D)
=========  ====================================================

A chapter reads ``from convattn import linear, plot_connections, ...`` (the names
below, in the order of the book) and, for the experiments, ``from convattn.experiments
import ...``. The sub-packages, dependencies pointing down this list:

- ``layers``: fc, conv, attention (basic, QKV, relative), positions, long
  convolutions;
- ``models``: the blocks (one token block, MBConv), the image and sequence models;
- ``analysis``: connection matrices, receptive fields, parameters, FLOPs, measured
  time and memory, the five layers compared; ``data``: the data sets, tensors only;
- ``train``: one training protocol; ``experiments``: the studies, as its
  configurations;
- ``display``: colours, figures, the package's source on the page;
- ``check``: the exercises' checks, one module per chapter.

The instructor's tooling (student edition, grader) is its own package, ``coursework``,
beside this one; the maintainer scripts (benchmark, sweeps) live in ``scripts/``.
"""

from .analysis.attention_maps import (
    attention_weights,
    bias_locality,
    mean_attention_distance,
)
from .analysis.benchmark import (
    Result,
    crossover,
    read_csv,
    scaling_exponents,
    speed_ratios,
)
from .analysis.compare import (
    ALL_LAYER_KINDS,
    LAYER_KINDS,
    MIDDLE_KINDS,
    layer_flops,
    make_layer,
    measure_layer,
    position_connections,
)
from .analysis.connections import (
    conv1d_connections,
    conv2d_connections,
    fc_connections,
    gated_conv_connections,
    linear_map_matrix,
    long_conv_connections,
)
from .analysis.conv_attention import (
    attention_from_conv2d,
    bias_kernel,
    relative_connections,
)
from .analysis.flops import (
    attention_conv_crossover,
    attention_flops,
    attention_weights_bytes,
    conv1d_macs,
    conv2d_macs,
    fc_flops,
    mbconv_flops,
    mha_flops,
    relative_attention_flops,
    transformer_block_flops,
)
from .analysis.measuring import (
    loglog_slope,
    peak_memory,
    saved_activation_bytes,
    time_call,
)
from .analysis.params import (
    conv1d_params,
    conv2d_params,
    count_params,
    fc_params,
    image_fc_params,
    mha_params,
    parameter_table,
    relative_attention_params,
    self_attention_params,
)
from .analysis.receptive import empirical_receptive_field, receptive_field
from .analysis.recover import RecoveredConv, is_convolution
from .data.digits import load_digits_split, permute_pixels, pixel_permutation
from .data.lookup import make_lookup
from .data.mnist1d import load_mnist1d
from .data.mqar import make_mqar
from .data.words import FEATURES, SENTENCES, embed_sentence
from .display import palette
from .display.attention_figure import lookup_attention_figure
from .display.charts import plot_errorbars, plot_scaling
from .display.explorer import connection_explorer
from .display.receptive_figure import receptive_field_figure
from .display.source import show_source
from .display.viz import plot_connections, plot_image_grid, plot_matrix
from .layers.attention import (
    MultiHeadSelfAttention,
    SelfAttention,
    causal_mask,
    dot_product_attention,
    scaled_dot_product_attention,
)
from .layers.basic_attention import basic_self_attention
from .layers.conv import (
    conv1d,
    conv2d,
    conv_output_size,
    im2col_conv2d,
    same_padding,
)
from .layers.conv_loops import conv1d_loops, conv2d_loops
from .layers.fc import linear
from .layers.long_conv import GatedLongConv, LongConv, fft_conv, selective_scan_ref
from .layers.positions import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_positions,
)
from .layers.pytorch import copy_attention_weights
from .layers.relative import (
    RelativeSelfAttention,
    relative_attention,
    relative_bias,
    relative_position_index,
    relative_self_attention,
)
from .models.blocks import MBConv, TransformerBlock
from .models.hybrid import HybridConfig, HybridNet
from .models.recall import RecallNet
from .models.sequence import SeqCNN, SeqMLP, SeqTransformer
from .models.vision import MLP
from .train import accuracy, fit, train_run

# isort: split
# last: the exercise checks import the names above
from . import check

__version__ = "0.1.0"

__all__ = [
    # fully connected
    "linear",
    "fc_connections",
    "linear_map_matrix",
    "count_params",
    "fc_params",
    "image_fc_params",
    "loglog_slope",
    "plot_scaling",
    "load_digits_split",
    "pixel_permutation",
    "permute_pixels",
    "MLP",
    "fit",
    "train_run",
    "accuracy",
    # convolution
    "conv1d",
    "conv2d",
    "im2col_conv2d",
    "conv1d_loops",
    "conv2d_loops",
    "conv_output_size",
    "same_padding",
    "conv1d_connections",
    "conv2d_connections",
    "is_convolution",
    "RecoveredConv",
    "receptive_field",
    "empirical_receptive_field",
    "conv1d_params",
    "conv2d_params",
    "conv1d_macs",
    "conv2d_macs",
    # basic attention
    "basic_self_attention",
    "embed_sentence",
    "FEATURES",
    "SENTENCES",
    # QKV attention
    "scaled_dot_product_attention",
    "dot_product_attention",
    "causal_mask",
    "MultiHeadSelfAttention",
    "SelfAttention",
    "copy_attention_weights",
    "sinusoidal_positions",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "self_attention_params",
    "mha_params",
    "attention_flops",
    "mha_flops",
    "attention_weights_bytes",
    "saved_activation_bytes",
    # relative attention and the hybrid (CoAtNet)
    "relative_position_index",
    "relative_bias",
    "relative_attention",
    "relative_self_attention",
    "relative_connections",
    "RelativeSelfAttention",
    "bias_kernel",
    "attention_from_conv2d",
    "relative_attention_params",
    "MBConv",
    "TransformerBlock",
    "HybridConfig",
    "HybridNet",
    "parameter_table",
    # which bias wins where
    "make_lookup",
    "load_mnist1d",
    "SeqMLP",
    "SeqCNN",
    "SeqTransformer",
    "attention_weights",
    "mean_attention_distance",
    "bias_locality",
    # the missing middle: long convolutions, gating and recall
    "fft_conv",
    "LongConv",
    "GatedLongConv",
    "selective_scan_ref",
    "long_conv_connections",
    "gated_conv_connections",
    "make_mqar",
    "RecallNet",
    # cost
    "fc_flops",
    "relative_attention_flops",
    "mbconv_flops",
    "transformer_block_flops",
    "attention_conv_crossover",
    "time_call",
    "peak_memory",
    "Result",
    "read_csv",
    "scaling_exponents",
    "speed_ratios",
    "crossover",
    # summary
    "ALL_LAYER_KINDS",
    "LAYER_KINDS",
    "MIDDLE_KINDS",
    "make_layer",
    "measure_layer",
    "layer_flops",
    "position_connections",
    "connection_explorer",
    "receptive_field_figure",
    "lookup_attention_figure",
    # every chapter: drawing, the code on the page, the exercises
    "plot_connections",
    "plot_matrix",
    "plot_image_grid",
    "plot_errorbars",
    "palette",
    "show_source",
    "check",
]
