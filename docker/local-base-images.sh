#!/usr/bin/env bash
# Stand-ins for the two base images of docker/Dockerfile, for a machine that cannot pull from
# mcr.microsoft.com (like the project's build machines). Needs root, debootstrap, a .NET 10 SDK on
# the host, and a Docker engine or podman (images imported into podman's store are what its
# Docker API socket serves: see smoke-test.sh).
#
#   localhost/debian-bookworm-minbase:local  Debian 12 minbase + CA certificates (runtime-deps:
#                                            a self-contained publish needs only libc, libstdc++,
#                                            OpenSSL and the CA bundle)
#   localhost/dotnet-sdk:10.0-local          the same plus the host's SDK directory
#
# Then: docker build -f docker/Dockerfile -t kafka-broker \
#         --build-arg SDK_IMAGE=localhost/dotnet-sdk:10.0-local \
#         --build-arg RUNTIME_IMAGE=localhost/debian-bookworm-minbase:local .
set -euo pipefail

mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
work="$(mktemp -d /tmp/local-base-images.XXXXXX)"
if docker info >/dev/null 2>&1; then cli=docker; elif command -v podman >/dev/null; then cli=podman; else
  echo "no Docker engine and no podman" >&2; exit 2
fi
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase --include=ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb
tar -C "$work/rootfs" -c . | "$cli" import --change 'CMD ["/bin/bash"]' - localhost/debian-bookworm-minbase:local

# The host's CA bundle, not Debian's: NuGet must trust whatever TLS-inspecting proxy the host
# trusts. Invariant globalization because the minbase root has no ICU (the real SDK image has).
cp -a "$dotnet_dir" "$work/rootfs/usr/share/dotnet"
ln -sf /usr/share/dotnet/dotnet "$work/rootfs/usr/bin/dotnet"
cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
tar -C "$work/rootfs" -c . | "$cli" import \
  --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' --change 'ENV DOTNET_NOLOGO=1' \
  --change 'ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1' \
  - localhost/dotnet-sdk:10.0-local
