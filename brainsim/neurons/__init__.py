"""Point neuron models."""
