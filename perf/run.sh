#!/usr/bin/env bash
# End-to-end performance run: builds Release, starts the broker from its Release build on a
# free loopback port with a temporary log dir, runs the standard scenarios with
# perf/LoadTool's `compare` (each against librdkafka's in-process mock cluster and then
# against our broker) and writes the tables into docs/performance-loadtool.md between the
# results markers. A full run takes about 6-8 minutes on 2 cores.
#
# Environment (all optional):
#   RECORDS_100B=1000000  RECORDS_1KB=500000   records per throughput scenario
#   E2E_RATE_MB=50  E2E_DURATION_SEC=15         end-to-end latency scenario
#   MOCK_ONLY=1                                 do not build/start the broker (reference numbers only)
#   SCENARIOS="s1 s3"                           run only these scenario ids (see below)
#   DOC=docs/performance-loadtool.md            where the tables go
#   KEEP_LOGS=1                                 keep the broker's log dir
#   CONSUMER_ASSIGN=1                           consumers assign partitions instead of joining a group
#   BROKER_OVERRIDES="num.partitions=8 ..."     extra --override key=value for the broker
#   WARMUP=1                                    produce 300k records of 100 B and of 1 KB, then 5 s end-to-end, before the scenarios (0: skip)
#   PRETOUCH_GB=0                               write and delete a file of this many GB in the work dir first, so the
#                                               VM's guest memory has been touched once before the broker writes into
#                                               the page cache (first touch costs several times more here; see
#                                               docs/performance.md, "first-touch memory"); 20 on a fresh 24 GiB VM
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RECORDS_100B=${RECORDS_100B:-1000000}
RECORDS_1KB=${RECORDS_1KB:-500000}
E2E_RATE_MB=${E2E_RATE_MB:-50}
E2E_DURATION_SEC=${E2E_DURATION_SEC:-15}
MOCK_ONLY=${MOCK_ONLY:-0}
SCENARIOS=${SCENARIOS:-}
DOC=${DOC:-$ROOT/docs/performance-loadtool.md}
SCENARIO_TIMEOUT_SEC=${SCENARIO_TIMEOUT_SEC:-300}
CONSUMER_ASSIGN=${CONSUMER_ASSIGN:-0}
CONSUME_ARGS=(--consume)
if [[ "$CONSUMER_ASSIGN" == 1 ]]; then CONSUME_ARGS+=(--assign); fi

WORK=$(mktemp -d /tmp/loadtool-run.XXXXXX)
LOADTOOL=(dotnet "$ROOT/perf/LoadTool/bin/Release/net10.0/Broker.LoadTool.dll")
BROKER_PID=""

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

cleanup() {
  if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_LOGS:-0}" != 1 ]]; then rm -rf "$WORK/broker-data"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for_port() { # host port timeout_sec
  local deadline=$((SECONDS + $3))
  while (( SECONDS < deadline )); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    kill -0 "$BROKER_PID" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

PRETOUCH_GB=${PRETOUCH_GB:-0}
if (( PRETOUCH_GB > 0 )); then
  log "pre-touching guest memory: writing and deleting ${PRETOUCH_GB} GB"
  dd if=/dev/zero of="$WORK/pretouch" bs=4M count=$((PRETOUCH_GB * 256)) status=none
  rm -f "$WORK/pretouch"
fi

log "building perf/LoadTool (Release)"
dotnet build -c Release perf/LoadTool/LoadTool.csproj -nologo -v q >"$WORK/build-loadtool.log" 2>&1 \
  || { cat "$WORK/build-loadtool.log"; exit 1; }

BOOTSTRAP=""
if [[ "$MOCK_ONLY" != 1 ]]; then
  log "building src/Broker (Release)"
  if dotnet build -c Release src/Broker/Broker.csproj -nologo -v q >"$WORK/build-broker.log" 2>&1; then
    PORT=$(free_port)
    mkdir -p "$WORK/broker-data"
    BROKER_CMD=(dotnet "$ROOT/src/Broker/bin/Release/net10.0/Broker.dll"
      --override "log.dirs=$WORK/broker-data"
      --override "listeners=PLAINTEXT://127.0.0.1:$PORT")
    for kv in ${BROKER_OVERRIDES:-}; do BROKER_CMD+=(--override "$kv"); done
    log "starting broker: ${BROKER_CMD[*]}"
    "${BROKER_CMD[@]}" >"$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    if wait_for_port 127.0.0.1 "$PORT" 60; then
      BOOTSTRAP="127.0.0.1:$PORT"
      log "broker pid $BROKER_PID listening on $BOOTSTRAP"
    else
      log "broker did not open port $PORT; tail of its log:"; tail -20 "$WORK/broker.log" >&2 || true
      log "continuing with the mock only"
      BROKER_PID=""
    fi
  else
    log "broker build failed (see $WORK/build-broker.log); continuing with the mock only"
  fi
