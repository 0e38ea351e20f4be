r"""numpy_ae: reference NumPy implementations of autoencoders.

Every layer has a hand-written forward and backward pass, every gradient is
checked numerically (``python -m numpy_ae gradcheck``), and all parameters of a
model live in one flat vector that L-BFGS and the minibatch optimisers share.
Every estimator follows scikit-learn's conventions (``Pipeline``, ``clone``,
``GridSearchCV``) without needing scikit-learn.
"""
from .autoencoders import Autoencoder, LinearAutoencoder, SparseAutoencoder
from .base import BaseEstimator, load
from .classifier import EncoderClassifier
from .composable import ContractiveAutoencoder, KSparseAutoencoder, RegularizedAutoencoder, WTAAutoencoder
from .convae import ConvAutoencoder, ConvWTAAutoencoder
from .exceptions import ConvergenceWarning, NotFittedError
from .model import Sequential
from .pca import PCA, ZCAWhitening
from .softmax import SoftmaxRegression
from .stacked import DenoisingAutoencoder, StackedAutoencoder, pretrain_layerwise
from .timeseries import Conv1DAutoencoder
from .variational import ConditionalVAE, VariationalAutoencoder

__version__ = "0.1.0"
__all__ = ["Autoencoder", "LinearAutoencoder", "SparseAutoencoder", "StackedAutoencoder", "DenoisingAutoencoder",
           "VariationalAutoencoder", "ConditionalVAE", "ConvAutoencoder", "ConvWTAAutoencoder", "Conv1DAutoencoder",
           "RegularizedAutoencoder", "ContractiveAutoencoder", "KSparseAutoencoder", "WTAAutoencoder",
           "EncoderClassifier", "SoftmaxRegression", "PCA", "ZCAWhitening", "Sequential", "BaseEstimator",
           "pretrain_layerwise", "load", "ConvergenceWarning", "NotFittedError", "__version__"]
