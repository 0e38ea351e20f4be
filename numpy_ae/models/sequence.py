r"""Time-series anomaly detection with a 1-D convolutional autoencoder (the Keras/NAB example), and baselines.

The public reference is the Keras example "Timeseries anomaly detection using
an Autoencoder": train on NAB's artificial series ``art_daily_small_noise``
(14 days, one value every 5 minutes, so 288 steps a day), test on
``art_daily_jumpsup``; cut both into windows of one day (288 steps) at
stride 1; reconstruct each window with a convolutional autoencoder; a window
is anomalous when its reconstruction error exceeds the largest error seen on
a training window; a point is anomalous when every window covering it is.

What this module holds, in the order a reader meets it:

``make_nab_like``
    A documented generator of that family (a square-ish daily cycle plus
    Gaussian noise), with labelled anomalies of five kinds, so everything runs
    without downloading NAB. ``read_nab_csv`` reads NAB's own ``timestamp,value``
    files when a user has them.
``sliding_windows``
    All windows of a series as an ``(N, 1, L)`` read-only view (no copy).
``Conv1DAutoencoder``
    The Keras example's network as an estimator (scikit-learn conventions,
    save/load like every numpy_ae autoencoder).
``window_mae``, ``flag_points``, ``window_labels``
    Scoring windows, the point-flagging rule and the window labels.
``rolling_zscore_scores``, ``pca_window_scores``
    The two baselines, scored on the same windows with the same threshold rule.
``detect``
    Everything above on one train/test pair: thresholds, flags and metrics.

Shapes: ``T`` points in a series, ``L`` steps in a window (``window``),
``N = T - L + 1`` windows, ``C`` channels (1 for a univariate series).

Normalisation (as in the Keras example): the training series is standardised
by its own mean and standard deviation (``ddof=1``, pandas' ``std``), and the
test series by the TRAINING mean and standard deviation, so a jump in the test
series stays a jump.

The point-flagging rule and the series' ends
--------------------------------------------
Window :math:`j` covers points :math:`j, \dots, j + L - 1`. Point :math:`i` is
flagged when every window that covers it is anomalous: windows
:math:`\max(0, i - L + 1), \dots, \min(i, N - 1)`. In the middle of a series
that is :math:`L` windows; the first and last :math:`L - 1` points are covered
by fewer (point 0 by window 0 alone), and the rule is applied to the windows
that exist, so an anomalous first window flags point 0. (The Keras example
instead never flags the first and last :math:`L - 1` points, and its slice
``anomalies[i - L + 1 : i]`` checks :math:`L - 1` of the :math:`L` windows.)
A window's label, for the window-level ROC AUC, is True when it contains at
least one labelled point.
"""
from __future__ import annotations
import math
import numbers
import numpy as np
from .._validation import check_filters_and_kernel, array_ndim, check_array, check_float_dtype, check_non_negative, check_positive_int
from .autoencoders import Autoencoder
from .training import _set_params_from_locals
from ..nn.conv import Conv1D, ConvTranspose1D
from ..nn.dense import Dense
from ..nn.noise import Dropout
from ..nn.activations import make_activation
from ..nn.losses import make_loss
from ..nn.spatial import Flatten, Reshape

__all__ = ['Conv1DAutoencoder']




# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------

