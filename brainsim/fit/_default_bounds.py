"""Default bounds of the parameters of brainsim's neuron models, from their valid ranges."""

from __future__ import annotations

from brainsim.neurons import ALIF, GIF, GLIF, LIF, AdEx, ExpIF, Izhikevich

_POSITIVE = (0.0, None)  # time constants (ms), capacitances (pF), conductances (nS), R (GΩ)
_VOLTAGE = (-100.0, 0.0)  # resting, reset and threshold potentials (mV)
_PEAK = (-100.0, 60.0)  # spike cut-offs (mV), which may sit at or above 0 mV
_REAL = (None, None)  # no physical bound (coupling strengths that may change sign)
_FRACTION = (0.0, 1.0)  # GLIF's voltage reset fraction and after-spike current fractions

_TABLE = {
    LIF: dict(
        tau_m=_POSITIVE,
        v_rest=_VOLTAGE,
        v_th=_VOLTAGE,
        v_reset=_VOLTAGE,
        t_ref=_POSITIVE,
        R=_POSITIVE,
    ),
    ALIF: dict(tau_a=_POSITIVE, beta=_POSITIVE),
    ExpIF: dict(
        tau_m=_POSITIVE,
        v_rest=_VOLTAGE,
        v_T=_VOLTAGE,
        delta_T=_POSITIVE,
        v_peak=_PEAK,
        v_reset=_VOLTAGE,
        t_ref=_POSITIVE,
        R=_POSITIVE,
    ),
    AdEx: dict(
        C=_POSITIVE,
        g_L=_POSITIVE,
        E_L=_VOLTAGE,
        V_T=_VOLTAGE,
        delta_T=_POSITIVE,
        a=_REAL,
        tau_w=_POSITIVE,
        b=_REAL,
        V_r=_VOLTAGE,
        V_peak=_PEAK,
        t_ref=_POSITIVE,
    ),
    Izhikevich: dict(a=_POSITIVE, b=_REAL, c=_VOLTAGE, d=_REAL, v_peak=_PEAK),
    GLIF: dict(
        C_m=_POSITIVE,
        g_L=_POSITIVE,
        E_L=_VOLTAGE,
        V_th=_VOLTAGE,
        V_reset=_VOLTAGE,
        t_ref=_POSITIVE,
        th_spike_add=_REAL,
        th_spike_decay=_POSITIVE,
        voltage_reset_fraction=_FRACTION,
        voltage_reset_add=_REAL,
        th_voltage_index=_REAL,
        th_voltage_decay=_POSITIVE,
        asc_decay=_POSITIVE,
        asc_amps=_REAL,
        asc_r=_FRACTION,
    ),
    GIF: dict(
        C_m=_POSITIVE,
        g_L=_POSITIVE,
        E_L=_VOLTAGE,
        V_reset=_VOLTAGE,
        V_T_star=_VOLTAGE,
        Delta_V=_POSITIVE,
        lambda_0=_POSITIVE,
        t_ref=_POSITIVE,
        tau_stc=_POSITIVE,
        q_stc=_REAL,
        tau_sfa=_POSITIVE,
        q_sfa=_REAL,
    ),
}


def default_bounds(model, name: str) -> tuple[float | None, float | None]:
    """The default `(low, high)` bounds of parameter `name` of a brainsim neuron model.

    From the models' valid ranges: time constants (ms), capacitances (pF), conductances (nS),
    resistances (GΩ), slope factors and ALIF's `beta` (mV) and Izhikevich's `a` (1/ms) are
    `(0, None)` (a softplus); resting, reset and threshold potentials are `(-100, 0)` mV and
    spike cut-offs `(-100, 60)` mV (a sigmoid); coupling constants that may change sign (AdEx
    `a` in nS and `b` in pA, Izhikevich `b` and `d`) are `(None, None)` (unbounded). GLIF's
    reset and after-spike-current fractions are `(0, 1)`, its threshold jumps, reset offsets
    and current amplitudes unbounded; GIF's kernel jumps (`q_stc` in pA, `q_sfa` in mV) are
    unbounded, its `Delta_V` (mV) and `lambda_0` (Hz) positive. Refractory
    periods are `(0, None)`, so a model with `t_ref = 0` must fix `t_ref` or be given bounds.
    Known models: `LIF`, `ALIF`, `ExpIF`, `AdEx`, `Izhikevich`, `GLIF`, `GIF` (and their
    subclasses). The
    bounds are independent per parameter: orderings such as `v_reset < v_th` are checked by
    the model itself.

    Args:
        model (Neuron): a neuron model instance.
        name: one of its parameter fields.

    Returns:
        `(low, high)`, each a float or `None` (unbounded on that side).

    Raises:
        ValueError: for a model or parameter without defaults (give bounds explicitly).

    Examples:
        >>> import brainsim as bs
        >>> from brainsim.fit import default_bounds
        >>> default_bounds(bs.neurons.AdEx(), "tau_w"), default_bounds(bs.neurons.AdEx(), "V_T")
        ((0.0, None), (-100.0, 0.0))

    Reference: Gerstner, Kistler, Naud & Paninski (2014), *Neuronal Dynamics*, ch. 6
    (parameter ranges of the adaptive integrate-and-fire models).
    """
    known = {}
    for cls in reversed(type(model).__mro__):
        known.update(_TABLE.get(cls, {}))
    if name not in known:
        what = f"has no defaults for `{name}`" if known else "is not a model with default bounds"
        raise ValueError(
            f"{type(model).__name__} {what}; give the bounds explicitly, e.g. "
            f"{{{name!r}: (low, high)}} (None for an open side)."
        )
    return known[name]
