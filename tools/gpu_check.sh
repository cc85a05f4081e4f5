#!/usr/bin/env bash
# gpu_check.sh - the one script a GPU session runs: build with CUDA, run the
# GPU op tests (and compute-sanitizer), every op bench, the PyTorch op
# baselines, the tiny upstream fixtures on the CUDA backend, the full-size
# end-to-end bench on a synthetic model, and the upstream PyTorch pipeline
# bench. Every number goes to $OUT/summary.txt with PASS/FAIL lines.
#
#   OUT=/some/dir tools/gpu_check.sh [PHASE ...]          (from the repo root)
#
# Phases, in this order when none is named (all of them):
#   info       nvidia-smi, nvcc, compiler, commit
#   build      make -j16 CUDA=1 all bench   (PNG/WebP/JPEG only where the headers are)
#   tests      make test-gpu                -> $OUT/test_gpu.log
#   fixtures   moore-tiny, -long, -resize through the CUDA backend, final latents
#              against the upstream fixtures (relative L2), plus the same on the
#              CPU backend of this build, plus build/pose2vid --backend cuda with
#              --noise/--save-latents compared by bench_compare_latents
#   e2e        build/bench_make_synthetic (f16, into /dev/shm or /tmp, never $OUT),
#              then build/bench_e2e 512x768, 24 frames, 30 steps, cfg 3.5 -> $OUT/e2e.json
#   benches    every build/bench_* except make_synthetic/e2e/compare_latents;
#              python3 bench/torch_ops.py if it exists
#   sanitizer  compute-sanitizer --tool memcheck build/tests/run_gpu_tests -> $OUT/memcheck.log
#   peer       shared/peer-bench moore_bench.py (upstream PyTorch pipeline, real size,
#              random fp16 weights) from its bundle -> $OUT/moore_bench.json
#
# The device tool stops a command after 10 minutes, so split the phases over
# calls, each with a time budget (the script skips what no longer fits and
# says so; every step also has its own timeout):
#   1. GPU_CHECK_BUDGET=560 tools/gpu_check.sh info build tests fixtures
#   2. GPU_CHECK_BUDGET=560 tools/gpu_check.sh e2e benches
#   3. GPU_CHECK_BUDGET=<what is left> tools/gpu_check.sh sanitizer peer
# Each phase that needs binaries runs make first (a no-op when the build from
# an earlier call is still there; a full build on a fresh machine).
#
# Environment:
#   OUT               results folder (default /tmp/gpu_check_out); $OUT gets at most
#                     6 files: summary.txt, logs.tar.gz (every log, re-packed after
#                     each step), test_gpu.log, memcheck.log, e2e.json, moore_bench.json
#   GPU_CHECK_BUDGET  seconds this invocation may take in all (0: no limit)
#   GIT_COMMIT        the commit to record (default: git rev-parse HEAD, if .git is there)
#   SYNTH_DIR         where the synthetic model goes (default /dev/shm/libanimate-synth
#                     when /dev/shm has 8 GB free, else /tmp/libanimate-synth); reused
#                     when complete
#   PEER_BUNDLE       moore_bench bundle (default: build-peer/moore-bench, else
#                     .peer/moore-bench; see shared/peer-bench/README.md)
#   PEER_ARGS         extra moore_bench.py options (e.g. --no-kernels)
#   E2E_ARGS          extra bench_e2e options (e.g. --repeat 2)
#   JOBS              make -j (default 16)
# Exit status: 0 when no step failed (skips are not failures), else 1.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD

OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd) || exit 1
WORK=$(mktemp -d /tmp/gpu_check.XXXXXX) || exit 1
LOGDIR=$WORK/logs
mkdir -p "$LOGDIR"
SUMMARY=$OUT/summary.txt
START=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET:-0}
JOBS=${JOBS:-16}
N_FAIL=0
BUILT=0

say() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(( $(date +%s) - START )); }
remaining() {
    if [ "$BUDGET" -gt 0 ] 2>/dev/null; then echo $(( BUDGET - $(elapsed) )); else echo 1000000; fi
}
pack_logs() { tar -czf "$OUT/logs.tar.gz.tmp" -C "$WORK" logs 2>/dev/null && mv -f "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz"; }

