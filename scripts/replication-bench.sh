#!/usr/bin/env bash
# The measurements behind docs/benchmarks-replication.md (issue 15): fillrandom and YCSB A on a primary
# with one backup, three ways — no replication; index shipping (the primary ships its tables, the backup
# never flushes or compacts: Talos); and the baseline Talos compares against (only the log travels, the
# backup replays it and flushes and compacts for itself) — each with writes acknowledged locally
# (async) and after one backup holds them (k = 1). Nodes emulated by CPU placement (--pin: the bench
# and the primary on CPU 0, the backup on CPU 1).
#
#   scripts/replication-bench.sh > replication.log 2>&1
#
# Environment: NUM (keys, default 2000000), READS (YCSB A operations, default 500000), EXTRA (more
# bench flags). It prints; it does not edit the doc. The machine must be otherwise idle.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NUM="${NUM:-2000000}"
READS="${READS:-500000}"
read -r -a EXTRA <<< "${EXTRA:-}"

run() {
  echo "== bin/o3 bench $* --seed 42 --progress off"
  bin/o3 bench "$@" --seed 42 --progress off 2>&1 \
    | grep -E "^o3 |^  resources|^  replication|^Replicas:|^Backup " || true
}

base=(--pin --num "$NUM" --reads "$READS" --benchmarks fillrandom,ycsba ${EXTRA[@]+"${EXTRA[@]}"})
run "${base[@]}"
for how in ship rebuild; do
  for acks in 0 1; do
    run "${base[@]}" --replicas 1 --replication "$how" --replication-acks "$acks"
  done
done
