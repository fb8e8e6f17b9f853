#!/usr/bin/env bash
# bench/peers.sh — denoise against PyTorch on this CPU, in one run: the same models, recipe, batch,
# image size and thread count, measured alternately (ours, theirs, ours) so both see the same
# machine load; then this machine's FP32 peak. Run by `make bench-peers` (which builds the jar).
# THREADS (default: all cores), ROUNDS (default 3) and STEPS (default 40; a quarter of it for the
# 64x64 RGB cases) tune it. ISA=avx2 forces our AVX2 path (what an AVX2-only machine runs).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-40}
ISA=${ISA:-best}
JAVA="${JAVA_HOME:?JAVA_HOME must name a JDK 25}/bin/java"
PY=/usr/bin/python3
export DENOISE_THREADS=$T OMP_NUM_THREADS=$T

# Debian's torch runs Linear layers on the system libblas.so.3: without an optimised BLAS the
# comparison would be against the reference BLAS (~40x slower), which proves nothing.
# (grep without -q: under pipefail, -q's early exit can kill ldconfig with SIGPIPE and fail the test)
if ! $PY -c "import torch" 2>/dev/null || ! ldconfig -p | grep libopenblas >/dev/null; then
    echo "installing python3-torch and OpenBLAS (apt-get)..."
    apt-get install -y -q python3-torch libopenblas0-openmp >/dev/null
fi

# name, model, batch, image side, channels, steps: MNIST at each model's batch (skip also at its
# recipe's 16), then 64x64 RGB picture patches
CASES=(
    "dense dense 128 28 1 $STEPS"
    "vae vae 128 28 1 $STEPS"
    "conv conv 128 28 1 $STEPS"
    "skip skip 128 28 1 $STEPS"
    "skip-b16 skip 16 28 1 $((STEPS * 4))"
    "conv-rgb64 conv 32 64 3 $((STEPS / 2))"
    "skip-rgb64 skip 16 64 3 $STEPS"
)
best() { grep "$1" | sed -E 's/.*best ([0-9]+).*/\1/;s/.*= ([0-9]+) images\/s.*/\1/' | sort -n | tail -1; }
rows=()
for c in "${CASES[@]}"; do
    read -r name m b size ch steps <<< "$c"
    shape=(--batch "$b" --size "$size" --channels "$ch" --steps "$steps" --rounds "$ROUNDS")
    ours() { CI=1 "$JAVA" -jar java/target/denoise.jar speed --model "$m" --device cpu --cpu-isa "$ISA" "${shape[@]}" --infer 1000; }
    o=$(ours)
    t=$($PY bench/peers/torch_models.py speed --model "$m" --threads "$T" "${shape[@]}" --infer 1000 --infer-batch 1000 2>/dev/null)
    o2=$(ours)
    echo "$name:"; echo "$o"; echo "$t"; echo "$o2"
    ot=$(printf '%s\n%s\n' "$o" "$o2" | best "train:"); oi=$(printf '%s\n%s\n' "$o" "$o2" | best "infer:")
    tt=$(echo "$t" | best "train:"); ti=$(echo "$t" | best "infer:")
    rows+=("$name $ot $tt $oi $ti")
done

gcc -O2 -fopenmp -march=native -o /tmp/fma_peak bench/fma_peak.c
peak=$(/tmp/fma_peak)
echo
echo "threads $T; kernels: $ISA; $peak"
printf '%-11s %14s %14s %7s %14s %14s %7s\n' case "train denoise" "train torch" ratio "infer denoise" "infer torch" ratio
for r in "${rows[@]}"; do
    read -r name ot tt oi ti <<< "$r"
    printf '%-11s %14s %14s %6.2fx %14s %14s %6.2fx\n' "$name" "$ot" "$tt" "$(echo "$ot/$tt" | bc -l)" "$oi" "$ti" "$(echo "$oi/$ti" | bc -l)"
done
