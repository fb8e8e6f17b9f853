#!/usr/bin/env bash
# bench/gpu.sh — the GPU check in one short run, on a machine with an NVIDIA GPU and no JDK or network.
#
# Prepare here with `make device-pack` (a jlink'd JDK 25 as .tar.gz, the jar, the test classes,
# JUnit's console launcher, gzipped MNIST and libgomp.so.1 in .device/), carry .device/ along, and
# run from the repository root:
#
#   bash bench/gpu.sh               on the GPU machine; results in $OUT (default /tmp/gpu-check)
#   bash bench/gpu.sh --rehearse    here, with the CPU in place of the GPU (see below)
#
# Phases, each under `timeout` with its own budget, all of them inside TOTAL_S (350 s, so the whole
# run stays under six minutes whatever hangs):
#   setup    unpack the JDK into /tmp, nvidia-smi, find libcuda/cuBLAS/cuDNN/NVRTC (-> libs.txt)
#   info     `denoise info`; a GPU it cannot use ends the run here (exit 3), with the reason
#   junit    CudaProbeTest, CudaOpsTest, CudaOpsContractTest, CudaTrainingParityTest,
#            CudaDenoiserTest (the shipped model, the Denoiser's pool and tiles on the GPU) under
#            -Dgpu.required=true: a missing GPU fails them instead of skipping them
#   speed    `denoise speed` against bench/peers/torch_models.py speed (eager), same GPU, models
#            dense vae conv skip at batch 128 and 1024, taken in turns
#   compile  the PyTorch peer once more for conv with --compile (slow to start, so last): the rest
#            of TOTAL_S, i.e. its own 65 s plus whatever the earlier phases left unused
#
# What lands in $OUT (never more than 6 files; everything noisy goes to /tmp/denoise-gpu/logs):
#   libs.txt      the CUDA libraries found and the DENOISE_CUDA_LIBS / LD_LIBRARY_PATH used; written first
#   summary.txt   result, phases (budget, time, status), device, denoise info, tests, the speed table;
#                 rewritten after every phase, so a run cut short still says how far it got
#   junit.txt     the console launcher's summary, counts per class, failures' and skips' first lines
#   speed.tsv     one row per speed run: numbers, status, seconds
#   logs.tar.gz   every log and report, each cut to its last MiB
#
# --rehearse runs the same phases, files and commands with --device cpu and Debian's python3-torch
# (installed with apt-get when missing, as bench/peers.sh does), small step counts, JUnit without
# -Dgpu.required (the GPU tests are then counted as skipped, never as passed), OUT in a new temp
# folder, and fails when more than 6 files land in $OUT.
#
# Exit status: 0 all passed; 1 a test failed, a run failed or timed out, or $OUT holds too many
# files; 2 .device/ is missing or incomplete; 3 denoise reports no usable GPU.
set -uo pipefail
export LC_ALL=C             # one decimal point for $EPOCHREALTIME and awk
cd "$(dirname "$0")/.."
ROOT=$PWD
D=$ROOT/.device
W=/tmp/denoise-gpu          # the unpacked JDK, logs, reports; emptied at every start
L=$W/logs
MAX_OUT_FILES=6

MODE=gpu
case "${1:-}" in
    "") ;;
    --rehearse) MODE=rehearse ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bash bench/gpu.sh [--rehearse]" >&2; exit 2 ;;
esac

MODELS=(dense vae conv skip)
BATCHES=(128 1024)
COMPILE_MODELS=(conv)
JUNIT_CLASSES=(dev.denoise.cuda.CudaProbeTest dev.denoise.cuda.CudaOpsTest
    dev.denoise.backend.CudaOpsContractTest dev.denoise.cuda.CudaTrainingParityTest
    dev.denoise.cuda.CudaDenoiserTest)
# Budgets in seconds (the environment may lower them, to try the timeout paths); compile gets the
# rest of TOTAL_S, which is B_COMPILE when every earlier phase used all of its budget.
TOTAL_S=${TOTAL_S:-350}
B_SETUP=${B_SETUP:-25} B_INFO=${B_INFO:-20} B_JUNIT=${B_JUNIT:-100} B_SPEED=${B_SPEED:-140}
B_COMPILE=$((TOTAL_S - B_SETUP - B_INFO - B_JUNIT - B_SPEED))
RUN_CAP_S=${RUN_CAP_S:-30}          # one speed run (JVM or Python start, CUDA init, warm-up, timing)
COMPILE_CAP_S=${COMPILE_CAP_S:-60}  # one torch.compile'd run
THREADS=$(nproc)
if [ "$MODE" = gpu ]; then
    DEV=cuda STEPS=100 ROUNDS=3 WARMUP=10 INFER=10000
    OUT=${OUT:-/tmp/gpu-check}
