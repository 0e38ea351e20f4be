r"""The ``"claims"`` of ``python -m numpy_ae denoise-images`` (:mod:`numpy_ae.experiments.denoise_images`).

Computed from the run's result dict (the figures of its ``--json`` line), never
written in by hand; see :mod:`numpy_ae.experiments.claims` for the format.
"""
from __future__ import annotations

from .claims import claim

__all__ = ["denoise_claims"]

KERAS = "Keras example 'Convolutional autoencoder for image denoising' (the network and the noise)"
DA = "deeplearning.net dA tutorial (the dense denoising autoencoder)"


def _epochs(n):
    return f"{n} epoch{'' if n == 1 else 's'}"


def denoise_claims(result):
    """The claims list of a ``denoise-images`` result (test PSNR in dB on the same noisy test images).

    Parameters
    ----------
    result : dict
        Needs ``psnr_noisy``, ``psnr_conv_ae``, ``psnr_dense_dae``, ``psnr_best_classical``,
        ``best_classical``, ``epochs``, ``dense_epochs``.
    """
    conv, dense, noisy = result["psnr_conv_ae"], result["psnr_dense_dae"], result["psnr_noisy"]
    best, best_name = result["psnr_best_classical"], result["best_classical"]
    ce, de = _epochs(result["epochs"]), _epochs(result["dense_epochs"])
    return [
        claim(f"The convolutional autoencoder ({ce}) denoises: its test PSNR is above the noisy input's",
              conv > noisy, conv, noisy, source=KERAS),
        claim(f"The convolutional autoencoder ({ce}) beats the best classical denoiser ({best_name}, its parameter "
              "chosen on a validation split) in test PSNR", conv > best, conv, best, source=KERAS),
        claim(f"The dense denoising autoencoder ({de}) beats the best classical denoiser ({best_name}) in test PSNR",
              dense > best, dense, best, source=DA),
        claim(f"The convolutional autoencoder ({ce}) beats the dense denoising autoencoder ({de}) in test PSNR "
              "(unequal training: the epoch counts are each model's default)", conv > dense, conv, dense,
              source=KERAS),
    ]
