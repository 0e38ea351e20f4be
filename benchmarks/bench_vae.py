r"""Benchmark: pytorch/examples' VAE against ours on Fashion-MNIST, seconds per epoch and test -ELBO.

The network of pytorch/examples' ``vae/main.py``: 784-400-20-400-784, ReLU,
a Gaussian posterior with 20 latent units (``fc21`` outputs mu, ``fc22``
log sigma^2), a Bernoulli decoder (cross-entropy summed over the 784 pixels),
the closed-form KL summed over the latent units, Adam with learning rate 1e-3,
minibatches of 128, float32. Ours is
``VariationalAutoencoder(hidden_layer_sizes=(400,), n_latent=20,
activation="relu", likelihood="bernoulli", method="adam", batch_size=128,
dtype="float32")``, trained by :func:`numpy_ae.train.loop.train_minibatch`
(the loop its ``fit`` runs), one epoch at a time with one persistent Adam.
Both train on the 60,000 Fashion-MNIST training images (469 steps per epoch,
the last of 96 images) and are scored on the 10,000 test images.

One objective, the same updates. pytorch/examples SUMS its loss over the
minibatch (``reduction='sum'``) and divides by the number of images only when
it logs; ours AVERAGES over the examples of the minibatch (the DESIGN.md
reduction). The two differ by the factor n_b, the size of the minibatch.
Adam is invariant to a constant rescaling c of the gradient only up to its
epsilon (m scales by c, sqrt(v) by c, so the step is
:math:`\eta\,\hat m / (\sqrt{\hat v} + \epsilon/c)`), and here the factor is
NOT constant: 128 for 468 steps, 96 for the last step of every epoch, which
pytorch/examples' sum therefore weights 0.75 times as much as ours does. So by
default (``--torch-reduction mean``) the PyTorch side divides
pytorch/examples' summed loss by the number of images in the minibatch:
its objective is then ours exactly, and its gradient equals ours at every
step (to float32 rounding). ``--torch-reduction sum`` runs pytorch/examples'
loss as written; the runs then differ by the epsilon and last-step effects
above (small: the check still applies).

Both sides get the same problem, in one process, epochs interleaved (ours,
PyTorch, ours, PyTorch, ...), so a change in the machine's load hits both alike:

* the same initial parameters: ours are copied into the PyTorch modules
  (``nn.Linear`` stores ``W.T``); our encoder's last Dense outputs the
  2K = 40 columns [mu, log sigma^2], which become ``fc21`` (its first 20
  columns) and ``fc22`` (its last 20);
* the same minibatches: each side shuffles with its own Generator built from
  the same seed;
* the same noise: our ``Reparameterize`` layer's Generator is replaced by one
  built from ``seed + 2``, and the PyTorch side draws its eps from another
  Generator with that seed, one ``standard_normal((n_b, 20))`` per step cast to
  float32, just as the layer does (pytorch/examples calls ``torch.randn_like``;
  drawing 128 x 20 numbers costs the same either way). Same start, batches,
  noise and gradients: the two runs follow one trajectory, apart from float32
  rounding (summation orders in the BLAS, the log-sigmoid forms), which
  training amplifies slowly; the relative distance between the two final
  parameter vectors is printed;
* the same threads: NumPy's BLAS (threadpoolctl) and ``torch.set_num_threads``;
* Adam (0.9, 0.999, 1e-8) in PyTorch's default implementation for CPU tensors.

The decoder output. pytorch/examples applies the sigmoid in the model and
scores with ``F.binary_cross_entropy`` (which clamps log p at -100); ours
scores the logits with :math:`\max(z, 0) - xz + \log(1 + e^{-|z|})`. The same
function (away from saturation), computed differently; ``--torch-logits`` uses
``F.binary_cross_entropy_with_logits`` on the PyTorch side instead.

Test -ELBO. Both models are scored by the same code, in float64, with the same
eps: the PyTorch parameters are copied back into a twin of our model and
:meth:`~numpy_ae.models.variational.VariationalAutoencoder.elbo` (one sample per image,
seed 0) is averaged over the 10,000 test images, in nats per image. (PyTorch's
own float32 evaluation with that eps is printed as a check of the copy.)

Checks before any time is printed (``benchmarks/_common.py``): every epoch of
each side ran all its steps with finite losses, both test -ELBOs are finite,
and ours is within ``ELBO_RTOL`` = 1% of PyTorch's (the target of numpy_ae
issue 8, after 10 epochs). If a check fails, no time or ratio is printed, the
failure is, and the script exits with status 1. Without PyTorch, ours alone is
timed (no ratio, exit 0).

Timing figures per side, seconds per epoch (as ``bench_deep_ae.py``):
``wall`` the fastest epoch's wall-clock time, ``cpu`` the process's CPU time
in that epoch, ``steady`` the number of steps times the 10th-percentile step
(an estimate for a quiet machine), ``fastest`` the number of steps times the
fastest step (a lower bound). The median epoch's wall time is printed too.
The load average before and after is printed: compare runs only at similar load.

Measured (2-core AMD EPYC VM shared with other jobs, load average 3.5-7.5,
PyTorch 2.13.0+cpu, NumPy 2.4 with OpenBLAS; ``--threads 1``; seconds per
epoch, numpy_ae / PyTorch in the same run):

========  ====  ===========  ===========  ===========  ===========  ============================
epochs    seed  wall (best)  cpu          steady       fastest      test -ELBO (nats per image)
========  ====  ===========  ===========  ===========  ===========  ============================
10        0     3.57 / 5.04  3.49 / 4.84  3.45 / 4.62  2.87 / 3.84  245.634 / 245.719 (0.9997)
10        1     5.50 / 7.58  3.63 / 4.97  5.33 / 6.65  3.23 / 4.44  245.881 / 246.062 (0.9993)
2         0     3.87 / 6.00  3.83 / 4.84  3.50 / 4.68  3.00 / 4.50  256.361 / 256.385 (0.9999)
========  ====  ===========  ===========  ===========  ===========  ============================

Ratio 0.71-0.79 on every figure: the target (<= 1.0x) is met with a margin.
With 2 threads at a load average of 5-7 both sides took 33-97 s per epoch
(threads waiting for their partner's core); do not read those.

One trajectory, then two. With the same start, batches, eps and gradients the
two runs agree to float32 rounding for the first ~40 steps (relative
parameter distance 6e-8 after 30 steps); then rounding differences are
amplified (first in a few first-layer weights, from step 40-60 on, as usual
with ReLU units near 0 and Adam's normalisation of small gradients) and the
parameters drift apart (relative distance 4e-3 after 100 steps, 0.05 after one
epoch, 0.22 after ten), while the objective does not: the mean training loss
of every epoch agrees within 0.07 nats (3e-4), and the test -ELBOs within 0.1%.
So the 1% check compares two statistically equivalent runs, not one run twice.

``--profile`` times every part of one of our steps (each layer's forward and
backward pass, the loss, the Adam step) over ``--profile-steps`` steps.
Measured (``--threads 1``, fastest of 200): 5.8 ms to compute J and the
gradient, 1.3 ms for Adam (652,824 float32 parameters), 0.09 ms to cut the
minibatch out. Of the 5.8 ms, the five 128 x 784 x 400 products (forward and
dW of the first and last Dense, dX of the last) take 4.5 ms (about 90 GFLOP/s,
near one core's peak); the cross-entropy 0.33 ms, Reparameterize 0.19 ms, the
small Dense layers and ReLUs 0.5 ms. The first Dense computes no dX (the
network's input needs no gradient): its backward costs one product.

PyTorch is never a dependency of numpy_ae; without it the PyTorch half is
skipped with a message. To install the CPU build into the project's venv::

    .venv/bin/pip install torch==2.13.0

Run: ``NUMPY_AE_DATA=../shared/data .venv/bin/python benchmarks/bench_vae.py [--epochs 10] [--threads 1]``
(``--threads 1`` on a shared machine: see ``bench_deep_ae.py`` on timing under load)
"""
import argparse
import json
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

