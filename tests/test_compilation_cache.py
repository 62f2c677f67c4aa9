"""The persistent compilation cache: on by default in the user's cache directory, one switch off."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

import brainsim as bs

PROGRAM = """
import logging, jax, jax.numpy as jnp
import brainsim as bs
hits = []
class Hits(logging.Handler):
    def emit(self, record):
        if "cache hit" in record.getMessage():
            hits.append(record.getMessage())
logger = logging.getLogger("jax._src.compiler")
logger.setLevel(logging.DEBUG)
logger.addHandler(Hits())
jax.jit(lambda x: jnp.sin(x) * 3.0 + x @ x.T)(jnp.ones((7, 7))).block_until_ready()
print(jax.config.jax_compilation_cache_dir, len(hits))
"""


def _run(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "BRAINSIM_"))}
    environment.update(XDG_CACHE_HOME=str(tmp_path / "xdg"), JAX_PLATFORMS="cpu", **env)
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=environment, capture_output=True,
                          text=True, check=True, timeout=120)
    directory, hits = done.stdout.split()[-2:]
    return directory, int(hits)


def test_second_process_loads_the_program_from_the_default_directory(tmp_path):
    expected = str(tmp_path / "xdg" / "brainsim" / "jax")
    assert _run(tmp_path) == (expected, 0)
    assert os.listdir(expected), "nothing was written to the cache"
    directory, hits = _run(tmp_path)
    assert directory == expected and hits >= 1


def test_switch_off(tmp_path):
    assert _run(tmp_path, BRAINSIM_COMPILATION_CACHE="0") == ("None", 0)
    assert not (tmp_path / "xdg").exists()


def test_another_directory_within_a_process(tmp_path):
    previous = jax.config.jax_compilation_cache_dir
    try:
        assert bs.compilation_cache(tmp_path / "mine") == tmp_path / "mine"
        jax.jit(lambda x: jnp.cos(x) * 1.5 - x)(jnp.arange(11.0)).block_until_ready()
        assert os.listdir(tmp_path / "mine")
    finally:
        bs.compilation_cache(previous if previous is not None else False)


def test_a_directory_set_for_jax_is_left_alone(tmp_path):
    mine = str(tmp_path / "mine")
    assert _run(tmp_path, JAX_COMPILATION_CACHE_DIR=mine)[0] == mine
    assert not (tmp_path / "xdg").exists()


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="min_compile_time_s"):
        bs.compilation_cache(True, min_compile_time_s=-1.0)
