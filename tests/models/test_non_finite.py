"""Divergence and non-finite states are never silent (issue 17, part 2).

Every public estimator (found through the shared cases), fitted on small data, then given finite
but extreme inputs through every output method it has: each call returns a finite result or raises
a ValueError that says why; never a NaN or inf handed back silently.
"""
import warnings

import numpy as np
import pytest

import numpy_ae
from numpy_ae.models.finite import OUTPUT_METHODS
from models.estimator_cases import ESTIMATOR_CASES, NEEDS_Y, small_data

X, Y = small_data()


def fitted(label):
    est = ESTIMATOR_CASES[label]
    params = est.get_params(deep=False)
    if "random_state" in params:
        params["random_state"] = 0
    est = type(est)(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, Y) if label.split("(")[0] in NEEDS_Y else est.fit(X)


def call(est, name, A):
    """Call output method ``name`` with the arguments it takes (labels for the conditional VAE)."""
    method = getattr(est, name)
    if name == "inverse_transform":
        codes = est.transform(X, Y) if isinstance(est, numpy_ae.ConditionalVAE) else est.transform(X)
        codes = codes[0] if isinstance(codes, tuple) else codes
        A = codes * (A[0, 0] / X[0, 0])  # the same blow-up, on codes
        return method(A, Y) if isinstance(est, numpy_ae.ConditionalVAE) else method(A)
    if name in ("score",) and est._estimator_type == "classifier":
        return method(A, Y)
    if isinstance(est, numpy_ae.ConditionalVAE) or (name == "fit_transform" and est._estimator_type != "x"):
        return method(A, Y) if isinstance(est, numpy_ae.ConditionalVAE) else method(A)
    return method(A)


@pytest.mark.parametrize("label", sorted(ESTIMATOR_CASES))
@pytest.mark.parametrize("scale", [1e150, 1e300, 1e308])
def test_finite_but_extreme_inputs_give_a_finite_answer_or_a_value_error(label, scale):
    est = fitted(label)
    names = [n for n in OUTPUT_METHODS if hasattr(est, n) and n != "fit_transform"]
    assert names, label
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow RuntimeWarnings on the way to the ValueError
            try:
                out = call(est, name, X * scale)
            except ValueError as exc:
                text = str(exc)
                assert any(w in text for w in ("overflow", "rescale", "must lie in [0, 1]", "beyond float64")), \
                    (label, name, text)
                continue
        parts = out if isinstance(out, tuple) else (out,)
        for part in parts:
            assert np.isfinite(np.asarray(part, dtype=float)).all(), (label, name)


@pytest.mark.parametrize("scale", [1e150, 1e160, 1e308])
@pytest.mark.parametrize("klass", [numpy_ae.PCA, numpy_ae.ZCAWhitening])
def test_pca_scales_first_and_refuses_only_what_float64_cannot_hold(klass, scale):
    """PCA().fit(X * 1e160) raised NumPy's LinAlgError; now: the right answer, or a ValueError."""
    est = klass(epsilon=0.1) if klass is numpy_ae.ZCAWhitening else klass()
    if 2 * np.log10(scale) < 307:  # the variance of X * scale is about 0.05 * scale**2: representable
        est.fit(X * scale)
        ref = klass(epsilon=0.1) if klass is numpy_ae.ZCAWhitening else klass()
        ref.fit(X)
        if klass is numpy_ae.PCA:
            # eigenvalues scale by scale**2, directions do not change (to round-off)
            np.testing.assert_allclose(est.explained_variance_ / scale ** 2, ref.explained_variance_, rtol=1e-10)
            np.testing.assert_allclose(np.abs(est.components_), np.abs(ref.components_), atol=1e-9)
    else:
        with pytest.raises(ValueError, match="beyond float64's range"):
            est.fit(X * scale)
        assert not est._is_fitted()


def test_score_checks_its_input_as_fit_does():
    """DenoisingAutoencoder.score(100 * X) was +101 against -11 on the training data."""
    dae = numpy_ae.DenoisingAutoencoder(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        dae.score(100 * X)
    assert np.isfinite(dae.score(X))
    vae = numpy_ae.VariationalAutoencoder(hidden_layer_sizes=(4,), n_latent=2, epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        vae.score(100 * X)
    mse = numpy_ae.DenoisingAutoencoder(hidden_layer_sizes=(3,), loss="mse", epochs=2, random_state=0).fit(X)
    assert mse.score(100 * X) < mse.score(X)  # a linear output scores any data, and far-off data worse


@pytest.mark.parametrize("y, match", [
    (np.full(40, 0.5), "continuous value 0.5"),
    (np.r_[np.zeros(20), np.full(20, 1.5)], "continuous value 1.5"),
    (np.r_[np.zeros(20), np.full(20, np.inf)], "continuous value inf"),
    (np.array(["a"] * 20 + [1] * 20, dtype=object), "of one kind"),
])
def test_supervised_aae_checks_labels_as_every_classifier_does(y, match):
    aae = numpy_ae.AdversarialAutoencoder(hidden_layer_sizes=(4,), discriminator_hidden=(4,), prior="mixture",
                                          n_components=3, supervised=True, epochs=1, random_state=0)
    with pytest.raises(ValueError, match=match):
        aae.fit(X, y)
    assert not aae._is_fitted()


def test_a_fitted_estimator_never_holds_a_non_finite_parameter():
    """The transaction's last check: a fit that ends with NaN in theta is refused and rolled back."""
    ae = numpy_ae.StackedAutoencoder(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X)
    theta = ae.theta.copy()

    def poison(epoch, history):
        if epoch == 2:  # after the last step: as an update that overflowed would leave it
            ae.network_.theta[0] = np.nan

    with pytest.raises(numpy_ae.exceptions.TrainingDiverged, match="non-finite values in theta"):
        ae.fit(X, callback=poison)
    np.testing.assert_array_equal(ae.theta, theta)
