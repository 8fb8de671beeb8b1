// Capture driver for tests/Protocol.Tests/Golden/kafkajs (run through CaptureProxy).
// usage: NODE_PATH=<dir with node_modules> node golden_kafkajs.js <proxy bootstrap>
// Creates golden-js-none/-gzip, produces 10 records to each with an idempotent producer
// (InitProducerId), then a consumer group golden-group-kafkajs reads golden-js-none and commits.
'use strict';
const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

async function main() {
  const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [process.argv[2]], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: ['golden-js-none', 'golden-js-gzip'].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })) });
  } catch (e) {
    console.log('create topics:', e.message); // the producer auto-creates them
  }

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (const [codec, compression] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP]]) {
    const messages = [];
    for (let i = 0; i < 10; i++) messages.push({ key: `key-${i}`, value: `golden value ${i} compressed with ${codec} ${'x'.repeat(50)}`, headers: { h: 'v' } });
    console.log(codec, JSON.stringify(await producer.send({ topic: `golden-js-${codec}`, acks: -1, compression, messages })));
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'golden-group-kafkajs', maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['golden-js-none'], fromBeginning: true });
  let read = 0;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 15000);
    consumer.run({ eachMessage: async () => { if (++read >= 10) { clearTimeout(timer); resolve(); } } });
  });
  // An explicit offset, so the OffsetCommit vector does not depend on what was fetched.
  try {
    await consumer.commitOffsets([{ topic: 'golden-js-none', partition: 0, offset: '10' }]);
  } catch (e) {
    console.log('commit:', e.message);
  }
  await consumer.disconnect();
  console.log('group read', read);
  await admin.disconnect();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
