r"""Benchmark: numpy_ae's convolutions against PyTorch CPU and a naive loop, and one epoch of the Keras denoiser.

Three parts (numpy_ae issue 9), all in one process:

(a) ``Conv2D`` forward plus backward (``dX``, ``dW``, ``db``) at a few shapes
    of the Keras denoiser (minibatch 128, float32, 3 x 3 kernels, padding 1):
    1 -> 32 channels at 28 x 28, 32 -> 32 at 14 x 14, 32 -> 1 at 28 x 28 (the
    output layer), and a stride-2 case, 32 -> 32 from 28 x 28 to 14 x 14.
    Against ``torch.nn.functional.conv2d`` (forward and ``backward`` of the
    same gradient ``dY``) and against :func:`naive_conv`, written here: explicit
    Python loops over the examples and the output pixels, each step one
    patch (``C kh kw`` numbers) times the kernel matrix; its backward loops
    the same way. Before any time is printed, our forward and all three
    gradients must agree with the loops (float64, relative 1e-10) and with
    PyTorch (float32, relative 1e-4 of the largest entry). The loops are
    timed on a minibatch of ``--naive-batch`` images (default 4) and scaled
    linearly to 128 (their cost is linear in N: one identical step per
    example); the scaled figure is marked so.

(b) One epoch of :meth:`numpy_ae.models.convolutional.ConvAutoencoder.keras_denoiser`
    (28,353 parameters) on Fashion-MNIST: inputs ``clip(x + 0.4 N(0, 1), 0, 1)``,
    targets the clean ``x``, 60,000 pairs (``--n-train``), Adam (lr 1e-3,
    0.9, 0.999, 1e-8), minibatches of 128 (469 steps, the last of 96),
    float32. Ours runs :func:`numpy_ae.train.loop.train_minibatch` (the loop
    ``fit(noisy, target=clean)`` runs) on the estimator's network. PyTorch
    runs the same architecture (``nn.Conv2d(1, 32, 3, padding=1)``, ReLU,
    ``MaxPool2d(2)``, the same at 32 channels, two
    ``ConvTranspose2d(32, 32, 3, stride=2, padding=1, output_padding=1)`` with
    ReLU, ``Conv2d(32, 1, 3, padding=1)``) from OUR initial parameters (the
    layouts are PyTorch's, so they copy as they are), with the same
    minibatches (the same seeded permutation) and our loss exactly:
    ``binary_cross_entropy_with_logits(reduction="sum") / n_b``, summed over
    the 784 pixels and averaged over the examples of the minibatch
    (:class:`numpy_ae.nn.losses.BinaryCrossEntropy`; Keras' mean over pixels
    would only rescale the gradient by 784, which Adam ignores up to its
    epsilon). The forward passes of the two networks are compared at the
    start (float32, relative 1e-4). Each round starts both from a fresh
    initialisation (seed + round) and trains one epoch each, ours then
    PyTorch's, so load changes hit both; rounds are repeated (``--rounds``)
    and the medians are reported. After each epoch the test PSNR of both
    (the 10,000 test images, noised with another seed, denoised; PSNR of the
    mean squared error over all test pixels, images in [0, 1]) and of the
    noisy input itself.

    Checks before a time is printed (``benchmarks/_common.py``'s rule: no
    figure for a run that did not do the work): every epoch of both sides
    ran all its steps with finite losses; the mean training losses of the
    two sides are within ``LOSS_RTOL`` (2%) of each other and the test
    PSNRs within ``PSNR_ATOL`` (0.5 dB). The two start from the same point
    with the same batches; float32 rounding makes them drift apart slowly
    (as in ``bench_vae.py``), which costs far less than these tolerances.
    Otherwise FAILED, no figure, exit status 1. Without PyTorch ours alone is
    timed (no ratio, exit 0).

(c) Memory. The peak of the memory NumPy allocates during one epoch of ours
    (``tracemalloc``, which NumPy reports its arrays to; the data set is
    allocated before tracing starts), at ``--n-train`` and half of it: the
    im2col buffers are per minibatch, so the two peaks should be about equal
    (the shuffled index array, 8 bytes per example, is the only part that
    grows). These epochs are untimed (tracing slows Python down).
    ``resource.getrusage``'s peak resident size of the whole process is
    printed too (it includes the data sets and PyTorch).

(d) Memory against PyTorch (``--skip-memory`` skips it too): one epoch of each side in a fresh
    child process (this script with ``--memory-child``), the data and the model made first; then the
    kernel's peak-resident counter is reset (``5 > /proc/self/clear_refs``) and, after the epoch, the
    peak (``VmHWM``) less the resident size before it is the epoch's working memory, whatever
    allocated it (NumPy, PyTorch's allocator, oneDNN). Target: ours at most 1.5 times PyTorch's.
    Linux only; skipped with a message elsewhere.

``--profile`` times every layer's forward and backward pass over
``--profile-steps`` minibatches of ours.

Threads are pinned on both sides (threadpoolctl for NumPy's BLAS,
``torch.set_num_threads``, and numpy_ae's own pool, ``numpy_ae.set_num_threads``), by
default at what NumPy's BLAS has (every library's default on this machine: all its cores);
``--threads 1`` for one thread each.

Measured: see "Convolution speed" under "Benchmarks" in README.md.

PyTorch is never a dependency of numpy_ae; without it the PyTorch half is
skipped with a message. To install the CPU build into the project's venv::

    .venv/bin/pip install torch==2.13.0

Run: ``NUMPY_AE_DATA=../shared/data .venv/bin/python benchmarks/bench_conv.py [--rounds 3] [--threads 1]``;
quick: ``--quick`` (2,048 training images, 1 round, fewer repeats).
"""
import argparse
import json
import os
import resource
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

