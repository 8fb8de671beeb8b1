"""Read records back with kafka-python using manual assignment and seek (no group).

usage: consume_assign.py <bootstrap> <topic> <seek offset> <expected count>
Assigns partition 0, seeks to the given offset and polls until <expected count> records
arrived or 30 s passed. Also reports beginning/end offsets (ListOffsets).
Prints {"offsets": [...], "keys": [...], "values": [...], "beginning": n, "end": n}.
"""
import sys

from kafka import KafkaConsumer, TopicPartition

from common import deadline, emit, setup_logging


def main():
    bootstrap, topic, seek_offset, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    setup_logging()

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="kafka-python-consumer",
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=20000,
        fetch_max_wait_ms=200,
    )
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    beginning = consumer.beginning_offsets([tp])[tp]
    end = consumer.end_offsets([tp])[tp]
    consumer.seek(tp, seek_offset)

    records = []
    more_time = deadline(30)
    while len(records) < expected and more_time():
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    consumer.close()
    emit({
        "offsets": [r.offset for r in records],
        "keys": [r.key.decode() if r.key is not None else None for r in records],
        "values": [r.value.decode() for r in records],
        "beginning": beginning,
        "end": end,
    })


if __name__ == "__main__":
    main()
