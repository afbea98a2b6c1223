#!/usr/bin/env bash
# kafka-topics.sh from the jars `npm run setup:kafka` put in .kafka/libs (no Kafka distribution
# needed), e.g. to run docker/create-topics.sh against a local broker:
#   KAFKA_TOPICS_CMD=scripts/kafka/kafka-topics.sh KAFKA_BOOTSTRAP=127.0.0.1:9092 bash docker/create-topics.sh
# Arguments are kafka-topics.sh's own (--bootstrap-server, --create, --list, --describe, ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBS="$ROOT/.kafka/libs"
if ! ls "$LIBS"/kafka-tools-*.jar >/dev/null 2>&1; then
  echo "kafka-topics: no kafka-tools jar in $LIBS; run \`npm run setup:kafka\`" >&2
  exit 1
fi
# Warnings and errors only, on stderr: stdout stays the command's own output (e.g. --list).
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  "-Dlog4j.configuration=file:$ROOT/scripts/kafka/tools-log4j.properties" \
  -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand "$@"