import numpy_ae
from _common import SteppingClock, finish, numpy_blas_threads
from numpy_ae.analysis.image_quality import psnr  # pooled MSE over all pixels, in float64
from numpy_ae.nn.conv import Conv2D
from numpy_ae.models.convolutional import ConvAutoencoder
from numpy_ae.data import load_mnist
from numpy_ae.nn.activations import sigmoid
from numpy_ae.train.fast_optimizers import Adam
from numpy_ae.train.loop import train_minibatch

NOISE = 0.4
LOSS_RTOL = 0.02  # mean training loss of the epoch, ours vs PyTorch (same start, same batches)
PSNR_ATOL = 0.5  # dB, test PSNR after the epoch, ours vs PyTorch
BATCH = 128
# (name, C, F, H, stride): 3 x 3 kernels, padding 1
SHAPES = [("1->32 28x28", 1, 32, 28, 1), ("32->32 14x14", 32, 32, 14, 1), ("32->1 28x28", 32, 1, 28, 1),
          ("32->32 28x28 s2", 32, 32, 28, 2)]


# ------------------------------------------------------------ (a) one layer
def naive_conv(X, W, b, stride, padding):
    """Conv2D by loops over the examples and the output pixels: ``Y[n, :, i, j] = W_mat @ patch + b``."""
    N, C, H, Wd = X.shape
    F, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (Wd + 2 * padding - kw) // stride + 1
    W_mat = W.reshape(F, -1)
    Y = np.empty((N, F, Ho, Wo), dtype=X.dtype)
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                patch = Xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw].ravel()
                Y[n, :, i, j] = W_mat @ patch + b
    return Y


