"""Benchmark: UFLDL's sparse autoencoder on 8x8 patches, ours against a textbook NumPy version.

The full default run (10,000 patches, 64-25-64, rho 0.01, lambda 1e-4, beta 3,
400 L-BFGS iterations) is timed twice in this one process on the same patches
and the same initial theta:

* ``reference``: one function computing cost and gradient the way the popular
  Python ports of the UFLDL exercise do (examples as columns,
  ``1/(1+np.exp(-z))``, fresh temporaries everywhere), handed to
  ``scipy.optimize.minimize(method="L-BFGS-B")`` with the same options;
* ``numpy_ae``: ``SparseAutoencoder.fit`` in float64 (the default), and again
  with ``dtype="float32"`` (cost and gradient in float32, L-BFGS in float64).

Prints both times, their ratio and both final costs (they should agree: the
two compute the same function). Target on a 2-core machine: ours at most 2 s
and at least 8x faster than the reference.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_sparse_patches.py [--repeat R]``.
"""
import argparse
import json
import time

import numpy as np
import scipy.optimize

from numpy_ae import SparseAutoencoder
from numpy_ae.data import load_images, sample_patches

VISIBLE, HIDDEN, RHO, LAMBDA, BETA, ITERATIONS = 64, 25, 0.01, 1e-4, 3.0, 400


def reference_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_cost(theta, visible_size, hidden_size, lambda_, sparsity_param, beta, data):
    """Textbook vectorised sparseAutoencoderCost; ``data`` is (visible, m), UFLDL's layout."""
    hv = hidden_size * visible_size
    W1 = theta[0:hv].reshape(hidden_size, visible_size)
    W2 = theta[hv:2 * hv].reshape(visible_size, hidden_size)
    b1 = theta[2 * hv:2 * hv + hidden_size]
    b2 = theta[2 * hv + hidden_size:]
    m = data.shape[1]

    z2 = W1.dot(data) + b1[:, np.newaxis]
    a2 = reference_sigmoid(z2)
    z3 = W2.dot(a2) + b2[:, np.newaxis]
    h = reference_sigmoid(z3)

    rho_hat = np.sum(a2, axis=1) / m
    rho = np.tile(sparsity_param, hidden_size)
    cost = (np.sum((h - data) ** 2) / (2 * m)
            + (lambda_ / 2) * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
            + beta * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))))

    sparsity_delta = -rho / rho_hat + (1 - rho) / (1 - rho_hat)
    delta3 = -(data - h) * h * (1 - h)
    delta2 = (W2.transpose().dot(delta3) + beta * sparsity_delta[:, np.newaxis]) * a2 * (1 - a2)
    W1grad = delta2.dot(data.transpose()) / m + lambda_ * W1
    W2grad = delta3.dot(a2.transpose()) / m + lambda_ * W2
    b1grad = np.sum(delta2, axis=1) / m
    b2grad = np.sum(delta3, axis=1) / m
    grad = np.concatenate((W1grad.reshape(hv), W2grad.reshape(hv), b1grad.reshape(hidden_size),
                           b2grad.reshape(visible_size)))
    return cost, grad


def to_reference_theta(ours):
    """Our theta is [W1 (D,H), W2 (H,D), b1, b2]; UFLDL's W1 is our W1.T, etc."""
    hv = HIDDEN * VISIBLE
    W1 = ours[:hv].reshape(VISIBLE, HIDDEN).T
    W2 = ours[hv:2 * hv].reshape(HIDDEN, VISIBLE).T
    return np.concatenate([W1.ravel(), W2.ravel(), ours[2 * hv:]])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    X = sample_patches(load_images(), n=10000, size=8, random_state=0)
    models = {dtype: SparseAutoencoder(n_hidden=HIDDEN, sparsity=RHO, beta=BETA, weight_decay=LAMBDA,
                                       dtype=dtype, random_state=0) for dtype in ("float64", "float32")}
    theta0 = models["float64"].initialize(VISIBLE).theta.copy()
    # the same options numpy_ae.optim.lbfgs passes to scipy
    options = {"maxiter": args.iterations, "maxfun": 2 * args.iterations + 20, "gtol": 1e-5, "maxcor": 10,
               "ftol": 1e3 * np.finfo(np.float64).eps}

    ours, ref = {"float64": [], "float32": []}, []
    for _ in range(args.repeat):
        for dtype, ae in models.items():
            start = time.perf_counter()
            ae.fit(X, max_iter=args.iterations)
            ours[dtype].append((time.perf_counter() - start, ae.cost_, ae.n_iter_))

        data = np.ascontiguousarray(X.T)
        start = time.perf_counter()
        res = scipy.optimize.minimize(reference_cost, to_reference_theta(theta0), jac=True, method="L-BFGS-B",
                                      args=(VISIBLE, HIDDEN, LAMBDA, RHO, BETA, data), options=options)
        ref.append((time.perf_counter() - start, float(res.fun), int(res.nit)))

    t_ref, cost_ref, it_ref = min(ref)
    print(f"sparse autoencoder, 10000 8x8 patches, 64-25-64, L-BFGS (best of {args.repeat})")
    print(f"  reference (textbook NumPy): {t_ref:7.2f} s  {it_ref} iterations  cost {cost_ref:.6f}")
    result = {"reference_seconds": t_ref, "reference_cost": cost_ref, "reference_iterations": it_ref}
    for dtype, runs in ours.items():
        t, cost, it = min(runs)
        print(f"  numpy_ae {dtype:<17s}: {t:7.2f} s  {it} iterations  cost {cost:.6f}   "
              f"speed-up {t_ref / t:5.2f}x")
        result.update({f"{dtype}_seconds": t, f"{dtype}_cost": cost, f"{dtype}_iterations": it,
                       f"{dtype}_speedup": t_ref / t})
    print("  targets: numpy_ae <= 2 s and >= 8x faster than the reference")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
