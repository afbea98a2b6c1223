#!/usr/bin/env bash
# Starts a single-node Apache Kafka (KRaft, combined broker+controller) from the jars that
# `npm run setup:kafka` put in .kafka/libs. One place knows the broker's configuration: this
# script. The TypeScript test harness (test/support/kafka-broker.ts) runs it with --foreground.
#
#   scripts/kafka/start.sh [--port N] [--controller-port N] [--data-dir DIR] [--foreground]
#                          [--secure-port N --secure-dir DIR [--mtls-port N]]
#
# Defaults suit a developer: 127.0.0.1:9092, data in .kafka/dev (kept between runs). In the
# background (the default) the pid goes to DIR/broker.pid and the log to DIR/broker.log (the
# previous start's log moves to DIR/broker.log.1); stop it
# with scripts/kafka/stop.sh [--data-dir DIR]. The data dir is formatted once; a later start
# reuses it, so topics and messages survive a restart. --secure-port adds a SASL_SSL listener
# (TLS + SASL PLAIN or SCRAM-SHA-256/512) beside the plaintext one, as managed Kafka services offer:
# DIR/broker.pem holds the broker's unencrypted PKCS#8 key and certificate chain, DIR/plain-users one
# "user:password" a line (SCRAM credentials are added when the data dir is formatted; no "," "]"
# or "=" in those passwords). --mtls-port adds an SSL listener that requires a client certificate
# signed by the CA in DIR/ca.pem (mutual TLS, no SASL).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBS="${KAFKA_LIBS_DIR:-$ROOT/.kafka/libs}"

port=9092
controller_port=""
data_dir="$ROOT/.kafka/dev"
foreground=0
secure_port=""
secure_dir=""
mtls_port=""

fail() { echo "kafka start: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --controller-port) controller_port="${2:?--controller-port needs a number}"; shift 2 ;;
    --data-dir) data_dir="${2:?--data-dir needs a path}"; shift 2 ;;
    --foreground) foreground=1; shift ;;
    --secure-port) secure_port="${2:?--secure-port needs a number}"; shift 2 ;;
    --secure-dir) secure_dir="${2:?--secure-dir needs a path}"; shift 2 ;;
    --mtls-port) mtls_port="${2:?--mtls-port needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
[ -n "$controller_port" ] || controller_port=$((port + 1))
if [ -n "$secure_port" ] || [ -n "$secure_dir" ]; then
  { [ -n "$secure_port" ] && [ -n "$secure_dir" ]; } || fail "--secure-port and --secure-dir go together"
  [ -d "$secure_dir" ] || fail "--secure-dir $secure_dir is not a directory"
  secure_dir="$(cd "$secure_dir" && pwd)"
  [ -f "$secure_dir/broker.pem" ] || fail "$secure_dir/broker.pem (key and certificate chain, PEM) is missing"
  [ -f "$secure_dir/plain-users" ] || fail "$secure_dir/plain-users (user:password lines) is missing"
fi
if [ -n "$mtls_port" ]; then
  [ -n "$secure_dir" ] || fail "--mtls-port needs --secure-port and --secure-dir"
  [ -f "$secure_dir/ca.pem" ] || fail "$secure_dir/ca.pem (the CA that signs client certificates) is missing"
fi

ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 \
  || fail "no Kafka jars in $LIBS: run 'npm run setup:kafka' first"
command -v java >/dev/null 2>&1 || fail "java not found on PATH: Kafka needs Java 17 or newer"

mkdir -p "$data_dir"
data_dir="$(cd "$data_dir" && pwd)"
props="$data_dir/server.properties"
pid_file="$data_dir/broker.pid"
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  fail "a broker already runs from $data_dir (pid $(cat "$pid_file")); stop it with scripts/kafka/stop.sh --data-dir $data_dir"
fi

# Written on every start so a restart on the same ports and data dir sees the same settings.
# Replication factors of 1 and a single partition for internal topics: one node, and a
# consumer group should be usable within a second of the broker answering.
cat > "$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data_dir/logs
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a crash (SIGKILL) the controller refuses the restarted broker until the dead one's
# session expires; 9 s by default, which every kill-and-restart test would wait out.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF

scram_users=()
if [ -n "$secure_port" ]; then
  jaas="org.apache.kafka.common.security.plain.PlainLoginModule required"
  while IFS=: read -r user password || [ -n "$user" ]; do
    if [ -n "$user" ]; then
      jaas="$jaas user_$user=\"$password\""
      # The same users for SCRAM, stored in the cluster metadata when the data dir is formatted.
      scram_users+=(--add-scram "SCRAM-SHA-256=[name=$user,password=$password]" --add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
    fi
  done <"$secure_dir/plain-users"
  # The secure listener is for clients only; the controller and inter-broker traffic stay plaintext.
  sed -i \
    -e "s|^listeners=.*|&,SASL_SSL://127.0.0.1:$secure_port|" \
    -e "s|^advertised.listeners=.*|&,SASL_SSL://127.0.0.1:$secure_port|" \
    -e "s|^listener.security.protocol.map=.*|&,SASL_SSL:SASL_SSL|" \
    "$props"
  cat >>"$props" <<EOF
ssl.keystore.type=PEM
ssl.keystore.location=$secure_dir/broker.pem
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=$jaas;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
fi
if [ -n "$mtls_port" ]; then
  sed -i \
    -e "s|^listeners=.*|&,SSL://127.0.0.1:$mtls_port|" \
    -e "s|^advertised.listeners=.*|&,SSL://127.0.0.1:$mtls_port|" \
    -e "s|^listener.security.protocol.map=.*|&,SSL:SSL|" \
    "$props"
  cat >>"$props" <<EOF
listener.name.ssl.ssl.client.auth=required
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$secure_dir/ca.pem
EOF
fi

# Tuned for starting fast on a busy 2-core machine, not for throughput: the C1 compiler only
# (C2 would spend seconds of CPU compiling during start), a small serial-GC heap, and the
# class-data archive that setup:kafka builds (skips parsing ~5000 classes on every start).
java_opts=(
  -Xms128m -Xmx512m
  -XX:+UseSerialGC
  -XX:TieredStopAtLevel=1
  -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$ROOT/scripts/kafka/log4j.properties"
)
class_archive="$LIBS/kafka-classes.jsa"
if [ -f "$class_archive" ] && [ -z "${KAFKA_BUILDING_CLASS_ARCHIVE:-}" ]; then
  # An archive that no longer matches the jars is ignored by the JVM; no need to warn about it.
  java_opts+=("-XX:SharedArchiveFile=$class_archive" -Xlog:cds=off -Xlog:cds+dynamic=off)
fi
# Extra JVM flags; later flags win, e.g. KAFKA_JVM_OPTS="-Xmx2g -XX:TieredStopAtLevel=4" for a
# bench that measures throughput rather than start time.
# shellcheck disable=SC2206
[ -z "${KAFKA_JVM_OPTS:-}" ] || java_opts+=(${KAFKA_JVM_OPTS})
classpath="$LIBS/*"

# A data dir is formatted exactly once: formatting again would fail (or, forced, lose data).
if [ ! -f "$data_dir/logs/meta.properties" ]; then
  # A Kafka cluster id is 16 random bytes in URL-safe base64; one starting with '-' would be
  # read as an option by the storage tool, so draw again (as Kafka's own generator does).
  cluster_id="-"
  while [ "${cluster_id#-}" != "$cluster_id" ]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format \
    --cluster-id "$cluster_id" --config "$props" --ignore-formatted "${scram_users[@]}" >"$data_dir/format.log" 2>&1 \
    || fail "formatting $data_dir failed: $(tail -n 5 "$data_dir/format.log")"
fi

if [ "$foreground" = 1 ]; then
  exec java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$props"
fi

# The previous run's log is kept as broker.log.1: after a crash it is the only account of why.
if [ -s "$data_dir/broker.log" ]; then mv -f "$data_dir/broker.log" "$data_dir/broker.log.1"; fi
nohup java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$props" >"$data_dir/broker.log" 2>&1 &
echo $! >"$pid_file"

# Wait until the broker listens, or report why it died.
for _ in $(seq 1 120); do
  if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    rm -f "$pid_file"
    fail "the broker exited during start; last lines of $data_dir/broker.log:
$(tail -n 20 "$data_dir/broker.log")"
  fi
  if grep -q 'Kafka Server started' "$data_dir/broker.log" 2>/dev/null; then
    echo "Kafka broker ready on 127.0.0.1:$port (pid $(cat "$pid_file"), data $data_dir, log $data_dir/broker.log)"
    exit 0
  fi
  sleep 0.5
done
fail "the broker did not report 'Kafka Server started' within 60 s; see $data_dir/broker.log"