class Conv1DAutoencoder(Autoencoder):
    r"""1-D convolutional autoencoder on windows of a series: the Keras time-series anomaly example's network.

    Network, for windows of ``C`` channels and ``L`` steps and ``filters = (f_1, ..., f_M)``
    (defaults: the Keras example, ``filters=(32, 16)``, ``kernel_size=7``, ``stride=2``)::

        X (N, C L) -> Reshape(C, L)
          -> [Conv1D(f_m, k, stride s, "same") -> ReLU (-> Dropout)]   m = 1..M      (encoder)
          -> Flatten                                                   (N, f_M L_M)
          (-> Dense(K)                                                 code (N, K), when code_size = K
           -> Dense(f_M L_M) -> ReLU)
          -> Reshape(f_M, L_M)
          -> [ConvTranspose1D(f_m, k, stride s) -> ReLU (-> Dropout)]  m = M..1      (decoder)
          -> ConvTranspose1D(C, k, stride 1, "same") -> Flatten        reconstruction (N, C L)

    Dropout (rate ``dropout``, training only; :class:`~numpy_ae.nn.noise.Dropout`)
    follows every block but the last of the encoder and of the decoder: for two
    blocks that is after the first convolution and after the first transposed
    convolution, as in Keras. Loss: mean squared error (Keras' ``"mse"``,
    :class:`~numpy_ae.nn.losses.MeanSquaredError`). For ``L = 288``: 288 -> 144 -> 72
    -> 144 -> 288 steps, 9,505 parameters, as Keras' summary reports.

    The bottleneck. The Keras network's code is the last convolution's output,
    ``f_M L_M`` numbers: 16 x 72 = 1,152 for 288 inputs, four times more
    numbers than the window holds, so nothing stops it from passing any
    window through, anomalous or not (``code_size=None``, the default: the
    replica). ``code_size = K`` puts a linear :class:`~numpy_ae.nn.dense.Dense`
    layer of ``K`` units after the encoder's ``Flatten`` (the code, ``(N, K)``)
    and a ``Dense(f_M L_M)`` + activation before the decoder's ``Reshape``: a
    real bottleneck of ``K < C L`` numbers (``K = 16`` for 288 steps: the
    detector of ``python -m numpy_ae anomaly-timeseries``, as many numbers as
    the PCA baseline's 16 components).

    "Same" padding. A stride-``s`` convolution pads ``k // 2`` on both sides
    (odd ``k``), giving :math:`L' = \lceil L/s \rceil`, Keras' "same" length
    (Keras pads asymmetrically, 2 left and 3 right for ``k = 7, s = 2`` on an
    even length; here 3 and 3, so the sampling grid is shifted by one step).
    Each transposed convolution gets the padding ``p`` and ``output_padding`` ``o``
    that bring its input back to exactly the length the matching convolution
    read: :math:`(L' - 1)s - 2p + k + o = L`.

    Training follows the example: Adam (learning rate 1e-3), minibatches of
    128, up to 50 epochs, the last ``validation_split = 0.1`` of the windows
    held out (Keras' ``validation_split`` takes the last part, before
    shuffling) and early stopping after ``patience = 5`` epochs without a
    lower validation loss. Unlike Keras' ``EarlyStopping`` (without
    ``restore_best_weights``), the best epoch's parameters are restored.

    Inputs: ``(N, L)`` (one channel), ``(N, C, L)`` (e.g. :func:`sliding_windows`),
    or flat rows ``(N, C L)`` of a model fitted on ``C`` channels. ``L`` must be
    at least ``kernel_size`` (ValueError otherwise).

    Parameters
    ----------
    filters : tuple of int >= 1
    code_size : None or int >= 1
        None: the Keras network (the code is the last convolution's output);
        ``K``: a dense code of ``K`` numbers between encoder and decoder.
    kernel_size : odd int >= 1
    stride : int >= 1
    dropout : float in [0, 1)
    activation : str
    weight_decay : float >= 0
    validation_split : float in [0, 1)
        Fraction of the windows (the last ones) held out for early stopping
        when ``fit`` gets no ``validation_data`` (minibatch methods; L-BFGS
        trains on all windows); 0 trains on all of them
        (early stopping then watches the training loss). When the split would
        leave no window on either side, all windows are trained on.
    method, max_iter, gtol, epochs, batch_size, learning_rate, momentum, nesterov, patience, verbose, warm_start, dtype, random_state :
        Training, as for every autoencoder (:mod:`numpy_ae.models.autoencoders`).

    Attributes
    ----------
    series_shape_ : (C, L)
    code_shape_ : (f_M, L_M), or (K,) with ``code_size = K``
    """

    _saved_attributes = {"series_shape_": tuple, "code_shape_": tuple, "n_validation_": int}

    def __init__(self, filters=(32, 16), *, code_size=None, kernel_size=7, stride=2, dropout=0.2, activation="relu",
                 weight_decay=0.0, validation_split=0.1, method="adam", max_iter=200, gtol=1e-5, epochs=50,
                 batch_size=128, learning_rate=None, momentum=0.9, nesterov=False, patience=5, verbose=0,
                 warm_start=False, dtype="float64", random_state=None, fast=True):
        _set_params_from_locals(self, locals())
        self._validate_params()

    # ------------------------------------------------------------- structure
    def _validate_params(self):
        check_filters_and_kernel(self.filters, self.kernel_size)
        check_positive_int(self.stride, "stride")
        if self.code_size is not None:
            check_positive_int(self.code_size, "code_size")
        d = self.dropout
        if isinstance(d, bool) or not isinstance(d, numbers.Real) or not 0.0 <= d < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1) (the probability of dropping an entry); got {d!r}")
        make_activation(self.activation)
        check_non_negative(self.weight_decay, "weight_decay")
        v = self.validation_split
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 <= v < 1.0:
            raise ValueError(f"validation_split must be a number in [0, 1) (the fraction of windows held out); "
                             f"got {v!r}")
        super()._validate_params()

    def _series_shape_for(self, n_features):
        fitted = getattr(self, "series_shape_", None)
        if fitted is not None and math.prod(fitted) == n_features:
            return tuple(int(d) for d in fitted)
        return (1, int(n_features))

    def _make_network(self, n_features):
        C, L = self._series_shape_for(n_features)
        k, s = int(self.kernel_size), int(self.stride)
        if L < k:
            raise ValueError(f"window must be >= kernel_size: each example is a window of L = {L} steps, shorter "
                             f"than the kernel (kernel_size = {k}); use longer windows or a smaller kernel_size")
        filters = tuple(int(f) for f in self.filters)
        init = "he" if self.activation in ("relu", "elu") else "glorot"
        M = len(filters)
        encoder, lengths, c = [Reshape((C, L))], [L], C
        for m, f in enumerate(filters):
            encoder += [Conv1D(c, f, k, stride=s, padding=k // 2, init=init), make_activation(self.activation)]
            if self.dropout > 0 and m < M - 1:
                encoder.append(Dropout(self.dropout))
            lengths.append((lengths[-1] - 1) // s + 1)  # ceil(L / s)
            c = f
        encoder.append(Flatten())
        self.series_shape_ = (C, L)
        conv_shape = (c, lengths[-1])
        self.code_shape_ = conv_shape
        decoder = []
        if self.code_size is not None:
            K, n_conv = int(self.code_size), c * lengths[-1]
            encoder.append(Dense(n_conv, K, init="glorot"))
            decoder += [Dense(K, n_conv, init=init), make_activation(self.activation)]
            self.code_shape_ = (K,)
        decoder.append(Reshape(conv_shape))
        for m in reversed(range(M)):
            small, big = lengths[m + 1], lengths[m]
            r = (small - 1) * s + k - big  # 2p - o
            p = max(0, (r + 1) // 2)
            decoder += [ConvTranspose1D(c, filters[m], k, stride=s, padding=p, output_padding=2 * p - r, init=init),
                        make_activation(self.activation)]
            if self.dropout > 0 and m > 0:
                decoder.append(Dropout(self.dropout))
            c = filters[m]
        decoder += [ConvTranspose1D(c, C, k, stride=1, padding=k // 2, init="glorot"), Flatten()]
        return encoder, decoder, make_loss("mse")

    # ---------------------------------------------------------------- inputs
    def _check_X(self, X, fitting=False):
        """Windows ``(N, L)``, ``(N, C, L)`` or flat ``(N, C L)`` to the network's flat rows ``(N, C L)``."""
        if hasattr(X, "toarray") and hasattr(X, "nnz"):
            return super()._check_X(X, fitting)  # its TypeError
        ndim = array_ndim(X)
        if ndim != 3:
            if ndim is not None and ndim > 3:
                raise ValueError(f"X must have 2 (N, L) or 3 (N, C, L) dimensions; got shape {np.shape(X)}")
            if fitting:
                self.__dict__.pop("series_shape_", None)  # (N, L) is read as one channel
            return super()._check_X(X, fitting)
        X = check_array(X, "X", ndim=3, dtype=check_float_dtype(self.dtype), estimator=type(self).__name__)
        shape = X.shape[1:]
        if not fitting and getattr(self, "network_", None) is not None and shape != tuple(self.series_shape_):
            raise ValueError(f"X's windows must match the model's (C, L) = {tuple(self.series_shape_)}; got "
                             f"X.shape {X.shape}")
        if fitting:
            self.series_shape_ = shape
        return super()._check_X(X.reshape(X.shape[0], -1), fitting)

    def fit(self, X, y=None, *, target=None, validation_data=None, callback=None):
        r"""Train on windows ``X`` (``(N, L)`` or ``(N, C, L)``); return self. ``y`` is ignored.

        Without ``validation_data``, the last ``validation_split`` of the windows
        (``N - floor(N (1 - validation_split))`` of them, Keras' rule) are held
        out for early stopping and not trained on.
        """
        self._validate_params()
        self.n_validation_ = 0
        if validation_data is None and target is None and self.validation_split > 0 and self.method != "lbfgs":
            try:
                Xa = np.asarray(X)
            except Exception:  # ragged lists and the like: the input checks say why
                Xa = None
            n = Xa.shape[0] if Xa is not None and Xa.ndim >= 2 else 0
            split = int(n * (1.0 - self.validation_split))
            if 1 <= split < n:
                super().fit(Xa[:split], y, validation_data=Xa[split:], callback=callback)
                self.n_validation_ = n - split
                return self
        return super().fit(X, y, target=target, validation_data=validation_data, callback=callback)

    def _as_input_layout(self, R, ndim):
        C, L = self.series_shape_
        return R.reshape(-1, C, L) if ndim == 3 else R

    # ------------------------------------------------------------ inference
    def reconstruct(self, X):
        """The reconstruction of ``X``, in ``X``'s own layout (``(N, L)`` or ``(N, C, L)``)."""
        return self._as_input_layout(super().reconstruct(X), array_ndim(X))

    def reconstruction_error(self, X, batch_size=1024):
        r"""Mean absolute error of each window's reconstruction, shape ``(N,)``: the Keras example's score.

        :math:`e_j = \frac{1}{C L}\sum_{c, t} |\hat x_{jct} - x_{jct}|`, computed in
        batches of ``batch_size`` windows (a read-only view of a long series is
        copied one batch at a time).
        """
        self._network()
        X = np.asarray(X)
        n = X.shape[0]
        out = np.empty(n, dtype=np.float64)
        for a in range(0, n, batch_size):
            Xb = self._check_X(X[a:a + batch_size])
            R = self._network().predict(Xb)
            out[a:a + batch_size] = np.abs(R - Xb).mean(axis=1, dtype=np.float64)
        return out
