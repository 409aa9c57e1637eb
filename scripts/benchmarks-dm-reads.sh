#!/usr/bin/env bash
# The measurements behind docs/benchmarks-dm.md, "Reads with the read cache" (issue 13): reads in DM
# mode (16 MiB local + 1 GiB DM, a memory node started by the bench) against the same engine with
# 16 MiB local only, and against compaction offload only (--mode caas), after fills of 1M and 5M
# keys (16 B / 100 B), nodes emulated by CPU placement (--pin: the bench on CPU 0, every daemon it
# starts on CPU 1). Each configuration fills, then reads 20k times: readrandom (latencies split by
# where the get was answered), multireadrandom (multiGets of 16 keys), readseq (one long scan, which
# asks the node for batches ahead), seekrandom, seekrandom with 10 nexts, YCSB B, C and E; then
# multireadrandom again over 200k keys (20k keys are 1,250 multiGets, mostly JIT warm-up).
#
#   scripts/benchmarks-dm-reads.sh > dm-reads.log 2>&1      # about 8 minutes on a 2-core machine
#
# Environment: NUMS (key counts), MODES (dm local caas), KEY_FORMAT (binary, or decimal for
# db_bench's "%016d" keys, which share their first bytes), EXTRA (more bench flags, such as
# "--adaptive-shards false" to keep the default shard boundaries). The o3.shards line after each
# benchmark gives the shard layout and the point entries each shard range took under it.
#
# It prints; it does not edit the doc. The machine must be otherwise idle.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UCX_POSIX_ERROR_HANDLING=y UCX_SYSV_ERROR_HANDLING=y UCX_TCP_CM_REUSEADDR=y
NUMS="${NUMS:-1000000 5000000}"
MODES="${MODES:-dm local caas}"
KEY_FORMAT="${KEY_FORMAT:-binary}"
read -r -a EXTRA <<< "${EXTRA:-}"

run() {
  echo "== bin/o3 bench $* --seed 42 --progress off"
  bin/o3 bench "$@" --seed 42 --progress off 2>&1 | grep -E "^o3 |^  get-|^  o3.dm|^  o3.shards|^  resources|^Memory node|^Compactor" || true
}

for num in $NUMS; do
  for mode in $MODES; do
    extra=(--mode "$mode" --pin --num "$num" --reads 20000 --key-format "$KEY_FORMAT" ${EXTRA[@]+"${EXTRA[@]}"})
    [ "$mode" != dm ] && extra+=(--local-budget 16m)
    run "${extra[@]}" --benchmarks fillrandom,readrandom,multireadrandom,readseq,seekrandom,ycsbb,ycsbc,ycsbe
    run "${extra[@]}" --benchmarks fillrandom,seekrandom --seek-nexts 10
    # multiGets of 16 keys past the JIT's warm-up: 200k keys (12,500 multiGets) after the fill
    run "${extra[@]/20000/200000}" --benchmarks fillrandom,multireadrandom
  done
done
