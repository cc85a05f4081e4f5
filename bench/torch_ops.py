#!/usr/bin/env python3
"""torch_ops.py - PyTorch baselines for bench_groupnorm, bench_attention and bench_conv.

    python3 bench/torch_ops.py [--reps N] [--only SUBSTR]

Times, on the first CUDA device, with the same method and line format as the C benches:
  group_norm+silu(N,H,W,C,G)       | torch      | us/run | GB/s    | % of peak   (F.group_norm + F.silu)
  attention(B=b,H=h,nq=S,nk=S,d=D) | torch sdpa | us/run | TFLOP/s | % of peak   (F.scaled_dot_product_attention)
  conv3x3(N,H,W,Cin->Cout,s1)      | torch      | us/run | TFLOP/s | % of peak   (F.conv2d, 3x3, pad 1)
fp16 tensors in channels_last (NHWC) memory format, as our kernels see them; the
GroupNorm line also has an NCHW-contiguous variant ("torch nchw").
Shapes are bench_groupnorm's group-norm shapes, self-attention at the SD levels
of a 768x512 picture at batch 2 (d = 40, 80, 160 with 8 heads), and 3x3 convs
at the same levels.
GB/s counts x read once and y written once; attention FLOP = 4*B*H*S*S*D;
conv FLOP = 2*N*H*W*Cout*9*Cin. Peaks: 3.35 TB/s / 4.8 TB/s and 989 TFLOP/s
on H100 SXM / H200 (by device name), else "-".
Method: two warm-up runs, then the median of --reps runs, each timed alone with
CUDA events, the L2 flushed (a write of 2x its size) before each.
"""
import argparse
import statistics
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("torch_ops.py: PyTorch is not installed; nothing to time")
    sys.exit(0)


def peaks(name):
    if "H200" in name:
        return 4800.0, 989.0
    if "H100" in name and "PCIe" not in name and "NVL" not in name:
        return 3350.0, 989.0
    return 0.0, 0.0


def time_median(fn, reps, flush):
    t0 = torch.cuda.Event(enable_timing=True)
    t1 = torch.cuda.Event(enable_timing=True)
    times = []
    for r in range(-2, reps):
        flush.fill_(r & 0xFF)
        t0.record()
        fn()
        t1.record()
        t1.synchronize()
        if r >= 0:
            times.append(t0.elapsed_time(t1) * 1e3)
    return statistics.median(times)


def line(name, variant, us, rate, unit, peak):
    pct = f"{100.0 * rate / peak:5.1f}" if peak > 0 else "    -"
    print(f"{name:<44} | {variant:<10} | {us:9.1f} us/run | {rate:7.1f} {unit} | {pct} % of peak", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_ops.py: no CUDA device; nothing to time")
        return 0
    dev = torch.device("cuda:0")
    props = torch.cuda.get_device_properties(dev)
    peak_gbs, peak_tf = peaks(props.name)
    l2 = getattr(props, "L2_cache_size", 64 << 20) or (64 << 20)
    flush = torch.empty(2 * l2, dtype=torch.uint8, device=dev)
    print(f"device: {props.name}; torch {torch.__version__}; median of {args.reps} runs, L2 flushed")
    torch.backends.cudnn.benchmark = True
    gen = torch.Generator(device=dev).manual_seed(0)

    def rand(*shape, lo=-1.0, hi=1.0):
        return (torch.rand(*shape, generator=gen, device=dev, dtype=torch.float32) * (hi - lo) + lo).half()

    gn_shapes = [(2, 96, 64, 320), (2, 96, 64, 640), (2, 96, 64, 960), (2, 48, 32, 640), (2, 48, 32, 1920),
                 (2, 24, 16, 1280), (2, 24, 16, 2560), (2, 12, 8, 1280), (2, 12, 8, 2560), (48, 96, 64, 320),
                 (48, 48, 32, 640), (48, 24, 16, 1280), (48, 12, 8, 2560), (2, 768, 512, 128)]
    with torch.no_grad():
        for n, h, w, c in gn_shapes:
            name = f"group_norm+silu({n},{h},{w},{c},32)"
            if args.only and args.only not in name:
                continue
            x = rand(n, c, h, w, lo=-2.0, hi=3.0)
            gamma, beta = rand(c, lo=0.5, hi=1.5), rand(c, lo=-0.5, hi=0.5)
            nbytes = 2.0 * x.numel() * 2
            for variant, xx in (("torch", x.contiguous(memory_format=torch.channels_last)), ("torch nchw", x)):
                us = time_median(lambda: F.silu(F.group_norm(xx, 32, gamma, beta, 1e-5)), args.reps, flush)
                line(name, variant, us, nbytes / us * 1e-3, "GB/s", peak_gbs)
            del x

        for b, heads, s, d in [(2, 8, 6144, 40), (2, 8, 1536, 80), (2, 8, 384, 160), (2, 8, 96, 160)]:
            name = f"attention(B={b},H={heads},nq={s},nk={s},d={d})"   # bench_attention's naming
            if args.only and args.only not in name:
                continue
            q, k, v = (rand(b, heads, s, d) for _ in range(3))
            us = time_median(lambda: F.scaled_dot_product_attention(q, k, v), args.reps, flush)
            line(name, "torch sdpa", us, 4.0 * b * heads * s * s * d / us * 1e-6, "TFLOP/s", peak_tf)

        for n, h, w, c in [(2, 96, 64, 320), (2, 48, 32, 640), (2, 24, 16, 1280), (2, 12, 8, 1280),
                           (48, 96, 64, 320), (48, 48, 32, 640), (48, 24, 16, 1280), (48, 12, 8, 1280)]:
            name = f"conv3x3({n},{h},{w},{c}->{c},s1)"
            if args.only and args.only not in name:
                continue
            x = rand(n, c, h, w).contiguous(memory_format=torch.channels_last)
            wt = rand(c, c, 3, 3, lo=-0.05, hi=0.05).contiguous(memory_format=torch.channels_last)
            us = time_median(lambda: F.conv2d(x, wt, None, 1, 1), args.reps, flush)
            line(name, "torch", us, 2.0 * n * h * w * c * 9 * c / us * 1e-6, "TFLOP/s", peak_tf)
            del x
    return 0


if __name__ == "__main__":
    sys.exit(main())
