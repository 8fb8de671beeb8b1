#!/usr/bin/env bash
# Builds the image, runs it with a named data volume and 9092 published on a free loopback port,
# produces and consumes with kcat from the host, stops it (SIGTERM: clean shutdown, exit 0),
# starts it again and reads the same records back. Not part of .ci/run: it needs an engine and
# takes minutes.
#
#   docker/smoke-test.sh                      # pulls mcr.microsoft.com/dotnet/{sdk,runtime-deps}:10.0
#   SDK_IMAGE=localhost/dotnet-sdk:10.0-local RUNTIME_IMAGE=localhost/debian-bookworm-minbase:local \
#     docker/smoke-test.sh                    # offline, after docker/local-base-images.sh
#
# Without a Docker engine but with podman, the docker CLI is pointed at podman's API socket.
# SKIP_BUILD=1 reuses an existing $IMAGE (default kafka-broker).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="${IMAGE:-kafka-broker}"
name="kafka-broker-smoke-$$"
volume="$name-data"
work="$(mktemp -d /tmp/kafka-broker-smoke.XXXXXX)"
service_pid=""

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm -f "$volume" >/dev/null 2>&1 || true
  if [[ -n "$service_pid" ]]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "smoke test FAILED: $*" >&2; docker logs "$name" 2>&1 | tail -n 30 >&2 || true; exit 1; }

if ! docker info >/dev/null 2>&1; then
  command -v podman >/dev/null || { echo "no Docker engine and no podman" >&2; exit 2; }
  podman system service --time=0 "unix://$work/podman.sock" >"$work/podman.log" 2>&1 &
  service_pid=$!
  export DOCKER_HOST="unix://$work/podman.sock"
  for _ in $(seq 50); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { cat "$work/podman.log" >&2; exit 2; }
fi

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  build_args=()
  [[ -n "${SDK_IMAGE:-}" ]] && build_args+=(--build-arg "SDK_IMAGE=$SDK_IMAGE")
  [[ -n "${RUNTIME_IMAGE:-}" ]] && build_args+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")
  docker build -f "$repo/docker/Dockerfile" -t "$image" "${build_args[@]}" "$repo"
fi

port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
bootstrap="127.0.0.1:$port"
start() {
  docker start "$name" >/dev/null
  # Poll with a deadline: the published port may accept before the broker listens.
  local deadline=$((SECONDS + 60))
  until kcat -b "$bootstrap" -L -m 2 >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "broker did not answer metadata on $bootstrap within 60 s"
    sleep 0.5
  done
}

docker create --name "$name" -p "127.0.0.1:$port:9092" \
  -e "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://$bootstrap" \
  -v "$volume:/var/lib/kafka/data" "$image" >/dev/null
start

seq 1 100 | sed 's/^/smoke-/' >"$work/sent"
kcat -b "$bootstrap" -t smoke -P -z gzip -X acks=all <"$work/sent" || fail "produce"
kcat -b "$bootstrap" -t smoke -C -e -q -m 10 >"$work/received" || fail "consume"
cmp -s "$work/sent" "$work/received" || fail "consumed $(wc -l <"$work/received") records, not the 100 produced"
echo "produced and consumed 100 records through $bootstrap"

# An explicit timeout: podman's Docker API treats a missing one as 0 (SIGKILL at once).
docker stop -t 30 "$name" >/dev/null
code="$(docker inspect -f '{{.State.ExitCode}}' "$name")"
[[ "$code" == 0 ]] || fail "exit code $code after SIGTERM"
start
docker logs "$name" >"$work/broker.log" 2>&1
grep -q '(clean shutdown)' "$work/broker.log" || fail "the restart did not find a clean shutdown"
kcat -b "$bootstrap" -t smoke -C -e -q -m 10 >"$work/received" || fail "consume after restart"
cmp -s "$work/sent" "$work/received" || fail "after restart read $(wc -l <"$work/received") records, not 100"
echo "stopped cleanly (exit 0), restarted on the same volume, read the 100 records back: smoke test passed"
