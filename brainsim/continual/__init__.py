"""Continual learning: learn tasks one after another without forgetting the earlier ones.

HLOP (Hebbian learning based orthogonal projection) is built from two library parts: the
lateral subspace neurons `brainsim.plasticity.LateralSubspace`, which extract the principal
subspace of each layer's presynaptic activity by Hebbian learning, and
`brainsim.train.orthogonal_projection`, which keeps the weight updates of later tasks
orthogonal to it. This package adds the metrics (`average_accuracy`, `backward_transfer`), the
baselines (EWC: `fisher_diagonal`, `ewc_penalty`; the exact projector: `energy_basis`), task
sequences (`permuted_tasks`) and one harness, `learn_tasks`, that runs every method under every
trainer (BPTT, online, rate-based) on the same protocol.
"""

from brainsim.continual._ewc import ewc_penalty, fisher_diagonal
from brainsim.continual._gpm import energy_basis
from brainsim.continual._harness import (
    METHODS,
    TRAINERS,
    ContinualResult,
    Protocol,
    learn_tasks,
    mlp,
)
from brainsim.continual._metrics import average_accuracy, backward_transfer
from brainsim.continual._tasks import Task, permuted_tasks

__all__ = [
    "average_accuracy",
    "backward_transfer",
    "fisher_diagonal",
    "ewc_penalty",
    "energy_basis",
    "Task",
    "permuted_tasks",
    "Protocol",
    "ContinualResult",
    "learn_tasks",
    "mlp",
    "METHODS",
    "TRAINERS",
]
