"""The native kernels must come up even when their first use is inside a `jit` trace."""

import subprocess
import sys
import textwrap


def test_first_use_inside_jit_still_selects_native_kernels():
    code = textwrap.dedent(
        """
        import warnings
        import jax, jax.numpy as jnp
        import brainsim_ops as bo
        conn = bo.fixed_prob(jax.random.key(0), 50, 40, 0.2, weight=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = jax.jit(lambda s, c: bo.event_matvec(s, c))(jnp.ones(50, bool), conn)
        assert bo.native_available()
        print("ok", float(y.sum()))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
