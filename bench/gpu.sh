#!/usr/bin/env bash
# bench/gpu.sh — the GPU check in one run, on a machine with an NVIDIA GPU and no JDK or network.
#
# Prepare here with `make device-pack` (a jlink'd JDK 25, the jars, the test classes, JUnit's
# console launcher and gzipped MNIST in .device/), carry .device/ along, and run from the
# repository root:  bash bench/gpu.sh
#
# 1. GPU parity tests (every CUDA op against the CPU op; -Dgpu.required: a missing GPU fails).
# 2. denoise on the GPU: one training epoch per model at batch 128 and 1024, inference images/s.
# 3. The PyTorch peer on the same GPU, same models, eager and torch.compile'd.
# Prints one table at the end; the raw logs land in $OUT (or /tmp/gpu-bench).
set -uo pipefail
cd "$(dirname "$0")/.."
D=.device
LOG="${OUT:-/tmp/gpu-bench}"
mkdir -p "$LOG"
export DENOISE_DATA="$D"   # Mnist.defaultDir() = $D/mnist
[ -f "$D/jdk.tar.xz" ] || { echo "no $D/jdk.tar.xz: run make device-pack first and carry .device/" >&2; exit 2; }
tar -xJf "$D/jdk.tar.xz" -C /tmp
JAVA=/tmp/jdk/bin/java

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$JAVA" -jar "$D/denoise.jar" info | tee "$LOG/info.txt"

echo "== parity tests"
"$JAVA" --enable-native-access=ALL-UNNAMED -Dgpu.required=true -Ddenoise.data="$D" \
    -jar "$D/junit.jar" execute --disable-banner --details=summary \
    -cp "$D/test-classes:$D/denoise.jar" \
    --select-class dev.denoise.cuda.CudaOpsTest --select-class dev.denoise.backend.CudaOpsContractTest \
    2>&1 | tee "$LOG/parity.txt"
parity=${PIPESTATUS[0]}

echo "== denoise on cuda"
rows=()
for m in dense vae conv skip; do
    for b in 128 1024; do
        out="$LOG/$m-$b"
        CI=1 "$JAVA" -jar "$D/denoise.jar" train --model "$m" --epochs 2 --batch "$b" --device cuda \
            --out "$out" > "$out.log" 2>&1 || { echo "train $m $b failed:"; tail -3 "$out.log"; continue; }
        train=$(grep "epoch 2/2" "$out.log" | sed -E 's/.* ([0-9,]+) img\/s.*/\1/' | tr -d ,)
        infer=$(CI=1 "$JAVA" -jar "$D/denoise.jar" evaluate --model-file "$out/model.safetensors" --device cuda \
            --json 2>/dev/null | sed -nE 's/.*"infer_images_per_second" : ([0-9.]+).*/\1/p')
        rows+=("denoise $m batch $b: train ${train:-?} img/s, inference ${infer:-?} img/s")
    done
done

echo "== PyTorch peer on cuda"
for m in dense vae conv skip; do
    for extra in "" "--compile"; do
        r=$(python3 bench/peers/torch_models.py speed --model "$m" --device cuda --batch 128 --steps 200 \
            --rounds 3 --infer 10000 --data "$D/mnist" $extra 2>&1 | tee -a "$LOG/torch.txt" | grep -E "train:|infer:" | tr '\n' ' ')
        rows+=("torch $m ${extra:-eager}: $r")
    done
done

echo "== summary"
printf '%s\n' "${rows[@]}" | tee "$LOG/summary.txt"
echo "parity tests exit status: $parity"
exit "$parity"
