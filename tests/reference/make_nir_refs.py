"""Write the Spyx reference for tests/test_nir.py: a NIR graph written by Spyx, an input, and
the output spikes Spyx computes for it.

Run with a Python that has Spyx (which brings JAX, Flax and nir), e.g.

    python -m venv /tmp/spyx && /tmp/spyx/bin/pip install spyx nir
    /tmp/spyx/bin/python tests/reference/make_nir_refs.py

The network is Linear(12 -> 16) -> LIF -> Linear(16 -> 4) -> LIF, with random weights and
decay factors; the input 60 steps of Bernoulli spikes (p = 0.3). Spyx exports with `dt = 1`
(time constants in steps). Writes `spyx_lif.nir` (the graph, through `spyx.nir.to_nir` and
`nir.write`) and `spyx_lif.npz` (`input` (T, 12), `spikes` (T, 4), `hidden` (T, 16), `beta1`,
`beta2`, `spyx_version`) beside this script.
"""

import pathlib

import jax
import jax.numpy as jnp
import nir
import numpy as np
import spyx
import spyx.nir
import spyx.nn as snn
from flax import nnx

HERE = pathlib.Path(__file__).parent
N_IN, N_HIDDEN, N_OUT, STEPS = 12, 16, 4, 60


def main():
    rngs = nnx.Rngs(0)
    beta1 = np.linspace(0.7, 0.95, N_HIDDEN).astype(np.float32)
    beta2 = np.linspace(0.8, 0.9, N_OUT).astype(np.float32)
    hidden = snn.LIF((N_HIDDEN,), threshold=1.0, rngs=rngs)
    hidden.beta[...] = jnp.asarray(beta1)
    out = snn.LIF((N_OUT,), threshold=1.0, rngs=rngs)
    out.beta[...] = jnp.asarray(beta2)
    first = nnx.Linear(N_IN, N_HIDDEN, use_bias=False, rngs=rngs)
    second = nnx.Linear(N_HIDDEN, N_OUT, use_bias=False, rngs=rngs)
    key_w1, key_w2, key_x = jax.random.split(jax.random.key(7), 3)
    first.kernel[...] = 0.6 * jax.random.normal(key_w1, (N_IN, N_HIDDEN))
    second.kernel[...] = 0.8 * jax.random.normal(key_w2, (N_HIDDEN, N_OUT))
    model = snn.Sequential(first, hidden, second, out)
    x = (jax.random.uniform(key_x, (STEPS, 1, N_IN)) < 0.3).astype(jnp.float32)
    spikes, _ = snn.run(model, x)
    hidden_spikes, _ = snn.run(snn.Sequential(first, hidden), x)
    graph = spyx.nir.to_nir(
        model, {"input": np.array([N_IN])}, {"output": np.array([N_OUT])}, dt=1
    )
    nir.write(HERE / "spyx_lif.nir", graph)
    np.savez_compressed(
        HERE / "spyx_lif.npz",
        input=np.asarray(x[:, 0]),
        spikes=np.asarray(spikes[:, 0]),
        hidden=np.asarray(hidden_spikes[:, 0]),
        beta1=beta1,
        beta2=beta2,
        spyx_version=np.array(spyx.__version__),
    )
    print(f"{int(np.sum(spikes))} output and {int(np.sum(hidden_spikes))} hidden spikes "
          f"in {STEPS} steps; graph nodes {sorted(graph.nodes)}")


if __name__ == "__main__":
    main()