import numpy_ae

from _common import finish, library_epoch, numpy_blas_threads, print_profile, profile_steps, summarize
from numpy_ae.data import load_mnist
from numpy_ae.train.fast_optimizers import Adam
from numpy_ae.models.variational import VariationalAutoencoder

HIDDEN, K, D = 400, 20, 784
ELBO_RTOL = 0.01  # our test -ELBO within 1% of PyTorch's (the target of issue 8)


# ------------------------------------------------------------------ ours
def ours_model(seed, eps_seed, batch_size):
    """Our VAE, initialised (not fitted), its Reparameterize layer drawing from ``default_rng(eps_seed)``."""
    vae = VariationalAutoencoder(hidden_layer_sizes=(HIDDEN,), n_latent=K, activation="relu",
                                 likelihood="bernoulli", method="adam", batch_size=batch_size, dtype="float32",
                                 random_state=seed).initialize(D)
    vae.reparameterize_.rng = np.random.default_rng(eps_seed)
    return vae


def dense_layers(vae):
    """Our four Dense layers: encoder hidden, encoder [mu, log_var], decoder hidden, decoder logits."""
    dense = [layer for layer in vae.network_.layers if hasattr(layer, "W")]
    assert [(d.n_in, d.n_out) for d in dense] == [(D, HIDDEN), (HIDDEN, 2 * K), (K, HIDDEN), (HIDDEN, D)], dense
    return dense


