#!/usr/bin/env bash
# Profiles the Release broker while perf/LoadTool's producer-perf writes to it: starts the broker
# on a free loopback port with a temporary log dir and the JIT's perf map enabled, warms it up
# (so the JIT has tiered up), then runs producer-perf under `perf record` (cpu-clock, call graphs)
# and prints the broker's CPU seconds per GB produced, its context switches, and the top symbols.
# Used for docs/performance.md ("The produce path, profiled").
#
# Environment (all optional):
#   RECORDS=1500000 SIZE=1024 THROUGHPUT=-1    producer-perf arguments (records/s, -1 = unthrottled)
#   PRODUCER_PROPS="acks=1"                    extra producer properties, e.g. "acks=1 linger.ms=0"
#   BROKER_OVERRIDES="k=v ..."                 broker --override values
#   PERF_DATA=/tmp/broker-produce.perf.data   where perf record writes (NO_PERF=1: skip perf, count only)
#   TOP=40                                     symbols to print
# Needs perf(1); on a VM without a PMU the cpu-clock software event still works.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=${RECORDS:-1500000}; SIZE=${SIZE:-1024}; THROUGHPUT=${THROUGHPUT:--1}
PRODUCER_PROPS=${PRODUCER_PROPS:-acks=1}; PERF_DATA=${PERF_DATA:-/tmp/broker-produce.perf.data}; TOP=${TOP:-40}
dotnet build -c Release "$ROOT/perf/LoadTool/LoadTool.csproj" -nologo -v q >/dev/null
dotnet build -c Release "$ROOT/src/Broker/Broker.csproj" -nologo -v q >/dev/null
WORK=$(mktemp -d /tmp/profile-produce.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
OVERRIDES=(--override "log.dirs=$WORK/data" --override "listeners=PLAINTEXT://127.0.0.1:$PORT")
for kv in ${BROKER_OVERRIDES:-}; do OVERRIDES+=(--override "$kv"); done
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  dotnet "$ROOT/src/Broker/bin/Release/net10.0/Broker.dll" "${OVERRIDES[@]}" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
trap 'kill -TERM $BROKER_PID 2>/dev/null || true; wait $BROKER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.2; done
LOADTOOL=(dotnet "$ROOT/perf/LoadTool/bin/Release/net10.0/Broker.LoadTool.dll")
# shellcheck disable=SC2086
"${LOADTOOL[@]}" producer-perf --topic warm-up --num-records 300000 --record-size "$SIZE" --throughput "$THROUGHPUT" \
  --create-topic-partitions 1 --producer-props "bootstrap.servers=127.0.0.1:$PORT" $PRODUCER_PROPS >/dev/null
"${LOADTOOL[@]}" producer-perf --topic profiled --num-records 1 --record-size "$SIZE" --throughput -1 \
  --create-topic-partitions 1 --producer-props "bootstrap.servers=127.0.0.1:$PORT" >/dev/null
cpu_ticks() { awk '{print $14 + $15}' "/proc/$BROKER_PID/stat"; }
switches() { cat /proc/"$BROKER_PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
T0=$(cpu_ticks); S0=$(switches)
PERF_PID=""
if [[ "${NO_PERF:-0}" != 1 ]]; then
  perf record -e cpu-clock -F 999 -g -p "$BROKER_PID" -o "$PERF_DATA" >/dev/null 2>&1 &
  PERF_PID=$!
fi
# shellcheck disable=SC2086
"${LOADTOOL[@]}" producer-perf --topic profiled --num-records "$RECORDS" --record-size "$SIZE" --throughput "$THROUGHPUT" \
  --producer-props "bootstrap.servers=127.0.0.1:$PORT" $PRODUCER_PROPS | tail -1
if [[ -n "$PERF_PID" ]]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
T1=$(cpu_ticks); S1=$(switches)
TICKS=$(getconf CLK_TCK)
python3 -c "import sys; t=($T1-$T0)/$TICKS; gb=$RECORDS*$SIZE/1e9; print(f'broker: {t:.2f} CPU s, {t/gb:.2f} CPU s/GB produced, {$S1-$S0} context switches')"
if [[ -n "$PERF_PID" ]]; then
  echo "top symbols (self time, % of the broker's samples); full report: perf report -i $PERF_DATA"
  perf report -i "$PERF_DATA" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep '%' | head -"$TOP" | cut -c1-160
fi
