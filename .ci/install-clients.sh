#!/usr/bin/env bash
# Installs the non-.NET Kafka clients the integration tests drive (tests/Integration.Tests/Clients):
#   kcat         (apt; librdkafka 2.0.2 inside the kcat package)
#   kafka-python (apt python3-kafka 2.0.2, used through /usr/bin/python3), plus the codec modules
#                it imports lazily (python3-lz4, python3-snappy, python3-zstandard) so its producer
#                can write every codec
#   kafkajs      (npm 2.2.4, pinned by the committed package-lock.json)
# Runs as root on a clean Debian 12 with the .NET 10 SDK. Idempotent: re-running only checks.
#
# Deliberately NOT installed: librdkafka-dev. With Debian's librdkafka 2.0.2 present, .NET binds
# it instead of the librdkafka bundled with Confluent.Kafka and consuming fails with
# EntryPointNotFoundException (see MACHINE-NOTES.md).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$repo_root/tests/Integration.Tests/Clients/node"

apt_packages=(kcat python3-kafka python3-lz4 python3-snappy python3-zstandard)
missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# node and npm are needed for kafkajs; install them only when the image lacks them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
  echo "install-clients: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# kafkajs: npm ci reproduces the lock file exactly; skip when it is already installed at that version.
if [[ "$(node -p "try{require('$node_dir/node_modules/kafkajs/package.json').version}catch(e){''}" 2>/dev/null)" != "2.2.4" ]]; then
  echo "install-clients: npm ci in $node_dir"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Fail loudly here rather than in the tests if something is not usable.
kcat -V | head -n 1
/usr/bin/python3 -c 'import kafka, lz4.frame, snappy, zstandard; print("kafka-python", kafka.__version__)'
node -p "'kafkajs ' + require('$node_dir/node_modules/kafkajs/package.json').version"
if dpkg-query -W -f='${Status}' librdkafka-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "install-clients: WARNING librdkafka-dev is installed; Confluent.Kafka tests will bind the wrong librdkafka" >&2
fi
