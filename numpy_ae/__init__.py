r"""numpy_ae: reference NumPy implementations of autoencoders.

Every layer has a hand-written forward and backward pass, every gradient is
checked numerically (``python -m numpy_ae gradcheck``), and all parameters of a
model live in one flat vector that L-BFGS and the minibatch optimisers share.
"""
from .autoencoders import Autoencoder, LinearAutoencoder, SparseAutoencoder, load
from .model import Sequential
from .pca import PCA, ZCAWhitening
from .softmax import SoftmaxRegression

__version__ = "0.1.0"
__all__ = ["Autoencoder", "LinearAutoencoder", "SparseAutoencoder", "Sequential", "PCA", "ZCAWhitening", "SoftmaxRegression",
           "load", "__version__"]
