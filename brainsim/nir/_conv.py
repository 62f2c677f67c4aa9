"""NIR's convolution and pooling nodes (`Conv1d`, `Conv2d`, `SumPool2d`, `AvgPool2d`).

Signals between NIR nodes stay flat vectors (see `_nodes.py`); these nodes know the shape
`(C, *spatial)` of their input (channels first, NIR's and PyTorch's layout, without a batch
axis), reshape the vector to it, and flatten their output in the same row-major order, which
is the order of a NIR neuron node's parameters of shape `(C, *spatial)`.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

_DIMENSIONS = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW")}


def _ints(value, ndim: int, what: str) -> tuple[int, ...]:
    """`value` (a number or one per spatial axis) as `ndim` whole numbers."""
    array = np.asarray(value).reshape(-1)
    if array.size not in (1, ndim) or not np.all(np.equal(np.mod(array, 1), 0)):
        raise ValueError(f"{what} must be a whole number or {ndim} of them, got {value!r}.")
    return tuple(int(v) for v in np.broadcast_to(array, (ndim,)))


def _output_size(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int = 1):
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


class Conv(eqx.Module):
    """`Conv1d` and `Conv2d`: a cross-correlation of the input with `weight`, plus `bias`.

    `y[o, p] = b[o] + Σ_{c in group(o)} Σ_k W[o, c, k] x[g·C_g + c, s·p + d·k - pad]` for each
    output channel `o` and output position `p` (stride `s`, dilation `d`, zero padding `pad`;
    `x` of shape `(C_in, *spatial)`, `W` of shape `(C_out, C_in / groups, *kernel)`), as
    PyTorch's `nn.Conv1d` / `nn.Conv2d` compute it. An output size along an axis is
    `⌊(n + pad_lo + pad_hi - d (k - 1) - 1) / s⌋ + 1`.
    """

    weight: Float[Array, "c_out c_in_per_group *kernel"]
    bias: Float[Array, " c_out"]
    in_shape: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: tuple[tuple[int, int], ...] = eqx.field(static=True)
    dilation: tuple[int, ...] = eqx.field(static=True)
    groups: int = eqx.field(static=True)

    @property
    def out_shape(self) -> tuple[int, ...]:
        kernel = self.weight.shape[2:]
        spatial = tuple(
            _output_size(n, k, s, p, d)
            for n, k, s, p, d in zip(self.in_shape[1:], kernel, self.stride, self.padding,
                                     self.dilation, strict=True)
        )  # fmt: skip
        return (self.weight.shape[0], *spatial)

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        ndim = len(self.in_shape) - 1
        y = jax.lax.conv_general_dilated(
            x.reshape(1, *self.in_shape), self.weight.astype(x.dtype), self.stride,
            self.padding, rhs_dilation=self.dilation, feature_group_count=self.groups,
            dimension_numbers=_DIMENSIONS[ndim], precision=jax.lax.Precision.HIGHEST,
        )  # fmt: skip
        y = y[0] + self.bias.reshape(-1, *([1] * ndim))
        return state, y.reshape(-1)

    def n_out(self, n_in):
        return math.prod(self.out_shape)

    def to_nir(self, time_unit: float):
        import nir

        symmetric = all(lo == hi for lo, hi in self.padding)
        padding = tuple(lo for lo, _ in self.padding) if symmetric else "same"
        common = dict(weight=np.asarray(self.weight, np.float32),
                      bias=np.asarray(self.bias, np.float32), groups=self.groups)  # fmt: skip
        if len(self.in_shape) == 2:
            return nir.Conv1d(input_shape=self.in_shape[1], stride=self.stride[0],
                              padding=padding if isinstance(padding, str) else padding[0],
                              dilation=self.dilation[0], **common)  # fmt: skip
        return nir.Conv2d(input_shape=self.in_shape[1:], stride=self.stride, padding=padding,
                          dilation=self.dilation, **common)  # fmt: skip


class Pool(eqx.Module):
    """`SumPool2d` and `AvgPool2d`: the sum (or the mean) of each `k_h × k_w` window.

    `y[c, i, j] = Σ_{a < k_h, b < k_w} x[c, s_h i + a - pad_h, s_w j + b - pad_w]` (zero padding),
    divided by `k_h k_w` for `AvgPool2d` (the padded zeros count, PyTorch's default
    `count_include_pad=True`); output size `⌊(n + 2 pad - k) / s⌋ + 1` per axis.
    """

    kind: str = eqx.field(static=True)
    in_shape: tuple[int, int, int] = eqx.field(static=True)
    kernel: tuple[int, int] = eqx.field(static=True)
    stride: tuple[int, int] = eqx.field(static=True)
    padding: tuple[int, int] = eqx.field(static=True)

    @property
    def out_shape(self) -> tuple[int, int, int]:
        spatial = tuple(
            _output_size(n, k, s, (p, p))
            for n, k, s, p in zip(self.in_shape[1:], self.kernel, self.stride, self.padding,
                                  strict=True)
        )  # fmt: skip
        return (self.in_shape[0], *spatial)

    def init(self, n: int):
        return None

    def step(self, state, x, *, t, dt):
        pad = ((0, 0), *((p, p) for p in self.padding))
        y = jax.lax.reduce_window(x.reshape(self.in_shape), np.zeros((), x.dtype), jax.lax.add,
                                  (1, *self.kernel), (1, *self.stride), pad)  # fmt: skip
        if self.kind == "AvgPool2d":
            y = y / math.prod(self.kernel)
        return state, y.reshape(-1)

    def n_out(self, n_in):
        return math.prod(self.out_shape)

    def to_nir(self, time_unit: float):
        import nir

        cls = nir.AvgPool2d if self.kind == "AvgPool2d" else nir.SumPool2d
        return cls(kernel_size=np.array(self.kernel), stride=np.array(self.stride),
                   padding=np.array(self.padding))  # fmt: skip


def _same_padding(kernel, dilation, stride, name):
    if any(s != 1 for s in stride):
        raise ValueError(
            f"NIR node {name!r}: padding 'same' needs stride 1 (as in PyTorch), got stride "
            f"{stride}; give the padding as whole numbers."
        )
    total = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return tuple((t // 2, t - t // 2) for t in total)


def conv_from_nir(node, name: str, in_shape: tuple[int, ...] | None, dtype) -> Conv:
    """The `Conv` of a NIR `Conv1d` / `Conv2d` node; `in_shape` is the shape its source gives
    (`None`: unknown), checked against the node's own `input_shape`."""
    kind = type(node).__name__
    weight = np.asarray(node.weight)
    ndim = 1 if kind == "Conv1d" else 2
    if weight.ndim != ndim + 2:
        raise ValueError(
            f"NIR node {name!r} ({kind}): weight of shape {weight.shape}; expected (C_out, "
            f"C_in / groups, {'K' if ndim == 1 else 'K_h, K_w'})."
        )
    groups = int(np.asarray(node.groups))
    if groups < 1 or weight.shape[0] % groups:
        raise ValueError(
            f"NIR node {name!r} ({kind}): groups = {groups} must be >= 1 and divide the "
            f"{weight.shape[0]} output channels."
        )
    channels = weight.shape[1] * groups
    declared = node.input_shape
    if declared is not None:
        declared = (channels, *_ints(declared, ndim, f"NIR node {name!r} ({kind}) input_shape"))
    if in_shape is not None and declared is not None and math.prod(in_shape) != math.prod(declared):
        raise ValueError(
            f"NIR node {name!r} ({kind}) takes an input of shape {declared} (channels x "
            f"input_shape), but its source gives shape {tuple(in_shape)}."
        )
    shape = declared if declared is not None else in_shape
    if shape is None or len(shape) != ndim + 1 or shape[0] != channels:
        raise ValueError(
            f"NIR node {name!r} ({kind}): cannot tell its input shape (C_in = {channels}, "
            f"{ndim} spatial axes) from input_shape = {node.input_shape!r} or its source "
            f"({None if in_shape is None else tuple(in_shape)}); set input_shape."
        )
    stride = _ints(node.stride, ndim, f"NIR node {name!r} ({kind}) stride")
    dilation = _ints(node.dilation, ndim, f"NIR node {name!r} ({kind}) dilation")
    padding = node.padding
    if isinstance(padding, bytes | str | np.str_):
        padding = padding.decode() if isinstance(padding, bytes) else str(padding)
        if padding == "same":
            pads = _same_padding(weight.shape[2:], dilation, stride, name)
        elif padding == "valid":
            pads = ((0, 0),) * ndim
        else:
            raise ValueError(
                f"NIR node {name!r} ({kind}): padding {padding!r} is not supported; NIR "
                "allows 'same', 'valid' or whole numbers."
            )
    else:
        pads = tuple((p, p) for p in _ints(padding, ndim, f"NIR node {name!r} ({kind}) padding"))
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation) or any(p < 0 for p, _ in pads):
        raise ValueError(
            f"NIR node {name!r} ({kind}): stride {stride} and dilation {dilation} must be >= 1 "
            f"and padding {pads} >= 0."
        )
    bias = np.zeros(weight.shape[0]) if node.bias is None else np.asarray(node.bias).reshape(-1)
    if bias.shape != (weight.shape[0],):
        raise ValueError(
            f"NIR node {name!r} ({kind}): bias of shape {bias.shape}, expected "
            f"({weight.shape[0]},) (one per output channel)."
        )
    conv = Conv(weight=jnp.asarray(weight, dtype), bias=jnp.asarray(bias, dtype),
                in_shape=tuple(int(s) for s in shape), stride=stride, padding=pads,
                dilation=dilation, groups=groups)  # fmt: skip
    if any(s < 1 for s in conv.out_shape):
        raise ValueError(
            f"NIR node {name!r} ({kind}): the kernel {weight.shape[2:]} (dilation {dilation}) "
            f"is larger than the padded input {shape[1:]}."
        )
    return conv


