#!/usr/bin/env bash
# The measurement behind docs/benchmarks-merge.md (issue 16): a counter workload through merge, o3 with
# its Java operator (MergeOperators.int64Add()) against RocksJava with RocksDB's built-in C++ uint64add
# (RocksJava cannot run a Java operator), side by side in one run of bin/o3 bench on the same keys:
# mergerandom (--num merges of +1 into --merge-keys counters chosen at random), then readmerged (--reads
# gets of random counters, every value checked, then every counter read back and the total checked
# against the merges: a run whose engine loses or garbles a merge fails with exit status 1).
#
#   scripts/merge-bench.sh                       # 1M merges over 10K counters, then 1M reads
#   scripts/merge-bench.sh --num 200000          # flags are passed on to bin/o3 bench, replacing the defaults below
#   scripts/merge-bench.sh --write-buffer-size 4m   # small memtables: flushes and compactions meet the operands
#   scripts/merge-bench.sh --compare rocksdb,o3      # the other order (the first engine runs in a cold JVM)
#
# Both engines get the same settings, spelled out below (they are bin/o3 bench's defaults, the ones the
# other comparisons use): 64 MiB write buffer, 10 bloom bits per key, 64 MiB block cache, no
# compression, WAL on, no sync per write, one thread, a fixed seed. No --pin: like scripts/benchmarks.sh
# (the o3/RocksDB/LevelDB comparison) the engines run one after another in one JVM on the whole machine;
# --pin (this process and every thread it starts, background ones of both engines included, on CPU 0)
# is there for runs that emulate nodes with daemons, and may be passed on here.
#
# Output: $O3_BENCH_OUT (default bench/target/merge-bench-DATE): run.log (the command, the commit and the
# whole console output), results.json, summary.md, charts; the last lines printed are o3's throughput
# and P50/P99 against RocksDB's per benchmark. It does not edit the doc. The machine should be otherwise
# idle: a few minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="${O3_BENCH_OUT:-$ROOT/bench/target/merge-bench-$STAMP}"
# The run's flags; each one the caller gives (as "--flag value" or "--flag=value") replaces the default here
# (bin/o3 bench refuses an option given twice).
DEFAULTS=("--compare o3,rocksdb" "--benchmarks mergerandom,readmerged" "--num 1000000" "--merge-keys 10000" "--write-buffer-size 64m" "--bloom-bits 10" "--cache-size 64m"
  "--compression none" "--sync false" "--disable-wal false" "--threads 1" "--seed 16" "--progress off")
FLAGS=()
for pair in "${DEFAULTS[@]}"; do
  opt="${pair%% *}"; given=0
  for a in "$@"; do case "$a" in "$opt"|"$opt"=*) given=1 ;; esac; done
  if [ "$given" = 0 ]; then FLAGS+=($pair); fi
done
CMD=(bin/o3 bench ${FLAGS[@]+"${FLAGS[@]}"} --out "$OUT" "$@")

mkdir -p "$OUT"
{
  echo "merge-bench.sh: ${CMD[*]}"
  echo "merge-bench.sh: commit $(git rev-parse HEAD 2>/dev/null || echo '?')$(git status --porcelain 2>/dev/null \
    | grep -q . && echo ' (with uncommitted changes)' || true), $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -srm), \
$(nproc 2>/dev/null || echo '?') cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
} | tee "$OUT/run.log" >&2
set +e
"${CMD[@]}" | tee -a "$OUT/run.log"
STATUS=${PIPESTATUS[0]}
set -e

# o3 against RocksDB per benchmark, from the summary table (its first rows: engine, benchmark, ops/s, us/op,
# MB/s, P50, P99)
awk '
  /^Summary/ { on = 1; next }
  /^Memory and GC/ { on = 0 }
  on && ($1 == "o3" || $1 == "rocksdb") && $3 ~ /^[0-9,]+$/ {
    k = $1 SUBSEP $2
    if (!(k in ops)) { v = $3; gsub(",", "", v); ops[k] = v; p50[k] = $6; p99[k] = $7; if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 } }
  }
  END {
    for (i = 0; i < n; i++) {
      b = order[i]; o = "o3" SUBSEP b; r = "rocksdb" SUBSEP b
      if ((o in ops) && (r in ops) && ops[r] > 0) {
        printf "merge-bench.sh: %-12s o3 %d ops/s (P50 %s P99 %s us), rocksdb %d ops/s (P50 %s P99 %s us): o3/rocksdb %.2fx\n", \
          b, ops[o], p50[o], p99[o], ops[r], p50[r], p99[r], ops[o] / ops[r]
      } else {
        printf "merge-bench.sh: %-12s no ratio (a side failed or was n/a; see the run)\n", b
      }
    }
  }' "$OUT/run.log" | tee -a "$OUT/run.log" >&2
echo "merge-bench.sh: load average at the end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" \
  | tee -a "$OUT/run.log" >&2
if [ "$STATUS" != 0 ]; then
  echo "merge-bench.sh: bin/o3 bench exited with status $STATUS (a benchmark failed, e.g. readmerged's verification)" >&2
fi
echo "merge-bench.sh: results in $OUT" >&2
exit "$STATUS"