# run_step NAME TIMEOUT CMD... : run CMD with a timeout (shrunk to the budget),
# log to $LOGDIR/NAME.log, print its tail, record PASS/FAIL/SKIP/TIMEOUT.
# Returns the command's exit status (99: not run).
run_step() {
    local name=$1 to=$2
    shift 2
    local rem
    rem=$(remaining)
    if [ "$rem" -lt 45 ]; then
        say "SKIP     $name: not run, the time budget is spent (${rem}s left)"
        return 99
    fi
    [ "$to" -gt $(( rem - 15 )) ] && to=$(( rem - 15 ))
    local log=$LOGDIR/$name.log t0 rc status
    t0=$(date +%s)
    echo "=== $name (timeout ${to}s): $*" >>"$log"
    timeout -k 10 "$to" "$@" >>"$log" 2>&1
    rc=$?
    case $rc in
        0) status=PASS ;;
        77) status=SKIP ;;
        124|137) status=TIMEOUT ;;
        *) status=FAIL ;;
    esac
    [ "$status" = FAIL ] || [ "$status" = TIMEOUT ] && N_FAIL=$((N_FAIL + 1))
    tail -n 25 "$log"
    say "$(printf '%-8s %s: exit %d, %ds' "$status" "$name" "$rc" $(( $(date +%s) - t0 )))"
    pack_logs
    return $rc
}

ensure_build() {
    [ "$BUILT" = 1 ] && return 0
    run_step build $(( 540 )) make -j"$JOBS" CUDA=1 all bench
    local rc=$?
    BUILT=1
    MAKE_INFO=$(make -s info 2>/dev/null | tail -1)
    say "build: $MAKE_INFO"
    return $rc
}

commit_id() {
    if [ -n "${GIT_COMMIT:-}" ]; then echo "$GIT_COMMIT"; return; fi
    local c
    if c=$(git rev-parse HEAD 2>/dev/null); then
        git diff --quiet HEAD 2>/dev/null || c="$c +uncommitted changes"
        echo "$c"
    else
        echo "unknown (no .git here: pass GIT_COMMIT)"
    fi
}

have_png() { make -s info 2>/dev/null | grep -q 'PNG 1'; }

# ---------------------------------------------------------------- phases

phase_info() {
    say "---- info"
    {
        echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "host: $(uname -srm)"
        echo "commit: $(commit_id)"
        echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv,noheader 2>&1 | head -1)"
        local nvcc
        nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
        echo "nvcc: $("$nvcc" --version 2>&1 | tail -2 | head -1)"
        echo "cc: $(${CC:-cc} --version 2>&1 | head -1)"
        echo "python3: $(python3 -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1 | tail -1)"
        echo "compute-sanitizer: $( (command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer) 2>/dev/null | head -1)"
    } | tee -a "$SUMMARY"
    nvidia-smi >"$LOGDIR/nvidia-smi.log" 2>&1
    cat "$LOGDIR/nvidia-smi.log"
    pack_logs
}

phase_build() {
    say "---- build"
    BUILT=0
    ensure_build
}

phase_tests() {
    say "---- tests"
    ensure_build || { say "FAIL     tests: not run, the build failed"; N_FAIL=$((N_FAIL + 1)); return; }
    run_step test_gpu 300 make test-gpu
    cp -f "$LOGDIR/test_gpu.log" "$OUT/test_gpu.log"
    say "test-gpu: $(grep -E '[0-9]+ passed, [0-9]+ failed' "$LOGDIR/test_gpu.log" | tail -1)"
}

