#!/usr/bin/env python3
"""The whole-experiment PyTorch peer of `resgen run`: width-depth's cells on a fixed slice.

Each cell is one width-depth measurement (kind kernel-motion, experiments/width-depth.toml):
the sphere teacher with d = 10 and n = 50 training points, the network at its initialization,
full-batch GD on the mean logistic loss with the kernel-normalized step
eta = nu / mean_i K0(x_i, x_i) (nu = 4, K0 the empirical NTK at W0, every layer), stopped when
the training loss first reaches 0.1 (at most 3000 steps), then the relative kernel change
kc = ||K_T - K_0||_F / ||K_0||_F of the empirical NTK in f64.

resgen computes the slice with `resgen run` on a one-off experiment file (its default jobs,
the cells' folders in a temporary directory). PyTorch computes the same cells one after
another with autograd (f32 training, the per-layer factorized NTK in f64,
K = sum_l (D_l D_l^T) o (A_{l-1} A_{l-1}^T)), with torch.set_num_threads(--threads), on the
same training points: each cell's points are exported by `resgen ntk --npy` before the timing
starts. The weights at initialization are drawn by each side's own generator from the same
distributions, so the two sides' step counts and kernel changes agree in distribution, not
cell by cell; both are printed. The wall times exclude the data export and Python's start-up.

PyTorch is optional and outside CI:

    python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy
    just bench-peer-experiment        # or: .venv-peer/bin/python bench/peer_experiment.py --resgen target/release/resgen
"""

import argparse
import csv
import datetime
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import cpu_model, forward, init_weights  # noqa: E402

BASE = """
[base]
data.source = "sphere"
data.d = 10
data.n_train = 50
data.n_test = 0
train.nu = 4.0
train.step_scale = "ntk-trace"
"""


def experiment_file(archs, depths, widths, seeds):
    q = lambda v: ", ".join(f'"{a}"' for a in v)  # noqa: E731
    nums = lambda v: ", ".join(str(a) for a in v)  # noqa: E731
    return f"""kind = "kernel-motion"
claim = "the whole-experiment benchmark's slice of width-depth"
seeds = [{nums(seeds)}]
{BASE}
[params]
target_loss = 0.1
max_iterations = 3000

[profiles.quick]
grid = {{ "model.arch" = [{q(archs)}], "model.depth" = [{nums(depths)}], "model.width" = [{nums(widths)}] }}

[plot]
title = "kernel change"
x = "width"
y = ["kernel_change"]
series = ["arch", "depth"]
"""


def cell_points(binary, arch, depth, width, seed, out):
    """The cell's training points, as `resgen ntk --npy` writes them (x after unit-norm scaling)."""
    import numpy as np

    cfg = os.path.join(out, "cell.toml")
    with open(cfg, "w") as f:
        f.write(f'[data]\nsource = "sphere"\nd = 10\nn_train = 50\nn_test = 0\nseed = {seed}\n')
        f.write(f'[model]\narch = "{arch}"\ndepth = {depth}\nwidth = {width}\nseed = {seed}\n')
    subprocess.run([binary, "ntk", "--config", cfg, "--npy", "--out", os.path.join(out, "ntk")], check=True,
                   capture_output=True)
    return np.load(os.path.join(out, "ntk", "x_train.npy")), np.load(os.path.join(out, "ntk", "y_train.npy"))[:, 0]


def ntk(torch, arch, ws, x):
    """The empirical NTK over every layer, f64, from one batched forward and backward pass:
    K = sum_l (D_l D_l^T) o (A_{l-1} A_{l-1}^T), D_l = df/dz_l per example (the output layer's
    is sqrt(m), its input h_L)."""
    ws64 = [w.detach().double().requires_grad_(True) for w in ws]
    m = ws64[0].shape[0]
    keep = []  # (A_{l-1}, z_l) per hidden layer, then (h_L, None)
    f = forward(torch, arch, ws64, x, keep)
    layers, (h, _) = keep[:-1], keep[-1]
    grads = torch.autograd.grad(f.sum(), [z for _, z in layers])
    k = (h @ h.T) * m  # output layer: the gradient is sqrt(m) h_L
    for (a, _), d in zip(layers, grads):
        k = k + (a @ a.T) * (d @ d.T)
    return k.detach()


