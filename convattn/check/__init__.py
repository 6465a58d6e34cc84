"""Exercise checks, one module per chapter: each passes with a one-line confirmation or explains what is wrong.

A check compares the learner's answer with the package's reference implementation and, when they differ,
tries the usual mistakes one by one (a forgotten bias, transposed weights, …) to name the one that was
made. A failed check raises :class:`CheckFailed` (an ``AssertionError``) whose message is the hint.

Every check judges plain data only (numbers, lists, plain tensors; a learner's function through its answers
to the questions the check declares), so the course's grader runs the very same judge in its own process, on
questions the learner's kernel never saw before and with expected values that never exist there:
:mod:`convattn.check.grading` is the grader's interface, :mod:`convattn.check.export` the kernel's side.
"""

from . import export, grading
from ._core import REGISTRY, CheckFailed
from .basic_attention import basic_attention_weights, kernel_regression_as_attention, off_diagonal_maximum
from .convolution import conv1d_function, pointwise_conv_function
from .convolution_properties import conv_param_count, layers_to_cover, output_size_function
from .cost import (
    crossover_length,
    depthwise_crossover,
    loglog_slope_function,
    longest_sequence,
    longest_sequence_fused,
)
from .fully_connected import (
    fc_doubling_ratio,
    fc_param_count,
    linear_function,
    token_mixing_matrix,
    unpermuted_weights,
)
from .hybrid import (
    aliasing_shifts_function,
    bias_conv_kernel,
    relative_index_function,
    surviving_shifts,
    tap_table_function,
)
from .lookup import accuracy_by_distance_function, dilated_receptive_field_function
from .mnist1d import mnist1d_cnn_field, uniform_attention_distance_function
from .qkv_attention import attention_function, causal_mask, in_proj_split, previous_token_head
from .recall import causal_fft_conv_function, conv1d_for_kernel, ssm_kernel_function
from .summary import (
    permutation_equivariant_layers,
    receptive_field_of,
    stacked_receptive_fields,
    translation_error_function,
)

__all__ = [
    "CheckFailed",
    "REGISTRY",
    "export",
    "grading",
    "fc_param_count",
    "linear_function",
    "unpermuted_weights",
    "conv1d_function",
    "output_size_function",
    "conv_param_count",
    "basic_attention_weights",
    "off_diagonal_maximum",
    "attention_function",
    "causal_mask",
    "in_proj_split",
    "relative_index_function",
    "bias_conv_kernel",
    "tap_table_function",
    "surviving_shifts",
    "aliasing_shifts_function",
    "crossover_length",
    "longest_sequence",
    "loglog_slope_function",
    "permutation_equivariant_layers",
    "receptive_field_of",
    "translation_error_function",
    "dilated_receptive_field_function",
    "accuracy_by_distance_function",
    "uniform_attention_distance_function",
    "mnist1d_cnn_field",
    "causal_fft_conv_function",
    "conv1d_for_kernel",
    "ssm_kernel_function",
    "depthwise_crossover",
    "longest_sequence_fused",
    "stacked_receptive_fields",
    "fc_doubling_ratio",
    "token_mixing_matrix",
    "pointwise_conv_function",
    "layers_to_cover",
    "kernel_regression_as_attention",
    "previous_token_head",
]
