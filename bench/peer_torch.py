#!/usr/bin/env python3
"""The PyTorch peer of resgen's benchmark, run side by side with it.

The same full-batch GD step as `resgen bench` (the paper's ResNet or FC network, logistic
loss, every layer trained, PyTorch autograd, f32, `torch.no_grad` update), timed the same way
(each step alone, the median of --steps after --warmup untimed steps), and, with --ntk, the
same per-layer factorization of the empirical NTK in f64 (one batched forward and backward
pass for the layer inputs A_{l-1} and output gradients D_l, then
K = sum_l (D_l D_l^T) o (A_{l-1} A_{l-1}^T) with full n x n products).

With --resgen PATH (the `resgen` binary; its `bench` subcommand), each shape is run by resgen and then by
PyTorch, back to back, and one table prints both with their ratio (PyTorch time / resgen
time: above 1 means resgen is faster). The CPU model (lscpu) heads the output.

PyTorch is an optional dependency, outside CI:

    python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy
    just bench-peer            # or: .venv-peer/bin/python bench/peer_torch.py --resgen target/release/resgen

The network (see crates/resgen-models/src/net.rs and docs/theory.md):
    h_1 = relu(W_1 x),  h_l = h_{l-1} + theta relu(W_l h_{l-1})   (ResNet, theta = 1/L)
                        h_l = relu(W_l h_{l-1})                    (FC)
    f = sqrt(m) W_{L+1} h_L,  W_1, W_l ~ N(0, 2/m), W_{L+1} ~ N(0, 1/m).
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

SHAPES = ["512/512/8/784", "1024/1024/4/784", "1000/512/32/784", "256/2048/8/784"]
NTK_SHAPE = "1000/1024/16/784"


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown CPU"


def reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), as `resgen bench` does.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def div(a, b):
    """a / b, or NaN when b is 0 (a tiny shape's time can print as 0.0 ms)."""
    return a / b if b else float("nan")


def parse_shape(s):
    v = [int(p) for p in s.split("/")]
    if len(v) != 4:
        sys.exit(f"--shape {s}: expected n/m/L/d")
    return v


def init_weights(torch, arch, n_in, m, depth, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    ws = []
    for k in range(1, depth + 2):
        rows, cols = (1, m) if k == depth + 1 else (m, n_in if k == 1 else m)
        var = 1.0 / m if k == depth + 1 else 2.0 / m
        ws.append((torch.randn(rows, cols, generator=g, dtype=dtype) * math.sqrt(var)).requires_grad_(True))
    return ws


def forward(torch, arch, ws, x, keep=None):
    depth = len(ws) - 1
    m = ws[0].shape[0]
    theta = 1.0 / depth
    h = x
    for l in range(1, depth + 1):
        z = h @ ws[l - 1].T
        if keep is not None:
            keep.append((h, z))
        a = torch.relu(z)
        h = h + theta * a if (arch == "resnet" and l >= 2) else a
    if keep is not None:
        keep.append((h, None))
    return (h @ ws[depth].T).squeeze(1) * math.sqrt(m)


def sphere_data(torch, n, d, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=dtype)
    x = x / x.norm(dim=1, keepdim=True)
    y = torch.where(x[:, 0] >= 0, 1.0, -1.0).to(dtype)
    return x, y


def bench_gd(torch, arch, shape, steps, warmup, breakdown=False):
    n, m, depth, d = shape
    reset_peak_rss()
    x, y = sphere_data(torch, n, d, torch.float32)
    ws = init_weights(torch, arch, d, m, depth, torch.float32, seed=0)
    eta = 1.0 / m

    def step():
        f = forward(torch, arch, ws, x)
        loss = torch.nn.functional.softplus(-y * f).mean()  # log(1 + exp(-y f))
        loss.backward()
        with torch.no_grad():
            for w in ws:
                w -= eta * w.grad
                w.grad = None

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    fwd = []
    with torch.no_grad():
        for _ in range(steps):
            t0 = time.perf_counter()
            forward(torch, arch, ws, x)
            fwd.append(time.perf_counter() - t0)
        gemms = statistics.median([step_gemms(torch, ws, x) for _ in range(steps)]) if breakdown else None
    return statistics.median(times), statistics.median(fwd), peak_rss_mib(), gemms


def step_gemms(torch, ws, x):
    """Seconds for the step's matrix products alone (as `resgen bench --breakdown`): the forward
    H W_l^T, the backward D_l W_l and the weight gradients D_l^T A_{l-1}, same shapes, layouts
    and order, on stand-in activations and deltas."""
    depth = len(ws) - 1
    n, m = x.shape[0], ws[0].shape[0]
    h = torch.full((n, m), 0.25)
    dl = torch.full((n, m), -0.5)
    c = torch.full((n, 1), 0.1)
    t0 = time.perf_counter()
    # Each product is dropped before the next, as resgen's breakdown does.
    x @ ws[0].T
    for w in ws[1:depth]:
        h @ w.T
    h @ ws[depth].T
    c @ ws[depth]
    for w in reversed(ws[1:depth]):
        dl @ w
    dl.T @ x
    for _ in range(1, depth):
        dl.T @ h
    c.T @ h
    return time.perf_counter() - t0


def bench_ntk(torch, arch, shape, repeats=3):
    """Best of `repeats`: the per-layer factorization with full n x n products, f64."""
    n, m, depth, d = shape
    x, _ = sphere_data(torch, n, d, torch.float64)
    ws = init_weights(torch, arch, d, m, depth, torch.float64, seed=0)
    reset_peak_rss()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        keep = []
        zs = []
        f = forward(torch, arch, ws, x, keep)
        zs = [z for (_, z) in keep[:-1]]
        # d f_i / d z_{l,i} for every example at once (examples do not interact).
        deltas = torch.autograd.grad(f.sum(), zs)
        k = torch.zeros(n, n, dtype=torch.float64)
        for (a, _), dl in zip(keep[:-1], deltas):
            k += (dl @ dl.T) * (a @ a.T)
        h_last = keep[-1][0].detach()
        k += m * (h_last @ h_last.T)  # the output layer: delta = sqrt(m), input h_L
        best = min(best, time.perf_counter() - t0)
        assert torch.isfinite(k.trace())
        del k, deltas, keep, zs, f
    return best, peak_rss_mib()


def bench_gemm(torch, n, m, steps):
    """The step's three GEMM layouts alone (as `resgen bench --gemm`), f32, median of `steps`."""
    g = torch.Generator().manual_seed(0)
    a = torch.rand(n, m, generator=g) - 0.5
    w = torch.rand(m, m, generator=g) - 0.5
    dl = torch.rand(n, m, generator=g) - 0.5
    out = {}
    for name, f in [("forward H W^T", lambda: a @ w.T), ("backward D W", lambda: dl @ w),
                    ("weight gradient D^T A", lambda: dl.T @ a)]:
        f()
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


def run_resgen(binary, extra, env=None):
    cmd = [binary, "bench", "--format", "csv"] + ([] if "--ntk" in extra or "--gemm" in extra else ["--fast-only"]) + extra
    out = subprocess.run(cmd, capture_output=True, text=True, env=None if env is None else {**os.environ, **env})
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    rows = []
    for line in out.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        # `resgen bench` writes the commas inside a field as semicolons.
        rows.append([f.replace(";", ",") for f in line.split(",")])
    header, body = rows[0], rows[1:]
    return [dict(zip(header, r)) for r in body]


def bench_steps(torch, args, archs, shapes):
    """The GD-step table: resgen (if --resgen) and PyTorch per shape and network, back to back."""
    alt = dict([args.also_env.split("=", 1)]) if args.also_env else None
    extra = f" resgen {args.also_env} ms/step | ratio to it |" if alt else ""
    print("| arch | n/m/L/d | resgen ms/step | PyTorch ms/step | ratio (PyTorch / resgen) | resgen GFLOP/s | PyTorch GFLOP/s "
          f"| resgen fwd ms | PyTorch fwd ms | resgen peak MiB | PyTorch peak MiB |{extra}")
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if alt else ""))
    split = []  # the --breakdown rows, printed after the step table
    for s in shapes:
        n, m, depth, d = parse_shape(s)
        flops = 6.0 * n * (d * m + (depth - 1) * m * m + m)
        for arch in archs:
            step_args = ["--shape", s, "--arch", arch, "--steps", str(args.steps), "--warmup", str(args.warmup)]
            step_args += ["--breakdown"] if args.breakdown else []
            r = run_resgen(args.resgen, step_args)[0] if args.resgen else None
            ra = run_resgen(args.resgen, step_args, env=alt)[0] if args.resgen and alt else None
            t, fwd, peak, gemms = bench_gd(torch, arch, (n, m, depth, d), args.steps, args.warmup, args.breakdown)
            tail = f" {float(ra['ms_step']):.1f} | **{div(t, float(ra['ms_step']) / 1e3):.2f}** |" if ra else ""
            if r:
                rs = float(r["ms_step"]) / 1e3
                print(f"| {arch} | {s} | {rs * 1e3:.1f} | {t * 1e3:.1f} | **{div(t, rs):.2f}** | {div(flops, rs) / 1e9:.0f} "
                      f"| {div(flops, t) / 1e9:.0f} | {float(r['forward_ms']):.1f} | {fwd * 1e3:.1f} | {r['peak_mib']} | {peak:.0f} |{tail}")
            else:
                print(f"| {arch} | {s} | - | {t * 1e3:.1f} | - | - | {div(flops, t) / 1e9:.0f} | - | {fwd * 1e3:.1f} | - | {peak:.0f} |")
            sys.stdout.flush()
            if args.breakdown:
                split.append((arch, s, r, t, gemms))
    if split:
        # Where each step's time goes: its GEMMs alone (same products, layouts, order) and the
        # rest. PyTorch step / resgen GEMMs is the ratio a resgen step would reach if nothing
        # but its GEMMs took time.
        print()
        print("| arch | n/m/L/d | resgen step ms | resgen GEMMs ms | resgen outside GEMMs | PyTorch step ms "
              "| PyTorch GEMMs ms | PyTorch outside GEMMs | PyTorch step / resgen GEMMs |")
        print("|---|---|---|---|---|---|---|---|---|")
        for arch, s, r, t, gemms in split:
            rs, rg = (float(r["ms_step"]), float(r["gemm_ms"])) if r else (float("nan"), float("nan"))
            print(f"| {arch} | {s} | {rs:.1f} | {rg:.1f} | {100 * div(rs - rg, rs):.0f}% | {t * 1e3:.1f} "
                  f"| {gemms * 1e3:.1f} | {100 * div(t - gemms, t):.0f}% | **{div(t * 1e3, rg):.2f}** |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resgen", help="resgen binary whose `bench` runs side by side (else PyTorch alone)")
    p.add_argument("--shape", action="append", help="n/m/L/d (repeatable); default: resgen bench's four")
    p.add_argument("--steps", type=int, default=11)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's, one per core)")
    p.add_argument("--ntk", action="store_true", help="also the batched empirical NTK at 1000/1024/16/784 (f64)")
    p.add_argument("--also-env", metavar="KEY=VALUE",
                   help="also run resgen with this environment (e.g. GEMM_X86_V4=0: the AVX2 kernels) in the step table")
    p.add_argument("--no-step", action="store_true", help="skip the GD-step table (e.g. with --ntk or --gemm)")
    p.add_argument("--gemm", action="store_true", help="also the step's three GEMM layouts alone, per shape")
    p.add_argument("--breakdown", action="store_true",
                   help="also each step's GEMMs alone (resgen bench --breakdown and PyTorch's same products)")
    p.add_argument("--arch", choices=["resnet", "fc"], action="append")
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy")
    if args.threads:
        torch.set_num_threads(args.threads)
    archs = args.arch or ["resnet", "fc"]
    shapes = args.shape or SHAPES
    print(f"CPU: {cpu_model()}; {os.cpu_count()} logical CPUs")
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}; median of {args.steps} steps after {args.warmup}")
    print()
    if not args.no_step:
        bench_steps(torch, args, archs, shapes)
    if args.gemm:
        print()
        print("| GEMM (f32) | n x m x m | resgen ms | PyTorch ms | ratio (PyTorch / resgen) | resgen GFLOP/s | PyTorch GFLOP/s |")
        print("|---|---|---|---|---|---|---|")
        for s in shapes:
            n, m, _, _ = parse_shape(s)
            flops = 2.0 * n * m * m
            rows = run_resgen(args.resgen, ["--gemm", "--shape", s, "--steps", str(args.steps)]) if args.resgen else []
            torch_t = bench_gemm(torch, n, m, args.steps)
            for name, t in torch_t.items():
                r = next((x for x in rows if x["layout"] == name), None)
                if r:
                    rs = float(r["ms"]) / 1e3
                    print(f"| {name} | {n}x{m}x{m} | {rs * 1e3:.2f} | {t * 1e3:.2f} | **{div(t, rs):.2f}** | {div(flops, rs) / 1e9:.0f} "
                          f"| {div(flops, t) / 1e9:.0f} |")
                else:
                    print(f"| {name} | {n}x{m}x{m} | - | {t * 1e3:.2f} | - | - | {div(flops, t) / 1e9:.0f} |")
            sys.stdout.flush()
    if args.ntk:
        print()
        print("| kernel (f64) | n/m/L/d | resgen s | PyTorch s | ratio (PyTorch / resgen) | resgen peak MiB | PyTorch peak MiB |")
        print("|---|---|---|---|---|---|---|")
        for arch in archs:
            r = None
            if args.resgen:
                rows = run_resgen(args.resgen, ["--ntk", "--arch", arch])
                r = next(x for x in rows if x["kernel"] == "empirical NTK, batched")
            t, peak = bench_ntk(torch, arch, parse_shape(NTK_SHAPE))
            if r:
                rs = float(r["seconds"])
                print(f"| empirical NTK, batched ({arch}) | {NTK_SHAPE} | {rs:.2f} | {t:.2f} | **{div(t, rs):.2f}** "
                      f"| {r['peak_mib']} | {peak:.0f} |")
                for x in rows:
                    if x["kernel"].startswith("eps_NTRF"):
                        print(f"| {x['kernel']} ({arch}; no peer) | {NTK_SHAPE} | {float(x['seconds']):.1f} | - | - "
                              f"| {x['peak_mib']} | - |")
            else:
                print(f"| empirical NTK, batched ({arch}) | {NTK_SHAPE} | - | {t:.2f} | - | - | {peak:.0f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
