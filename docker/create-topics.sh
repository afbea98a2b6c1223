#!/usr/bin/env bash
# Creates the topics the pipelines use, once, with the settings that matter (idempotent:
# --if-not-exists). Runs in the apache/kafka image, against the compose broker.
#   images, embeddings: 4 partitions, so up to 4 workers share the work in one consumer group;
#   models: compacted (the newest model version per key is kept for as long as the topic lives),
#           large messages allowed (a serialized TEMI model is a few MB).
#   image-labels: compacted, keyed by image id: revised labels follow first ones under the same
#           key, and compaction keeps each image's latest label.
set -euo pipefail
BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
PARTITIONS="${TEMI_PARTITIONS:-4}"
# KAFKA_TOPICS_CMD: another kafka-topics.sh (outside docker: scripts/kafka/kafka-topics.sh runs it
# from the jars `npm run setup:kafka` fetched). TEMI_TOPIC_PREFIX: put in front of every name
# (the test creates its own set beside other tests' topics).
topics="${KAFKA_TOPICS_CMD:-/opt/kafka/bin/kafka-topics.sh}"
prefix="${TEMI_TOPIC_PREFIX:-}"

create() {
  local name="$1"
  shift
  "$topics" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$prefix$name" "$@"
}

create images --partitions "$PARTITIONS" --replication-factor 1
create embeddings --partitions "$PARTITIONS" --replication-factor 1
create models --partitions 1 --replication-factor 1 \
  --config cleanup.policy=compact --config max.message.bytes=67108864 \
  --config min.cleanable.dirty.ratio=0.1 --config segment.ms=600000
create image-labels --partitions "$PARTITIONS" --replication-factor 1 --config cleanup.policy=compact
create images-dead-letters --partitions 1 --replication-factor 1
create embeddings-dead-letters --partitions 1 --replication-factor 1
"$topics" --bootstrap-server "$BOOTSTRAP" --list
