#!/usr/bin/env bash
# bench/peers.sh — denoise against PyTorch on this CPU, in one run: the same three models, recipe,
# batch and thread count, measured alternately (ours, theirs, ours, ...) so both see the same
# machine load; then this machine's FP32 peak. Run by `make bench-peers` (which builds the jar).
# THREADS (default: all cores), ROUNDS (default 3) and STEPS (default 40) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-40}
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

ours=() theirs=()
for m in dense vae conv skip; do
    o=$(CI=1 "$JAVA" -jar java/target/denoise.jar speed --model "$m" --device cpu --steps "$STEPS" --rounds "$ROUNDS" --infer 1000)
    t=$($PY bench/peers/torch_models.py speed --model "$m" --threads "$T" --steps "$STEPS" --rounds "$ROUNDS" --infer 1000 --infer-batch 1000 2>/dev/null)
    o2=$(CI=1 "$JAVA" -jar java/target/denoise.jar speed --model "$m" --device cpu --steps "$STEPS" --rounds "$ROUNDS" --infer 1000)
    echo "$o"; echo "$t"; echo "$o2"
    best() { grep "$1" | sed -E 's/.*best ([0-9]+).*/\1/;s/.*= ([0-9]+) images\/s.*/\1/' | sort -n | tail -1; }
    ot=$(printf '%s\n%s\n' "$o" "$o2" | best "train:"); oi=$(printf '%s\n%s\n' "$o" "$o2" | best "infer:")
    tt=$(echo "$t" | best "train:"); ti=$(echo "$t" | best "infer:")
    ours+=("$m $ot $oi") theirs+=("$m $tt $ti")
done

gcc -O2 -fopenmp -march=native -o /tmp/fma_peak bench/fma_peak.c
peak=$(/tmp/fma_peak)
echo
echo "threads $T; $peak"
printf '%-6s %14s %14s %7s %14s %14s %7s\n' model "train denoise" "train torch" ratio "infer denoise" "infer torch" ratio
for i in "${!ours[@]}"; do
    read -r m ot oi <<< "${ours[$i]}"; read -r _ tt ti <<< "${theirs[$i]}"
    printf '%-6s %14s %14s %6.2fx %14s %14s %6.2fx\n' "$m" "$ot" "$tt" "$(echo "$ot/$tt" | bc -l)" "$oi" "$ti" "$(echo "$oi/$ti" | bc -l)"
done
