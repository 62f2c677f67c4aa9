"""brainsim: a differentiable brain simulator on JAX."""

__version__ = "0.1.0"
