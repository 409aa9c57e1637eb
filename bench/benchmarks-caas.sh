#!/usr/bin/env bash
# The measurements of the compaction-offload-only baseline (issue 12, docs/benchmarks-o3.md, "The
# caas baseline"): fillrandom NUM keys (default 5M, 16 B keys / 100 B values, WAL on, no sync, 16 MiB
# write buffer) then readrandom, all --pin (this process on CPU 0, memory node and compactors on
# CPU 1), --mode local and --mode caas (1 compactor, 2 slots) interleaved, REPS repeats, on a local
# directory. With HDFS=hdfs://HOST:PORT/DIR set (e.g. from `bin/o3 hdfs up`), the same pair again with
# the DB on HDFS (--storage), with --manual-wal-flush (no hflush per write: see docs/design/storage.md,
# section 2) and HDFS_READS reads (default NUM/10: a read that misses the block cache is an HDFS pread).
# Output: one log per run in OUT (default /tmp/o3-benchmarks-caas), then the result lines.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/o3-benchmarks-caas}"; REPS="${REPS:-2}"; NUM="${NUM:-5000000}"
mkdir -p "$OUT"
common=(--benchmarks fillrandom,readrandom --num "$NUM" --local-budget 16m --seed 42 --progress off --pin)
for rep in $(seq 1 "$REPS"); do
  rm -rf "$OUT/db-local" "$OUT/db-caas"
  bin/o3 bench --mode local --dir "$OUT/db-local/db" "${common[@]}" > "$OUT/local-$rep.log" 2>&1
  rm -rf "$OUT/db-local"
  bin/o3 bench --mode caas --dir "$OUT/db-caas/db" "${common[@]}" > "$OUT/caas-$rep.log" 2>&1
  rm -rf "$OUT/db-caas"
  if [ -n "${HDFS:-}" ]; then
    hdfs=(--manual-wal-flush --reads "${HDFS_READS:-$((NUM / 10))}")
    bin/o3 bench --mode local --storage "$HDFS/local-$rep" "${common[@]}" "${hdfs[@]}" > "$OUT/hdfs-local-$rep.log" 2>&1
    bin/o3 bench --mode caas --storage "$HDFS/caas-$rep" "${common[@]}" "${hdfs[@]}" > "$OUT/hdfs-caas-$rep.log" 2>&1
  fi
done
grep -H "^fillrandom\|^readrandom\|resources\|Compactor bench\|Memory node: CPU\|^Pinning" "$OUT"/*.log
