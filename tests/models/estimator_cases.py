"""One small configuration of every public estimator (several for some), shared by the tests that must
cover them all: scikit-learn's checks (test_sklearn.py) and the fit transaction (test_transaction.py).

Small budgets keep the tests fast; every other hyperparameter is the default.
"""
import inspect

import numpy as np

import numpy_ae

ESTIMATOR_CASES = {
    "SparseAutoencoder": numpy_ae.SparseAutoencoder(n_hidden=3, max_iter=30),
    "SparseAutoencoder(decoder='linear')": numpy_ae.SparseAutoencoder(n_hidden=3, decoder="linear", max_iter=30),
    "LinearAutoencoder": numpy_ae.LinearAutoencoder(n_components=1, max_iter=100),
    "StackedAutoencoder": numpy_ae.StackedAutoencoder(hidden_layer_sizes=(3, 2), epochs=2),
    "DenoisingAutoencoder": numpy_ae.DenoisingAutoencoder(hidden_layer_sizes=(3,), epochs=2),
    "DenoisingAutoencoder(loss='mse')": numpy_ae.DenoisingAutoencoder(hidden_layer_sizes=(3,), loss="mse", epochs=2),
    "VariationalAutoencoder": numpy_ae.VariationalAutoencoder(hidden_layer_sizes=(4,), n_latent=2, epochs=2),
    "VariationalAutoencoder(likelihood='gaussian')": numpy_ae.VariationalAutoencoder(
        hidden_layer_sizes=(4,), n_latent=2, likelihood="gaussian", epochs=2),
    "ConditionalVAE": numpy_ae.ConditionalVAE(hidden_layer_sizes=(4,), n_latent=2, epochs=2),
    "ConditionalVAE(likelihood='gaussian')": numpy_ae.ConditionalVAE(
        hidden_layer_sizes=(4,), n_latent=2, likelihood="gaussian", epochs=2),
    # scikit-learn feeds flat (N, D) data of several D: image_shape=None reads it as one-row (1, 1, D)
    # images, which pooling cannot halve, so the checked configurations use pool=None (the network is
    # then 'same' convolutions all through; see numpy_ae.models.convolutional)
    "ConvAutoencoder(pool=None)": numpy_ae.ConvAutoencoder(filters=(2,), pool=None, epochs=2),
    "ConvAutoencoder(pool=None, loss='mse')": numpy_ae.ConvAutoencoder(filters=(2,), pool=None, loss="mse",
                                                                       epochs=2),
    "ConvWTAAutoencoder(loss='mse')": numpy_ae.ConvWTAAutoencoder(filters=(2,), kernel_size=3, loss="mse",
                                                                  epochs=2),
    "RegularizedAutoencoder": numpy_ae.RegularizedAutoencoder(hidden_layer_sizes=(3,), contraction=0.1,
                                                              l1_activity=1e-3, k_sparse=2, epochs=2),
    "RegularizedAutoencoder(lifetime, KL, noise)": numpy_ae.RegularizedAutoencoder(
        hidden_layer_sizes=(3,), sparsity_weight=0.1, lifetime_sparsity=0.5, noise="gaussian", epochs=2),
    "ContractiveAutoencoder": numpy_ae.ContractiveAutoencoder(hidden_layer_sizes=(3,), epochs=2),
    "ContractiveAutoencoder(loss='mse')": numpy_ae.ContractiveAutoencoder(hidden_layer_sizes=(3,), loss="mse",
                                                                          epochs=2),
    "KSparseAutoencoder": numpy_ae.KSparseAutoencoder(hidden_layer_sizes=(4,), k=2, epochs=2),
    "WTAAutoencoder": numpy_ae.WTAAutoencoder(hidden_layer_sizes=(4,), epochs=2),
    # scikit-learn's data have few features: kernel_size=1 keeps every window (one row) at least a kernel long
    "Conv1DAutoencoder(kernel_size=1)": numpy_ae.Conv1DAutoencoder(filters=(2,), kernel_size=1, epochs=2),
    "AdversarialAutoencoder": numpy_ae.AdversarialAutoencoder(hidden_layer_sizes=(4,), discriminator_hidden=(4,),
                                                              epochs=2),
    "AdversarialAutoencoder(loss='mse')": numpy_ae.AdversarialAutoencoder(
        hidden_layer_sizes=(4,), discriminator_hidden=(4,), loss="mse", epochs=2),
    "PCA": numpy_ae.PCA(),
    "ZCAWhitening": numpy_ae.ZCAWhitening(),
    "SoftmaxRegression": numpy_ae.SoftmaxRegression(max_iter=50),
    "EncoderClassifier": numpy_ae.EncoderClassifier(hidden_layer_sizes=(4,), max_iter=30, softmax_max_iter=30),
}


NEEDS_Y = ("ConditionalVAE", "SoftmaxRegression", "EncoderClassifier")


def public_estimator_classes():
    """Every public estimator class of numpy_ae (found by introspection)."""
    return {name: obj for name, obj in vars(numpy_ae).items()
            if inspect.isclass(obj) and issubclass(obj, numpy_ae.BaseEstimator) and not inspect.isabstract(obj)
            and obj not in (numpy_ae.BaseEstimator, numpy_ae.Autoencoder)}


def small_data(seed=0, n=40, d=6):
    """``X (n, d)`` in (0.1, 0.9) and labels ``y`` in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.1, 0.9, (n, d))
    y = (X[:, 0] + X[:, 1] > 1.0).astype(int) + (X[:, 2] > 0.5)
    return X, y
