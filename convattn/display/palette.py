"""The course's colours, defined once (the source post's: inputs green, weights purple,
outputs orange).

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

# Colour is never the only carrier of meaning: series k of a line plot also gets
# MARKERS[k] and LINESTYLES[k], and every series a label. Light colours (green, orange)
# fall below WCAG's 3:1 contrast against white for graphics, so markers get a dark edge
# (EDGE) that carries the shape.
MARKERS = ("o", "s", "^", "D", "v", "P")
LINESTYLES = ("-", "--", "-.", ":")
EDGE = NEUTRAL


def contrast_ratio(color: str, background: str = "#FFFFFF") -> float:
    """WCAG 2 contrast ratio of two "#RRGGBB" colours, from 1 (none) to 21 (black on
    white)."""

    def luminance(hex_color: str) -> float:
        channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in channels
        )
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(color), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


__all__ = [
    "INPUT",
    "WEIGHT",
    "OUTPUT",
    "NEUTRAL",
    "LAYER_COLORS",
    "CMAP_MAGNITUDE",
    "CMAP_SIGNED",
    "MARKERS",
    "LINESTYLES",
    "EDGE",
    "contrast_ratio",
]