phase_fixtures() {
    say "---- fixtures (CUDA backend vs upstream PyTorch fixtures)"
    ensure_build || { say "FAIL     fixtures: not run, the build failed"; N_FAIL=$((N_FAIL + 1)); return; }
    local ppm=()
    if ! have_png; then
        # no libpng in this build: convert the fixture PNGs (lossless) with Pillow
        say "note: built without PNG: fixture inputs converted to PPM with Pillow"
        python3 - "$ROOT/tests/fixtures" "$WORK/ppm" >>"$LOGDIR/ppm.log" 2>&1 <<'EOF'
import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
for fx in ("moore-tiny", "moore-tiny-long", "moore-tiny-resize"):
    d = os.path.join(src, fx, "inputs")
    os.makedirs(os.path.join(dst, fx, "inputs"), exist_ok=True)
    for f in sorted(os.listdir(d)):
        if f.endswith(".png"):
            Image.open(os.path.join(d, f)).convert("RGB").save(os.path.join(dst, fx, "inputs", f[:-4] + ".ppm"))
print("converted")
EOF
        ppm=(--ppm-root "$WORK/ppm")
    fi
    run_step compare_fixtures_cuda 300 build/bench_compare_latents --fixtures --backend cuda "${ppm[@]}"
    local cuda_rc=$?
    grep '^compare(' "$LOGDIR/compare_fixtures_cuda.log" | tee -a "$SUMMARY"
    run_step compare_fixtures_cpu 180 build/bench_compare_latents --fixtures --backend cpu "${ppm[@]}"
    grep '^compare(' "$LOGDIR/compare_fixtures_cpu.log" | tee -a "$SUMMARY"
    if [ "$cuda_rc" = 77 ]; then
        say "SKIP     pose2vid_cuda: no CUDA backend here"
    elif have_png; then
        local pd=$WORK/tiny_poses
        mkdir -p "$pd" && cp tests/fixtures/moore-tiny/inputs/pose_00*.png "$pd"/
        run_step pose2vid_cuda 180 build/pose2vid --backend cuda --models tests/fixtures/moore-tiny \
            --ref tests/fixtures/moore-tiny/inputs/ref.png --poses "$pd" -W 64 -H 64 --steps 3 \
            --noise tests/fixtures/moore-tiny/inputs/noise.safetensors \
            --save-latents "$WORK/pose2vid_cuda_latents.safetensors" --out "$WORK/pose2vid_cuda_frames"
        if [ -f "$WORK/pose2vid_cuda_latents.safetensors" ]; then
            run_step pose2vid_cuda_compare 60 build/bench_compare_latents "$WORK/pose2vid_cuda_latents.safetensors" \
                tests/fixtures/moore-tiny/outputs/final_latents.safetensors --max-rel 1e-2
            grep '^compare(' "$LOGDIR/pose2vid_cuda_compare.log" | sed 's/^/pose2vid --backend cuda: /' | tee -a "$SUMMARY"
        fi
    else
        say "SKIP     pose2vid_cuda: built without PNG (bench_compare_latents covered the same run)"
    fi
}

phase_e2e() {
    say "---- e2e (full-size synthetic model)"
    ensure_build || { say "FAIL     e2e: not run, the build failed"; N_FAIL=$((N_FAIL + 1)); return; }
    local synth=${SYNTH_DIR:-}
    if [ -z "$synth" ]; then
        local shm_kb
        shm_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
        if [ "${shm_kb:-0}" -gt $(( 8 * 1024 * 1024 )) ]; then synth=/dev/shm/libanimate-synth; else synth=/tmp/libanimate-synth; fi
    fi
    if [ -f "$synth/.complete" ]; then
        say "synthetic model: reusing $synth"
    else
        rm -rf "$synth"
        if run_step make_synthetic 360 build/bench_make_synthetic "$synth" --dtype f16 --threads "$JOBS"; then
            touch "$synth/.complete"
        else
            say "FAIL     e2e: no synthetic model"
            return
        fi
        grep '^wrote' "$LOGDIR/make_synthetic.log" | tee -a "$SUMMARY"
    fi
    # shellcheck disable=SC2086
    run_step e2e_512x768_F24_s30 540 build/bench_e2e --models "$synth" -W 512 -H 768 -L 24 --steps 30 --cfg 3.5 \
        --backend cuda --json "$OUT/e2e.json" ${E2E_ARGS:-}
    grep -E '^(device|model|workload|warm-up|timed|s/step|memory|device memory|host|output|FLOP|rate|cuBLAS|e2e\()' \
        "$LOGDIR/e2e_512x768_F24_s30.log" | tee -a "$SUMMARY"
    grep -E 'step [0-9]+/30' "$LOGDIR/e2e_512x768_F24_s30.log" | tail -1 | sed 's/^ */last step report: /' | tee -a "$SUMMARY"
}

phase_benches() {
    say "---- op benches"
    ensure_build || { say "FAIL     benches: not run, the build failed"; N_FAIL=$((N_FAIL + 1)); return; }
    local b n
    for b in build/bench_*; do
        n=$(basename "$b")
        case $n in bench_make_synthetic|bench_e2e|bench_compare_latents) continue ;; esac
        if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
        run_step "$n" 180 "$b"
        grep ' | ' "$LOGDIR/$n.log" | grep -v '^===' | tee -a "$SUMMARY"
    done
    if [ -f bench/torch_ops.py ]; then
        run_step torch_ops 300 env PYTHONUNBUFFERED=1 python3 bench/torch_ops.py
        grep ' | ' "$LOGDIR/torch_ops.log" | grep -v '^===' | tee -a "$SUMMARY"
    else
        say "SKIP     torch_ops: bench/torch_ops.py does not exist"
    fi
}

