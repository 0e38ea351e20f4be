r"""numpy_ae: reference NumPy implementations of autoencoders.

Every layer has a hand-written forward and backward pass, every gradient is
checked numerically (``python -m numpy_ae gradcheck``), and all parameters of a
model live in one flat vector that L-BFGS and the minibatch optimisers share.
Every estimator follows scikit-learn's conventions (``Pipeline``, ``clone``,
``GridSearchCV``) without needing scikit-learn.
"""
from .models.adversarial import AdversarialAutoencoder
from .models.autoencoders import Autoencoder, LinearAutoencoder, SparseAutoencoder
from .models.base import BaseEstimator, load
from .models.classifier import EncoderClassifier
from .models.composable import ContractiveAutoencoder, KSparseAutoencoder, RegularizedAutoencoder, WTAAutoencoder
from .models.convolutional import ConvAutoencoder
from .models.conv_wta import ConvWTAAutoencoder
from .exceptions import ConvergenceWarning, NotFittedError
from .nn.sequential import Sequential
from .models.pca import PCA, ZCAWhitening
from .models.softmax import SoftmaxRegression
from .models.stacked import DenoisingAutoencoder, StackedAutoencoder, pretrain_layerwise
from .models.sequence import Conv1DAutoencoder
from .models.conditional import ConditionalVAE
from .models.variational import VariationalAutoencoder
from .train.threads import num_threads, set_num_threads

__version__ = "0.1.0"
__all__ = ["Autoencoder", "LinearAutoencoder", "SparseAutoencoder", "StackedAutoencoder", "DenoisingAutoencoder",
           "VariationalAutoencoder", "ConditionalVAE", "ConvAutoencoder", "ConvWTAAutoencoder", "Conv1DAutoencoder",
           "RegularizedAutoencoder", "ContractiveAutoencoder", "KSparseAutoencoder", "WTAAutoencoder",
           "AdversarialAutoencoder",
           "EncoderClassifier", "SoftmaxRegression", "PCA", "ZCAWhitening", "Sequential", "BaseEstimator",
           "pretrain_layerwise", "load", "ConvergenceWarning", "NotFittedError", "num_threads", "set_num_threads",
           "__version__"]
