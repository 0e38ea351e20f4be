r"""Priors an adversarial autoencoder matches its codes to.
"""
from __future__ import annotations
import numpy as np
from .._validation import check_non_negative, check_positive_int, check_random_state

__all__ = ['GaussianPrior', 'MixturePrior', 'make_prior', 'PRIORS']



PRIORS = ("gaussian", "mixture")


# --------------------------------------------------------------------------
# Priors
# --------------------------------------------------------------------------
class GaussianPrior:
    r""":math:`p(z) = \mathcal N(0, \sigma^2 I)` on ``dim`` dimensions.

    ``sample(n, rng)`` returns ``(n, dim)`` float64 draws; it has no
    components, so ``labels`` must be None.
    """

    n_components = 1

    def __init__(self, dim=2, std=1.0):
        self.dim = check_positive_int(dim, "dim")
        self.std = float(check_non_negative(std, "std"))

    def sample(self, n, rng=None, labels=None):
        n = check_positive_int(n, "n", minimum=0)
        if labels is not None:
            raise ValueError("labels must be None for a GaussianPrior (it has no components to choose); "
                             "use MixturePrior for label-dependent samples")
        return self.std * check_random_state(rng).standard_normal((n, self.dim))

    def __repr__(self):
        return f"GaussianPrior(dim={self.dim}, std={self.std})"


class MixturePrior:
    r"""An equal-weight mixture of ``n_components`` elongated Gaussians arranged on a circle.

    Component :math:`k` (:math:`k = 0..C-1`) has its mean at angle
    :math:`\phi_k = 2\pi k / C` and distance ``radius`` from the origin in the
    first two coordinates, :math:`m_k = r(\cos\phi_k, \sin\phi_k, 0, \dots)`,
    and standard deviation ``radial_std`` along :math:`u_k = (\cos\phi_k, \sin\phi_k)`,
    ``tangential_std`` along :math:`(-\sin\phi_k, \cos\phi_k)` and along every
    further coordinate (``dim > 2``):

    .. math:: z = m_k + s_r\,\varepsilon_1 u_k + s_t\,\varepsilon_2 u_k^{\perp}
              \ (+\ s_t\,\varepsilon_{3..})\quad \varepsilon \sim \mathcal N(0, I).

    The defaults (radius 2, stds 0.5 and 0.1) give ten separated spokes, the
    shape of Makhzani et al.'s figures 4 and 6.

    ``sample(n, rng, labels=None)``: ``labels`` None draws the component of
    each sample uniformly; an int array ``(n,)`` of values in ``0..C-1``
    draws sample :math:`i` from component ``labels[i]``.
    """

    def __init__(self, n_components=10, dim=2, radius=2.0, radial_std=0.5, tangential_std=0.1):
        self.n_components = check_positive_int(n_components, "n_components")
        self.dim = check_positive_int(dim, "dim", minimum=2)
        self.radius = check_non_negative(radius, "radius")
        self.radial_std = check_non_negative(radial_std, "radial_std")
        self.tangential_std = check_non_negative(tangential_std, "tangential_std")

    @property
    def means(self):
        """The component means, ``(n_components, dim)``."""
        phi = 2.0 * np.pi * np.arange(self.n_components) / self.n_components
        m = np.zeros((self.n_components, self.dim))
        m[:, 0], m[:, 1] = self.radius * np.cos(phi), self.radius * np.sin(phi)
        return m

    def component_of(self, Z):
        r"""The component each point of ``Z (N, dim)`` most likely came from, ``(N,)`` int.

        All components have equal weights and the same covariance up to a
        rotation, so this is the one at the smallest Mahalanobis distance:
        :math:`\arg\min_k\, (d\cdot u_k)^2/s_r^2 + (d\cdot u_k^{\perp})^2/s_t^2
        + \sum_{j>2} d_j^2/s_t^2` with :math:`d = z - m_k`.
        """
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.dim:
            raise ValueError(f"Z must have shape (N, {self.dim}) (points of the prior's space); got {Z.shape}")
        phi = 2.0 * np.pi * np.arange(self.n_components) / self.n_components
        d = Z[:, None, :2] - self.means[None, :, :2]  # (N, C, 2)
        r = d[..., 0] * np.cos(phi) + d[..., 1] * np.sin(phi)
        t = -d[..., 0] * np.sin(phi) + d[..., 1] * np.cos(phi)
        far = np.square(Z[:, 2:]).sum(1)[:, None] / max(self.tangential_std, 1e-300) ** 2
        return np.argmin(r ** 2 / max(self.radial_std, 1e-300) ** 2 + t ** 2 / max(self.tangential_std, 1e-300) ** 2
                         + far, axis=1)

    def sample(self, n, rng=None, labels=None):
        n = check_positive_int(n, "n", minimum=0)
        rng = check_random_state(rng)
        if labels is None:
            k = rng.integers(0, self.n_components, n)
        else:
            k = np.asarray(labels)
            if k.shape != (n,) or not np.issubdtype(k.dtype, np.integer) or (n and (k.min() < 0 or
                                                                                    k.max() >= self.n_components)):
                raise ValueError(f"labels must be an int array of shape ({n},) with values in 0..{self.n_components - 1} "
                                 f"(the component of each sample); got shape {k.shape}, dtype {k.dtype}")
        eps = rng.standard_normal((n, self.dim))
        phi = 2.0 * np.pi * k / self.n_components
        c, s = np.cos(phi), np.sin(phi)
        a, b = self.radius + self.radial_std * eps[:, 0], self.tangential_std * eps[:, 1]
        Z = self.tangential_std * eps
        Z[:, 0] = a * c - b * s  # rotate (radius + radial noise, tangential noise) by phi
        Z[:, 1] = a * s + b * c
        return Z

    def __repr__(self):
        return (f"MixturePrior(n_components={self.n_components}, dim={self.dim}, radius={self.radius}, "
                f"radial_std={self.radial_std}, tangential_std={self.tangential_std})")


def make_prior(prior, dim, n_components=10):
    """The prior called ``prior`` ("gaussian": N(0, I); "mixture": :class:`MixturePrior`) on ``dim`` dimensions."""
    if not isinstance(prior, str) or prior not in PRIORS:
        raise ValueError(f"prior must be one of {list(PRIORS)} (the distribution the codes are matched to); "
                         f"got {prior!r}")
    if prior == "gaussian":
        return GaussianPrior(dim)
    if dim < 2:
        raise ValueError(f"prior='mixture' needs a code of at least 2 dimensions (its components lie on a circle); "
                         f"got n_latent={dim}")
    return MixturePrior(n_components, dim)