fi

TARGET_ARGS=()
if [[ -n "$BOOTSTRAP" ]]; then TARGET_ARGS=(--bootstrap-server "$BOOTSTRAP" --broker-pid "$BROKER_PID"); fi

# Warm the broker up first, so that the first scenario's CPU s/GB does not include the JIT
# compiling and tiering up the produce path (the mock is native code and needs none).
if [[ -n "$BOOTSTRAP" && "${WARMUP:-1}" == 1 ]]; then
  log "warming up the broker (WARMUP=0 to skip)"
  for size in 100 1024; do
    "${LOADTOOL[@]}" producer-perf --topic "warm-up-$size" --num-records 300000 --record-size "$size" --throughput -1 \
      --create-topic-partitions 1 --producer-props "bootstrap.servers=$BOOTSTRAP" acks=1 >"$WORK/warm-up-$size.log" 2>&1 \
      || log "warm-up with $size B records failed (see $WORK/warm-up-$size.log)"
  done
  # The produce-only warm-up leaves the fetch long-poll path cold: the e2e scenarios' first
  # seconds then measured the JIT (p99 of 60-160 ms, all of it in records 0-100k; 12 ms at most after).
  "${LOADTOOL[@]}" end-to-end --topic warm-up-e2e --create-topic-partitions 1 --bootstrap-server "$BOOTSTRAP" \
      --rate-mb "$E2E_RATE_MB" --duration-sec 5 --producer-props acks=1 linger.ms=0 >"$WORK/warm-up-e2e.log" 2>&1 \
    || log "end-to-end warm-up failed (see $WORK/warm-up-e2e.log)"
fi

THROUGHPUT_ROWS="$WORK/throughput.md"
E2E_ROWS="$WORK/e2e.md"
: >"$THROUGHPUT_ROWS"; : >"$E2E_ROWS"

selected() { [[ -z "$SCENARIOS" || " $SCENARIOS " == *" $1 "* ]]; }

# id size records acks compression partitions
throughput() {
  local id=$1 size=$2 records=$3 acks=$4 compression=$5 partitions=$6
  selected "$id" || return 0
  local label="$id: $( ((size >= 1024)) && echo "$((size / 1024)) KB" || echo "$size B"), acks=$acks, $compression, $partitions p, $records rec"
  log "scenario $label"
  local rc=0
  timeout "$SCENARIO_TIMEOUT_SEC" "${LOADTOOL[@]}" compare "${TARGET_ARGS[@]}" "${CONSUME_ARGS[@]}" \
      --num-records "$records" --record-size "$size" --throughput -1 --partitions "$partitions" \
      --producer-props "acks=$acks" "compression.type=$compression" \
      --label "$label" --markdown-file "$THROUGHPUT_ROWS" >"$WORK/$id.log" 2>&1 || rc=$?
  if (( rc != 0 )); then
    log "scenario $id failed (exit $rc), see $WORK/$id.log"
    echo "| $label | failed: see log |" >>"$THROUGHPUT_ROWS"
  fi
  grep -E '^(mock|broker) |^ratio' "$WORK/$id.log" >&2 || true
  broker_alive
}

broker_alive() {
  if [[ -n "$BROKER_PID" ]] && ! kill -0 "$BROKER_PID" 2>/dev/null; then
    log "broker (pid $BROKER_PID) has exited; tail of its log:"; tail -20 "$WORK/broker.log" >&2 || true
    BROKER_DIED=1; BROKER_PID=""; TARGET_ARGS=()
  fi
}
BROKER_DIED=0

# id label-suffix extra-args...
e2e() {
  local id=$1 suffix=$2; shift 2
  selected "$id" || return 0
  local label="$id: 1 KB at $E2E_RATE_MB MB/s, acks=1, 1 p, ${E2E_DURATION_SEC}s$suffix"
  log "scenario $label"
  local rc=0
  timeout "$SCENARIO_TIMEOUT_SEC" "${LOADTOOL[@]}" compare --mode e2e "$@" \
      --record-size 1024 --rate-mb "$E2E_RATE_MB" --duration-sec "$E2E_DURATION_SEC" --partitions 1 \
      --producer-props acks=1 --label "$label" --markdown-file "$E2E_ROWS" >"$WORK/$id.log" 2>&1 || rc=$?
  if (( rc != 0 )); then
    log "scenario $id failed (exit $rc), see $WORK/$id.log"
    echo "| $label | failed: see log |" >>"$E2E_ROWS"
  fi
  grep -E '^(mock|broker) |^ratio' "$WORK/$id.log" >&2 || true
  broker_alive
}

