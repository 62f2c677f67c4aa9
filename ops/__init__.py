"""brainsim_ops: event-driven sparse linear algebra for JAX."""
