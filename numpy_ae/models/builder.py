r"""The layers of a symmetric autoencoder, shared by every estimator that is one.

:func:`build_autoencoder_layers` returns ``(encoder, decoder, loss)`` for the widths,
activations, loss and optional noise and code layers it is given; the named
autoencoders (:mod:`numpy_ae.models.autoencoders`, :mod:`numpy_ae.models.stacked`,
:mod:`numpy_ae.models.composable`) differ only in what they pass.
"""
from __future__ import annotations
from .._validation import check_layer_sizes
from ..nn.dense import Dense, TiedDense
from ..nn.activations import default_init, make_activation
from ..nn.losses import make_loss
from ..nn.noise import make_corruption

__all__ = ["build_autoencoder_layers"]


def build_autoencoder_layers(n_features, hidden_layer_sizes, *, activation, code_activation=None,
                             output_activation=None, loss="mse", tied=False, init=None, noise=None,
                             noise_level=0.3, code_layers=None):
    r"""The layers of a symmetric autoencoder: ``(encoder, decoder, loss)``, shared by every named preset.

    Encoder: ``[noise]``, then ``Dense -> activation`` per width of ``hidden_layer_sizes``
    (``code_activation`` for the last one, the code), then ``code_layers(dense, code_activation)``
    (a callable returning the list of layers to insert after the code activation, given the
    code's Dense layer). Decoder: the mirror, ``Dense`` (or ``TiedDense`` reusing the mirror
    encoder weights when ``tied``) and ``activation`` between layers, then
    ``output_activation`` (default identity) after the last one, or nothing for
    ``loss="cross_entropy"`` (which takes logits). ``init`` None: He for a ReLU/ELU first
    activation (``code_activation`` when there is one layer), Glorot otherwise.
    """
    sizes = [n_features] + check_layer_sizes(hidden_layer_sizes)
    code_activation = code_activation or activation
    init = default_init(code_activation if len(sizes) == 2 else activation, init)
    encoder = [make_corruption(noise, noise_level)] if noise else []
    dense = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        dense.append(Dense(a, b, init=init))
        encoder += [dense[-1], make_activation(code_activation if i == len(sizes) - 2 else activation)]
    if code_layers is not None:
        encoder += list(code_layers(dense[-1], code_activation))
    decoder = []
    for k in range(len(dense) - 1, -1, -1):
        d = dense[k]
        decoder.append(TiedDense(d) if tied else Dense(d.n_out, d.n_in, init=init))
        if k > 0:
            decoder.append(make_activation(activation))
        elif loss != "cross_entropy":
            decoder.append(make_activation(output_activation or "identity"))
    return encoder, decoder, make_loss(loss)
