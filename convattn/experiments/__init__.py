"""The course's experiments: one protocol (:mod:`.core`) and the studies that configure
it, the digits of chapter 5 (:mod:`.digits`), the lookup and MNIST-1D of chapter 6
(:mod:`.bias`) and multi-query recall with long convolutions (:mod:`.recall`). A
chapter reads ``from convattn.experiments import ...``; the sweeps that write the
committed results files are ``scripts/sweep.py``."""

from ..train import choose_lr  # the rule that picks a rate from the grid's scores
from . import bias, digits, recall
from .core import (
    COLUMNS,
    Run,
    Study,
    Task,
    chosen_lrs,
    lr_grid_runs,
    run_many,
    run_one,
    sweep_runs,
)
from .results import Stat, mean_curve, read_results, summarize, write_results

STUDIES = {
    "digits": digits.study,
    "bias": bias.study,
    "recall": recall.study,
}  # name → the study's builder

__all__ = [
    "COLUMNS",
    "Task",
    "Study",
    "Run",
    "run_one",
    "run_many",
    "lr_grid_runs",
    "chosen_lrs",
    "choose_lr",
    "sweep_runs",
    "Stat",
    "summarize",
    "mean_curve",
    "write_results",
    "read_results",
    "STUDIES",
    "digits",
    "bias",
    "recall",
]
