"""Adam in a few lines of torch, for the refinement's small parameter sets.

``torch.optim.Adam`` imports ``torch._dynamo`` the first time one is built, which takes seconds
on a slow CPU: more than a whole joint refinement. This is the same update (Kingma & Ba, with
bias correction), on plain tensors.
"""

from __future__ import annotations

import torch


class Adam:
    """Adam over groups {"params": [tensor, ...], "lr": float}; call ``zero_grad``, compute
    the loss, ``backward`` it, then ``step``."""

    def __init__(self, groups: list[dict], betas: tuple[float, float] = (0.9, 0.999), eps=1e-8):
        self.groups = [(list(g["params"]), float(g["lr"])) for g in groups]
        self.betas, self.eps, self.steps = betas, eps, 0
        self.moments = [
            [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
            for params, _ in self.groups
        ]

    def zero_grad(self) -> None:
        for params, _ in self.groups:
            for p in params:
                p.grad = None

    @torch.no_grad()
    def step(self, scale: float = 1.0) -> None:
        """One update; `scale` multiplies every learning rate (a decay schedule)."""
        self.steps += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.steps, 1.0 - b2**self.steps
        for (params, lr), moments in zip(self.groups, self.moments, strict=True):
            for p, (m, v) in zip(params, moments, strict=True):
                if p.grad is None:
                    continue
                m.mul_(b1).add_(p.grad, alpha=1.0 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1.0 - b2)
                p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-lr * scale / c1)