# --------------------------------------------------------------- PyTorch
def torch_vae_class(torch, logits):
    nn, F = torch.nn, torch.nn.functional

    class VAE(nn.Module):
        """pytorch/examples' vae/main.py model; ``eps`` is an argument (the same draws as ours)."""

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(D, HIDDEN)
            self.fc21 = nn.Linear(HIDDEN, K)
            self.fc22 = nn.Linear(HIDDEN, K)
            self.fc3 = nn.Linear(K, HIDDEN)
            self.fc4 = nn.Linear(HIDDEN, D)

        def forward(self, x, eps):
            h1 = F.relu(self.fc1(x))
            mu, logvar = self.fc21(h1), self.fc22(h1)
            z = mu + eps * torch.exp(0.5 * logvar)  # pytorch/examples' reparameterize, eps given
            out = self.fc4(F.relu(self.fc3(z)))
            return (out if logits else torch.sigmoid(out)), mu, logvar

    return VAE


def torch_loss(torch, out, x, mu, logvar, logits):
    """pytorch/examples' loss_function (summed over the minibatch): BCE summed over pixels + KL."""
    F = torch.nn.functional
    bce = F.binary_cross_entropy_with_logits(out, x, reduction="sum") if logits else \
        F.binary_cross_entropy(out, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def torch_model(torch, vae, logits):
    """pytorch/examples' VAE, starting from OUR initial parameters."""
    model = torch_vae_class(torch, logits)()
    enc1, enc2, dec1, dec2 = dense_layers(vae)
    pairs = [(model.fc1, enc1.W, enc1.b), (model.fc21, enc2.W[:, :K], enc2.b[:K]),
             (model.fc22, enc2.W[:, K:], enc2.b[K:]), (model.fc3, dec1.W, dec1.b), (model.fc4, dec2.W, dec2.b)]
    with torch.no_grad():
        for linear, W, b in pairs:
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(b.copy()))
    return model


def torch_into_ours(torch, model, vae):
    """Copy the PyTorch parameters into ``vae`` (the inverse of :func:`torch_model`)."""
    enc1, enc2, dec1, dec2 = dense_layers(vae)
    w = {name: p.detach().numpy() for name, p in model.named_parameters()}
    enc1.W[...], enc1.b[...] = w["fc1.weight"].T, w["fc1.bias"]
    enc2.W[:, :K], enc2.b[:K] = w["fc21.weight"].T, w["fc21.bias"]
    enc2.W[:, K:], enc2.b[K:] = w["fc22.weight"].T, w["fc22.bias"]
    dec1.W[...], dec1.b[...] = w["fc3.weight"].T, w["fc3.bias"]
    dec2.W[...], dec2.b[...] = w["fc4.weight"].T, w["fc4.bias"]
    return vae


