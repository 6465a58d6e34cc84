"""What the trained MNIST-1D attention models learned, measured where they could have learned it.

    python scripts/inside.py book/data/bias_results.csv book/data/bias_inside.csv --workers 2

The chapter "Which bias wins where: MNIST-1D" asks two questions of trained models: does the hybrid's relative
bias become local (a convolution-like bump around offset 0), and how far do the ViT's heads look? A short live
run cannot answer the first: Adam moves each bias entry by about the learning rate per step, so a few hundred
steps at 10⁻³ cannot reach the bump of chapter 5. So both are measured here on the models of the committed
sweep's protocol (all of MNIST-1D, three seeds, each model at the rate its grid chose, the sweep's steps), and
on the hybrid pushed further: the grid's next larger rate and twice the steps. Per block and head the file
holds ``bias_locality`` (the weight the bias alone puts within one token of a query; 0.28 for a flat table of
10 tokens) and ``bias_range`` (max − min of the table) for the hybrid, ``mean_distance`` for the ViT, and each
run's train and test accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

from convattn import attention_weights, bias_locality, mean_attention_distance
from convattn.experiments import bias, read_results, write_results
from convattn.experiments.core import parallel_map
from convattn.train import LR_GRID, train_run

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))
from sweep import machine, versions  # noqa: E402


def measure(job: tuple[str, int, float, int]) -> list[dict]:
    """Train one model on all of MNIST-1D and measure its attention, one row per block, head and measure."""
    model_name, seed, lr, steps = job
    train, evals = bias.mnist1d_data(False, 1.0, seed, False)
    model, row, _ = train_run(
        partial(bias.build_mnist1d_model, model_name),
        train,
        evals,
        steps=steps,
        lr=lr,
        seed=seed,
        batch_size=100,
    )
    base = dict(
        model=model_name, seed=seed, lr=lr, steps=steps, train_acc=row["train_acc"], test_acc=row["test_acc"]
    )
    rows = []
    if model_name == "hybrid":
        for b, block in enumerate(model.blocks, start=1):
            table = block.mixer.table.detach()  # (heads, 2N − 1)
            for h, (near, span) in enumerate(
                zip(bias_locality(table), table.amax(-1) - table.amin(-1), strict=True), start=1
            ):
                rows += [
                    dict(base, block=b, head=h, measure="bias_locality", value=float(near)),
                    dict(base, block=b, head=h, measure="bias_range", value=float(span)),
                ]
    else:
        maps = attention_weights(model, evals["test"][0])
        for b, weights in enumerate(maps, start=1):
            for h, d in enumerate(mean_attention_distance(weights).tolist(), start=1):
                rows.append(dict(base, block=b, head=h, measure="mean_distance", value=d))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/inside.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "results", type=Path, help="the bias study's results file (its chosen rates and steps)"
    )
    parser.add_argument("out", type=Path, help="CSV file to write, e.g. book/data/bias_inside.csv")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    sweep = [r for r in read_results(args.results) if r["stage"] == "sweep" and r["task"] == "mnist1d"]
    chosen = {r["model"]: (r["lr"], r["steps"]) for r in sweep}
    jobs = []
    for model_name in ("vit", "hybrid"):
        lr, steps = chosen[model_name]
        jobs += [(model_name, seed, lr, steps) for seed in args.seeds]
    lr, steps = chosen["hybrid"]
    pushed = LR_GRID[min(LR_GRID.index(lr) + 1, len(LR_GRID) - 1)]
    jobs += [("hybrid", seed, pushed, 2 * steps) for seed in args.seeds]
    start = time.perf_counter()
    rows = [row for rows in parallel_map(measure, jobs, workers=args.workers, progress=True) for row in rows]
    minutes = (time.perf_counter() - start) / 60
    header = [
        "What the trained MNIST-1D attention models learned, of the course 'Convolution vs. Attention'; made by:",
        "  python scripts/inside.py " + " ".join(sys.argv[1:] if argv is None else argv),
        f"machine: {machine()}; {versions()}",
        f"{len(jobs)} trainings in {minutes:.1f} min; rates and steps from {args.results.name}; the hybrid also "
        f"at {pushed:g} for {2 * steps} steps",
    ]
    write_results(rows, args.out, header=header)
    print(f"wrote {args.out} ({minutes:.1f} min)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
