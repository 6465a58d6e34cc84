"""The course's colours, defined once (the source post's: inputs green, weights purple, outputs orange).

Every figure in the book takes its colours from here so a reader learns them once.
"""

from __future__ import annotations

INPUT = "#2EC27E"  # green: inputs x
WEIGHT = "#9966FF"  # purple: weights W, connection strengths
OUTPUT = "#FF7800"  # orange: outputs y
NEUTRAL = "#5E5C64"  # grey: axes, annotations, reference lines

# One colour per layer kind, for plots that compare them (FC, conv, attention, hybrid).
LAYER_COLORS = {
    "fc": "#3584E4",
    "conv": INPUT,
    "attention": WEIGHT,
    "relative": OUTPUT,
    "mlp": "#3584E4",
    "cnn": INPUT,
    "vit": WEIGHT,
    "hybrid": OUTPUT,
}

# Matrices: unsigned magnitudes in white→purple, signed values orange↔purple.
CMAP_MAGNITUDE = "Purples"
CMAP_SIGNED = "PuOr"  # negative orange, zero white, positive purple

__all__ = ["INPUT", "WEIGHT", "OUTPUT", "NEUTRAL", "LAYER_COLORS", "CMAP_MAGNITUDE", "CMAP_SIGNED"]
