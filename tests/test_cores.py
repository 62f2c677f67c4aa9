"""`brainsim.use_cpu_cores`: the process-wide core count, fixed before the first computation."""

import os
import subprocess
import sys
import textwrap

import pytest

import brainsim as bs

SCRIPT = textwrap.dedent(
    """
    import os, brainsim as bs, jax, jax.numpy as jnp
    cores = bs.use_cpu_cores(1)
    assert cores == sorted(os.sched_getaffinity(0)) and len(cores) == 1, cores
    lif = bs.neurons.LIF(R=1.0)
    step = jax.jit(lambda s, g: lif.step(s, bs.neurons.Drive(I=20.0, g=g), t=0.0, dt=0.1))
    text = step.lower(lif.init(100_000), jnp.ones(100_000)).compile().as_text()
    print("partitions" if "outer_dimension_partitions" in text else "single")
    try:
        bs.use_cpu_cores(1)
    except RuntimeError:
        print("refused after computing")
    """
)


def test_one_core_compiles_without_splitting_and_refuses_after_the_first_computation():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out == ["single", "refused", "after", "computing"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_bad_core_counts_are_named(bad):
    with pytest.raises(ValueError, match="`n` must be a positive int"):
        bs.use_cpu_cores(bad)


@pytest.mark.parametrize("split_ops", [False, True])
def test_each_device_computes_on_one_thread_unless_split_ops(split_ops):
    script = textwrap.dedent(
        f"""
        import os, brainsim as bs, jax
        cores = bs.use_cpu_cores(2, devices=1 if {split_ops} else None, split_ops={split_ops})
        print(len(jax.devices()) == (1 if {split_ops} else len(cores)),
              "xla_cpu_multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", ""))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120, env=env).stdout.split()
    assert out == ["True", str(not split_ops)]


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_bad_device_counts_are_named(bad):
    with pytest.raises(ValueError, match="`devices` must be a positive int"):
        bs.use_cpu_cores(1, devices=bad)
