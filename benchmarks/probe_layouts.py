"""Two probes behind issue 19's unmet rows (benchmarks/README.md): what a different memory layout would buy.

Not part of ``make bench`` (it measures candidate designs, not numpy_ae): run it by hand on a quiet machine,

    python benchmarks/probe_layouts.py [--repeats 300]

(a) The deep autoencoder's matrix products (784-300-150-300-784, batch 150, float32): the forward product,
    dW and dX of every layer with the activations stored batch-major (rows = examples, numpy_ae's layout)
    and feature-major (the transposes stored C-contiguous), NumPy's BLAS at its default threads, and
    PyTorch's for the batch-major ones when it is installed. Each pair is checked to give the same numbers
    before its time is printed.
(b) The MNIST sparse model's output layer (784 sigmoid units over the 5,000 float64 rows a thread gets
    when a 10,000-row L-BFGS evaluation is split in two): bias, sigmoid, squared error and the delta
    over the whole block at once (numpy_ae's passes) against the same work in blocks of 64 rows that
    stay in cache; one thread, then two threads at once. The cost and the delta are checked equal.
(c) SciPy's L-BFGS-B alone (maxcor 10, numpy_ae's default) on a quadratic with as many parameters as that
    model (308,308): its time per iteration outside the objective, SciPy's BLAS at one thread (as
    ``numpy_ae.train.lbfgs`` holds it) and at its default. Checked: 200 iterations ran.
(d) Adam over the VAE's 652,824 float32 parameters: ours on one thread (the default below
    ``numpy_ae.train.threads.MIN_CHUNK``) and on two, PyTorch's ``torch.optim.Adam`` when installed; alone
    and right after a matrix product (OpenBLAS's worker then spins on the other core). Set
    ``OPENBLAS_THREAD_TIMEOUT=4`` in the environment to see the spin go.
"""
from __future__ import annotations

import argparse
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits


def median_us(fn, repeats):
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e6 * float(np.median(times))


def products(repeats):
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    totals = {"batch-major": 0.0, "feature-major": 0.0, "torch": 0.0}
    print("(a) products of 784-300-150-300-784 at batch 150, float32, median of", repeats, "(us)", flush=True)
    for n, a, b in [(150, 784, 300), (150, 300, 150), (150, 150, 300), (150, 300, 784)]:
        X = rng.random((n, a), dtype=np.float32)
        W = rng.random((a, b), dtype=np.float32)
        dZ = rng.random((n, b), dtype=np.float32)
        XT, dZT = np.ascontiguousarray(X.T), np.ascontiguousarray(dZ.T)
        Y, dW, dX = np.empty((n, b), np.float32), np.empty((a, b), np.float32), np.empty((n, a), np.float32)
        YT, dW2, dXT = np.empty((b, n), np.float32), np.empty((a, b), np.float32), np.empty((a, n), np.float32)
        bm = [lambda: np.matmul(X, W, out=Y), lambda: np.matmul(X.T, dZ, out=dW), lambda: np.matmul(dZ, W.T, out=dX)]
        fm = [lambda: np.matmul(W.T, XT, out=YT), lambda: np.matmul(XT, dZT.T, out=dW2),
              lambda: np.matmul(W, dZT, out=dXT)]
        for f in bm + fm:
            f()
        for p, q in ((Y, YT.T), (dW, dW2), (dX, dXT.T)):  # the same work, both layouts
            np.testing.assert_allclose(p, q, rtol=1e-4, atol=1e-3)
        t_bm = [median_us(f, repeats) for f in bm]
        t_fm = [median_us(f, repeats) for f in fm]
        line = (f"  {n} x {a} x {b}: forward / dW / dX  batch-major {t_bm[0]:.0f} / {t_bm[1]:.0f} / {t_bm[2]:.0f}"
                f"  feature-major {t_fm[0]:.0f} / {t_fm[1]:.0f} / {t_fm[2]:.0f}")
        totals["batch-major"] += sum(t_bm)
        totals["feature-major"] += sum(t_fm)
        if torch is not None:
            tX, tW, tdZ = map(torch.from_numpy, (X, W, dZ))
            np.testing.assert_allclose((tX @ tW).numpy(), Y, rtol=1e-4, atol=1e-3)
            t_t = [median_us(f, repeats) for f in (lambda: tX @ tW, lambda: tX.T @ tdZ, lambda: tdZ @ tW.T)]
            line += f"  torch {t_t[0]:.0f} / {t_t[1]:.0f} / {t_t[2]:.0f}"
            totals["torch"] += sum(t_t)
        print(line, flush=True)
    print("  all twelve:", ", ".join(f"{k} {v:,.0f}" for k, v in totals.items() if v), "us", flush=True)


def output_layer(d, R=None):
    """Cost and delta of sigmoid output units under the squared error, over the block ``d`` (rows R at a time)."""
    Z, T, A, dZ, b = d["Z"], d["T"], d["A"], d["dZ"], d["b"]
    np.copyto(Z, d["Z0"])
    N, D = Z.shape
    R = N if R is None else R
    t, u = np.empty((R, D)), np.empty((R, D))
    J = 0.0
    for s in range(0, N, R):
        e = min(s + R, N)
        z, a, dz, tb, ub = Z[s:e], A[s:e], dZ[s:e], t[:e - s], u[:e - s]
        z += b
        np.negative(z, out=a)
        np.exp(a, out=a)
        a += 1.0
        np.divide(1.0, a, out=a)
        np.subtract(a, T[s:e], out=tb)
        J += float(np.vdot(tb.ravel(), tb.ravel()))
        np.subtract(1.0, a, out=ub)
        ub *= a
        ub *= 1.0 / N
        np.multiply(tb, ub, out=dz)
    return 0.5 * J / N


