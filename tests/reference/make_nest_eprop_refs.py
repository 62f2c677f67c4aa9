"""Run NEST 3.10's e-prop sine-wave example and keep its task and learning curve.

Run with NEST's interpreter: `/tmp/nest/bin/python tests/reference/make_nest_eprop_refs.py`.
The example script shipped with NEST (`eprop_supervised_regression_sine-waves.py`: 100 frozen
Poisson inputs, 100 `eprop_iaf` neurons, one `eprop_readout`, 1000-step sequences, 200
iterations of gradient descent) is executed unchanged (its figures go to a non-interactive
backend, its IPython diagram is skipped); `nest_eprop_sine.npz` receives its target, frozen
input spikes, loss per iteration and the wall time of the run.
"""

import pathlib
import runpy
import sys
import time
import types

import matplotlib

matplotlib.use("Agg")
import nest  # noqa: E402
import numpy as np  # noqa: E402

EXAMPLE = (
    pathlib.Path(nest.__file__).parent
    / "doc/examples/pynest/eprop_plasticity/eprop_supervised_regression_sine-waves.py"
)
OUT = pathlib.Path(__file__).resolve().parent / "nest_eprop_sine.npz"

if __name__ == "__main__":
    # The example shows a diagram with IPython, which NEST's environment need not have: only
    # `IPython.display` is provided (a top-level `IPython` would make matplotlib hook into it).
    display = types.ModuleType("IPython.display")
    display.Image = lambda *args, **kwargs: None
    sys.modules.setdefault("IPython.display", display)
    began = time.perf_counter()
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else OUT  # bench/eprop.py passes one
    run = runpy.run_path(str(EXAMPLE), run_name="nest_example")
    wall_s = time.perf_counter() - began
    np.savez_compressed(
        out,
        target=np.asarray(run["target_signal"][0, 0, 0], np.float32),
        input_spikes=np.packbits(np.asarray(run["input_spike_bools"]).T, axis=1),
        n_in=run["n_in"],
        n_rec=run["n_rec"],
        loss=np.asarray(run["loss"], np.float32),
        eta=run["params_common_syn_eprop"]["optimizer"]["eta"],
        wall_s=wall_s,
    )
    print(f"loss {run['loss'][0]:.3f} -> {run['loss'][-1]:.3f} in {wall_s:.1f} s")
