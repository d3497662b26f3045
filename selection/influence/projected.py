"""The paper's influence estimator: per-sample gradients under a Johnson-Lindenstrauss projection.

DIQ (arXiv 2508.01450) scores <P g_i, P G> with P a random projection to 4,096 dimensions,
which approximates the exact <g_i, G> that the fast path computes (the default here). It
needs real per-sample gradients, so it costs what `per-sample` costs plus the projection;
it exists so that a study can use the paper's estimator and compare. The projection is
LESS's seeded Rademacher matrix (`selection.influence.less.project`): the same on every
device and block size, never held whole.
"""

from __future__ import annotations

import torch

from selection.influence.batching import Batch
from selection.influence.less import flatten, project
from selection.influence.params import ParameterSet
from selection.influence.reference import iter_per_sample_gradients


class ProjectedScorer:
    """Holds the projected validation gradient; scores pool batches by projected dot products."""

    def __init__(
        self,
        model: torch.nn.Module,
        pset: ParameterSet,
        gradient: dict[str, torch.Tensor],
        dim: int,
        seed: int,
    ) -> None:
        self.model = model
        self.pset = pset
        self.dim = dim
        self.seed = seed
        self.names = list(pset.parameters)
        self.device = next(iter(pset.parameters.values())).device
        mean = flatten(gradient, self.names).to(self.device)[None, :]
        self.target = project(mean, dim, seed)[0]

    def scores(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample (loss, <P g_i, P G>) for a batch."""
        buffer = torch.empty(batch.size, self.pset.numel, dtype=torch.float32, device=self.device)
        losses = []
        for row, (loss, grads) in enumerate(
            iter_per_sample_gradients(self.model, self.pset, batch)
        ):
            buffer[row] = flatten(grads, self.names)
            losses.append(loss.float())
        return torch.stack(losses), project(buffer, self.dim, self.seed) @ self.target
