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

A chapter reads ``from convattn import linear, plot_connections, ...`` and tells its
story. The names below come in the order of the book; the tooling (``convattn.tools``:
the benchmark's command line, the doctor, the coursework tooling and the experiment
sweeps) is never imported here.
"""

from . import palette
from .attention import (
    MultiHeadSelfAttention,
    SelfAttention,
    basic_self_attention,
    causal_mask,
    copy_attention_weights,
    scaled_dot_product_attention,
)
from .blocks import MBConv, TransformerBlock
from .compare import (
    LAYER_KINDS,
    layer_flops,
    make_layer,
    measure_layer,
    position_connections,
)
from .connections import (
    RecoveredConv,
    conv1d_connections,
    conv2d_connections,
    fc_connections,
    is_convolution,
    linear_map_matrix,
)
from .conv import (
    conv1d,
    conv1d_loops,
    conv2d,
    conv2d_loops,
    conv_output_size,
    same_padding,
)
from .counting import (
    attention_conv_crossover,
    attention_flops,
    attention_weights_bytes,
    conv1d_macs,
    conv1d_params,
    conv2d_macs,
    conv2d_params,
    count_params,
    fc_flops,
    fc_params,
    image_fc_params,
    loglog_slope,
    mbconv_flops,
    mha_flops,
    mha_params,
    relative_attention_flops,
    relative_attention_params,
    saved_activation_bytes,
    self_attention_params,
    transformer_block_flops,
)
from .data import load_digits_split, permute_pixels, pixel_permutation
from .embeddings import FEATURES, SENTENCES, embed_sentence
from .explorer import connection_explorer
from .fc import linear
from .models import MLP, HybridConfig, HybridNet, parameter_table
from .positions import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_positions,
)
from .receptive import empirical_receptive_field, receptive_field
from .relative import (
    RelativeSelfAttention,
    attention_from_conv2d,
    bias_kernel,
    relative_attention,
    relative_bias,
    relative_connections,
    relative_position_index,
    relative_self_attention,
)
from .source import show_source
from .train import accuracy, fit
from .viz import (
    plot_connections,
    plot_errorbars,
    plot_image_grid,
    plot_matrix,
    plot_scaling,
)

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
    "load_digits_split",
    "pixel_permutation",
    "permute_pixels",
    "MLP",
    "fit",
    "accuracy",
    # convolution
    "conv1d",
    "conv2d",
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
    # cost
    "fc_flops",
    "relative_attention_flops",
    "mbconv_flops",
    "transformer_block_flops",
    "attention_conv_crossover",
    # summary
    "LAYER_KINDS",
    "make_layer",
    "measure_layer",
    "layer_flops",
    "position_connections",
    "connection_explorer",
    # every chapter: drawing, the code on the page, the exercises
    "plot_connections",
    "plot_matrix",
    "plot_scaling",
    "plot_image_grid",
    "plot_errorbars",
    "palette",
    "show_source",
    "check",
]
