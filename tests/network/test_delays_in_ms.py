"""Delays in milliseconds: conversion to steps, the rounding rule, and the run's `dt`."""

import numpy as np
import pytest
from test_network import DT, _arrival_steps, _three_synapses

import brainsim as bs
import brainsim_ops as bo
from brainsim.synapses import Current, Exponential


def _projection(**kwargs):
    return bs.Projection("pre", "post", _three_synapses(), Exponential(), Current(), **kwargs)


def test_a_delay_in_ms_arrives_as_the_same_delay_in_steps():
    assert _arrival_steps(_projection(delay=1.3, dt=DT), spike_step=5) == [5 + 13] * 3


def test_per_presynaptic_and_per_synapse_delays_in_ms():
    pre = _projection(delay=[0.0, 0.7], dt=DT, delay_per="pre")
    assert pre.delay_per == "pre" and pre.delay_steps.tolist() == [0, 7]
    synapse = _projection(delay=[0.2, 0.4, 2.0, 0.1], dt=DT, delay_per="synapse")
    assert _arrival_steps(synapse, spike_step=3) == [5, 7, 4]   # post 2: the earlier of 2 synapses


@pytest.mark.parametrize("ms, steps", [(0.3, 3), (0.7, 7), (1.1, 11), (2.9, 29), (100.0, 1000)])
def test_multiples_of_dt_are_exact_despite_floating_point(ms, steps):
    assert int(_projection(delay=ms, dt=DT).delay_steps) == steps


def test_other_delays_raise_unless_rounded_to_the_nearest_step():
    with pytest.raises(ValueError, match=r"0.15 ms is not a whole number of steps of dt = 0.1"):
        _projection(delay=0.15, dt=DT)
    four = bo.from_edges([0, 1, 2, 3], [0, 0, 0, 0], 1.0, n_pre=4, n_post=1)
    rounded = bs.Projection("pre", "post", four, delay=[0.04, 0.05, 0.149, 0.15], dt=DT,
                            delay_per="pre", delay_rounding="nearest")
    assert rounded.delay_steps.tolist() == [0, 1, 1, 2]   # half a step rounds up, as in Brian2


def test_running_at_another_dt_is_refused():
    conn = bo.from_edges([0], [0], 1.0, n_pre=1, n_post=1)
    projection = bs.Projection("pre", "post", conn, delay=1.0, dt=DT)
    net = bs.Network({"pre": (bs.neurons.SpikeTimes(times=[0.5], indices=[0]), 1),
                      "post": (bs.neurons.LIF(), 1)}, [projection])
    bs.run(net, net.init(), steps=3, dt=DT, record=["post.spikes"])
    with pytest.raises(ValueError, match="dt = 0.1 ms but runs at dt = 0.05 ms"):
        bs.run(net, net.init(), steps=3, dt=0.05, record=["post.spikes"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(delay=1.0), "pass `dt`"),
        (dict(delay=1.0, dt=0.0), "pass `dt`"),
        (dict(delay=-0.5, dt=DT), ">= 0 ms"),
        (dict(delay=np.nan, dt=DT), "finite"),
        (dict(delay=1.0, dt=DT, delay_steps=10), "not both"),
        (dict(delay=1.0, dt=DT, delay_rounding="up"), "`delay_rounding`"),
    ],
)
def test_bad_delays_in_ms_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _projection(**kwargs)
