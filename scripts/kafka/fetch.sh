#!/usr/bin/env bash
# `npm run setup:kafka`: puts the jars of Apache Kafka (see scripts/kafka/pom.xml for the
# version) into .kafka/libs, fetched from Maven Central by `mvn dependency:copy-dependencies`.
# Quick and silent when the jars for the current pom are already there; a partial or failed
# download never replaces a working set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$ROOT/scripts/kafka/pom.xml"
LIBS="$ROOT/.kafka/libs"
STAMP="$LIBS/.fetched-from-pom.sha256"

fail() { echo "setup:kafka: $*" >&2; exit 1; }

ARCHIVE="$LIBS/kafka-classes.jsa"

# A class-data archive of the classes a broker loads while starting, so later starts skip
# parsing them. Worth ~1-2 s per start on a busy 2-core machine; a failure here only warns.
build_class_archive() {
  echo "setup:kafka: building the class-data archive (starts and stops a broker once) ..."
  local scratch ports
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/temi-kafka-cds-XXXXXX")"
  ports="$(node -e '
    const net = require("node:net");
    const take = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
    Promise.all([take(), take()]).then((p) => console.log(p.join(" ")));')"
  rm -f "$ARCHIVE" "$ARCHIVE.partial"
  if KAFKA_BUILDING_CLASS_ARCHIVE=1 KAFKA_JVM_OPTS="-XX:ArchiveClassesAtExit=$ARCHIVE.partial -Xlog:cds=off -Xlog:cds+dynamic=off" \
       bash "$ROOT/scripts/kafka/start.sh" --port "${ports% *}" --controller-port "${ports#* }" --data-dir "$scratch" >/dev/null \
     && bash "$ROOT/scripts/kafka/stop.sh" --data-dir "$scratch" --grace 60 >/dev/null \
     && [ -s "$ARCHIVE.partial" ]; then
    mv "$ARCHIVE.partial" "$ARCHIVE"
    echo "setup:kafka: class-data archive ready ($(du -h "$ARCHIVE" | cut -f1))"
  else
    bash "$ROOT/scripts/kafka/stop.sh" --data-dir "$scratch" --grace 5 >/dev/null 2>&1 || true
    rm -f "$ARCHIVE.partial"
    echo "setup:kafka: warning: could not build the class-data archive; brokers start without it (see $scratch/broker.log)" >&2
    return 0
  fi
  rm -rf "$scratch"
}

pom_sum="$(sha256sum "$POM" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$pom_sum" ] && ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
  echo "setup:kafka: Kafka jars already in .kafka/libs ($(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename))"
  [ -f "$ARCHIVE" ] || build_class_archive
  exit 0
fi

command -v mvn >/dev/null 2>&1 || fail "Maven (mvn) not found on PATH; install Maven 3.8+ (Debian: apt-get install maven)"
command -v java >/dev/null 2>&1 || fail "java not found on PATH; install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"

staging="$ROOT/.kafka/libs.partial"
rm -rf "$staging"
mkdir -p "$staging"
log="$ROOT/.kafka/fetch.log"
echo "setup:kafka: fetching Kafka jars from Maven Central into .kafka/libs ..."
if ! mvn -B -q -U -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging" >"$log" 2>&1; then
  rm -rf "$staging"
  fail "mvn dependency:copy-dependencies failed (is Maven Central reachable?); from $log:
$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -m 1 -E 'ERROR\] [^ ]')"
fi
ls "$staging"/kafka_2.13-*.jar >/dev/null 2>&1 || fail "Maven finished but no kafka_2.13 jar arrived; see $log"

echo "$pom_sum" >"$staging/$(basename "$STAMP")"
rm -rf "$LIBS"
mv "$staging" "$LIBS"
echo "setup:kafka: $(ls "$LIBS"/*.jar | wc -l) jars in .kafka/libs ($(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename))"
# The archive records the jars' paths and timestamps, so it is built only once they are in place.
build_class_archive
