#!/usr/bin/env bash
# The measurements behind docs/benchmarks-dm.md (DM mode against local only), in one session:
#   - fillrandom 5M and 1M keys, 16 MiB local + 1 GiB DM vs 16 MiB local only, back to back (2 runs each)
#   - gets, seeks and YCSB E after a 1M fill, in both modes; gets with 100k keys (all local)
#   - ucx_perftest -t ucp_put_bw at 1, 4 and 32 MiB against DmBench's shard offload at the same sizes
#     (and DmBench's bare delegated GET against a local ShardReader.get), two runs each
#
#   scripts/benchmarks-dm.sh > dm-bench.log 2>&1      # about 10 minutes on a 2-core machine
#
# It prints; it does not edit the doc (the analysis there is written by hand). The machine must be
# otherwise idle: the memory node, the DB and UCX's progress threads share its cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UCX_POSIX_ERROR_HANDLING=y UCX_SYSV_ERROR_HANDLING=y UCX_TCP_CM_REUSEADDR=y

run() {
  echo "== bin/o3 bench $* --seed 42 --progress off"
  bin/o3 bench "$@" --seed 42 --progress off 2>&1 | grep -E "^o3 |get-|o3.dm" || true
}

for rep in 1 2; do
  run --mode dm --num 5000000 --benchmarks fillrandom
  run --mode local --local-budget 16m --num 5000000 --benchmarks fillrandom
done
for rep in 1 2; do
  run --mode dm --num 1000000 --benchmarks fillrandom
  run --mode local --local-budget 16m --num 1000000 --benchmarks fillrandom
done
run --mode dm --num 1000000 --reads 20000 --benchmarks fillrandom,readrandom,seekrandom,ycsbe
run --mode local --local-budget 16m --num 1000000 --reads 20000 --benchmarks fillrandom,readrandom,seekrandom,ycsbe
run --mode dm --num 100000 --benchmarks fillrandom,readrandom

echo "== ucx_perftest -t ucp_put_bw (columns: iterations, latency typical/avg/overall us, bandwidth avg/overall MiB/s, msg rate)"
for size in 1048576 4194304 33554432; do
  iters=$(( 17179869184 / size )); [ "$iters" -gt 4000 ] && iters=4000
  for rep in 1 2; do
    port=$(( 30000 + RANDOM % 10000 ))
    ucx_perftest -p "$port" > /dev/null 2>&1 &
    server=$!
    sleep 1
    ucx_perftest -p "$port" 127.0.0.1 -t ucp_put_bw -s "$size" -n "$iters" 2>&1 | grep Final | sed "s/^/size=$size /" || true
    kill "$server" 2> /dev/null || true
    wait "$server" 2> /dev/null || true
  done
done

echo "== DmBench (shard offload: ALLOC + RMA put + flush + COMMIT with the node's CRC32C; delegated GET)"
bin/o3 build > /dev/null
mvn -B -q -o -pl dm dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$ROOT/dm/target/bench.cp" > /dev/null
cp="dm/target/classes:dm/target/test-classes:$(cat dm/target/bench.cp)"
jvm=(java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp "$cp")
secret="$(mktemp)"
chmod 600 "$secret"
printf 'dm-benchmark-secret-0123456789' > "$secret"
for inflight in 4 4 16; do   # 4 = the engine's default offloadInflightLimit
  port=$(( 20000 + RANDOM % 10000 ))
  "${jvm[@]}" io.o3lsm.dm.MemNode --listen "127.0.0.1:$port" --capacity 1g --secret-file "$secret" --threads 1 \
      --stats-interval 0 > /dev/null 2>&1 &
  node=$!
  sleep 2
  "${jvm[@]}" -Dinflight="$inflight" io.o3lsm.dm.DmBench "127.0.0.1:$port" "$secret" 3 2>&1 | grep -E "OFFLOAD|GET" || true
  kill "$node" 2> /dev/null || true
  wait "$node" 2> /dev/null || true
done
rm -f "$secret"