def torch_cell(torch, arch, x, y, depth, m, seed, nu=4.0, target=0.1, budget=3000):
    d = x.shape[1]
    ws = init_weights(torch, arch, d, m, depth, torch.float32, seed)
    k0 = ntk(torch, arch, ws, x.double())
    eta = nu / torch.diagonal(k0).mean().item()
    steps = 0
    for t in range(budget + 1):
        f = forward(torch, arch, ws, x)
        loss = torch.nn.functional.softplus(-y * f).mean()
        steps = t
        if loss.item() <= target or t == budget:
            break
        loss.backward()
        with torch.no_grad():
            for w in ws:
                w -= eta * w.grad
                w.grad = None
    kt = ntk(torch, arch, ws, x.double())
    kc = float(torch.linalg.norm(kt - k0) / torch.linalg.norm(k0))
    return steps, float(loss), kc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resgen", required=True, help="the resgen binary")
    p.add_argument("--arch", default="resnet,fc")
    p.add_argument("--depths", default="2,8,32")
    p.add_argument("--widths", default="64,256")
    p.add_argument("--seeds", default="0")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    archs = a.arch.split(",")
    depths, widths, seeds = ([int(v) for v in s.split(",")] for s in (a.depths, a.widths, a.seeds))
    print(f"CPU: {cpu_model()}; PyTorch {torch.__version__}, {a.threads} threads; {datetime.date.today()}")
    with tempfile.TemporaryDirectory() as tmp:
        exps = os.path.join(tmp, "experiments")
        os.makedirs(exps)
        with open(os.path.join(exps, "peer-slice.toml"), "w") as f:
            f.write(experiment_file(archs, depths, widths, seeds))
        cells = [(ar, dp, w, s) for ar in archs for dp in depths for w in widths for s in seeds]
        points = {}
        for c in cells:
            out = os.path.join(tmp, "points-" + "-".join(map(str, c)))
            os.makedirs(out)
            points[c] = cell_points(a.resgen, *c, out)
        results = os.path.join(tmp, "results")
        t0 = time.perf_counter()
        subprocess.run([a.resgen, "run", "peer-slice", "--experiments", exps, "--runs", os.path.join(tmp, "runs"),
                        "--results", results, "--quiet"], check=True, capture_output=True)
        t_resgen = time.perf_counter() - t0
        ours = {}
        with open(os.path.join(results, "quick", "peer-slice.cells.csv")) as f:
            for r in csv.DictReader(f):
                key = (r["arch"], int(r["depth"]), int(r["width"]), int(r["seed"]))
                ours[key] = (float(r["steps"]), float(r["kernel_change"]) if r["kernel_change"] else float("nan"))
        theirs = {}
        t0 = time.perf_counter()
        for c in cells:
            x, y = points[c]
            theirs[c] = torch_cell(torch, c[0], torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
                                   c[1], c[2], seed=c[3])
        t_torch = time.perf_counter() - t0
    print("| arch | L | m | seed | resgen steps | PyTorch steps | resgen kc | PyTorch kc |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cells:
        s, k = ours.get(c, (float("nan"), float("nan")))
        ts, _, tk = theirs[c]
        print(f"| {c[0]} | {c[1]} | {c[2]} | {c[3]} | {s:.0f} | {ts} | {k:.4g} | {tk:.4g} |")
    steps_r = sum(ours.get(c, (0, 0))[0] for c in cells)
    steps_t = sum(theirs[c][0] for c in cells)
    print(f"\nwall time for the {len(cells)} cells: resgen {t_resgen:.1f} s ({steps_r:.0f} GD steps), "
          f"PyTorch {t_torch:.1f} s ({steps_t} GD steps); PyTorch / resgen = {t_torch / t_resgen:.2f}")


if __name__ == "__main__":
    main()