def blocking(repeats):
    rng = np.random.default_rng(1)
    N, D = 5000, 784

    def make():
        Z0 = rng.standard_normal((N, D))
        return {"Z0": Z0, "Z": Z0.copy(), "T": rng.random((N, D)), "A": np.empty((N, D)), "dZ": np.empty((N, D)),
                "b": rng.standard_normal(D)}

    blocks = [make(), make()]
    J_whole = output_layer(blocks[0])
    dZ_whole = blocks[0]["dZ"].copy()
    J_blocked = output_layer(blocks[0], 64)
    assert abs(J_whole - J_blocked) <= 1e-12 * abs(J_whole), (J_whole, J_blocked)  # the same work
    np.testing.assert_allclose(blocks[0]["dZ"], dZ_whole, rtol=1e-13, atol=0)
    print(f"(b) output layer of 784-196-784 over {N:,} float64 rows: cost {J_whole:.6f} either way; min of "
          f"{repeats} (ms)", flush=True)
    with threadpool_limits(1):
        for label, R in (("whole block", None), ("64 rows at a time", 64), ("128 rows at a time", 128)):
            one = min(_timed(lambda: output_layer(blocks[0], R)) for _ in range(repeats))
            two = min(_timed(lambda: _both(blocks, R)) for _ in range(repeats))
            print(f"  {label:<20} one thread {1e3 * one:6.2f}   two threads at once {1e3 * two:6.2f}", flush=True)


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _both(blocks, R):
    threads = [threading.Thread(target=output_layer, args=(d, R)) for d in blocks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def lbfgs_overhead(iterations=200):
    import scipy.optimize
    from numpy_ae.train.lbfgs import single_threaded_scipy_blas
    n = 2 * 784 * 196 + 196 + 784
    rng = np.random.default_rng(2)
    d = rng.uniform(1.0, 10.0, n)
    x0 = rng.standard_normal(n)
    spent = []

    def fun(x):
        t = time.perf_counter()
        g = d * x
        J = 0.5 * float(x @ g)
        spent.append(time.perf_counter() - t)
        return J, g

    print(f"(c) SciPy's L-BFGS-B on a quadratic of {n:,} parameters, maxcor 10, {iterations} iterations", flush=True)
    for label, ctx in (("SciPy's BLAS at one thread", single_threaded_scipy_blas), ("at its default", None)):
        spent.clear()
        t = time.perf_counter()
        if ctx is None:
            res = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                          options=dict(maxiter=iterations, maxcor=10, ftol=0, gtol=0))
        else:
            with ctx():
                res = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                              options=dict(maxiter=iterations, maxcor=10, ftol=0, gtol=0))
        wall = time.perf_counter() - t - sum(spent)
        assert res.nit == iterations, (res.nit, res.message)
        print(f"  {label:<28} {1e3 * wall / res.nit:6.1f} ms per iteration outside the objective "
              f"({res.nfev} evaluations)", flush=True)


def adam_steps(repeats):
    from numpy_ae.train import threads
    from numpy_ae.train.fast_optimizers import Adam
    try:
        import torch
    except ImportError:
        torch = None
    shapes = [(784, 400), (400,), (400, 40), (40,), (20, 400), (400,), (400, 784), (784,)]
    n = sum(int(np.prod(s)) for s in shapes)
    rng = np.random.default_rng(3)
    theta, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    opt = Adam(1e-3)
    A, W = rng.random((128, 784), dtype=np.float32), rng.random((784, 400), dtype=np.float32)
    O = np.empty((128, 400), np.float32)
    product = median_us(lambda: np.matmul(A, W, out=O), repeats)

    def after_product(step):
        return median_us(lambda: (np.matmul(A, W, out=O), step()), repeats) - product

    print(f"(d) Adam over {n:,} float32 parameters, median of {repeats} steps (us)", flush=True)
    default = threads.MIN_CHUNK
    try:
        for label, chunk in (("ours, one thread (default)", default), ("ours, two threads", 1 << 15)):
            threads.MIN_CHUNK = chunk
            alone = median_us(lambda: opt.step(theta, g), repeats)
            print(f"  {label:<28} alone {alone:6.0f}   after a product {after_product(lambda: opt.step(theta, g)):6.0f}",
                  flush=True)
    finally:
        threads.MIN_CHUNK = default
    if torch is not None:
        params = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
        for q in params:
            q.grad = torch.randn_like(q)
        topt = torch.optim.Adam(params, lr=1e-3)
        tA, tW = torch.from_numpy(A), torch.from_numpy(W)
        tprod = median_us(lambda: tA @ tW, repeats)
        alone = median_us(topt.step, repeats)
        after = median_us(lambda: (tA @ tW, topt.step()), repeats) - tprod
        print(f"  {'torch.optim.Adam':<28} alone {alone:6.0f}   after a product {after:6.0f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=300, help="timings per product (part b: a twentieth of it)")
    args = p.parse_args()
    products(args.repeats)
    blocking(max(args.repeats // 20, 3))
    lbfgs_overhead()
    adam_steps(args.repeats)


if __name__ == "__main__":
    main()
