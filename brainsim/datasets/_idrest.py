"""The BluePyEfe IDRest recordings (rat somatosensory cortex, current steps), shipped as npz."""

import importlib.resources

import numpy as np

from brainsim.datasets._recording import Recording

_CELLS = ("B6", "B8", "B95")


def load_idrest(cell: str = "B6") -> Recording:
    """The IDRest current-clamp sweeps of one rat somatosensory cortex neuron.

    Whole-cell recordings from BluePyEfe 2.3.63's test data (EPFL/BBP neocortical
    microcircuit portal; regular spiking, adapting), converted by
    `scripts/fetch_bluepyefe.py`. Each sweep lasts 3 s at 4 kHz (`dt` 0.25 ms, 12 000 samples)
    with a 2 s current step from 700 to 2700 ms:

    | cell | holding (pA) | steps above holding (pA) | spikes |
    |---|---|---|---|
    | `"B6"` | -12.5 | 119, 175, 238, 297, 353 | 26, 50, 68, 82, 89 |
    | `"B8"` | -53 | 94, 141, 184, 228, 275 | 20, 44, 62, 75, 81 |
    | `"B95"` | -31 | 38 | 9 |

    The voltage is as recorded, **not** corrected for the 14 mV liquid-junction potential
    (resting potential about -70 mV raw); subtract 14 mV for the corrected membrane potential
    (`recording.voltage - 14.0`), as BluePyEfe does. The current is the recorded one, sample
    by sample (noise sd 3-4 pA). At 4 kHz an action potential spans about 4 samples: fit
    spike times, f-I curves and subthreshold voltage, not spike shape. The data are
    BSD-licensed; cite BluePyEfe and the NMC portal (`brainsim/datasets/ATTRIBUTION.md`).

    Args:
        cell: `"B6"`, `"B8"` or `"B95"`.

    Returns:
        A `Recording` (ms, pA, mV) with the sweeps in order of increasing step.

    Examples:
        >>> from brainsim.datasets import load_idrest
        >>> recording = load_idrest("B6")
        >>> recording.dt, recording.voltage.shape
        (0.25, (5, 12000))
        >>> recording.amplitudes.round(1)
        array([118.7, 175. , 237.5, 296.9, 353.1], dtype=float32)
        >>> [len(s) for s in recording.spike_times()]
        [26, 50, 68, 82, 89]
    """
    if cell not in _CELLS:
        raise ValueError(f"unknown IDRest cell {cell!r}; the shipped cells are {', '.join(_CELLS)}")
    npz = importlib.resources.files("brainsim.datasets").joinpath("bluepyefe_idrest.npz")
    with npz.open("rb") as file, np.load(file) as data:
        rows = np.flatnonzero(data["cell"] == cell)
        rows = rows[np.argsort(data["amplitude"][rows], kind="stable")]
        (dt,) = set(data["dt"][rows].tolist())
        samples = data["current"].shape[1]
        return Recording(
            cell=cell,
            dt=dt,
            time=np.arange(samples, dtype=np.float32) * np.float32(dt),
            current=data["current"][rows],
            voltage=data["voltage"][rows],
            sweep_ids=data["sweep_id"][rows],
            holding=data["holding"][rows],
            amplitudes=data["amplitude"][rows],
            step_start=data["step_start"][rows],
            step_end=data["step_end"][rows],
        )
