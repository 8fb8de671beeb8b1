"""kafka-python 2.0.2: several members of one classic group split a topic's partitions, then one
leaves (close() sends LeaveGroup) and the others take its partitions over.

usage: group_split.py <bootstrap> <topic> <group> <members> <partitions> <strategy: range|roundrobin>
Prints one JSON object on its last stdout line:
  {"before": [[partitions of member 0], ...], "after": [[...of the members still running]]}
or {"error": "..."} when a phase does not settle within its deadline. Logs go to stderr.
"""
import json
import logging
import sys
import threading
import time

from kafka import KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor


class Member(threading.Thread):
    """One consumer polling on its own thread: kafka-python's poll() blocks in JoinGroup until
    the rebalance completes, so members sharing a thread would wait for each other."""

    def __init__(self, consumer):
        super().__init__(daemon=True)
        self.consumer = consumer
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.owned = []

    def run(self):
        while not self.stop.is_set():
            self.consumer.poll(timeout_ms=100)
            with self.lock:
                self.owned = sorted(tp.partition for tp in self.consumer.assignment())
        self.consumer.close()  # LeaveGroup

    def assignment(self):
        with self.lock:
            return list(self.owned)


def exact_split(members, partitions):
    split = [m.assignment() for m in members]
    if any(not owned for owned in split):
        return None
    if sorted(p for owned in split for p in owned) != list(range(partitions)):
        return None
    return split


def settle(members, partitions, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        split = exact_split(members, partitions)
        if split is not None:
            return split
        time.sleep(0.1)  # polling the members' state with a deadline
    return None


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bootstrap, topic, group, members, partitions, strategy = sys.argv[1:7]
    members, partitions = int(members), int(partitions)
    assignor = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}[strategy]
    members_ = []
    for i in range(members):
        c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id="member-%d" % i,
                          enable_auto_commit=False, auto_offset_reset="earliest",
                          session_timeout_ms=10000, heartbeat_interval_ms=500, max_poll_interval_ms=60000,
                          partition_assignment_strategy=[assignor])
        c.subscribe([topic])
        members_.append(Member(c))
    for m in members_:
        m.start()
    try:
        before = settle(members_, partitions, 60)
        if before is None:
            print(json.dumps({"error": "no exact split with all members", "assignments": [m.assignment() for m in members_]}))
            return
        members_[0].stop.set()
        members_[0].join(30)
        rest = members_[1:]
        after = settle(rest, partitions, 60)
        if after is None:
            print(json.dumps({"error": "no exact split after a member left", "assignments": [m.assignment() for m in rest]}))
            return
        print(json.dumps({"before": before, "after": after}))
    finally:
        for m in members_:
            m.stop.set()
        for m in members_:
            m.join(30)


if __name__ == "__main__":
    main()
