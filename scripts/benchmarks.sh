#!/usr/bin/env bash
# Regenerates docs/benchmarks.md: o3 vs RocksJava vs LevelDB-Java, from one run of bin/o3 bench.
#
#   scripts/benchmarks.sh                 # --num 1000000 (the published table; a few minutes)
#   scripts/benchmarks.sh --num 200000    # any extra flags are passed to bin/o3 bench
#
# Results, charts and the console log go to $O3_BENCH_OUT (default bench/target/benchmarks-DATE);
# docs/benchmarks.md is rewritten with the table, the exact command and the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NUM=1000000
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --num) NUM="$2"; shift 2 ;;
    --num=*) NUM="${1#--num=}"; shift ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="${O3_BENCH_OUT:-$ROOT/bench/target/benchmarks-$STAMP}"
BENCHMARKS="fillrandom,readrandom,seekrandom,ycsba,ycsbe"
CMD=(bin/o3 bench --compare o3,rocksdb,leveldb --benchmarks "$BENCHMARKS" --num "$NUM" --out "$OUT" ${EXTRA[@]+"${EXTRA[@]}"})
# what the docs show: relative output directory, so the command is reproducible anywhere
SHOWN=(bin/o3 bench --compare o3,rocksdb,leveldb --benchmarks "$BENCHMARKS" --num "$NUM" --out DIR ${EXTRA[@]+"${EXTRA[@]}"})

mkdir -p "$OUT"
echo "benchmarks.sh: ${CMD[*]}" >&2
set +e
"${CMD[@]}" | tee "$OUT/run.log"
STATUS=${PIPESTATUS[0]}
set -e
if [ ! -f "$OUT/summary.md" ]; then
  echo "benchmarks.sh: bin/o3 bench wrote no results (exit status $STATUS); docs/benchmarks.md left unchanged" >&2
  exit 1
fi

CORES="$(nproc 2>/dev/null || echo '?')"
MODEL="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
MEM="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo '?')"
JVM="$(java -version 2>&1 | sed -n '2p')"
OS="$(uname -srm)"
DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
DIRTY="$(git status --porcelain 2>/dev/null | grep -q . && echo ' (with uncommitted changes)' || true)"
ENGINES="$(grep '^Engine:' "$OUT/run.log" | sed 's/^Engine: *//' | sed 's/^/- `/; s/$/`/')"
SETTINGS="$(grep -E '^(Settings|Keys|Values|Entries|Reads|Threads|JVM args|Seed):' "$OUT/run.log")"
SUMMARY="$(sed -n '/^Summary/,/^Comparison/p' "$OUT/run.log" | sed '$d')"
if [ "$STATUS" != 0 ]; then
  NOTE=$'\n'"**Note: bin/o3 bench exited with status $STATUS in this run (a benchmark failed or missed keys); see the notes under the table.**"$'\n'
else
  NOTE=""
fi

