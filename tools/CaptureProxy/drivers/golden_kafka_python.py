"""Capture driver for tests/Protocol.Tests/Golden/kafka-python (run through CaptureProxy).

usage: /usr/bin/python3 golden_kafka_python.py <proxy bootstrap>
Creates golden-py-<codec> topics, produces 10 records with each codec (acks=all), then a
consumer group golden-group-kafka-python reads golden-py-none and commits.
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from kafka.admin import NewTopic

CLIENT_ID = "golden-kafka-python"
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def main():
    bootstrap = sys.argv[1]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=CLIENT_ID)
    try:
        admin.create_topics([NewTopic("golden-py-" + c, 1, 1) for c in CODECS], timeout_ms=20000)
    except Exception as e:  # the producers auto-create the topics
        print("create topics:", repr(e))
    admin.close()

    for codec in CODECS:
        producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=CLIENT_ID, acks="all", linger_ms=50,
                                 compression_type=None if codec == "none" else codec)
        futures = [producer.send("golden-py-" + codec, key=b"key-%d" % i,
                                 value=("golden value %d compressed with %s %s" % (i, codec, "x" * 50)).encode(),
                                 headers=[("h", b"v")])
                   for i in range(10)]
        producer.flush(30)
        print(codec, [f.get(30).offset for f in futures])
        producer.close()

    consumer = KafkaConsumer("golden-py-none", bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                             group_id="golden-group-kafka-python", auto_offset_reset="earliest",
                             enable_auto_commit=False)
    read, end = 0, time.monotonic() + 15
    while read < 10 and time.monotonic() < end:
        read += sum(len(b) for b in consumer.poll(timeout_ms=500).values())
    # An explicit offset, so the OffsetCommit vector does not depend on what was fetched.
    consumer.commit({TopicPartition("golden-py-none", 0): OffsetAndMetadata(10, None)})
    print("group read", read)
    consumer.close()


if __name__ == "__main__":
    main()
