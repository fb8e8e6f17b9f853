#!/usr/bin/env bash
# bench/shared.sh — training throughput when another process wants a core: each case alone, then
# beside one busy loop (a stand-in for any CPU-bound neighbour, e.g. `stress -c 1`), alternately,
# best of ROUNDS (default 3) rounds each. With one of the machine's cores taken, a fair share is
# what the remaining cores give: (cores - 1) / cores of the run alone on 2 cores is 0.5, and the
# scheduler's even split of 3 busy threads on 2 cores gives 0.67. Run by `make bench-shared`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
JAVA="${JAVA_HOME:?JAVA_HOME must name a JDK 25}/bin/java"
CASES=(
    "skip-b16 --model skip --batch 16 --steps 160"
    "conv --model conv --batch 128 --steps 20"
    "skip-rgb64 --model skip --batch 16 --size 64 --channels 3 --steps 20"
)
run() { CI=1 "$JAVA" -jar java/target/denoise.jar speed --device cpu --rounds "$ROUNDS" --infer 0 "$@" | sed -E 's/.*best ([0-9]+).*/\1/'; }
printf '%-11s %8s %8s %6s\n' case alone loaded ratio
for c in "${CASES[@]}"; do
    read -r name args <<< "$c"
    # shellcheck disable=SC2086
    alone=$(run $args)
    bash -c 'while :; do :; done' & busy=$!
    # shellcheck disable=SC2086
    loaded=$(run $args)
    kill "$busy"; wait "$busy" 2>/dev/null || true
    printf '%-11s %8s %8s %5.2fx\n' "$name" "$alone" "$loaded" "$(echo "$loaded/$alone" | bc -l)"
done
