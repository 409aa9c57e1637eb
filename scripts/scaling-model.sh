#!/usr/bin/env bash
# The scaling model (docs/scaling.md): predicted throughput for N compute nodes sharing M memory
# nodes, K flush workers, C compactors and a storage tier, calibrated from the results.json of
# bin/o3 bench --compare-modes runs (io.o3lsm.bench.ScalingModel; --help for every flag).
#
#   scripts/scaling-model.sh [LABEL=]RESULTS.json... [flags]
#   scripts/scaling-model.sh DIR/results.json --out docs/scaling/model.md --charts docs/scaling
#   scripts/scaling-model.sh DIR/results.json --net-gbps 25 --transport shm --workers 4 --n 1..128
#   scripts/scaling-model.sh wal-off=A/results.json wal-on=B/results.json   # not pooled: fillrandom@wal-off, ...
#
# Results of the same mode and benchmark in several files are pooled unless the files carry different
# labels (LABEL=FILE; the benchmarks are then named BENCHMARK@LABEL). Exit status: 0; 2 for bad input
# or flags (e.g. --workers 0 when a mode offloads flushes); 1 when the report was written but the
# charts could not be (or a file could not be written).
#
# Builds the project first when the bench jar is missing or a main source or pom of bench/, core/,
# dm/, flush/ or compaction/ is newer than it (bin/o3 build). Prints the report (markdown) to stdout
# unless --out FILE is given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bench_jar() {
  ls "$ROOT"/bench/target/o3lsm-bench-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true
}

jar="$(bench_jar)"
if [ -z "$jar" ] || [ ! -d "$ROOT/bench/target/lib" ] || [ -n "$(find "$ROOT/pom.xml" "$ROOT/core" "$ROOT/dm" \
    "$ROOT/flush" "$ROOT/compaction" "$ROOT/bench" \( -path '*/target' -o -path '*/src/test' \) -prune -o \
    \( -type f \( -name '*.java' -o -name 'pom.xml' \) -newer "$jar" -print \) 2>/dev/null | head -1)" ]; then
  echo "scaling-model: building (bin/o3 build)" >&2
  "$ROOT/bin/o3" build
  jar="$(bench_jar)"
fi

exec java -cp "$jar:$ROOT/bench/target/lib/*" io.o3lsm.bench.ScalingModel "$@"
