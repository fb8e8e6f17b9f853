#!/bin/bash
# The Spark job at scale beside the command line, on this machine: N MNIST test digits written as
# PNG go through `denoise denoise` and through the Spark job in local[2] (the job's shaded jar on
# Spark's class path, as spark-submit runs it), with the same model; prints wall times, the time
# per image, the bytes per image, and checks that both wrote the same bytes.
#   N=10000 bash bench/spark.sh        (make bench-spark)
set -euo pipefail
N=${N:-10000}
OUT=${OUT:-runs/bench-spark}
JAVA=${JAVA:-java}
JAR=java/target/denoise.jar
JOB=java/spark/target/denoise-spark.jar
mkdir -p "$OUT"
rm -rf "$OUT/in" "$OUT/cli" "$OUT/spark"

if [ ! -f "$OUT/model/model.safetensors" ]; then
  echo "== a conv model for the digits (1 epoch, seed 1)"
  "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$JAR" train --model conv --epochs 1 --seed 1 --out "$OUT/model" >/dev/null
fi
MODEL=$OUT/model/model.safetensors

echo "== $N digits as PNG"
/usr/bin/python3 - "$N" "$OUT/in" <<'PY'
import os, sys, numpy as np, cv2
n, out = int(sys.argv[1]), sys.argv[2]
raw = np.fromfile("data/mnist/t10k-images-idx3-ubyte", dtype=np.uint8)[16:].reshape(-1, 28, 28)
os.makedirs(out, exist_ok=True)
for i in range(n):
    cv2.imwrite(f"{out}/{i // 1000:02d}-{i:05d}.png", raw[i % len(raw)])
PY
IN_BYTES=$(du -sb "$OUT/in" | cut -f1)

( cd java/spark && mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/spark-classpath.txt >/dev/null )

echo "== denoise denoise (one JVM, both cores)"
t0=$(date +%s.%N)
"$JAVA" --enable-native-access=ALL-UNNAMED -jar "$JAR" denoise --device cpu --model-file "$MODEL" --out "$OUT/cli" "$OUT"/in/*.png >/dev/null
t1=$(date +%s.%N)
echo "== the Spark job, local[2]"
SPARK_LOCAL_IP=127.0.0.1 "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx2g \
  -Dspark.master='local[2]' -Dspark.ui.enabled=false \
  -cp "$JOB:$(cat java/spark/target/spark-classpath.txt)" dev.denoise.spark.DenoiseSpark \
  denoise --device cpu --model "$MODEL" --input "$OUT/in" --output "$OUT/spark" 2>"$OUT/spark.log"
t2=$(date +%s.%N)

same=$(diff -rq "$OUT/cli" "$OUT/spark" -x _manifest -x _SUCCESS -x '.*.crc' | wc -l)
OUT_BYTES=$(du -sb --exclude=_manifest "$OUT/spark" | cut -f1)
python3 - "$N" "$t0" "$t1" "$t2" "$IN_BYTES" "$OUT_BYTES" "$same" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" <<'PY'
import sys
n, t0, t1, t2, ib, ob, diff, cores, cpu = sys.argv[1:]
n, cli, spark = int(n), float(sys.argv[3]) - float(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
print(f"{n} digits on {cores} cores ({cpu.strip()}):")
print(f"  denoise denoise  {cli:7.1f} s  {1000 * cli / n:6.2f} ms/image")
print(f"  spark local[2]   {spark:7.1f} s  {1000 * spark / n:6.2f} ms/image  (overhead {spark - cli:+.1f} s, {100 * (spark / cli - 1):+.0f} %)")
print(f"  bytes per image: {int(ib) / n:.0f} in, {int(ob) / n:.0f} out; files that differ: {diff}")
PY
