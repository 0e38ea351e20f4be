r"""Benchmark: the MNIST sparse autoencoder (UFLDL's vectorisation exercise) against its GEMM floor.

UFLDL's old wiki reports 25-30 minutes for 200 iterations of this exercise
(784-196-784, 10,000 images, rho 0.1, lambda 3e-3, beta 3). Whatever the
implementation, one evaluation of the cost and gradient on ``N`` examples
needs five matrix products of ``N x 784 x 196`` (15 GFLOP for N = 10,000), in
the row layout of :class:`numpy_ae.nn.dense.Dense` (``X (N, D)``, ``W1 (D, H)``,
``W2 (H, D)``)::

    forward    A  = X @ W1              (N, H)    Z3 = A @ W2          (N, D)
    backward   dW2 = A.T @ d3           (H, D)    d2 = d3 @ W2.T       (N, H)
               dW1 = X.T @ d2           (D, H)

The FLOOR is the time of these five NumPy products alone (same shapes, same
dtype, preallocated outputs, best of several runs), measured in this process
next to our run, times the number of function evaluations L-BFGS made (it
makes slightly more evaluations than iterations: line searches). Everything
else (sigmoids, the loss, the sparsity term, weight decay, copies, L-BFGS
itself) is overhead over that floor.

For each dtype it prints our ``SparseAutoencoder.fit`` time, the floor, their
ratio, and the per-evaluation split (one ``loss_and_grad`` alone against the
five products; the rest of the run is L-BFGS and noise). Targets: at most
1.5x the floor in float64; float32 close to its own floor. ``--breakdown``
also times every layer's forward and backward pass.

The machine is shared and its 2 cores are often busy: the load average is
printed before and after (a busy machine inflates everything, two-thread
BLAS most), ``--repeat`` runs each dtype several times and keeps the fastest,
the floor is the best of ``--floor-repeat`` runs before and after, and
``--threads 1`` compares floor and run on one core each.

Every timed run is checked before its time is printed (``benchmarks/_common.py``):
it must run all ``--iterations`` (or converge) with no ConvergenceWarning, and
its final theta, evaluated in float64, must cost within 1% of the first
float64 run's. A run that fails is printed as FAILED without a time, and the
script exits with status 1.

Run: ``.venv/bin/python benchmarks/bench_mnist_sparse.py [--iterations 50] [--dataset fashion-mnist]``
with ``NUMPY_AE_DATA`` pointing at the data (the 10k MNIST subset has 8,000
training images; Fashion-MNIST gives the full 10,000 x 784 shape).
"""
import argparse
import contextlib
import json
import os
import time
from collections import defaultdict

import numpy as np

from _common import check_run, finish, fit_timed, float64_cost
import numpy_ae
from numpy_ae import SparseAutoencoder
from numpy_ae.data import load_mnist
from numpy_ae.train.parallel import whole_batch_objective

HIDDEN, RHO, BETA, LAMBDA = 196, 0.1, 3.0, 3e-3
COST_RTOL = 0.01  # float32's final cost (evaluated in float64) within 1% of float64's, as for the patches


