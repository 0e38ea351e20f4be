r"""numpy_ae: reference NumPy implementations of autoencoders.

Every layer has a hand-written forward and backward pass, every gradient is
checked numerically (``python -m numpy_ae gradcheck``), and all parameters of a
model live in one flat vector that L-BFGS and the minibatch optimisers share.
"""
from .autoencoders import Autoencoder, SparseAutoencoder, load
from .model import Sequential

__version__ = "0.1.0"
__all__ = ["Autoencoder", "SparseAutoencoder", "Sequential", "load", "__version__"]
