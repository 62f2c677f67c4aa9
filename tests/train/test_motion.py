import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainsim.train import DelayTapLogistic, moving_dots


def _explicit_logits(kernel, bias, s, radius):
    """The defining sum, loop by loop, with periodic edges and zero input before t = 0."""
    n_out, n_channels, n_taps = kernel.shape[:3]
    steps, _, height, width = s.shape
    z = np.zeros((steps, n_out, height, width))
    for t, k, y, x in np.ndindex(steps, n_out, height, width):
        total = bias[k]
        for c, tau in np.ndindex(n_channels, n_taps):
            if t - tau < 0:
                continue
            for dy in range(-radius, radius + 1):
                for dx in range(-radius, radius + 1):
                    w = kernel[k, c, tau, dy + radius, dx + radius]
                    total += w * s[t - tau, c, (y + dy) % height, (x + dx) % width]
        z[t, k, y, x] = total
    return z


def _layer(n_out=2, n_channels=2, n_taps=3, radius=1):
    layer = DelayTapLogistic(n_out, n_channels, n_taps=n_taps, radius=radius, key=jax.random.key(0))
    return eqx.tree_at(lambda m: m.bias, layer, jnp.linspace(-0.3, 0.3, n_out))


def _events(key, shape=(6, 2, 5, 4)):
    return jax.random.bernoulli(key, 0.3, shape).astype(jnp.result_type(float))


def test_logits_are_the_causal_periodic_sum_over_taps_and_offsets(x64):
    layer = _layer()
    s = _events(jax.random.key(1))
    expected = _explicit_logits(np.asarray(layer.kernel), np.asarray(layer.bias), np.asarray(s), 1)
    np.testing.assert_allclose(layer.logits(s), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer(s), 1 / (1 + np.exp(-expected)), rtol=1e-12)


def test_one_event_reaches_the_detector_after_exactly_its_delay():
    layer = eqx.tree_at(lambda m: m.kernel, _layer(), jnp.zeros((2, 2, 3, 3, 3)))
    layer = eqx.tree_at(lambda m: m.kernel, layer, layer.kernel.at[0, 1, 2, 1, 2].set(1.0))
    s = jnp.zeros((6, 2, 5, 4)).at[1, 1, 2, 3].set(1.0)  # channel 1, step 1, pixel (2, 3)
    z = layer.logits(s) - layer.bias[:, None, None]
    hit = np.argwhere(np.asarray(z) != 0)
    np.testing.assert_array_equal(hit, [[3, 0, 2, 2]])  # tap 2: step 3; δx = +1: x = 2


def test_jit_vmap_and_gradient_match_loop_and_finite_differences(x64, finite_differences):
    layer = _layer()
    s = jnp.stack([_events(k) for k in jax.random.split(jax.random.key(2), 3)])
    loop = np.stack([layer(x) for x in s])
    np.testing.assert_allclose(jax.vmap(layer)(s), loop, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda m, x: m(x))(layer, s[0]), loop[0], rtol=1e-12)

    def loss(kernel):
        model = eqx.tree_at(lambda m: m.kernel, layer, jnp.asarray(kernel))
        return jnp.sum(jnp.log(model(s[0])[:, 0]))

    grad = jax.grad(loss)(layer.kernel)
    np.testing.assert_allclose(grad, finite_differences(jax.jit(loss), layer.kernel), rtol=1e-6,
                               atol=1e-8)  # fmt: skip


def test_moving_dots_move_one_pixel_per_step_in_the_labelled_direction():
    events, labels = moving_dots(jax.random.key(3), 8, size=10, n_steps=6, n_dots=1,
                                 p_event=1.0, noise_prob=0.0)  # fmt: skip
    steps = {0: (0, 1), 1: (-1, 0), 2: (0, -1), 3: (1, 0)}
    for sample, label in zip(np.asarray(events[:, :, 0]), np.asarray(labels), strict=True):
        positions = [np.argwhere(frame)[0] for frame in sample]
        assert all(len(np.argwhere(frame)) == 1 for frame in sample)
        for a, b in zip(positions[:-1], positions[1:], strict=False):
            np.testing.assert_array_equal((b - a) % 10, np.array(steps[int(label)]) % 10)
    noisy, _ = moving_dots(jax.random.key(3), 64, size=10, n_steps=6, n_dots=1, p_event=0.0,
                           noise_prob=0.05)  # fmt: skip
    assert abs(float(noisy.mean()) - 0.05) < 0.005


def test_bad_inputs_fail_with_a_message():
    with pytest.raises(ValueError, match="n_taps"):
        DelayTapLogistic(4, 1, n_taps=0, radius=1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="radius"):
        DelayTapLogistic(4, 1, n_taps=2, radius=-1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="n_channels = 2"):
        _layer()(jnp.zeros((5, 1, 4, 4)))
    with pytest.raises(ValueError, match="size"):
        moving_dots(jax.random.key(0), 4, size=0)
    with pytest.raises(ValueError, match="noise_prob"):
        moving_dots(jax.random.key(0), 4, noise_prob=2.0)