def naive_conv_backward(X, W, dY, stride, padding):
    """The loops' backward: per example and output pixel, ``dW_mat += dY outer patch`` and the
    patch's gradient ``W_mat.T @ dY`` added back where the patch came from. Returns (dX, dW, db)."""
    N, C, H, Wd = X.shape
    F, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dXp = np.zeros_like(Xp)
    W_mat = W.reshape(F, -1)
    dW = np.zeros_like(W_mat)
    Ho, Wo = dY.shape[2:]
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                d = dY[n, :, i, j]
                dW += np.outer(d, Xp[n, :, rows, cols].ravel())
                dXp[n, :, rows, cols] += (W_mat.T @ d).reshape(C, kh, kw)
    dX = dXp[:, :, padding:padding + H, padding:padding + Wd]
    return dX, dW.reshape(W.shape), dY.sum(axis=(0, 2, 3))


def conv_layer(C, F, stride, dtype, seed):
    """Our Conv2D(C, F, 3, stride, padding=1) (the fast twin), bound to its own theta and grad, He initialised."""
    from numpy_ae.nn.sequential import Sequential
    from numpy_ae.nn.losses import SquaredError

    layer = Conv2D(C, F, 3, stride=stride, padding=1)
    Sequential([layer], SquaredError(), dtype=dtype, random_state=seed, fast=True)
    layer.b[...] = np.random.default_rng(seed + 1).standard_normal(F) * 0.1
    return layer


def ours_step(layer, X, dY):
    layer.dW.fill(0.0)
    layer.db.fill(0.0)
    layer.input_grad = True
    layer.forward(X)
    return layer.backward(dY.copy())


def median_time(fn, repeats):
    """Median wall and CPU (process) seconds of ``repeats`` calls of ``fn``, after one call to warm up."""
    fn()  # warm up: buffers, caches
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return float(np.median(wall)), float(np.median(cpu))


def rel_err(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max() /
                 max(np.abs(np.asarray(b, np.float64)).max(), 1e-300))