{
cat <<DOC
# Benchmarks

o3lsm measured side by side with RocksDB (RocksJava) and LevelDB-Java on the same machine, in one
run, on the same generated data. Regenerate with \`scripts/benchmarks.sh\`; whoever is slower is
shown slower. Ratios are against o3 (the first engine): above 1x the other engine is faster.
"n/a" means the engine does not have the feature yet (the benchmark needs an iterator, say);
the reason is listed under the table.

DM mode (issue 4: 16 MiB local + 1 GiB on a memory node against 16 MiB local only): see
[benchmarks-dm.md](benchmarks-dm.md).

## Results

Generated $DATE from commit $COMMIT$DIRTY.
$NOTE
$(cat "$OUT/summary.md")

Latencies are per operation in microseconds (HdrHistogram); w-amp is the bytes each engine wrote
(WAL + flush + compaction) divided by the key and value bytes it was given, cumulative from open to
the end of that benchmark (background flushes and compactions of earlier writes continue into
later benchmarks, so a per-benchmark figure would misattribute them). "n/a": the engine does not
count them; "-": nothing written yet.

### Command

\`\`\`
${SHOWN[*]}
\`\`\`

### Machine

- CPU: $CORES cores${MODEL:+, $MODEL}
- Memory: $MEM
- OS: $OS
- JVM: $JVM

### Settings (as printed by the run)

\`\`\`
$SETTINGS
\`\`\`

Engines, with what each did with the shared settings:

$ENGINES

### Full summary of the run

\`\`\`
$SUMMARY
\`\`\`
DOC
cat <<'DOC'

## What the runner does

`bin/o3 bench` is a db_bench-style runner (`io.o3lsm.bench.Bench`). With no arguments it runs
fillrandom then readrandom of 1M keys on o3: the quick embedded run a newcomer sees first.

| flag | meaning |
|---|---|
| `--benchmarks a,b,…` | run in order: `fillseq`, `fillrandom`, `overwrite`, `readrandom`, `readseq`, `seekrandom` (`--seek-nexts N`), `readwhilewriting`, `deleterandom`, `ycsba` … `ycsbf` |
| `--engine o3\|rocksdb\|leveldb` | one engine (default o3) |
| `--compare o3,rocksdb,leveldb` | these engines one after another on the same data (same seed: keys, orders, values); ratios against the first |
| `--mode local\|dm` | `dm` (write buffer in disaggregated memory) arrives with the disaggregated-memory issue and is refused until then |
| `--local-budget SIZE`, `--dm-budget SIZE` | memory for the write buffer, local and (dm mode) remote |
| `--num N`, `--reads N`, `--duration SECS` | keys written (default 1000000), read/YCSB operations (default `--num`), or seconds per benchmark instead of counts |
| `--threads N` | threads issuing operations |
| `--key-size`, `--value-size`, `--key-format binary\|decimal` | 16-byte keys, 100-byte values (50% compressible) by default |
| `--write-buffer-size`, `--bloom-bits`, `--cache-size`, `--compression none\|lz4\|snappy`, `--sync`, `--disable-wal` | the settings every engine is given |
| `--out DIR` | writes `results.json`, `summary.md`, `throughput-NAME.png`, `latency-NAME.png`, `summary-throughput.png` |
| `--progress auto\|on\|off` | progress bar on stderr (throughput so far, ETA) for long benchmarks; auto = when stderr is a terminal |
| `--seed S` | rerun with the same keys and values |

Benchmarks, as db_bench and YCSB define them:

- `fillseq` puts keys in order; `fillrandom` puts every key of `[0, num)` once in random order;
  `overwrite` puts random keys with repeats; `deleterandom` deletes random keys.
- `readrandom` gets random keys (after a fill every key must be found: otherwise a WARNING and exit
  status 1); `readseq` steps an iterator from the first key; `seekrandom` seeks to random keys, then
  `--seek-nexts` nexts; `readwhilewriting` runs `--threads` readers while one extra thread overwrites
  as fast as it can (only the readers are measured).
- YCSB core workloads on `num` loaded records (an implicit `load`, i.e. fillrandom, runs first when
  nothing was loaded), `--reads` operations: A 50% read / 50% update, B 95/5, C 100% read (all
  zipfian); D 95% read / 5% insert (latest); E 95% scan / 5% insert (zipfian start, length uniform
  in [1, 100], a new iterator per scan); F 50% read / 50% read-modify-write (zipfian). "zipfian" is
  YCSB's scrambled zipfian with constant 0.99, "latest" its skewed-latest generator
  (`io.o3lsm.bench.Zipfian`, ported from YCSB).

What is measured: wall time from the start signal to the last thread's end, and per operation the
`System.nanoTime()` around the engine call only (key encoding and value copying are outside it).
No warm-up: the first benchmark includes JIT compilation, as db_bench's includes a cold cache.
MB/s counts key and value bytes (found values for reads). `disk` is the DB directory's size after
the benchmark; peak heap is the sum of the heap pools' peaks during it (RocksDB's memory is native
and does not show there; `rss_bytes` in results.json has the process's resident size).

### Equivalent settings

Every engine gets the same write buffer (64 MiB), bloom filter (10 bits/key), block cache (64 MiB),
block size (4 KiB), compression, WAL on and sync per `--sync`. Compression defaults to **none**
because it is the only setting all three share: o3 has LZ4, RocksDB LZ4 and snappy, LevelDB-Java
snappy only (and only with a snappy library on the class path). `--compression lz4` compares o3 and
RocksDB with LZ4; LevelDB-Java then runs uncompressed and says so. What cannot be matched is
printed in each engine's line:

- RocksDB keeps up to 2 memtables of `write_buffer_size` (its default `max_write_buffer_number`),
  runs 3 background jobs (o3: 2 flush + 1 compaction threads) and otherwise its defaults, which
  o3's defaults mirror (64 MiB SSTs, L0 triggers 4/20/36, 256 MiB L1, x10 per level). Its bytes
  written come from a `Statistics` object at RocksDB's default level.
- LevelDB-Java 0.12 has no bloom filters and no block cache (its `cacheSize` option is unused), a
  fixed 2 MiB SST size, one background thread, always a WAL, and no I/O counters (w-amp "n/a"). Its
  write batch keeps the caller's arrays, so the adapter copies keys and values on put; its get and
  iterator return fresh arrays.
- Engines run one after another in one JVM (o3 first, a GC between engines, each in its own
  temporary directory deleted afterwards).

Versions: `org.rocksdb:rocksdbjni:11.8.1` (bundles its native library for Linux x86_64/aarch64,
macOS and Windows; no installation needed), `org.iq80.leveldb:leveldb:0.12`. They are dependencies
of `bench/` only.

## JMH micro-benchmarks

`bin/o3 jmh [regex] [JMH options]` builds and runs the JMH suite in
`bench/src/main/java/io/o3lsm/bench/jmh` (JMH 1.37, annotation processor in `bench/pom.xml`):

| class | measures | parameters |
|---|---|---|
| `MemtableBench` | `insert` and `get` on one off-heap memtable shard | `valueSize`, `entries` |
| `TableSeekBench` | `seek` in one SST to a random key | `cached` (blocks in memory or read from the file), `compression`, `entries` |
| `WalAppendBench` | `append` of one WAL record, with or without `flush()` | `recordSize`, `flushEach` |
| `DbApiBench` | public API `put`, `get` (into a caller's buffer), `getArray` | `valueSize`, `entries` |
| `IteratorBench` | `dbNext` (public `DBIterator`), `shardNext` (memtable shard) | `flushed`, `entries` |

The classes fix 1 fork, 3 x 1 s warm-up and 5 x 1 s measurement; `bin/o3 jmh` shortens that to
`-f 1 -wi 2 -w 1s -i 3 -r 1s` unless you pass those options yourself. Examples:

```
bin/o3 jmh                                   # everything, quick
bin/o3 jmh MemtableBench -p valueSize=100    # one class, one parameter value
bin/o3 jmh DbApiBench.put -t 4               # four threads calling put (group commit)
bin/o3 jmh TableSeekBench -f 3 -wi 5 -i 10   # publishable: more forks and iterations
bin/o3 jmh -l                                # list the benchmarks
bin/o3 jmh DbApiBench -prof gc               # allocation per operation
```

`-prof gc` adds `gc.alloc.rate.norm` (bytes allocated per operation) to each result: the hot paths
(put, get into a buffer, iterator next) should show close to 0 B/op; `getArray` allocates its
result. Other useful profilers: `-prof stack`, `-prof perfnorm` (Linux perf). Forks get
`--add-exports java.base/jdk.internal.misc=ALL-UNNAMED` for Agrona (and the setups call
`AgronaAccess.ensure()`).
DOC
} > docs/benchmarks.md

echo "benchmarks.sh: wrote docs/benchmarks.md (results in $OUT)" >&2
exit "$STATUS"
