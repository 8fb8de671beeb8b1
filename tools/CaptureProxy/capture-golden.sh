#!/usr/bin/env bash
# Captures golden request vectors from one client library against our broker.
#
#   tools/CaptureProxy/capture-golden.sh <confluent|kafka-python|kafkajs|kcat> <output dir> [driver args...]
#
# Starts a fresh broker (empty temp log dir, so offsets are deterministic) whose
# advertised.listeners point at a CaptureProxy in front of it, so every connection the client
# opens after bootstrap also goes through the proxy; runs that client's driver from drivers/;
# stops both. Files land in <output dir> as <seq>-<apiKey>-v<version>-<client id>.bin (+
# .response.bin). Copy the request files to tests/Protocol.Tests/Golden/<client>/.
# Needs the clients from .ci/install-clients.sh.
set -euo pipefail

client="$1"
out="$2"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
drivers="$repo/tools/CaptureProxy/drivers"
work="$(mktemp -d /tmp/capture-golden.XXXXXX)"
broker_bin="${BROKER_BIN:-$work/broker-bin}"
proxy_bin="$work/proxy-bin"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port, seconds
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "port $1 did not open in $2 s" >&2; return 1; }
    sleep 0.2
  done
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if [[ ! -f "$broker_bin/Broker.dll" ]]; then
  dotnet build "$repo/src/Broker/Broker.csproj" -c Release -o "$broker_bin" -v quiet -nologo
fi
dotnet build "$repo/tools/CaptureProxy/CaptureProxy.csproj" -c Release -o "$proxy_bin" -v quiet -nologo

broker_port="$(free_port)"
proxy_port="$(free_port)"
mkdir -p "$out" "$work/data"

dotnet "$broker_bin/Broker.dll" \
  --override "log.dirs=$work/data" \
  --override "listeners=PLAINTEXT://127.0.0.1:$broker_port" \
  --override "advertised.listeners=PLAINTEXT://127.0.0.1:$proxy_port" \
  >"$work/broker.log" 2>&1 &
pids+=($!)
wait_port "$broker_port" 60 || { tail -n 50 "$work/broker.log" >&2; exit 1; }

dotnet "$proxy_bin/CaptureProxy.dll" --listen "127.0.0.1:$proxy_port" --target "127.0.0.1:$broker_port" \
  --out "$out" --max-per-api 8 >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_port "$proxy_port" 30

bootstrap="127.0.0.1:$proxy_port"
case "$client" in
  confluent) dotnet run --project "$drivers/confluent/GoldenConfluent.csproj" -c Release -- "$bootstrap" "${@:3}" ;;
  kafka-python) timeout 180 /usr/bin/python3 -B "$drivers/golden_kafka_python.py" "$bootstrap" "${@:3}" ;;
  kafkajs) NODE_PATH="$repo/tests/Integration.Tests/Clients/node/node_modules" KAFKAJS_NO_PARTITIONER_WARNING=1 \
             timeout 180 node "$drivers/golden_kafkajs.js" "$bootstrap" "${@:3}" ;;
  kcat) "$drivers/golden_kcat.sh" "$bootstrap" "${@:3}" ;;
  *) echo "unknown client $client" >&2; exit 2 ;;
esac

echo "captured $(ls "$out" | grep -vc response) request frames into $out (broker log: $work/broker.log, proxy log: $work/proxy.log)"
