"""Shared helpers for the kafka-python scripts run by KafkaPythonTests.cs.

Every script prints exactly one JSON object on its last stdout line; the C# test parses it.
Logging goes to stderr so a failing test shows the client's own view of what went wrong.
"""
import json
import logging
import sys
import time


def setup_logging():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def emit(result):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def deadline(seconds):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() < end