else
    DEV=cpu STEPS=4 ROUNDS=2 WARMUP=1 INFER=500
    OUT=${OUT:-$(mktemp -d /tmp/gpu-rehearsal.XXXXXX)}
fi
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
rm -rf "$W" && mkdir -p "$L"

START=$EPOCHREALTIME
DEADLINE=$(awk -v s="$START" -v t="$TOTAL_S" 'BEGIN { printf "%.3f", s + t }')
elapsed() { awk -v s="$START" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.0f", n - s }'; }
since() { awk -v s="$1" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.1f", n - s }'; }
# whole seconds left before the deadline
left() { awk -v d="$DEADLINE" -v n="$EPOCHREALTIME" 'BEGIN { x = int(d - n); print (x > 0 ? x : 0) }'; }
# A phase ends at its budget or at the deadline, whichever comes first; pclip [CAP] gives the whole
# seconds left in it, at most CAP. Every command of a phase runs under that.
phase_start() {
    CURRENT=$1; PH_T0=$EPOCHREALTIME
    PH_END=$(awk -v n="$EPOCHREALTIME" -v b="$2" -v d="$DEADLINE" 'BEGIN { e = n + b; printf "%.3f", e < d ? e : d }')
    write_summary
}
pclip() { awk -v e="$PH_END" -v n="$EPOCHREALTIME" -v c="${1:-999999}" \
    'BEGIN { x = int(e - n); if (x > c) x = c; print (x > 0 ? x : 0) }'; }

# ---- state shown in summary.txt ----
PH_ROWS=()          # "name|budget|took|status"
PROBLEMS=()
CURRENT=""          # the phase under way, for a summary written mid-run
DEVICE_LINE="" INFO_TEXT="" LIBS_LINE="" TESTS_LINE="" TORCH_LINE=""
problem() { PROBLEMS+=("$1"); echo "!! $1" >&2; }
phase_done() { PH_ROWS+=("$1|$2|$3|$4"); CURRENT=""; write_summary; }

speed_table() {
    [ -s "$OUT/speed.tsv" ] || return 0
    awk -F'\t' '
        NR == 1 { next }
        $1 == "denoise" { k = $3 SUBSEP $4; dt[k] = $6; di[k] = $8; ds[k] = $9; if (!(k in seen)) { seen[k] = 1; keys[++n] = k } }
        $1 == "torch"   { k = $3 SUBSEP $4; tt[k, $2] = $6; ti[k, $2] = $8; ts[k, $2] = $9; modes[k, $2] = 1
                          if (!(k in seen)) { seen[k] = 1; keys[++n] = k } }
        function num(x) { return x == "" ? "-" : sprintf("%.0f", x) }
        function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2fx", a / b) }
        END {
            printf "%-6s %6s %-8s | %12s %12s %7s | %12s %12s %7s\n", "model", "batch", "torch", \
                "train ours", "train torch", "ratio", "infer ours", "infer torch", "ratio"
            for (i = 1; i <= n; i++) {
                k = keys[i]; split(k, mb, SUBSEP)
                for (m = 1; m <= 2; m++) {
                    mode = m == 1 ? "eager" : "compile"
                    if (mode == "compile" && !((k, mode) in modes)) continue
                    printf "%-6s %6s %-8s | %12s %12s %7s | %12s %12s %7s\n", mb[1], mb[2], mode, \
                        num(dt[k]), num(tt[k, mode]), ratio(dt[k], tt[k, mode]), \
                        num(di[k]), num(ti[k, mode]), ratio(di[k], ti[k, mode])
                    if (ds[k] != "ok" && mode == "eager") printf "       denoise: %s\n", ds[k]
                    if (!((k, mode) in modes)) printf "       torch %s: not run yet\n", mode
                    else if (ts[k, mode] != "ok") printf "       torch %s: %s\n", mode, ts[k, mode]
                }
            }
        }' "$OUT/speed.tsv"
}

write_summary() {
    local verdict
    if [ -n "${RESULT:-}" ]; then verdict=$RESULT
    else verdict="INCOMPLETE: still running${CURRENT:+ (phase $CURRENT)}, or cut off there"; fi
    {
        if [ "$MODE" = gpu ]; then echo "denoise GPU check (bench/gpu.sh), device $DEV"
        else echo "denoise GPU check REHEARSAL (bench/gpu.sh --rehearse): the CPU in place of the GPU"; fi
        echo "result   $verdict"
        echo "started  $(date -u -d "@${START%.*}" +%Y-%m-%dT%H:%M:%SZ) on $HOSTNAME, $(elapsed) s so far"
        [ -f "$D/pack.txt" ] && sed 's/^/pack     /; s/^pack     packed   /pack     /' "$D/pack.txt"
        echo
        printf '%-8s %7s %7s  %s\n' phase budget took status
        local r n b t s
        for r in "${PH_ROWS[@]}"; do
            IFS='|' read -r n b t s <<< "$r"
            printf '%-8s %6ss %6ss  %s\n' "$n" "$b" "$t" "$s"
        done
        [ -n "$CURRENT" ] && printf '%-8s %7s %7s  %s\n' "$CURRENT" "" "" "under way"
        echo
        [ -n "$DEVICE_LINE" ] && echo "device   $DEVICE_LINE"
        [ -n "$LIBS_LINE" ] && echo "libs     $LIBS_LINE"
        [ -n "$INFO_TEXT" ] && { echo "denoise info:"; sed 's/^/  /' <<< "$INFO_TEXT"; }
        [ -n "$TESTS_LINE" ] && echo "tests    $TESTS_LINE"
        [ -n "$TORCH_LINE" ] && echo "torch    $TORCH_LINE"
        if [ -s "$OUT/speed.tsv" ]; then
            echo
            echo "images/s, best of $ROUNDS rounds of $STEPS steps ($WARMUP warm-up), inference over $INFER images" \
                "in batches of $(( INFER < 1000 ? INFER : 1000 )); ratio = denoise / torch"
            speed_table
            echo "(both sides plain FP32: denoise without --tf32, the peer with TF32 switched off; the torch line gives its defaults)"
        fi
        if [ ${#PROBLEMS[@]} -gt 0 ]; then
            echo
            echo "problems:"
            printf '  %s\n' "${PROBLEMS[@]}"
        fi
    } > "$W/summary.txt"
    cp "$W/summary.txt" "$OUT/summary.txt"
}

# The end of every run: logs into one archive, the file count checked, the summary written last.
finish() {
    local code=$1 f
    trap - TERM INT
    mkdir -p "$W/cut"
    for f in "$L"/* "$W"/junit/*; do
        [ -f "$f" ] && tail -c 1048576 "$f" > "$W/cut/$(basename "$f")"
    done
    tar -czf "$OUT/logs.tar.gz" -C "$W/cut" . 2>/dev/null || problem "could not write logs.tar.gz"
    local nfiles
    nfiles=$(find "$OUT" -type f | wc -l)
    # summary.txt itself may not be there yet: count it
    [ -f "$OUT/summary.txt" ] || nfiles=$((nfiles + 1))
    if [ "$nfiles" -gt "$MAX_OUT_FILES" ]; then
        problem "$nfiles files in $OUT, more than $MAX_OUT_FILES"
        [ "$code" -eq 0 ] && code=1
    fi
    if [ "$code" -eq 0 ] && [ ${#PROBLEMS[@]} -gt 0 ]; then code=1; fi
    case "$code" in
        0) RESULT="PASS" ;;
        3) RESULT="NO GPU: ${NO_GPU_REASON:-see denoise info}" ;;
        *) RESULT="FAIL (${#PROBLEMS[@]} problems, listed at the end)" ;;
    esac
    [ "$MODE" = rehearse ] && [ "$code" -eq 0 ] && RESULT="PASS (rehearsal: the GPU tests were skipped, see tests)"
    RESULT="$RESULT, exit $code, $(elapsed) s"
    write_summary
    echo
    cat "$W/summary.txt"
    echo
    echo "files in $OUT:"
    (cd "$OUT" && find . -type f -printf '%s\t%P\n' | sort -k2 | awk -F'\t' '{ printf "  %9d  %s\n", $1, $2 }')
    exit "$code"
}
trap 'problem "interrupted during ${CURRENT:-the run}"; finish 1' TERM INT

# `timeout` with a kill 5 s after the TERM; returns the command's status, 124 or 137 when it ran
# out of time (`timeout 0` would mean no limit: a spent budget runs nothing and returns 124)
bounded() { local s=$1; shift; [ "$s" -ge 1 ] || return 124; timeout -k 5 "$s" "$@"; }
timed_out() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; }

# ---------------------------------------------------------------- setup
phase_start setup "$B_SETUP"
missing=()
for f in jdk.tar.gz denoise.jar junit.jar test-classes mnist/train-images-idx3-ubyte.gz lib/libgomp.so.1; do
    [ -e "$D/$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
    problem "missing in .device/: ${missing[*]} (run make device-pack here and carry .device/)"
    phase_done setup "$B_SETUP" "$(since "$PH_T0")" "failed: .device/ incomplete"
    finish 2
fi

if [ "$MODE" = rehearse ]; then
    # Debian's python3-torch, with OpenBLAS (the reference BLAS would make the Linear layers ~40x
    # slower), as bench/peers.sh installs them; outside the budgets, as it happens once
    if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! ldconfig -p | grep libopenblas >/dev/null; then
        echo "installing python3-torch and OpenBLAS (apt-get)..."
        ti=$EPOCHREALTIME
        { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q python3-torch libopenblas0-openmp \
          || { apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q \
               python3-torch libopenblas0-openmp; }; } > "$L/apt.txt" 2>&1 \
          || problem "apt-get install python3-torch libopenblas0-openmp failed (logs: apt.txt)"
        PH_ROWS+=("install|-|$(since "$ti")|rehearsal only, outside the budgets: python3-torch")
    fi
    # the budgets start now
    START=$EPOCHREALTIME
    DEADLINE=$(awk -v s="$START" -v t="$TOTAL_S" 'BEGIN { printf "%.3f", s + t }')
    phase_start setup "$B_SETUP"
fi

if ! bounded "$(pclip)" tar -xzf "$D/jdk.tar.gz" -C "$W" 2> "$L/unpack.txt"; then
    problem "could not unpack .device/jdk.tar.gz: $(head -1 "$L/unpack.txt")"
    phase_done setup "$B_SETUP" "$(since "$PH_T0")" "failed: JDK not unpacked"
    finish 1
fi
JAVA=$W/jdk/bin/java

if [ "$MODE" = gpu ]; then
    DEVICE_LINE=$(bounded "$(pclip 15)" nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
        --format=csv,noheader 2> "$L/nvidia-smi.txt" | head -1)
    [ -n "$DEVICE_LINE" ] || DEVICE_LINE="nvidia-smi gave nothing: $(head -1 "$L/nvidia-smi.txt")"
else
    DEVICE_LINE="cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $THREADS threads"
fi

# Pythons, in order: the one named, the one on PATH, the GPU image's venv, Debian's. Each is asked
# (without importing anything heavy) where its nvidia/ wheels and torch are.
pythons=()
add_python() { local p=$1 q; [ -n "$p" ] && [ -x "$p" ] || return 0
    for q in "${pythons[@]}"; do [ "$q" = "$p" ] && return 0; done; pythons+=("$p"); }
if [ "$MODE" = rehearse ]; then add_python "${PYTHON:-}"; add_python /usr/bin/python3; fi
add_python "${PYTHON:-}"; add_python "$(command -v python3 2>/dev/null)"
add_python /opt/torch/.venv/bin/python3; add_python /usr/bin/python3
NV_DIRS=() PY_TORCH="" PY_WHEELS=""
for p in "${pythons[@]}"; do
    where=$(bounded "$(pclip 10)" "$p" -c '
import importlib.util as u, os
n = u.find_spec("nvidia")
for d in (n.submodule_search_locations if n else []): print("nvidia", d)
t = u.find_spec("torch")
if t and t.origin: print("torch", os.path.dirname(t.origin))' 2>> "$L/pythons.txt")
    echo "$p: ${where:-nothing}" >> "$L/pythons.txt"
    if grep -q '^nvidia ' <<< "$where" && [ -z "$PY_WHEELS" ]; then
        PY_WHEELS=$p
        while read -r _ d; do NV_DIRS+=("$d"); done < <(grep '^nvidia ' <<< "$where")
    fi
    grep -q '^torch ' <<< "$where" && [ -z "$PY_TORCH" ] && PY_TORCH=$p
done

# First folder holding the file, searched in: the nvidia/ wheels (cu13/lib, cudnn/lib, ...), the CUDA
# toolkit, the loader's cache. The wheels come first: PyTorch runs on them, so both sides of the
# speed table then use the same cuBLAS and cuDNN.
find_lib() {
    local name=$1 d hit
    for d in "${NV_DIRS[@]}"; do
        hit=$(find "$d" -maxdepth 3 -name "$name" 2>/dev/null | sort | head -1)
        [ -n "$hit" ] && { echo "$hit"; return; }
    done
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
        [ -e "$d/$name" ] && { echo "$d/$name"; return; }
    done
    ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n && /x86-64/ { print $NF; exit }'
}
{
    echo "# CUDA libraries for denoise, found by bench/gpu.sh ($MODE) on $HOSTNAME, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# python with the nvidia wheels: ${PY_WHEELS:-none}"
    for d in "${NV_DIRS[@]}"; do echo "#   $d"; done
    echo "# python with torch: ${PY_TORCH:-none}"
} > "$OUT/libs.txt"
CUDA_DIRS=() LIBCUDA_DIR="" notfound=()
libcuda=$(ldconfig -p 2>/dev/null | awk '$1 == "libcuda.so.1" && /x86-64/ { print $NF; exit }')
how="ldconfig"
if [ -z "$libcuda" ]; then
    IFS=: read -ra ldp <<< "${LD_LIBRARY_PATH:-}"
    for d in "${ldp[@]}" /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
        [ -n "$d" ] && [ -e "$d/libcuda.so.1" ] && { libcuda=$d/libcuda.so.1; LIBCUDA_DIR=$d; how="search"; break; }
    done
fi
if [ -n "$libcuda" ]; then
    printf '%-20s %s -> %s (%s)\n' libcuda.so.1 "$libcuda" "$(readlink -f "$libcuda")" "$how" >> "$OUT/libs.txt"
else
    printf '%-20s not found\n' libcuda.so.1 >> "$OUT/libs.txt"; notfound+=(libcuda.so.1)
fi
# cuBLAS with its cuBLASLt, cuDNN, NVRTC: version 13 first, then the CUDA 12 wheels' names
for group in "libcublas.so.13 libcublasLt.so.13|libcublas.so.12 libcublasLt.so.12" \
             "libcudnn.so.9" "libnvrtc.so.13|libnvrtc.so.12"; do
    IFS='|' read -ra choices <<< "$group"
    found=""
    for names in "${choices[@]}"; do
        read -ra want <<< "$names"
        first=$(find_lib "${want[0]}")
        [ -n "$first" ] || continue
        found=1
        for n in "${want[@]}"; do
            hit=$(find_lib "$n")
            # cuBLASLt must lie beside cuBLAS: it is opened from the same folder
            [ "$n" != "${want[0]}" ] && [ -e "$(dirname "$first")/$n" ] && hit=$(dirname "$first")/$n
            if [ -n "$hit" ]; then
                printf '%-20s %s\n' "$n" "$hit" >> "$OUT/libs.txt"
                d=$(dirname "$hit")
                [[ " ${CUDA_DIRS[*]} " == *" $d "* ]] || CUDA_DIRS+=("$d")
            else
                printf '%-20s not found\n' "$n" >> "$OUT/libs.txt"; notfound+=("$n")
            fi
        done
        break
    done
    [ -n "$found" ] || { printf '%-20s not found\n' "${choices[0]%% *}" >> "$OUT/libs.txt"; notfound+=("${choices[0]%% *}"); }
done
if [ ${#CUDA_DIRS[@]} -gt 0 ]; then
    DENOISE_CUDA_LIBS=$(IFS=:; echo "${CUDA_DIRS[*]}")
    export DENOISE_CUDA_LIBS
fi
# Only the JVM gets the carried libgomp (libdenoise.so was linked against it) and a libcuda folder
# the loader's cache lacks; Python keeps its own environment, libgomp included.
JAVA_LDP="$D/lib${LIBCUDA_DIR:+:$LIBCUDA_DIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
    echo "DENOISE_CUDA_LIBS=${DENOISE_CUDA_LIBS:-(unset: nothing found)}"
    echo "LD_LIBRARY_PATH (java only)=$JAVA_LDP"
    echo "libgomp.so.1 (java)=$D/lib/libgomp.so.1"
} >> "$OUT/libs.txt"
if [ ${#notfound[@]} -eq 0 ]; then LIBS_LINE="all found; DENOISE_CUDA_LIBS=${DENOISE_CUDA_LIBS:-}"
else LIBS_LINE="not found: ${notfound[*]}; DENOISE_CUDA_LIBS=${DENOISE_CUDA_LIBS:-(unset)}"; fi
[ "$MODE" = rehearse ] && [ ${#notfound[@]} -gt 0 ] && LIBS_LINE="$LIBS_LINE (expected without a GPU)"
export DENOISE_DATA=$D CI=1      # Mnist.defaultDir() = $D/mnist; CI: no progress bars
st="ok"; [ ${#notfound[@]} -gt 0 ] && st="ok; libraries not found: ${notfound[*]}"
phase_done setup "$B_SETUP" "$(since "$PH_T0")" "$st"

# ---------------------------------------------------------------- info
phase_start info "$B_INFO"
bounded "$(pclip)" env LD_LIBRARY_PATH="$JAVA_LDP" "$JAVA" -jar "$D/denoise.jar" info > "$L/info.txt" 2>&1
rc=$?
INFO_TEXT=$(cat "$L/info.txt")
cuda_line=$(grep -E '^cuda:?[[:space:]]' "$L/info.txt" | head -1)
if [ "$rc" -ne 0 ] || [ -z "$cuda_line" ]; then
    timed_out "$rc" && why="timed out" || why="exit $rc"
    problem "denoise info failed ($why): $(tail -1 "$L/info.txt")"
    NO_GPU_REASON="denoise info failed ($why)"
    phase_done info "$B_INFO" "$(since "$PH_T0")" "failed: $why"
    finish 3
fi
if grep -q 'not available' <<< "$cuda_line"; then
    reason=$(sed -E 's/^cuda:?[[:space:]]+not available[[:space:]]*//' <<< "$cuda_line")
    if [ "$MODE" = gpu ]; then
        NO_GPU_REASON="cuda not available $reason"
        problem "denoise info: cuda not available $reason"
        phase_done info "$B_INFO" "$(since "$PH_T0")" "no usable GPU: $reason"
        finish 3
    fi
    phase_done info "$B_INFO" "$(since "$PH_T0")" "ok; cuda not available, as expected in a rehearsal"
elif [ "$MODE" = rehearse ]; then
    phase_done info "$B_INFO" "$(since "$PH_T0")" "ok; a GPU is usable here, yet the rehearsal runs on the CPU"
else
    phase_done info "$B_INFO" "$(since "$PH_T0")" "ok"
fi

# ---------------------------------------------------------------- junit
phase_start junit "$B_JUNIT"
props=(-Ddenoise.data="$D" -Ddenoise.data.required=true)
[ "$MODE" = gpu ] && props+=(-Dgpu.required=true)
sel=(); for c in "${JUNIT_CLASSES[@]}"; do sel+=(--select-class "$c"); done
bounded "$(pclip)" env LD_LIBRARY_PATH="$JAVA_LDP" "$JAVA" --enable-native-access=ALL-UNNAMED "${props[@]}" \
    -jar "$D/junit.jar" execute --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii \
    --fail-if-no-tests --reports-dir "$W/junit" -cp "$D/test-classes:$D/denoise.jar" "${sel[@]}" \
    > "$L/junit-console.txt" 2>&1
jrc=$?
jtook=$(since "$PH_T0")
count() { sed -nE "s/^\[ *([0-9]+) $1 *\].*/\1/p" "$L/junit-console.txt" | tail -1; }
found=$(count "tests found") ok=$(count "tests successful") failed=$(count "tests failed")
aborted=$(count "tests aborted") skipped=$(count "tests skipped") cfailed=$(count "containers failed")
found=${found:-0} ok=${ok:-0} failed=${failed:-0} aborted=${aborted:-0} skipped=${skipped:-0} cfailed=${cfailed:-0}
notrun=$((aborted + skipped))   # assumption failures (no GPU) and disabled tests: neither is a pass
{
    echo "JUnit console launcher, $([ "$MODE" = gpu ] && echo "-Dgpu.required=true" || echo "rehearsal, without -Dgpu.required")"
    printf 'class    %s\n' "${JUNIT_CLASSES[@]}"
    echo "exit     $jrc$(timed_out "$jrc" && echo " (timed out)"), $jtook s of a $B_JUNIT s budget"
    echo
    grep -E '^(Test run finished|\[ *[0-9]+ (containers|tests) )' "$L/junit-console.txt"
    echo
    # per class, failures and skips from the XML report (the console's tree is in logs.tar.gz)
    if [ -f "$W/junit/TEST-junit-jupiter.xml" ] && command -v "${PY_TORCH:-python3}" > /dev/null; then
        "${PY_TORCH:-python3}" - "$W/junit/TEST-junit-jupiter.xml" <<'PY' 2>&1 | head -80
import collections, sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
per = collections.OrderedDict()
fails, skips = [], collections.Counter()
def first(e):
    text = (e.get("message") or e.text or "").strip().splitlines()
    return (e.get("type", "").rsplit(".", 1)[-1] + ": " if e.get("type") else "") + (text[0] if text else "")
for c in cases:
    cls = c.get("classname", "?").rsplit(".", 1)[-1]
    n = per.setdefault(cls, collections.Counter())
    bad = [e for e in c if e.tag in ("failure", "error")]
    skip = [e for e in c if e.tag == "skipped"]
    if bad:
        n["failed"] += 1
        fails.append(f"{cls}.{c.get('name')}: {first(bad[0])}"[:300])
    elif skip:
        n["skipped"] += 1
        skips[f"{cls}: {first(skip[0])}"[:300]] += 1
    else:
        n["passed"] += 1
for cls, n in per.items():
    print(f"{cls:28s} {n['passed']:4d} passed {n['failed']:4d} failed {n['skipped']:4d} skipped")
if fails:
    print(f"\nfailures ({len(fails)}), first line of each:")
    for f in fails: print("  " + f)
if skips:
    print(f"\nskipped, NOT passed ({sum(skips.values())}), by reason:")
    for r, k in skips.most_common(): print(f"  {k:4d} x {r}")
PY
    else
        echo "(no XML report; the console's last lines:)"
        tail -30 "$L/junit-console.txt"
    fi
} > "$OUT/junit.txt"
TESTS_LINE="$found found: $ok passed, $failed failed, $notrun skipped (not passes)"
[ "$cfailed" -gt 0 ] && TESTS_LINE="$TESTS_LINE, $cfailed classes failed to set up"
TESTS_LINE="$TESTS_LINE; junit.txt"
jst="ok"
if timed_out "$jrc"; then
    jst="timed out"; problem "JUnit ran out of its $B_JUNIT s budget (partial output in logs.tar.gz: junit-console.txt)"
elif [ "$found" -eq 0 ]; then
    jst="failed: no tests found"; problem "JUnit found no tests (exit $jrc): $(tail -1 "$L/junit-console.txt")"
elif [ "$jrc" -ne 0 ] || [ "$failed" -gt 0 ] || [ "$cfailed" -gt 0 ]; then
    jst="failed"; problem "JUnit: $failed tests failed, $cfailed classes failed (exit $jrc; junit.txt)"
elif [ "$notrun" -gt 0 ] && [ "$MODE" = gpu ]; then
    jst="failed: $notrun skipped"; problem "JUnit: $notrun tests skipped on the GPU machine (junit.txt)"
elif [ "$notrun" -gt 0 ]; then
    jst="ok: $ok passed, $notrun GPU tests skipped (no GPU in a rehearsal), none failed"
else
    jst="ok: $ok passed"
fi
phase_done junit "$B_JUNIT" "$jtook" "$jst"

# ---------------------------------------------------------------- speed
printf 'impl\tmode\tmodel\tbatch\tdevice\ttrain_best\ttrain_median\tinfer\tstatus\tseconds\n' > "$OUT/speed.tsv"
RUNS_FAILED=0 RUNS_OK=0 RUNS_SKIPPED=0 RUNS_NA=0
# one speed run: impl mode model batch budget log cmd...; a row of speed.tsv either way
speed_run() {
    local impl=$1 mode=$2 m=$3 b=$4 budget=$5 log=$6; shift 6
    local t1=$EPOCHREALTIME rc st tb tm inf
    if [ "$budget" -lt 5 ]; then
        st="not run: budget spent"; RUNS_SKIPPED=$((RUNS_SKIPPED + 1))
        printf '%s\t%s\t%s\t%s\t%s\t\t\t\t%s\t0\n' "$impl" "$mode" "$m" "$b" "$DEV" "$st" >> "$OUT/speed.tsv"
        return
    fi
    bounded "$budget" "$@" > "$L/$log.txt" 2>&1
    rc=$?
    # both print "... train: R x S steps of B: best X, median Y images/s" and
    # "... infer: N images (batch I) in T s = Z images/s"; the peer's --json is read first
    read -r tb tm < <(sed -nE 's/.*train:.* best ([0-9.]+), median ([0-9.]+) images\/s.*/\1 \2/p' "$L/$log.txt" | tail -1)
    inf=$(sed -nE 's/.*infer:.*= ([0-9.]+) images\/s.*/\1/p' "$L/$log.txt" | tail -1)
    if [ -s "$L/$log.json" ]; then
        read -r tb tm inf < <("$PY_TORCH" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(*("%.0f" % r[k] if k in r else "" for k in ("train_images_per_s", "train_images_per_s_median", "infer_images_per_s")))' \
            "$L/$log.json" 2>/dev/null) || true
    fi
    if [ "$mode" = compile ] && [ -s "$L/$log.json" ] && grep -q '"compiled": false' "$L/$log.json"; then
        tb=; tm=; inf=; rc=0 # the peer ran eager: this torch has no torch.compile
        st="n/a: this torch has no torch.compile"; RUNS_NA=$((RUNS_NA + 1))
    elif [ "$rc" -eq 0 ] && [ -n "${tb:-}" ] && { [ "$INFER" -eq 0 ] || [ -n "${inf:-}" ]; }; then
        st="ok"; RUNS_OK=$((RUNS_OK + 1))
    elif grep -q "has no attribute 'compile'" "$L/$log.txt"; then
        st="n/a: this torch has no torch.compile"; RUNS_NA=$((RUNS_NA + 1))
    else
        RUNS_FAILED=$((RUNS_FAILED + 1))
        if timed_out "$rc"; then st="timed out after $budget s"
        elif [ "$rc" -ne 0 ]; then st="exit $rc: $(grep -v '^[[:space:]]*$' "$L/$log.txt" | tail -1 | cut -c1-160)"
        else st="output not understood"; fi
        problem "$impl $mode $m batch $b: $st ($log.txt)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$mode" "$m" "$b" "$DEV" "${tb:-}" "${tm:-}" "${inf:-}" \
        "$st" "$(since "$t1")" >> "$OUT/speed.tsv"
}
# the same options on both sides: what bench/peers/torch_models.py speed takes, denoise speed too
common() { echo --model "$1" --batch "$2" --steps "$STEPS" --rounds "$ROUNDS" --warmup "$WARMUP" --infer "$INFER"; }
denoise_speed() { # model batch
    local m=$1 b=$2
    # shellcheck disable=SC2046
    speed_run denoise eager "$m" "$b" "$(pclip "$RUN_CAP_S")" "denoise-$m-$b" env LD_LIBRARY_PATH="$JAVA_LDP" \
        "$JAVA" -jar "$D/denoise.jar" speed --device "$DEV" $(common "$m" "$b")
}
torch_speed() { # model batch mode run-cap
    local m=$1 b=$2 mode=$3 cap extra=()
    cap=$(pclip "$4")
    [ "$mode" = compile ] && extra=(--compile)
    if [ -z "$PY_TORCH" ]; then
        printf 'torch\t%s\t%s\t%s\t%s\t\t\t\tnot run: no python3 with torch\t0\n' "$mode" "$m" "$b" "$DEV" >> "$OUT/speed.tsv"
        RUNS_FAILED=$((RUNS_FAILED + 1)); return
    fi
    speed_run torch "$mode" "$m" "$b" "$cap" "torch-$mode-$m-$b" env PYTHONUNBUFFERED=1 "$PY_TORCH" \
        bench/peers/torch_models.py speed --device "$DEV" $(common "$m" "$b") \
        --infer-batch 1000 --threads "$THREADS" --data "$D/mnist" --json "$L/torch-$mode-$m-$b.json" "${extra[@]}"
}

phase_start speed "$B_SPEED"
if [ -n "$PY_TORCH" ]; then
    TORCH_LINE="$PY_TORCH, $(bounded "$(pclip 20)" "$PY_TORCH" -c 'import torch; b = torch.backends
print(f"torch {torch.__version__}, TF32 defaults: cuDNN convolutions {b.cudnn.allow_tf32}, matmul {b.cuda.matmul.allow_tf32}")' \
        2>/dev/null | tail -1)"
else
    TORCH_LINE="no python3 with torch found (tried: ${pythons[*]})"; problem "$TORCH_LINE"
fi
# batch by batch, ours then theirs per model, so both see the machine in the same state
for b in "${BATCHES[@]}"; do
    for m in "${MODELS[@]}"; do
        denoise_speed "$m" "$b"; write_summary
        torch_speed "$m" "$b" eager "$RUN_CAP_S"; write_summary
    done
done
notrun=$(grep -c $'\tnot run: budget spent\t' "$OUT/speed.tsv")
[ "$notrun" -gt 0 ] && problem "speed: $notrun runs not run, the $B_SPEED s budget was spent"
phase_done speed "$B_SPEED" "$(since "$PH_T0")" "$RUNS_OK runs ok, $RUNS_FAILED failed, $RUNS_SKIPPED not run"

# ---------------------------------------------------------------- compile
# the rest of TOTAL_S: B_COMPILE when every earlier phase used all of its budget, more otherwise
cb=$(left)
phase_start compile "$cb"
ok0=$RUNS_OK f0=$RUNS_FAILED s0=$RUNS_SKIPPED na0=$RUNS_NA
for b in "${BATCHES[@]}"; do
    for m in "${COMPILE_MODELS[@]}"; do
        torch_speed "$m" "$b" compile "$COMPILE_CAP_S"; write_summary
    done
done
notrun2=$(grep -c $'\tnot run: budget spent\t' "$OUT/speed.tsv")
[ "$notrun2" -gt "$notrun" ] && problem "compile: $((notrun2 - notrun)) runs not run, the time left was spent"
phase_done compile "$cb" "$(since "$PH_T0")" \
    "$((RUNS_OK - ok0)) runs ok, $((RUNS_FAILED - f0)) failed, $((RUNS_SKIPPED - s0)) not run, $((RUNS_NA - na0)) n/a (no torch.compile)"

finish 0
