#!/usr/bin/env bash
# Capture driver for tests/Protocol.Tests/Golden/kcat (librdkafka 2.0.2 from Debian), run through
# CaptureProxy. usage: golden_kcat.sh <proxy bootstrap>
# Produces 10 records to golden-kcat-<codec> per codec (topics auto-created, acks=all), then a
# balanced consumer group golden-group-kcat reads golden-kcat-none to the end and commits on exit.
set -euo pipefail
bootstrap="$1"
common=(-b "$bootstrap" -X client.id=golden-kcat -m 20)
for codec in none gzip snappy lz4 zstd; do
  for i in $(seq 0 9); do echo "key-$i:golden value $i compressed with $codec $(printf 'x%.0s' $(seq 50))"; done |
    timeout 60 kcat "${common[@]}" -P -t "golden-kcat-$codec" -K : -X acks=all -X linger.ms=50 -X compression.codec="$codec"
done
timeout 60 kcat "${common[@]}" -G golden-group-kcat -X auto.offset.reset=earliest -e -q -f '%o %s\n' golden-kcat-none
