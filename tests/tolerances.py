"""The tolerances of "equals the PyTorch built-in": float32 about 1e-5, float64 about 1e-10."""

import torch

TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}
