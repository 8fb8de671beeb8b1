"""Consume with kafka-python in a consumer group (classic protocol: FindCoordinator, JoinGroup,
SyncGroup, Heartbeat, OffsetFetch, OffsetCommit, LeaveGroup).

usage: consume_group.py <bootstrap> <topic> <group id> <expected count>
Subscribes, polls until <expected count> records or 45 s, commits synchronously, then reads
the committed offsets back. Prints {"values": [...], "committed": {partition: offset},
"assignment": [partitions]}.
"""
import sys

from kafka import KafkaConsumer, TopicPartition

from common import deadline, emit, setup_logging


def main():
    bootstrap, topic, group, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    setup_logging()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        client_id="kafka-python-group",
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=40000,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=200,
    )
    values = []
    more_time = deadline(45)
    while len(values) < expected and more_time():
        for batch in consumer.poll(timeout_ms=500).values():
            values.extend(r.value.decode() for r in batch)
    consumer.commit()
    assignment = sorted(tp.partition for tp in consumer.assignment())
    committed = {str(p): consumer.committed(TopicPartition(topic, p)) for p in assignment}
    consumer.close()
    emit({"values": values, "committed": committed, "assignment": assignment})


if __name__ == "__main__":
    main()
