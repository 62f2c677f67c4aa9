"""Reference traces and noise statistics of NEST 3.10's rate neurons for tests/rate/.

Run with the NEST interpreter (`/tmp/nest/bin/python tests/reference/make_nest_rate_refs.py`);
it writes `nest_rate_refs.npz` beside this file.

Deterministic protocol (sigma = 0, dt = 0.1 ms, 30 ms): for each of `tanh_rate_ipn`,
`threshold_lin_rate_ipn`, `tanh_rate_opn`, `threshold_lin_rate_opn` and linear_summation in
{True, False}, a driver neuron (mu = 1, tau = 5 ms, no input) projects onto a target neuron
(mu = 0.2, tau = 10 ms) through an instantaneous connection (w = 0.8) and a delayed connection
(w = -0.5, delay = 2 ms). Gain: g = 1.5, theta = 0.3 (threshold-linear: alpha = 1.2). Both
rates are recorded after every step (waveform relaxation with tol 1e-12, so the instantaneous
input is the driver's rate at the start of each step).

Noise protocol (dt = 0.1 ms): 400 `lin_rate_ipn` neurons (tau = 10 ms, lambda = 1, sigma = 1,
mu = 0.5) and 400 `lin_rate_opn` neurons (tau = 10 ms, sigma = 0.1, mu = 0.5), 1100 ms; from
100 ms on, the rate (ipn) and the noisy rate (opn) are sampled every 1 ms; stored: their mean,
variance and (ipn) the correlation of samples 1 ms apart.
"""

import pathlib

import nest
import numpy as np

DT, T_DET = 0.1, 30.0
GAIN = {"tanh_rate": {"g": 1.5, "theta": 0.3},
        "threshold_lin_rate": {"g": 1.5, "theta": 0.3, "alpha": 1.2}}


def deterministic(model: str, linear_summation: bool) -> np.ndarray:
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": DT, "use_wfr": True, "wfr_tol": 1e-12,
                          "wfr_max_iterations": 200, "print_time": False})
    base = {**GAIN[model.rsplit("_", 1)[0]], "sigma": 0.0, "linear_summation": linear_summation}
    if model.endswith("ipn"):
        base["lambda"] = 1.0
    driver = nest.Create(model, params={**base, "mu": 1.0, "tau": 5.0})
    target = nest.Create(model, params={**base, "mu": 0.2, "tau": 10.0})
    nest.Connect(driver, target, syn_spec={"synapse_model": "rate_connection_instantaneous",
                                           "weight": 0.8})
    nest.Connect(driver, target, syn_spec={"synapse_model": "rate_connection_delayed",
                                           "weight": -0.5, "delay": 2.0})
    meter = nest.Create("multimeter", params={"record_from": ["rate"], "interval": DT})
    nest.Connect(meter, driver + target)
    nest.Simulate(T_DET + DT)
    events = meter.get("events")
    times, senders, rates = events["times"], events["senders"], events["rate"]
    out = []
    for node in (driver, target):
        mask = senders == node.global_id
        order = np.argsort(times[mask])
        out.append(rates[mask][order][: round(T_DET / DT)])
    assert np.allclose(np.sort(times[senders == driver.global_id])[0], DT)
    return np.stack(out)


def noise_statistics(seed: int = 12) -> dict:
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": DT, "rng_seed": seed, "print_time": False})
    ipn = nest.Create("lin_rate_ipn", 400, params={"tau": 10.0, "lambda": 1.0, "sigma": 1.0,
                                                   "mu": 0.5})
    opn = nest.Create("lin_rate_opn", 400, params={"tau": 10.0, "sigma": 0.1, "mu": 0.5})
    m_ipn = nest.Create("multimeter", params={"record_from": ["rate"], "interval": 1.0,
                                              "start": 100.0})
    m_opn = nest.Create("multimeter", params={"record_from": ["noisy_rate"], "interval": 1.0,
                                              "start": 100.0})
    nest.Connect(m_ipn, ipn)
    nest.Connect(m_opn, opn)
    nest.Simulate(1100.0)
    result = {}
    for name, meter, var in (("ipn", m_ipn, "rate"), ("opn", m_opn, "noisy_rate")):
        ev = meter.get("events")
        order = np.lexsort((ev["times"], ev["senders"]))
        x = ev[var][order].reshape(400, -1)
        result[f"{name}_mean"] = x.mean()
        result[f"{name}_var"] = x.var()
        if name == "ipn":
            a, b = x[:, :-1] - x.mean(), x[:, 1:] - x.mean()
            result["ipn_corr_1ms"] = (a * b).mean() / x.var()
    return result


def main() -> None:
    data = {}
    for model in ("tanh_rate_ipn", "threshold_lin_rate_ipn", "tanh_rate_opn",
                  "threshold_lin_rate_opn"):
        for linear_summation in (True, False):
            key = f"{model}_{'linear' if linear_summation else 'nonlinear'}"
            data[key] = deterministic(model, linear_summation)
    data.update(noise_statistics())
    data["nest_version"] = np.array(nest.__version__)
    path = pathlib.Path(__file__).with_name("nest_rate_refs.npz")
    np.savez_compressed(path, **data)
    print({k: (v.shape if np.ndim(v) else float(v) if k != "nest_version" else str(v))
           for k, v in data.items()})


if __name__ == "__main__":
    main()
