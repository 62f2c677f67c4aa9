"""One process of a partitioned run over several processes (`jax.distributed` on localhost),
started by test_partition.py: `python _partition_processes.py PROCESS_ID PROCESSES PORT OUT`.

Each process has 2 CPU devices. Every process builds the same network, partitions it over
all processes' devices and runs it; process 0 also runs it unpartitioned and writes both
spike trains to OUT (JSON).
"""

import json
import sys

import jax

process_id, processes, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
jax.config.update("jax_num_cpu_devices", 2)
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator_address=f"localhost:{port}", num_processes=processes,
                           process_id=process_id)

import numpy as np  # noqa: E402

import brainsim as bs  # noqa: E402

network, inputs = bs.benchmarks.coba(jax.random.key(0), n=601)
parted = bs.network.partition(network, devices=jax.devices())
record = ["E.spikes", "I.spikes", "I.v"]
result = bs.run(parted, parted.init(jax.random.key(1)), inputs=inputs, duration=100.0, dt=0.1,
                record=record, progress=False)
final = parted.gather(result.final_state)
if process_id == 0:
    with jax.default_device(jax.local_devices()[0]):
        reference = bs.run(network, network.init(jax.random.key(1)), inputs=inputs,
                           duration=100.0, dt=0.1, record=record, progress=False)
    report = dict(
        devices=len(jax.devices()), parts=parted.parts, packed=parted.packed,
        step=int(final["step"]),
        max_dv=float(np.abs(result.traces["I.v"] - reference.traces["I.v"]).max()),
    )
    for name in ("E.spikes", "I.spikes"):
        for label, run in (("partitioned", result), ("reference", reference)):
            report[f"{label} {name}"] = [run.spikes[name].times.tolist(),
                                         run.spikes[name].indices.tolist()]
    with open(out, "w") as file:
        json.dump(report, file)
jax.distributed.shutdown()
