#!/usr/bin/env bash
# The measurements of docs/benchmarks-o3.md (flush offloading, issue 11), in one session:
#   1. fillrandom 5M keys, 16 B keys / 100 B values, WAL on, no sync, 16 MiB local budget, all --pin:
#      --mode local, --mode dm (16 MiB local + 1 GiB DM), --mode dm-flush (+ 2 flush workers,
#      placement LOAD, flushOffloadMinBytes 16 MiB), interleaved, REPS repeats.
#   2. job-size crossover: the same fill (CROSS_NUM keys) with flush jobs of ~1, 4, 16 and 64 MiB
#      (the local + DM budget sets when a range is due: (local + dm) / (2 * 4 ranges)), each flushed
#      locally (--mode dm) and offloaded (--mode dm-flush, placement ALWAYS, min bytes 0).
# Output: one log per run in OUT (default /tmp/o3-benchmarks-o3), then grep the result lines.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/o3-benchmarks-o3}"; REPS="${REPS:-2}"; NUM="${NUM:-5000000}"; CROSS_NUM="${CROSS_NUM:-2000000}"
mkdir -p "$OUT"
common=(--benchmarks fillrandom --seed 42 --progress off --pin)
if [ "${SKIP_MAIN:-0}" != 1 ]; then
  for rep in $(seq 1 "$REPS"); do
    bin/o3 bench --mode local --local-budget 16m --num "$NUM" "${common[@]}" > "$OUT/local-$rep.log" 2>&1
    bin/o3 bench --mode dm --num "$NUM" "${common[@]}" > "$OUT/dm-$rep.log" 2>&1
    bin/o3 bench --mode dm-flush --num "$NUM" "${common[@]}" > "$OUT/dmflush-$rep.log" 2>&1
  done
fi
if [ "${SKIP_CROSS:-0}" != 1 ]; then
  for job in 1 4 16 64; do
    case $job in
      1) b=(--local-budget 4m --dm-budget 4m --shard-arena-size 256k) ;;
      4) b=(--local-budget 16m --dm-budget 16m) ;;
      16) b=(--local-budget 16m --dm-budget 112m) ;;
      64) b=(--local-budget 16m --dm-budget 496m) ;;
    esac
    bin/o3 bench --mode dm "${b[@]}" --num "$CROSS_NUM" "${common[@]}" > "$OUT/cross-$job-local.log" 2>&1
    bin/o3 bench --mode dm-flush --flush-placement always --flush-min-bytes 0 "${b[@]}" --num "$CROSS_NUM" "${common[@]}" \
      > "$OUT/cross-$job-offload.log" 2>&1
  done
fi
grep -H "^fillrandom\|resources\|Flush worker\|Memory node: CPU\|^Pinning" "$OUT"/*.log
