"""numpy_ae: reference NumPy autoencoders."""
