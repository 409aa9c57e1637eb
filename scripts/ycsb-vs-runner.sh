#!/usr/bin/env bash
# YCSB's own client (bin/o3 ycsb, the official site.ycsb:core 0.17.0 client with o3lsm's binding)
# beside the runner's ported workloads (bin/o3 bench --benchmarks ycsba,ycsbc,ycsbe), in local mode
# and in o3 mode on a cluster of bin/o3 cluster up: the figures of docs/benchmarks-o3.md, "The
# official YCSB client". Both single-threaded, the client pinned to CPU 0 (taskset; the runner's
# --pin), the cluster's daemons on CPU 1. YCSB's records are its defaults (10 fields of 100 B,
# ~1,145 B encoded); the runner writes values of VALUE_SIZE (default 1100) bytes under 16 B keys.
#
#   scripts/ycsb-vs-runner.sh > ycsb-vs-runner.log 2>&1     # a few minutes; the machine must be idle
#
# Environment: N records (default 300000), OPS operations per workload (default 100000; E: OPS/10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${N:-300000}"; OPS="${OPS:-100000}"; VALUE_SIZE="${VALUE_SIZE:-1100}"
CLUSTER="${CLUSTER:-/tmp/o3-ycsb-cluster}"
WORK="$(mktemp -d /tmp/o3-ycsb-XXXXXX)"
trap 'bin/o3 cluster down --dir "$CLUSTER" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
bin/o3 build >&2

ycsb() { # MODE PHASE WORKLOAD OPS EXTRA...
  local mode="$1" phase="$2" w="$3" ops="$4"; shift 4
  echo "== bin/o3 ycsb $phase -P $w -p o3.mode=$mode -p recordcount=$N -p operationcount=$ops $*"
  local out
  out=$(taskset -c 0 bin/o3 ycsb "$phase" -P "$w" -p o3.mode="$mode" -p recordcount="$N" -p operationcount="$ops" "$@" 2>&1) \
    || fail "$out"
  # YCSB exits 0 even when the binding refused to open: no [OVERALL] line, or an operation not OK
  grep -q '^\[OVERALL\], Throughput' <<< "$out" && ! grep -qE '^\[[A-Z-]+\], Return=(ERROR|NOT_FOUND)' <<< "$out" \
    || fail "$out"
  grep -E '^\[(OVERALL|READ|UPDATE|INSERT|SCAN)\], (Throughput|AverageLatency|99thPercentileLatency|Return=OK)|^o3: (opened|closing)' \
    <<< "$out"
}

fail() {
  printf '%s\n' "$1" | tail -30 >&2
  echo "failed: see above" >&2
  exit 1
}

for mode in local o3; do
  extra=(-p o3.dir="$WORK/$mode")
  bench=(--pin)
  if [ "$mode" = o3 ]; then
    bin/o3 cluster down --dir "$CLUSTER" >/dev/null 2>&1 || true
    rm -rf "$CLUSTER"
    bin/o3 cluster up --dir "$CLUSTER" >/dev/null
    extra=(-p o3.cluster="$CLUSTER" -p o3.dir=ycsb-db)
    bench=(--pin --mode o3 --cluster "$CLUSTER")
  fi
  ycsb "$mode" load workloada "$N" "${extra[@]}"
  ycsb "$mode" run workloada "$OPS" "${extra[@]}"
  ycsb "$mode" run workloadc "$OPS" "${extra[@]}"
  ycsb "$mode" run workloade "$((OPS / 10))" "${extra[@]}"
  echo "== bin/o3 bench ${bench[*]} --num $N --reads $OPS --value-size $VALUE_SIZE --benchmarks fillrandom,ycsba,ycsbc,ycsbe"
  out=$(bin/o3 bench "${bench[@]}" --num "$N" --reads "$OPS" --value-size "$VALUE_SIZE" --seed 42 --progress off \
    --benchmarks fillrandom,ycsba,ycsbc,ycsbe 2>&1) || fail "$out"
  grep -E '^(fillrandom|ycsb[ace]) +:' <<< "$out"
  if [ "$mode" = o3 ]; then bin/o3 cluster down --dir "$CLUSTER" >/dev/null; fi
done