START=$SECONDS
throughput s1 100  "$RECORDS_100B" 1   none 1
throughput s2 100  "$RECORDS_100B" all lz4  8
throughput s3 1024 "$RECORDS_1KB"  1   none 1
throughput s4 1024 "$RECORDS_1KB"  all none 1
throughput s5 1024 "$RECORDS_1KB"  1   lz4  1
throughput s6 1024 "$RECORDS_1KB"  1   none 8
throughput s7 1024 "$RECORDS_1KB"  all lz4  8
# The mock answers a fetch with no data only after fetch.wait.max.ms (it has no purgatory to
# wake the fetch), so the like-for-like run polls with a 5 ms wait for both; e2 then measures
# our broker alone with the client defaults, which depends on the fetch long-poll waking up.
e2e e1 ", fetch.wait.max.ms=5" "${TARGET_ARGS[@]}" --consumer-props fetch.wait.max.ms=5
# e1's median is librdkafka's linger.ms=5 for any broker; e3 sends each record at once, which
# is the only way under the issue-6 target of p99 < 5 ms and shows the per-request cost.
e2e e3 ", linger.ms=0, fetch.wait.max.ms=5" "${TARGET_ARGS[@]}" --producer-props linger.ms=0 --consumer-props fetch.wait.max.ms=5
if (( ${#TARGET_ARGS[@]} > 0 )); then
  e2e e2 ", consumer defaults, broker only" "${TARGET_ARGS[@]}" --skip-mock
fi
ELAPSED=$((SECONDS - START))

# ---- write the results section of the doc ----
RESULTS="$WORK/results.md"
{
  echo "<!-- results:begin (generated by perf/run.sh; edits here are overwritten) -->"
  echo "### Results of $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "- Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/{print $2}') GiB memory, kernel $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /')"
  echo "- Command: \`RECORDS_100B=$RECORDS_100B RECORDS_1KB=$RECORDS_1KB E2E_RATE_MB=$E2E_RATE_MB E2E_DURATION_SEC=$E2E_DURATION_SEC MOCK_ONLY=$MOCK_ONLY CONSUMER_ASSIGN=$CONSUMER_ASSIGN WARMUP=${WARMUP:-1}${SCENARIOS:+ SCENARIOS=\"$SCENARIOS\"}${BROKER_OVERRIDES:+ BROKER_OVERRIDES=\"$BROKER_OVERRIDES\"} perf/run.sh\` (scenarios took ${ELAPSED}s)"
  if [[ "$BROKER_DIED" == 1 ]]; then echo "- **The broker exited during the run**; later scenarios ran against the mock only."; fi
  if [[ -n "$BOOTSTRAP" ]]; then
    echo "- Broker: \`dotnet src/Broker/bin/Release/net10.0/Broker.dll --override log.dirs=<tmp> --override listeners=PLAINTEXT://127.0.0.1:<port>$(for kv in ${BROKER_OVERRIDES:-}; do printf ' --override %s' "$kv"; done)\`"
  else
    echo "- **Mock only: our broker was not available for this run** (MOCK_ONLY=$MOCK_ONLY; the \"ours\" columns are empty)."
  fi
  echo "- Reference: librdkafka $(grep -h -m1 -o 'librdkafka [0-9.]*' "$WORK"/*.log 2>/dev/null | head -1 | cut -d' ' -f2) mock cluster, in the load tool's process."
  echo
  echo "#### Throughput (producer unthrottled, then consume everything from the page cache)"
  echo
  "${LOADTOOL[@]}" markdown-header throughput
  cat "$THROUGHPUT_ROWS"
  echo
  echo "#### End-to-end latency (produce at a fixed rate, consume concurrently; latency = Produce call to Consume return)"
  echo
  "${LOADTOOL[@]}" markdown-header e2e
  cat "$E2E_ROWS"
  echo
  echo "Raw output of each scenario was in \`$WORK\` on the machine that ran it."
  echo "<!-- results:end -->"
} >"$RESULTS"

if [[ -f "$DOC" ]] && grep -q '<!-- results:begin' "$DOC" && grep -q '<!-- results:end -->' "$DOC"; then
  python3 - "$DOC" "$RESULTS" <<'EOF'
import re, sys
doc, results = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(doc).read()
text = re.sub(r"<!-- results:begin.*?<!-- results:end -->", lambda _: results, text, flags=re.S)
open(doc, "w").write(text)
EOF
else
  { echo; cat "$RESULTS"; } >>"$DOC"
fi
log "wrote results to $DOC (raw logs in $WORK)"
cat "$RESULTS"
