// kafkajs admin: CreateTopics, Metadata, and CreateTopics again for a topic that exists.
// usage: node admin.js <bootstrap> <topic> <partitions>
// Prints {"created": bool, "createdAgain": bool, "listed": bool, "partitions": [ids], "leaders": [ids]}.
'use strict';
const { createKafka, emit, run } = require('./common');

run(async () => {
  const [bootstrap, topic, partitionsArg] = process.argv.slice(2);
  const admin = createKafka(bootstrap, 'kafkajs-admin').admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      timeout: 20000,
      topics: [{ topic, numPartitions: Number(partitionsArg), replicationFactor: 1 }],
    });
    // kafkajs maps TOPIC_ALREADY_EXISTS to a false result rather than an error.
    const createdAgain = await admin.createTopics({
      timeout: 20000,
      topics: [{ topic, numPartitions: Number(partitionsArg), replicationFactor: 1 }],
    });
    const listed = (await admin.listTopics()).includes(topic);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0].partitions;
    emit({
      created,
      createdAgain,
      listed,
      partitions: partitions.map((p) => p.partitionId).sort((a, b) => a - b),
      leaders: partitions.map((p) => p.leader),
    });
  } finally {
    await admin.disconnect();
  }
});