phase_sanitizer() {
    say "---- compute-sanitizer"
    ensure_build || { say "FAIL     sanitizer: not run, the build failed"; N_FAIL=$((N_FAIL + 1)); return; }
    local cs
    cs=$(command -v compute-sanitizer)
    [ -z "$cs" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && cs=/usr/local/cuda/bin/compute-sanitizer
    if [ -z "$cs" ]; then
        say "SKIP     memcheck: compute-sanitizer not found"
        return
    fi
    run_step memcheck 420 "$cs" --tool memcheck --leak-check full --error-exitcode 3 build/tests/run_gpu_tests
    cp -f "$LOGDIR/memcheck.log" "$OUT/memcheck.log"
    say "memcheck: $(grep -E 'ERROR SUMMARY|[0-9]+ passed, [0-9]+ failed' "$LOGDIR/memcheck.log" | tr '\n' ' ')"
}

phase_peer() {
    say "---- peer: upstream PyTorch pipeline (shared/peer-bench/moore_bench.py)"
    local pb=${PEER_BUNDLE:-}
    if [ -z "$pb" ]; then
        for d in build-peer/moore-bench .peer/moore-bench; do [ -f "$d/moore_bench.py" ] && { pb=$d; break; }; done
    fi
    if [ -z "$pb" ] || [ ! -f "$pb/moore_bench.py" ] || [ ! -d "$pb/moore/src" ] || [ ! -d "$pb/site/diffusers" ]; then
        say "SKIP     moore_bench: no bundle (build-peer/moore-bench or .peer/moore-bench with moore_bench.py, moore/src, site/diffusers; carry it)"
        return
    fi
    # shellcheck disable=SC2086,SC2016
    run_step moore_bench 560 bash -c 'cd "$0" && exec "$@"' "$pb" env PYTHONUNBUFFERED=1 python3 moore_bench.py \
        --moore moore --pypath site --device cuda --out "$OUT/moore_bench.json" ${PEER_ARGS:-}
    if [ -f "$OUT/moore_bench.json" ]; then
        python3 - "$OUT/moore_bench.json" <<'EOF' 2>&1 | tee -a "$SUMMARY"
import json, sys
j = json.load(open(sys.argv[1]))
t, m, fl, c = j.get("timing", {}), j.get("memory", {}), j.get("flops", {}) or {}, j.get("config", {})
step = (t.get("step_ms") or {}).get("median")
unet = (t.get("denoising_unet_ms") or {}).get("median")
dev = (j.get("device") or {}).get("name")
print("moore_bench: device %s, ok %s, errors %s" % (dev, j.get("ok"), j.get("errors")))
print("moore_bench: pipeline %.3f s (median), step %s ms (median), denoising UNet %s ms/call (median)"
      % (t.get("pipeline_median_s") or float("nan"), step, unet))
print("moore_bench: peak allocated %.1f MiB, peak reserved %.1f MiB, weights %.1f MiB"
      % ((m.get("peak_allocated_bytes") or 0) / 2**20, (m.get("peak_reserved_bytes") or 0) / 2**20,
         (m.get("weights_allocated_bytes") or 0) / 2**20))
if fl.get("denoising_unet_per_call"):
    print("moore_bench: denoising UNet %.2f TFLOP/call (FlopCounterMode), %.1f TFLOP/s achieved"
          % (fl["denoising_unet_per_call"] / 1e12, fl.get("denoising_unet_tflops_achieved") or float("nan")))
if step:
    w, h, f, s, g = (c.get(k) for k in ("width", "height", "frames", "steps", "guidance"))
    print("e2e(%sx%s,F=%s,steps=%s,cfg=%s) | pytorch-moore | %.3f s/step | - | -" % (w, h, f, s, g, step / 1e3))
EOF
    fi
}

# ---------------------------------------------------------------- main

PHASES=("$@")
[ ${#PHASES[@]} -eq 0 ] && PHASES=(info build tests fixtures e2e benches sanitizer peer)
say "==== gpu_check $(date -u '+%Y-%m-%d %H:%M:%S UTC'): phases ${PHASES[*]}, budget ${BUDGET}s"
for p in "${PHASES[@]}"; do
    case $p in
        info|build|tests|fixtures|e2e|benches|sanitizer|peer) "phase_$p" ;;
        *) say "FAIL     unknown phase '$p' (info build tests fixtures e2e benches sanitizer peer)"; N_FAIL=$((N_FAIL + 1)) ;;
    esac
done
pack_logs
say "==== gpu_check done in $(elapsed)s: $N_FAIL step(s) failed or timed out"
echo
echo "---------------- $SUMMARY"
cat "$SUMMARY"
rm -rf "$WORK"
[ "$N_FAIL" -eq 0 ]
