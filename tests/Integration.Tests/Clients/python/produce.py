"""Produce N records with kafka-python, acks=all, with the given codec.

usage: produce.py <bootstrap> <topic> <codec:none|gzip|snappy|lz4|zstd> <count> [partitions]
Creates the topic first with KafkaAdminClient (default 1 partition; record i goes to
partition i % partitions), so the test does not rely on auto-creation.
Prints {"offsets": [...], "partitions": [...]} for the acknowledged records.
"""
import sys

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from common import emit, setup_logging


def main():
    bootstrap, topic, codec, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    partitions = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    setup_logging()

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-admin",
                             request_timeout_ms=20000)
    response = admin.create_topics([NewTopic(name=topic, num_partitions=partitions, replication_factor=1)],
                                   timeout_ms=20000)
    # kafka-python hands back the raw response without raising on per-topic errors.
    for entry in response.topic_errors:
        if entry[1] != 0:
            raise RuntimeError("CreateTopics failed for %s: error code %d %s" % (entry[0], entry[1], entry[2:]))
    admin.close()

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="kafka-python-producer",
        acks="all",
        compression_type=None if codec == "none" else codec,
        linger_ms=5,
        request_timeout_ms=20000,
        max_block_ms=20000,
    )
    futures = [
        producer.send(topic, key=("key-%d" % i).encode(), value=("value-%d" % i).encode(), partition=i % partitions)
        for i in range(count)
    ]
    producer.flush(timeout=30)
    metadata = [f.get(timeout=30) for f in futures]
    producer.close(timeout=10)
    emit({
        "offsets": [m.offset for m in metadata],
        "partitions": [m.partition for m in metadata],
    })


if __name__ == "__main__":
    main()
