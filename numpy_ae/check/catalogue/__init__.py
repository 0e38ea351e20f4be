r"""The catalogue of registered gradient checks.

``python -m numpy_ae gradcheck`` and ``tests/check/test_gradcheck.py`` run every
check registered here; each variant added to the library registers its own.
All run in float64 on small random problems (a few examples, a few units), so
the whole catalogue takes about a second.

Step size. UFLDL's :math:`\epsilon = 10^{-4}` (the default of
:func:`numpy_ae.check.gradcheck.numerical_gradient`) leaves a truncation error of
about :math:`\epsilon^2 |f'''| / (12 |f'|)` in the norm-relative difference:
near 1.7e-9 for ``tanh`` (:math:`f'''(0)/f'(0) = -2`), above the 1e-9 target.
The catalogue uses :math:`\epsilon = 10^{-5}`: truncation near 1e-11 and
rounding near :math:`10^{-16} |J| / \epsilon \approx 10^{-10}`, both well below
the 1e-9 tolerance, so every check here passes on UFLDL's plain threshold as
well as on the checker's verdict. (The sparse autoencoder check also passes at
UFLDL's own 1e-4; the KL checks near :math:`\hat\rho = 0` and 1, where the
third derivative is large, use 1e-6.)

Coverage. Every concrete :class:`~numpy_ae.nn.Layer` and
:class:`~numpy_ae.nn.losses.Loss` subclass in the package must be covered by at
least one check: a check declares the classes whose backward pass it verifies
with ``register(name, covers=(Dense, ...))``, and
``tests/check/test_gradcheck_coverage.py`` walks every module of ``numpy_ae``, collects
the subclasses and fails for one that no check covers (it also runs each check
and fails when a declared class was not actually exercised). Exempt are
``Layer`` and ``Loss`` themselves, classes whose name starts with ``_``, and
abstract bases that set ``_abstract = True`` in their own class body (such as
:class:`~numpy_ae.nn.Corruption`).
"""
from __future__ import annotations
from . import adversarial, common, conv, layers, losses, models, penalties, vae

__all__ = ['adversarial', 'common', 'conv', 'layers', 'losses', 'models', 'penalties', 'vae']
