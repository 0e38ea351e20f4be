r"""The ``"claims"`` of ``python -m numpy_ae denoise-images`` (:mod:`numpy_ae.experiments.denoise_images`).

Computed from the run's result dict (the figures of its ``--json`` line), never
written in by hand; see :mod:`numpy_ae.experiments.claims` for the format.
PSNR in dB and SSIM on the same noisy test images; the seconds are process
CPU seconds on one thread (:mod:`numpy_ae.experiments.denoise_budget`).
"""
from __future__ import annotations

from .claims import claim

__all__ = ["denoise_claims"]

KERAS = "Keras example 'Convolutional autoencoder for image denoising' (the network and the noise)"
DA = "deeplearning.net dA tutorial (the dense denoising autoencoder)"
SSIM = "Wang et al. 2004 (SSIM, 7x7 uniform window as scikit-image's default)"


def _epochs(n):
    return f"{n} epoch{'' if n == 1 else 's'}"


def _versus(what, conv, dense, source):
    """Two claims, PSNR and SSIM: the conv AE row ``conv`` beats the dense dA row ``dense``."""
    return [claim(f"{what}, the convolutional autoencoder beats the dense denoising autoencoder in test {name}",
                  conv[key] > dense[key], conv[key], dense[key], source=source if key == "psnr" else SSIM)
            for key, name in (("psnr", "PSNR"), ("ssim", "SSIM"))]


def denoise_claims(result):
    """The claims list of a ``denoise-images`` result.

    Parameters
    ----------
    result : dict
        Needs ``psnr_noisy``, ``ssim_noisy``, ``psnr_conv_ae``, ``ssim_conv_ae``, ``psnr_dense_dae``,
        ``psnr_best_classical``, ``best_classical``, ``epochs``, ``dense_epochs``, and the three
        comparisons ``equal_epochs``, ``equal_seconds_conv_budget``, ``equal_seconds_dense_budget``
        (each with the rows ``"conv"`` and ``"dense"``: ``psnr``, ``ssim``). The sentences name epochs,
        never measured seconds, so that they read the same in every run.
    """
    conv, dense, noisy = result["psnr_conv_ae"], result["psnr_dense_dae"], result["psnr_noisy"]
    best, best_name = result["psnr_best_classical"], result["best_classical"]
    ce, de = _epochs(result["epochs"]), _epochs(result["dense_epochs"])
    ee, cb, db = (result[k] for k in ("equal_epochs", "equal_seconds_conv_budget", "equal_seconds_dense_budget"))
    out = [
        claim(f"The convolutional autoencoder ({ce}) denoises: its test PSNR is above the noisy input's",
              conv > noisy, conv, noisy, source=KERAS),
        claim(f"The convolutional autoencoder ({ce}) denoises: its test SSIM is above the noisy input's",
              result["ssim_conv_ae"] > result["ssim_noisy"], result["ssim_conv_ae"], result["ssim_noisy"],
              source=SSIM),
        claim(f"The convolutional autoencoder ({ce}) beats the best classical denoiser ({best_name}, its parameter "
              "chosen on a validation split) in test PSNR", conv > best, conv, best, source=KERAS),
        claim(f"The dense denoising autoencoder ({de}) beats the best classical denoiser ({best_name}) in test PSNR",
              dense > best, dense, best, source=DA),
    ]
    out += _versus(f"At equal epochs ({_epochs(ee['epochs'])} each)", ee["conv"], ee["dense"], KERAS)
    out += _versus(f"At equal training time (the conv autoencoder's CPU seconds for {ce}, the dense one trained "
                   "for as many epochs as fit into them)", cb["conv"], cb["dense"], KERAS)
    out += _versus(f"At equal training time (the dense autoencoder's CPU seconds for {de}, the conv one given the "
                   "Adam steps that fit into them)", db["conv"], db["dense"], KERAS)
    return out
