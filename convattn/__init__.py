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
from .source import show_source
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
    # the code on the page
    "show_source",
    # exercises
    "check",
]

# ---------------------------------------------------------------- chapters 3-4: attention
from . import embeddings  # noqa: E402
from .attention import (  # noqa: E402
    MultiHeadSelfAttention,
    SelfAttention,
    basic_self_attention,
    causal_mask,
    copy_attention_weights,
    scaled_dot_product_attention,
)
from .counting import (  # noqa: E402
    attention_flops,
    attention_weights_bytes,
    mha_flops,
    mha_params,
    saved_activation_bytes,
    self_attention_params,
)
from .embeddings import FEATURES, SENTENCES, embed_sentence  # noqa: E402
from .positions import LearnedPositionalEncoding, SinusoidalPositionalEncoding, sinusoidal_positions  # noqa: E402

__all__ += [
    "basic_self_attention",
    "scaled_dot_product_attention",
    "causal_mask",
    "SelfAttention",
    "MultiHeadSelfAttention",
    "copy_attention_weights",
    "sinusoidal_positions",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "embeddings",
    "embed_sentence",
    "FEATURES",
    "SENTENCES",
    "self_attention_params",
    "mha_params",
    "attention_flops",
    "mha_flops",
    "attention_weights_bytes",
    "saved_activation_bytes",
]

# ---------------------------------------------------------------- chapter 2: convolution
from .connections import RecoveredConv, conv1d_connections, conv2d_connections, is_convolution  # noqa: E402
from .conv import conv1d, conv1d_loops, conv2d, conv2d_loops, conv_output_size, same_padding  # noqa: E402
from .counting import conv1d_macs, conv1d_params, conv2d_macs, conv2d_params  # noqa: E402
from .receptive import empirical_receptive_field, receptive_field  # noqa: E402

__all__ += [
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
]

# ---------------------------------------------------------------- chapter: cost
# The benchmark itself is convattn.bench (a CLI, `python -m convattn.bench`); it is not imported here, so
# that running it as a module does not find it already imported. Its formulas live in counting.py.
from .counting import (  # noqa: E402
    attention_conv_crossover,
    fc_flops,
    mbconv_flops,
    relative_attention_flops,
    transformer_block_flops,
)

__all__ += [
    "fc_flops",
    "relative_attention_flops",
    "mbconv_flops",
    "transformer_block_flops",
    "attention_conv_crossover",
]

# ---------------------------------------------------------------- chapter 5: hybrid (CoAtNet)
# The experiment runner is convattn.experiments (a CLI, `python -m convattn.experiments OUT.csv`); like
# convattn.bench it is not imported here, so that running it as a module does not find it already imported.
from .data import place_on_canvas, shift_images, stratified_subset  # noqa: E402
from .models import (  # noqa: E402
    CNNConfig,
    HybridConfig,
    HybridNet,
    MBConv,
    SmallCNN,
    SmallViT,
    TransformerBlock,
    ViTConfig,
    cnn_params,
    hybrid_params,
    mbconv_params,
    mlp_params,
    parameter_table,
    transformer_block_params,
    vit_params,
)
from .relative import (  # noqa: E402
    RelativeSelfAttention,
    attention_from_conv2d,
    bias_kernel,
    relative_attention,
    relative_attention_params,
    relative_bias,
    relative_connections,
    relative_position_index,
    relative_self_attention,
    relative_table_shape,
)
from .viz import plot_errorbars  # noqa: E402

__all__ += [
    "relative_position_index",
    "relative_table_shape",
    "relative_bias",
    "relative_attention",
    "relative_self_attention",
    "relative_connections",
    "RelativeSelfAttention",
    "relative_attention_params",
    "bias_kernel",
    "attention_from_conv2d",
    "MBConv",
    "TransformerBlock",
    "HybridConfig",
    "HybridNet",
    "CNNConfig",
    "SmallCNN",
    "ViTConfig",
    "SmallViT",
    "mbconv_params",
    "transformer_block_params",
    "hybrid_params",
    "cnn_params",
    "vit_params",
    "mlp_params",
    "parameter_table",
    "stratified_subset",
    "place_on_canvas",
    "shift_images",
    "plot_errorbars",
]

# ---------------------------------------------------------------- chapter: summary
from .compare import (  # noqa: E402
    LAYER_KINDS,
    LayerProperties,
    layer_flops,
    make_layer,
    measure_layer,
    position_connections,
)

__all__ += [
    "LAYER_KINDS",
    "LayerProperties",
    "layer_flops",
    "make_layer",
    "measure_layer",
    "position_connections",
]
