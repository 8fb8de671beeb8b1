// kafkajs producer (acks=-1, gzip) and a consumer group reading everything back.
// usage: node produce-consume-group.js <bootstrap> <topic> <group> <count> <partitions>
// Creates the topic, produces <count> messages, consumes them in group <group> from the
// beginning, stops the consumer (which commits), then fetches the group's committed offsets.
// Prints {"produced": [{partition, baseOffset}], "values": [...], "committed": [{partition, offset}]}.
'use strict';
const { CompressionTypes, Partitioners } = require('kafkajs');
const { createKafka, emit, run } = require('./common');

run(async () => {
  const [bootstrap, topic, groupId, countArg, partitionsArg] = process.argv.slice(2);
  const count = Number(countArg);
  const kafka = createKafka(bootstrap, 'kafkajs-client');

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    timeout: 20000,
    topics: [{ topic, numPartitions: Number(partitionsArg), replicationFactor: 1 }],
  });

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ key: `key-${i}`, value: `value-${i}` });
  const produced = await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values = [];
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value.toString());
      if (values.length >= count) resolveDone();
    },
  });
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(resolve, 45000); });
  await Promise.race([done, timedOut]);
  clearTimeout(timer);
  // Stopping commits the offsets of the messages processed so far (autoCommit default).
  await consumer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  emit({
    produced: produced.map((r) => ({ partition: r.partition, baseOffset: Number(r.baseOffset) })),
    values,
    committed: offsets[0].partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })),
  });
});