def torch_epoch(torch, model, optimizer, X, batch_size, rng, eps_rng, reduction, logits):
    """One epoch in PyTorch, the same shuffling and eps as ours; returns (wall, cpu, step seconds, mean loss)."""
    N = X.shape[0]
    n_batches = -(-N // batch_size)
    steps = []
    start, cpu = time.perf_counter(), time.process_time()
    last = start
    order = torch.from_numpy(rng.permutation(N))
    total = 0.0
    model.train()
    for b in range(n_batches):
        batch = X[order[b * batch_size:(b + 1) * batch_size]]
        n = batch.shape[0]
        eps = torch.from_numpy(eps_rng.standard_normal((n, K)).astype(np.float32))
        optimizer.zero_grad()
        out, mu, logvar = model(batch, eps)
        loss = torch_loss(torch, out, batch, mu, logvar, logits)
        if reduction == "mean":
            loss = loss / n  # ours: averaged over the examples of the minibatch
        loss.backward()
        optimizer.step()
        total += loss.item() * (n if reduction == "mean" else 1)  # summed over the epoch's images
        now = time.perf_counter()
        steps.append(now - last)
        last = now
    return time.perf_counter() - start, time.process_time() - cpu, np.array(steps), total / N


def torch_test_neg_elbo(torch, model, X_test, eps, logits):
    """PyTorch's own float32 -ELBO per test image with the given eps (a check of the copy-back)."""
    model.eval()
    with torch.no_grad():
        out, mu, logvar = model(torch.from_numpy(X_test), torch.from_numpy(eps.astype(np.float32)))
        return float(torch_loss(torch, out, torch.from_numpy(X_test), mu, logvar, logits).item()) / X_test.shape[0]


# ------------------------------------------------------------------ main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs for each side (default 10)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: what NumPy's BLAS has now)")
    parser.add_argument("--dataset", choices=["fashion-mnist", "mnist"], default="fashion-mnist")
    parser.add_argument("--examples", type=int, default=None, help="first N training images (default: all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, the shuffling (+1) and eps (+2)")
    parser.add_argument("--no-torch", action="store_true", help="time ours only")
    parser.add_argument("--torch-reduction", choices=["mean", "sum"], default="mean",
                        help="PyTorch's loss over the minibatch: mean (ours, the default) or sum (pytorch/examples)")
    parser.add_argument("--torch-logits", action="store_true",
                        help="PyTorch scores logits (binary_cross_entropy_with_logits) instead of sigmoid + BCE")
    parser.add_argument("--profile", action="store_true", help="also time every part of one of our steps")
    parser.add_argument("--profile-steps", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    args = parser.parse_args()

    threads = args.threads or numpy_blas_threads()
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing ours only, no ratio (see this script's docstring to install it)")
    X_train, _, X_test, _ = load_mnist(args.dataset, dtype=np.float32)
    X = np.ascontiguousarray(X_train[:args.examples])
    X_test = np.ascontiguousarray(X_test)
    N, batch = X.shape[0], args.batch_size
    n_batches = -(-N // batch)

    vae = ours_model(args.seed, args.seed + 2, batch)
    net = vae.network_
    optimizer = Adam(1e-3)
    print(f"{D}-{HIDDEN}-{K}-{HIDDEN}-{D} ReLU VAE (Bernoulli), {net.n_params} parameters, {args.dataset}: {N} "
          f"training images, batch {batch} ({n_batches} steps per epoch), Adam lr 1e-3, float32, {threads} thread(s)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    rng_ours = np.random.default_rng(args.seed + 1)
    runs = {"numpy_ae": []}
    if torch is not None:
        torch.set_num_threads(threads)
        model = torch_model(torch, vae, args.torch_logits)  # before any training: the same start
        torch_opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        X_torch = torch.from_numpy(X)
        rng_torch, eps_torch = np.random.default_rng(args.seed + 1), np.random.default_rng(args.seed + 2)
        runs["pytorch"] = []
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), loss reduction over the "
              f"minibatch: {args.torch_reduction}, {'logits' if args.torch_logits else 'sigmoid + BCE'}")

    numpy_ae.set_num_threads(args.threads)  # our own pool (the optimiser step) as NumPy's BLAS: None = default
    with threadpool_limits(limits=threads, user_api="blas"):
        for epoch in range(1, args.epochs + 1):
            runs["numpy_ae"].append(library_epoch(net, optimizer, X, batch, rng_ours))
            line = f"  epoch {epoch:2d}: numpy_ae {runs['numpy_ae'][-1][0]:6.2f} s loss {runs['numpy_ae'][-1][3]:8.3f}"
            if torch is not None:
                runs["pytorch"].append(torch_epoch(torch, model, torch_opt, X_torch, batch, rng_torch, eps_torch,
                                                   args.torch_reduction, args.torch_logits))
                line += f"   pytorch {runs['pytorch'][-1][0]:6.2f} s loss {runs['pytorch'][-1][3]:8.3f}"
            print(line, flush=True)
        profile = profile_steps(ours_model(args.seed, args.seed + 2, batch).network_, X, batch,
                                args.profile_steps, args.seed, Adam(1e-3)) if args.profile else None

    result = {"n_params": net.n_params, "epochs": args.epochs, "threads": threads, "n_examples": N,
              "dataset": args.dataset}
    result["numpy_ae"] = summarize(runs["numpy_ae"], n_batches)
    result["numpy_ae"]["test_neg_elbo"] = float(vae.elbo(X_test, random_state=0).neg_elbo.mean())
    if torch is not None:
        result["pytorch"] = summarize(runs["pytorch"], n_batches)
        twin = torch_into_ours(torch, model, ours_model(args.seed, args.seed + 2, batch))
        result["pytorch"]["test_neg_elbo"] = float(twin.elbo(X_test, random_state=0).neg_elbo.mean())
        eps0 = np.random.default_rng(0).standard_normal((X_test.shape[0], K))  # the eps elbo(random_state=0) draws
        result["pytorch"]["own_test_neg_elbo_float32"] = torch_test_neg_elbo(torch, model, X_test, eps0,
                                                                             args.torch_logits)
        result["pytorch"]["version"] = torch.__version__
        result["pytorch"]["reduction"] = args.torch_reduction
        result["theta_rel_diff"] = float(np.linalg.norm(twin.network_.theta - net.theta) /
                                         np.linalg.norm(net.theta))
    for name in runs:
        result[name]["wall_median"] = float(np.median(result[name]["wall_all"]))
        result[name]["train_loss"] = [e[3] for e in runs[name]]

    # Did each timed run do the work? Every epoch all n_batches steps with finite losses, a finite test
    # -ELBO, ours within ELBO_RTOL of PyTorch's.
    failures = []
    for name in runs:
        steps = [len(e[2]) for e in runs[name]]
        if any(n != n_batches for n in steps):
            failures.append(f"{name}: steps per epoch {steps}, expected {n_batches}")
        if not np.all(np.isfinite(result[name]["train_loss"])):
            failures.append(f"{name}: training losses {result[name]['train_loss']}")
        if not np.isfinite(result[name]["test_neg_elbo"]):
            failures.append(f"{name}: test -ELBO {result[name]['test_neg_elbo']}")
    if torch is not None and np.isfinite(result["pytorch"]["test_neg_elbo"]) and \
            not abs(result["numpy_ae"]["test_neg_elbo"] / result["pytorch"]["test_neg_elbo"] - 1) <= ELBO_RTOL:
        failures.append(f"numpy_ae: test -ELBO {result['numpy_ae']['test_neg_elbo']:.2f} not within "
                        f"{ELBO_RTOL:.0%} of PyTorch's {result['pytorch']['test_neg_elbo']:.2f}")

    print(f"\nseconds per epoch (best of {args.epochs}; median = median epoch; steady = {n_batches} x "
          f"10th-percentile step, fastest = {n_batches} x fastest step):")
    print(f"  {'':10s} {'wall':>7s} {'median':>7s} {'cpu':>7s} {'steady':>7s} {'fastest':>7s}   "
          f"test -ELBO after {args.epochs} epochs (nats per image)")
    for name in runs:
        r = result[name]
        if failures:
            print(f"  {name:10s} {'-':>7s} {'-':>7s} {'-':>7s} {'-':>7s} {'-':>7s}   {r['test_neg_elbo']:.3f}")
        else:
            print(f"  {name:10s} {r['wall']:7.2f} {r['wall_median']:7.2f} {r['cpu']:7.2f} {r['steady']:7.2f} "
                  f"{r['fastest']:7.2f}   {r['test_neg_elbo']:.3f}")
    if torch is not None and not failures:
        ours, theirs = result["numpy_ae"], result["pytorch"]
        result["ratio"] = {k: ours[k] / theirs[k] for k in ("wall", "wall_median", "cpu", "steady", "fastest")}
        result["elbo_ratio"] = ours["test_neg_elbo"] / theirs["test_neg_elbo"]
        r = result["ratio"]
        print(f"  {'ratio':10s} {r['wall']:7.2f} {r['wall_median']:7.2f} {r['cpu']:7.2f} {r['steady']:7.2f} "
              f"{r['fastest']:7.2f}   {result['elbo_ratio']:.4f}   "
              "(numpy_ae / PyTorch; targets: time <= 1, -ELBO within 1%)")
    if torch is not None:
        print(f"PyTorch's own float32 test -ELBO, same eps: {result['pytorch']['own_test_neg_elbo_float32']:.3f}; "
              f"|theta_ours - theta_torch| / |theta_ours| = {result['theta_rel_diff']:.2e}")
    else:
        print("(ours only: PyTorch absent, no ratio and no quality comparison)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    result["load_average_after"] = os.getloadavg()

    if profile:
        print_profile(profile, args.profile_steps, n_batches)
        result["profile"] = {name: {"fastest": f, "median": m} for name, (f, m) in profile.items()}
    if args.json:
        print(json.dumps(result))
    finish(failures)


if __name__ == "__main__":
    main()
