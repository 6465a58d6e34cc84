"""Another CPU's arithmetic, on this one: the environment ``make notebooks-other-cpu`` runs the chapters in.

torch chooses its CPU kernels when it starts, and each choice sums in its own order: ATen's vector kernels
(``ATEN_CPU_CAPABILITY``: avx512, avx2 or default), MKL's matrix products (``MKL_CBWR``) and oneDNN's
convolutions (``ONEDNN_MAX_CPU_ISA``). A reader's laptop picks other ones than the machine that stored the
book's outputs, and a model trained near chance turns the difference in the last bits into another printed
accuracy. This script names a set that differs from this CPU's own in all three, with one thread instead of
torch's default:

- ATen: one level below this CPU's (AVX-512 → AVX2, AVX2 → the portable default kernels);
- MKL: its conditional-numerical-reproducibility ``COMPATIBLE`` path instead of the one tuned to this CPU;
- oneDNN: capped below this CPU (AVX2, or SSE4.1 where AVX2 is the best it has).

``python tests/other_cpu.py`` prints ``NAME=value`` pairs for ``env``; ``--describe`` says it in words;
``--capabilities`` lists every ATen kernel set this CPU can run, best last (``make notebooks-every-cpu``).
"""

from __future__ import annotations

import sys

import torch

LEVELS = ("default", "avx2", "avx512")  # ATen's x86 kernel sets, from portable to widest


def native() -> str:
    """This CPU's own ATen kernel set, lower case ('avx512', 'avx2', 'default', or another platform's)."""
    return torch.backends.cpu.get_cpu_capability().lower()


def other_cpu(capability: str) -> dict[str, str]:
    """The environment of a CPU whose kernels all differ from those of one with ``capability``."""
    lower = LEVELS[max(LEVELS.index(capability) - 1, 0)] if capability in LEVELS else "default"
    return {
        "ATEN_CPU_CAPABILITY": lower,
        "MKL_CBWR": "COMPATIBLE",
        "ONEDNN_MAX_CPU_ISA": "AVX2" if capability == "avx512" else "SSE41",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def capabilities(capability: str) -> list[str]:
    """Every ATen kernel set a CPU with ``capability`` can run, portable first."""
    return list(LEVELS[: LEVELS.index(capability) + 1]) if capability in LEVELS else ["default"]


def main(argv: list[str]) -> int:
    cap = native()
    env = other_cpu(cap)
    if "--capabilities" in argv:
        print(" ".join(capabilities(cap)))
    elif "--describe" in argv:
        print(
            f"this CPU runs ATen's {cap} kernels; the chapters run with "
            + ", ".join(f"{k}={v}" for k, v in env.items())
        )
    else:
        print(" ".join(f"{k}={v}" for k, v in env.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