def bench_layers(torch, repeats, naive_batch, seed, failures):
    """Part (a): seconds of forward + backward at each of SHAPES, ours, PyTorch's and the loops'."""
    results = []
    rng = np.random.default_rng(seed)
    for name, C, F, H, s in SHAPES:
        # agreement in float64 with the loops, on a small batch
        layer64 = conv_layer(C, F, s, "float64", seed)
        Xs = rng.standard_normal((2, C, H, H))
        Ys = layer64.forward(Xs)
        dYs = rng.standard_normal(Ys.shape)
        dXs = ours_step(layer64, Xs, dYs)
        Yn = naive_conv(Xs, layer64.W, layer64.b, s, 1)
        dXn, dWn, dbn = naive_conv_backward(Xs, layer64.W, dYs, s, 1)
        err_naive = max(rel_err(Ys, Yn), rel_err(dXs, dXn), rel_err(layer64.dW, dWn), rel_err(layer64.db, dbn))
        if not err_naive <= 1e-10:
            failures.append(f"{name}: ours and the loops differ by {err_naive:.2e} (relative, float64)")

        layer = conv_layer(C, F, s, "float32", seed)
        X = rng.standard_normal((BATCH, C, H, H)).astype(np.float32)
        dY = rng.standard_normal(layer.forward(X).shape).astype(np.float32)
        row = {"shape": name, "N": BATCH, "C": C, "F": F, "H": H, "stride": s, "err_naive_float64": err_naive}
        row["ours"], row["ours_cpu"] = median_time(lambda: ours_step(layer, X, dY), repeats)
        Xn, dYn = X[:naive_batch].astype(np.float64), dY[:naive_batch].astype(np.float64)
        W64, b64 = layer.W.astype(np.float64), layer.b.astype(np.float64)
        t_naive, t_naive_cpu = median_time(lambda: (naive_conv(Xn, W64, b64, s, 1),
                                                    naive_conv_backward(Xn, W64, dYn, s, 1)), max(1, repeats // 3))
        row["naive"] = t_naive * BATCH / naive_batch  # scaled linearly from naive_batch images
        row["naive_cpu"] = t_naive_cpu * BATCH / naive_batch
        row["naive_batch"] = naive_batch
        if torch is not None:
            F_ = torch.nn.functional
            xt = torch.from_numpy(X).requires_grad_(True)
            wt = torch.from_numpy(layer.W.copy()).requires_grad_(True)
            bt = torch.from_numpy(layer.b.copy()).requires_grad_(True)
            dyt = torch.from_numpy(dY)

            def torch_step():
                for t in (xt, wt, bt):
                    t.grad = None
                F_.conv2d(xt, wt, bt, stride=s, padding=1).backward(dyt)

            row["torch"], row["torch_cpu"] = median_time(torch_step, repeats)
            dX = ours_step(layer, X, dY)
            with torch.no_grad():
                Yt = F_.conv2d(xt, wt, bt, stride=s, padding=1).numpy()
            err = max(rel_err(layer.forward(X), Yt), rel_err(dX, xt.grad.numpy()),
                      rel_err(layer.dW, wt.grad.numpy()), rel_err(layer.db, bt.grad.numpy()))
            row["err_torch_float32"] = err
            if not err <= 1e-4:
                failures.append(f"{name}: ours and PyTorch differ by {err:.2e} (relative, float32)")
        results.append(row)
    return results


# ------------------------------------------------------------ (b) one epoch
def noisy_pairs(X, seed):
    """``clip(X + 0.4 N(0, 1), 0, 1)`` in float32 (the Keras example's noise)."""
    noise = np.random.default_rng(seed).standard_normal(X.shape, dtype=np.float32)
    return np.clip(X + np.float32(NOISE) * noise, 0.0, 1.0, dtype=np.float32)


def ours_model(seed):
    return ConvAutoencoder.keras_denoiser(dtype="float32", random_state=seed).initialize(784)


def ours_denoise(net, X, chunk=250):
    out = np.empty_like(X)
    for i in range(0, X.shape[0], chunk):
        out[i:i + chunk] = sigmoid(net.forward(X[i:i + chunk], training=False))
    return out


def ours_epoch(net, noisy, clean, seed):
    """One epoch of ours, fresh Adam; returns (wall, cpu, step seconds, mean training loss)."""
    clock = SteppingClock(Adam(1e-3))
    start, cpu = time.perf_counter(), time.process_time()
    clock.last = start
    history = train_minibatch(net, noisy, clean, optimizer=clock, epochs=1, batch_size=BATCH,
                              rng=np.random.default_rng(seed), verbose=False)
    return time.perf_counter() - start, time.process_time() - cpu, np.array(clock.steps), history["loss"][0]


def torch_model(torch, net):
    """The Keras denoiser in PyTorch, with OUR current parameters (the same layouts: copied as they are)."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.ConvTranspose2d(32, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.Conv2d(32, 1, 3, padding=1))
    ours = [layer for layer in net.layers if hasattr(layer, "W")]
    theirs = [m for m in model if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(ours) == len(theirs) == 5
    with torch.no_grad():
        for a, m in zip(ours, theirs):
            assert tuple(m.weight.shape) == a.W.shape, (m, a)
            m.weight.copy_(torch.from_numpy(a.W.copy()))
            m.bias.copy_(torch.from_numpy(a.b.copy()))
    assert sum(p.numel() for p in model.parameters()) == net.n_params
    return model


def torch_epoch(torch, model, noisy, clean, seed):
    """One epoch in PyTorch, fresh Adam, the same minibatches as ours, our loss; as :func:`ours_epoch`."""
    F = torch.nn.functional
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    N = noisy.shape[0]
    order = torch.from_numpy(np.random.default_rng(seed).permutation(N))  # train_minibatch's first draw
    Xt, Tt = torch.from_numpy(noisy).view(N, 1, 28, 28), torch.from_numpy(clean).view(N, 1, 28, 28)
    steps, total = [], 0.0
    model.train()
    start, cpu = time.perf_counter(), time.process_time()
    last = start
    for b in range(-(-N // BATCH)):
        idx = order[b * BATCH:(b + 1) * BATCH]
        x, t = Xt[idx], Tt[idx]
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), t, reduction="sum") / x.shape[0]
        loss.backward()
        optimizer.step()
        total += loss.item() * x.shape[0]
        now = time.perf_counter()
        steps.append(now - last)
        last = now
    return time.perf_counter() - start, time.process_time() - cpu, np.array(steps), total / N


def torch_denoise(torch, model, X, chunk=1000):
    model.eval()
    out = np.empty_like(X)
    with torch.no_grad():
        for i in range(0, X.shape[0], chunk):
            x = torch.from_numpy(X[i:i + chunk]).view(-1, 1, 28, 28)
            out[i:i + chunk] = torch.sigmoid(model(x)).view(x.shape[0], -1).numpy()
    return out


# ------------------------------------------------------------ (c) memory
def epoch_peak_bytes(noisy, clean, seed):
    """Peak bytes NumPy allocates during one epoch of a fresh model (the data allocated before)."""
    net = ours_model(seed).network_
    tracemalloc.start()
    try:
        train_minibatch(net, noisy, clean, optimizer=Adam(1e-3), epochs=1, batch_size=BATCH,
                        rng=np.random.default_rng(seed), verbose=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(side, n_train, seed, threads):
    """In a fresh process: one epoch of ``side`` ("numpy_ae" or "pytorch"); prints the JSON
    ``{"before": KiB resident before the epoch, "peak": KiB peak resident during it}``."""
    import gc
    X_train = load_mnist("fashion-mnist", dtype=np.float32)[0]
    clean = np.ascontiguousarray(X_train[:n_train])
    del X_train
    noisy = noisy_pairs(clean, seed + 10)
    net = ours_model(seed).network_
    if side == "pytorch":
        import torch
        torch.set_num_threads(threads)
        model = torch_model(torch, net)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident size (Linux >= 4.0)
    before = _status_kib("VmRSS")
    with threadpool_limits(limits=threads, user_api="blas"):
        if side == "pytorch":
            torch_epoch(torch, model, noisy, clean, seed + 1)
        else:
            ours_epoch(net, noisy, clean, seed + 1)
    print(json.dumps({"before": before, "peak": _status_kib("VmHWM")}))


def memory_against_torch(n_train, seed, threads):
    """Working memory of one epoch of each side, each in its own child process (KiB), or None off Linux."""
    import subprocess
    import sys
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    out = {}
    for side in ("numpy_ae", "pytorch"):
        run = subprocess.run([sys.executable, __file__, "--memory-child", side, "--n-train", str(n_train),
                              "--seed", str(seed), "--threads", str(threads)],
                             capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        out[side] = r["peak"] - r["before"]
    return out


# ------------------------------------------------------------ profile
def profile_layers(net, noisy, clean, n_steps):
    """Median seconds of every layer's forward and backward pass over ``n_steps`` minibatches."""
    times = {}
    originals = []
    for i, layer in enumerate(net.layers):
        for method in ("forward", "backward"):
            fn = getattr(layer, method)
            key = f"{i:2d} {type(layer).__name__}.{method}"
            times[key] = []

            def timed(*args, _fn=fn, _t=times[key], **kwargs):
                start = time.perf_counter()
                out = _fn(*args, **kwargs)
                _t.append(time.perf_counter() - start)
                return out

            setattr(layer, method, timed)
            originals.append((layer, method))
    total, adam = [], Adam(1e-3)
    try:
        for b in range(n_steps):
            idx = slice((b * BATCH) % (noisy.shape[0] - BATCH), (b * BATCH) % (noisy.shape[0] - BATCH) + BATCH)
            start = time.perf_counter()
            net.compute(noisy[idx], clean[idx])
            adam.step(net.theta, net.grad)
            total.append(time.perf_counter() - start)
    finally:
        for layer, method in originals:
            del layer.__dict__[method]
    out = {k: float(np.median(v)) for k, v in times.items() if v}
    out["whole step (compute + Adam)"] = float(np.median(total))
    return out


# ------------------------------------------------------------ main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS, PyTorch and numpy_ae threads (default: what NumPy's BLAS has, the libraries' default)")
    parser.add_argument("--n-train", type=int, default=60000, help="training pairs per epoch (default 60000)")
    parser.add_argument("--rounds", type=int, default=3, help="epochs per side, interleaved (default 3)")
    parser.add_argument("--repeats", type=int, default=9, help="timed calls per layer shape (default 9)")
    parser.add_argument("--naive-batch", type=int, default=4, help="images the loops are timed on (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2,048 training images, 1 round, 3 repeats")
    parser.add_argument("--no-torch", action="store_true", help="time ours (and the loops) only")
    parser.add_argument("--skip-layers", action="store_true", help="skip part (a)")
    parser.add_argument("--skip-epoch", action="store_true", help="skip part (b)")
    parser.add_argument("--skip-memory", action="store_true", help="skip part (c)")
    parser.add_argument("--profile", action="store_true", help="time every layer of ours")
    parser.add_argument("--profile-steps", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--memory-child", choices=["numpy_ae", "pytorch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        numpy_ae.set_num_threads(args.threads)
        memory_child(args.memory_child, args.n_train, args.seed, args.threads)
        return
    if args.quick:
        args.n_train, args.rounds, args.repeats = min(args.n_train, 2048), 1, 3
    explicit_threads = args.threads is not None
    args.threads = args.threads or numpy_blas_threads()
    for name in ("threads", "n_train", "rounds", "repeats", "naive_batch", "profile_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if args.n_train < BATCH:
        parser.error(f"--n-train must be >= the minibatch size {BATCH}; got {args.n_train}")

    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("PyTorch is not installed: timing ours and the loops only, no ratio to PyTorch "
                  "(to install it: .venv/bin/pip install torch==2.13.0)")
    numpy_ae.set_num_threads(args.threads if explicit_threads else None)  # None: our default (the cores)
    result = {"threads": args.threads, "numpy_ae_threads": numpy_ae.num_threads(),
              "load_average_before": os.getloadavg()}
    print(f"numpy_ae conv benchmark: float32, minibatch {BATCH}, {args.threads} BLAS and PyTorch thread(s), "
          f"{numpy_ae.num_threads()} numpy_ae thread(s)"
          + (f", PyTorch {torch.__version__}" if torch is not None else ""))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    failures = []

    with threadpool_limits(limits=args.threads, user_api="blas"):
        if not args.skip_layers:
            rows = bench_layers(torch, args.repeats, args.naive_batch, args.seed, failures)
            result["layers"] = rows
            print(f"\n(a) Conv2D forward + backward (dX, dW, db), k=3, padding 1, N={BATCH}, float32; median of "
                  f"{args.repeats}, ms, wall / CPU (loops*: float64, timed on {args.naive_batch} images, scaled "
                  f"x{BATCH / args.naive_batch:g})")
            print(f"  {'shape':16s} {'numpy_ae':>13s} {'pytorch':>13s} {'loops*':>13s} {'ours/torch':>11s} "
                  f"{'loops/ours':>11s}  agreement (loops f64, torch f32)")
            for r in rows:
                bad = any(f.startswith(r["shape"] + ":") for f in failures)
                if bad:
                    print(f"  {r['shape']:16s} FAILED (no figure)")
                    continue
                t, tc = r.get("torch", np.nan), r.get("torch_cpu", np.nan)
                print(f"  {r['shape']:16s} {r['ours'] * 1e3:6.1f} {r['ours_cpu'] * 1e3:6.1f} {t * 1e3:6.1f} "
                      f"{tc * 1e3:6.1f} {r['naive'] * 1e3:6.0f} {r['naive_cpu'] * 1e3:6.0f} "
                      f"{r['ours'] / t:5.2f} {r['ours_cpu'] / tc:5.2f} {r['naive'] / r['ours']:5.0f} "
                      f"{r['naive_cpu'] / r['ours_cpu']:5.0f}  "
                      f"{r['err_naive_float64']:.1e}, {r.get('err_torch_float32', np.nan):.1e}")

        if not (args.skip_epoch and args.skip_memory and not args.profile):
            X_train, _, X_test, _ = load_mnist("fashion-mnist", dtype=np.float32)
            clean = np.ascontiguousarray(X_train[:args.n_train])
            noisy = noisy_pairs(clean, args.seed + 10)
            X_test = np.ascontiguousarray(X_test)
            noisy_test = noisy_pairs(X_test, args.seed + 20)
            result["psnr_noisy_input"] = psnr(noisy_test, X_test)
            N = clean.shape[0]
            n_batches = -(-N // BATCH)

        if not args.skip_epoch:
            print(f"\n(b) one epoch of the Keras denoiser (28,353 parameters), Fashion-MNIST: {N} noisy/clean "
                  f"pairs, {n_batches} steps of {BATCH}, Adam 1e-3, float32; {args.rounds} round(s), each from "
                  "a fresh initialisation, ours then PyTorch")
            runs = {"numpy_ae": []} | ({"pytorch": []} if torch is not None else {})
            for r in range(args.rounds):
                seed = args.seed + 100 * r
                net = ours_model(seed).network_
                model = None
                if torch is not None:
                    model = torch_model(torch, net)
                    model.eval()
                    with torch.no_grad():
                        x0 = noisy_test[:64]
                        y_t = model(torch.from_numpy(x0).view(-1, 1, 28, 28)).view(64, -1).numpy()
                    err = rel_err(net.forward(x0, training=False), y_t)
                    if not err <= 1e-4:
                        failures.append(f"round {r}: the two networks' outputs differ by {err:.1e} at the start")
                wall, cpu, steps, loss = ours_epoch(net, noisy, clean, seed + 1)
                runs["numpy_ae"].append({"wall": wall, "cpu": cpu, "steps": len(steps), "loss": loss,
                                         "psnr": psnr(ours_denoise(net, noisy_test), X_test)})
                line = f"  round {r}: numpy_ae {wall:7.1f} s loss {loss:7.2f} PSNR {runs['numpy_ae'][-1]['psnr']:5.2f}"
                if model is not None:
                    wall, cpu, steps, loss = torch_epoch(torch, model, noisy, clean, seed + 1)
                    runs["pytorch"].append({"wall": wall, "cpu": cpu, "steps": len(steps), "loss": loss,
                                            "psnr": psnr(torch_denoise(torch, model, noisy_test), X_test)})
                    line += (f"   pytorch {wall:7.1f} s loss {loss:7.2f} PSNR {runs['pytorch'][-1]['psnr']:5.2f}"
                             f"   ratio {runs['numpy_ae'][-1]['wall'] / wall:.2f}")
                print(line + f"   (load {os.getloadavg()[0]:.1f})", flush=True)
            for name, rs in runs.items():
                for i, run in enumerate(rs):
                    if run["steps"] != n_batches or not np.isfinite(run["loss"]) or not np.isfinite(run["psnr"]):
                        failures.append(f"{name} round {i}: {run['steps']} steps of {n_batches}, loss {run['loss']}, "
                                        f"PSNR {run['psnr']}")
            if torch is not None:
                for i, (a, b) in enumerate(zip(runs["numpy_ae"], runs["pytorch"])):
                    if not abs(a["loss"] - b["loss"]) <= LOSS_RTOL * abs(b["loss"]):
                        failures.append(f"round {i}: mean training loss {a['loss']:.3f} (ours) not within "
                                        f"{LOSS_RTOL:.0%} of PyTorch's {b['loss']:.3f}")
                    if not abs(a["psnr"] - b["psnr"]) <= PSNR_ATOL:
                        failures.append(f"round {i}: test PSNR {a['psnr']:.2f} dB (ours) not within {PSNR_ATOL} dB "
                                        f"of PyTorch's {b['psnr']:.2f}")
            result["epoch"] = {"n_train": N, "n_batches": n_batches, "runs": runs}
            print(f"  test PSNR of the noisy input: {result['psnr_noisy_input']:.2f} dB")
            epoch_failed = any(f.startswith(("numpy_ae", "pytorch", "round")) for f in failures)
            if epoch_failed:
                print("  FAILED: no time printed (see below)")
            else:
                summary = {name: {k: float(np.median([run[k] for run in rs])) for k in ("wall", "cpu", "psnr", "loss")}
                           for name, rs in runs.items()}
                for name, s in summary.items():
                    print(f"  {name:9s} median over rounds: {s['wall']:7.1f} s per epoch (cpu {s['cpu']:7.1f} s), "
                          f"test PSNR {s['psnr']:.2f} dB, training loss {s['loss']:.2f}")
                if torch is not None:
                    ratios = [a["wall"] / b["wall"] for a, b in zip(runs["numpy_ae"], runs["pytorch"])]
                    summary["ratio_wall_median"] = float(np.median(ratios))
                    summary["ratio_wall_rounds"] = ratios
                    print(f"  ratio numpy_ae / PyTorch, seconds per epoch: median {np.median(ratios):.2f} "
                          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); target <= 1.5")
                result["epoch"]["summary"] = summary

        if not args.skip_memory:
            half = noisy[:N // 2].copy(), clean[:N // 2].copy()
            peak_half = epoch_peak_bytes(*half, args.seed)
            peak_full = epoch_peak_bytes(noisy, clean, args.seed)
            data_bytes = noisy.nbytes + clean.nbytes
            result["memory"] = {"peak_epoch_bytes": {N // 2: peak_half, N: peak_full}, "data_bytes": data_bytes,
                                "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
            print(f"\n(c) peak memory NumPy allocates during one epoch of ours (tracemalloc; the data allocated "
                  f"before): {peak_half / 2**20:.1f} MiB with {N // 2} pairs, {peak_full / 2**20:.1f} MiB with {N} "
                  f"(ratio {peak_full / peak_half:.3f}; the {N} pairs themselves: {data_bytes / 2**20:.1f} MiB)")
            print(f"  process peak resident size (the whole process: data sets, PyTorch when loaded): "
                  f"{result['memory']['maxrss_bytes'] / 2**20:.0f} MiB")
            if torch is not None:
                growth = memory_against_torch(N, args.seed, args.threads)
                if growth is None:
                    print("(d) memory against PyTorch: skipped (needs Linux's /proc/self/clear_refs)")
                else:
                    result["memory"]["epoch_working_kib"] = growth
                    ratio = growth["numpy_ae"] / growth["pytorch"]
                    result["memory"]["ratio_to_pytorch"] = ratio
                    print(f"(d) working memory of one epoch, each side in a fresh process (peak resident less "
                          f"resident before): numpy_ae {growth['numpy_ae'] / 1024:.1f} MiB, PyTorch "
                          f"{growth['pytorch'] / 1024:.1f} MiB, ratio {ratio:.2f}; target <= 1.5", flush=True)

        if args.profile:
            prof = profile_layers(ours_model(args.seed).network_, noisy, clean, args.profile_steps)
            result["profile"] = prof
            print(f"\nprofile of one step of ours, median of {args.profile_steps} steps (ms):")
            for k, v in prof.items():
                print(f"  {k:32s} {v * 1e3:8.2f}")

    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    result["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, default=float))
    finish(failures)


if __name__ == "__main__":
    main()