def pool_from_nir(node, name: str, in_shape: tuple[int, ...] | None) -> Pool:
    """The `Pool` of a NIR `SumPool2d` / `AvgPool2d` node; `in_shape` is what its source
    gives (`(C, H, W)`), or `None` if unknown."""
    kind = type(node).__name__
    declared = (node.input_type or {}).get("input")
    if in_shape is None and declared is not None:
        in_shape = tuple(int(s) for s in np.asarray(declared).reshape(-1))
    if in_shape is None or len(in_shape) != 3:
        raise ValueError(
            f"NIR node {name!r} ({kind}) needs an input of shape (C, H, W), but its source "
            f"gives {in_shape!r}; put it after a Conv2d or give the graph's Input that shape."
        )
    where = f"NIR node {name!r} ({kind})"
    pool = Pool(kind=kind, in_shape=tuple(int(s) for s in in_shape),
                kernel=_ints(node.kernel_size, 2, f"{where} kernel_size"),
                stride=_ints(node.stride, 2, f"{where} stride"),
                padding=_ints(node.padding, 2, f"{where} padding"))  # fmt: skip
    if min(pool.kernel + pool.stride) < 1 or min(pool.padding) < 0:
        raise ValueError(
            f"{where}: kernel_size {pool.kernel} and stride {pool.stride} must be >= 1 and "
            f"padding {pool.padding} >= 0."
        )
    if min(pool.out_shape) < 1:
        raise ValueError(f"{where}: kernel {pool.kernel} is larger than the input {in_shape}.")
    return pool
