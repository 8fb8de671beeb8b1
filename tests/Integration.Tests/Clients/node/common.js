// Shared helpers for the kafkajs scripts run by KafkaJsTests.cs. Every script prints exactly
// one JSON object on its last stdout line; kafkajs' own log goes to stderr so a failing test
// shows the client's view of what went wrong.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

function stderrLogCreator() {
  return ({ namespace, level, label, log }) => {
    const { message, ...extra } = log;
    process.stderr.write(`${new Date().toISOString()} ${label} ${namespace}: ${message} ${JSON.stringify(extra)}\n`);
  };
}

function createKafka(bootstrap, clientId) {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.INFO,
    logCreator: stderrLogCreator,
    connectionTimeout: 10000,
    requestTimeout: 20000,
    retry: { retries: 5, initialRetryTime: 200 },
  });
}

function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

// Runs main() and exits non-zero with the error on stderr; kafkajs keeps timers alive, so exit
// explicitly rather than waiting for the event loop to drain.
function run(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`FAILED: ${error && error.stack ? error.stack : error}\n`);
      process.exit(1);
    });
}

module.exports = { createKafka, emit, run };