def best_time(fn, repeat):
    """Fastest of ``repeat`` calls of ``fn()`` (after one warm-up call), in seconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gemm_floor(X, W1, W2, repeat):
    """Seconds for the five products of one evaluation, best of ``repeat``; same shapes and dtype as ours."""
    N, D = X.shape
    H = W1.shape[1]
    rng = np.random.default_rng(0)
    A = rng.uniform(0.0, 1.0, (N, H)).astype(X.dtype)
    d3 = rng.standard_normal((N, D)).astype(X.dtype)
    d2 = np.empty((N, H), X.dtype)
    Z3, dW1, dW2 = np.empty((N, D), X.dtype), np.empty((D, H), X.dtype), np.empty((H, D), X.dtype)

    def five_products():
        np.matmul(X, W1, out=A)        # forward, hidden layer
        np.matmul(A, W2, out=Z3)       # forward, output layer
        np.matmul(A.T, d3, out=dW2)    # backward: output weights
        np.matmul(d3, W2.T, out=d2)    # backward: delta of the hidden layer
        np.matmul(X.T, d2, out=dW1)    # backward: hidden weights

    return best_time(five_products, repeat)


def one_evaluation(ae, X, repeat):
    """Best time of one evaluation as L-BFGS calls it in ``fit`` (float64 theta in, gradient back to float64;
    split by rows across numpy_ae's threads when that pays: ``whole_batch_objective``)."""
    net = ae.network_
    theta64 = net.theta.astype(np.float64)
    with whole_batch_objective(net, X) as fun:
        return best_time(lambda: np.asarray(fun(theta64)[1], dtype=np.float64), repeat)


def breakdown(ae, X, repeat):
    """Best time of every layer's forward and backward pass, and of the loss, in one evaluation (whole, not split
    by rows: the layers' own cost)."""
    net = ae.network_
    times = defaultdict(list)

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            times[name].append(time.perf_counter() - start)
            return out
        return wrapper

    patched = [(layer, "forward") for layer in net.layers] + [(layer, "backward") for layer in net.layers] + \
              [(net.loss, "forward"), (net.loss, "backward")]
    for obj, method in patched:
        name = f"{getattr(obj, 'name', None) or type(obj).__name__}.{method}"
        setattr(obj, method, timed(name, getattr(obj, method)))
    theta64 = net.theta.astype(np.float64)
    for _ in range(repeat + 1):
        net.loss_and_grad(theta64, X)
    for obj, method in patched:
        del obj.__dict__[method]  # back to the class's method
    return {name: min(t[1:]) for name, t in times.items()}


def load_note():
    """The 1-minute load average against the core count: timings on a busy machine mean little."""
    load, cores = os.getloadavg()[0], os.cpu_count()
    busy = "  BUSY: other processes compete for the cores, times are inflated" if load > cores else ""
    return f"load average {load:.1f} on {cores} cores{busy}"


def run(args):
    X_train, _, _, _ = load_mnist(args.dataset)
    print(load_note())
    print(f"sparse autoencoder 784-{HIDDEN}-784 on the first {min(args.examples, len(X_train))} {args.dataset} "
          f"training images, {args.iterations} L-BFGS iterations (rho {RHO}, beta {BETA}, lambda {LAMBDA})")
    result = {"dataset": args.dataset, "iterations_asked": args.iterations}
    failures, reference = [], {}
    for dtype in sorted(args.dtypes, key=lambda d: d != "float64"):  # float64 first: it is the reference
        X = np.ascontiguousarray(X_train[:args.examples], dtype=dtype)
        N, D = X.shape
        params = dict(n_hidden=HIDDEN, sparsity=RHO, beta=BETA, weight_decay=LAMBDA, dtype=dtype, random_state=0)
        ae = SparseAutoencoder(**params).initialize(D)
        W1, W2 = ae.network_.layers[0].W, ae.network_.layers[3].W
        floor = gemm_floor(X, W1, W2, args.floor_repeat)
        evaluation = one_evaluation(ae, X, args.floor_repeat)
        layers = breakdown(ae, X, args.floor_repeat) if args.breakdown else None

        runs, passed = [], []
        for k in range(args.repeat):
            seconds, early = fit_timed(ae, X, max_iter=args.iterations)
            nfev = ae.n_fev_  # the evaluations L-BFGS made (scipy's count), split by rows or not
            cost = float64_cost(ae, X, params)
            ref = reference.get("cost", cost)  # the first float64 run is the reference for all later runs
            ok, why = check_run(ae.n_iter_, args.iterations, cost, ref, COST_RTOL,
                                bool(getattr(ae, "converged_", False)), early)
            reference.setdefault("cost", cost)
            runs.append((seconds, nfev, ae.n_iter_, cost))
            if ok:
                passed.append(runs[-1])
            else:
                failures.append(f"{dtype} run {k + 1}: {why}")
                print(f"\n{dtype} run {k + 1}: FAILED ({why}): {ae.n_iter_} iterations, cost {cost:.6f}; "
                      "no time reported for it")
        floor = min(floor, gemm_floor(X, W1, W2, args.floor_repeat))  # after the run too: keep the best
        if len(passed) < len(runs):
            result[dtype] = {"failed": True}
            continue
        seconds, nfev, nit, cost = min(passed)

        gflop = 5 * 2 * N * D * HIDDEN / 1e9
        floor_run = nfev * floor
        print(f"\n{dtype}: {N} x {D} x {HIDDEN}, {gflop:.1f} GFLOP per evaluation")
        print(f"  ours   fit        {seconds:8.2f} s   {nit} iterations, {nfev} evaluations, "
              f"cost {cost:.6f} (float64-evaluated; checked: all iterations, within {COST_RTOL:.0%} of float64's)")
        print(f"  floor  5 GEMMs    {floor_run:8.2f} s   = {nfev} x {floor * 1e3:.1f} ms ({gflop / floor:.0f} GFLOP/s)")
        print(f"  ratio  ours/floor {seconds / floor_run:8.2f}    target {'<= 1.5' if dtype == 'float64' else 'close to 1'}")
        print(f"  one evaluation: ours {evaluation * 1e3:.1f} ms, floor {floor * 1e3:.1f} ms "
              f"(x{evaluation / floor:.2f}); L-BFGS and the rest: "
              f"{max(seconds - nfev * evaluation, 0.0):.2f} s of the run")
        if nit:
            print(f"  scaled to 400 iterations: ours {seconds * 400 / nit:.0f} s, floor {floor_run * 400 / nit:.0f} s "
                  f"(UFLDL's wiki: 25-30 min for 200)")
        if layers:
            total = sum(layers.values())
            for name, t in layers.items():
                print(f"    {name:22s} {t * 1e3:7.1f} ms  {100 * t / total:5.1f}%")
        result[dtype] = {"seconds": seconds, "nfev": nfev, "iterations": nit, "cost": cost, "n_examples": N,
                         "floor_seconds": floor_run, "floor_per_evaluation": floor, "ratio": seconds / floor_run,
                         "evaluation_seconds": evaluation, "evaluation_ratio": evaluation / floor}
        if layers:
            result[dtype]["breakdown"] = layers
    print(load_note())
    if args.json:
        print(json.dumps(result))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    parser.add_argument("--examples", type=int, default=10000, help="first N training images (fewer if absent)")
    parser.add_argument("--iterations", type=int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    parser.add_argument("--dtypes", nargs="+", choices=["float64", "float32"], default=["float64", "float32"])
    parser.add_argument("--repeat", type=int, default=1, help="runs of fit per dtype; the fastest is kept")
    parser.add_argument("--floor-repeat", type=int, default=5, help="runs of the five products, before and after")
    parser.add_argument("--breakdown", action="store_true", help="also time each layer's forward and backward")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS to this many threads for floor and run alike (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()

    limit = contextlib.nullcontext()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(args.threads, user_api="blas")
        numpy_ae.set_num_threads(args.threads)
    with limit:
        failures = run(args)
    finish(failures)


if __name__ == "__main__":
    main()
