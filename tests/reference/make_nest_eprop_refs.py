"""Run NEST 3.10's e-prop sine-wave example and keep its task and learning curve.

Run with NEST's interpreter: `/tmp/nest/bin/python tests/reference/make_nest_eprop_refs.py`.
The example script shipped with NEST (`eprop_supervised_regression_sine-waves.py`: 100 frozen
Poisson inputs, 100 `eprop_iaf` neurons, one `eprop_readout`, 1000-step sequences, 200
iterations of gradient descent) is executed unchanged in a namespace of this script's own, so
its results survive even if its plotting fails after the simulation (its figures go to the
non-interactive Agg backend; `IPython.display`, used only for its schematic, is stubbed when
absent). `nest.Simulate` is timed by a wrapper that passes its argument through.
`nest_eprop_sine.npz` receives the recorded target and the readout of the first and last
iterations, the frozen input spikes (bits packed along the input axis), the loss per
iteration, the learning rate eta, the time in `nest.Simulate` and the wall time of the run.
"""

import pathlib
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


def run_example(example: pathlib.Path) -> dict:
    """Execute `example` unchanged; return its namespace with `simulate_s` and `wall_s` added."""
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        # Only `IPython.display` is provided: a top-level `IPython` module in sys.modules makes
        # matplotlib try to hook into an IPython shell.
        display = types.ModuleType("IPython.display")
        display.Image = lambda *args, **kwargs: None
        sys.modules["IPython.display"] = display
    simulate, timing = nest.Simulate, {}

    def timed_simulate(t):
        began = time.perf_counter()
        simulate(t)
        timing["simulate_s"] = time.perf_counter() - began

    vars(nest)["Simulate"] = timed_simulate  # nest's module refuses plain attribute setting
    namespace = {"__name__": "nest_example", "__file__": str(example)}
    began = time.perf_counter()
    try:
        exec(compile(example.read_text(), str(example), "exec"), namespace)
    except Exception as error:
        if "loss" not in namespace:  # failed before the loss was evaluated: nothing to keep
            raise
        print(f"the example's plotting failed after training ({error!r}); results kept")
    finally:
        vars(nest)["Simulate"] = simulate
    namespace["wall_s"] = time.perf_counter() - began
    namespace["simulate_s"] = timing["simulate_s"]
    return namespace


def save(run: dict, out: pathlib.Path) -> None:
    """Write the task, the learning curve and the timings of an executed example to `out`."""
    np.savez_compressed(
        out,
        target=np.asarray(run["target_signal"][0, 0, 0], np.float32),
        readout_first=np.asarray(run["readout_signal"][0, 0, 0], np.float32),
        readout_last=np.asarray(run["readout_signal"][0, -1, 0], np.float32),
        input_spikes=np.packbits(np.asarray(run["input_spike_bools"]).T, axis=1),
        n_in=run["n_in"],
        n_rec=run["n_rec"],
        loss=np.asarray(run["loss"], np.float32),
        eta=run["params_common_syn_eprop"]["optimizer"]["eta"],
        simulate_s=run["simulate_s"],
        wall_s=run["wall_s"],
    )


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else OUT  # bench/eprop.py passes one
    example = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else EXAMPLE
    run = run_example(example)
    save(run, out)
    print(f"loss {run['loss'][0]:.3f} -> {run['loss'][-1]:.3f}; nest.Simulate "
          f"{run['simulate_s']:.1f} s, wall {run['wall_s']:.1f} s; wrote {out}")  # fmt: skip
