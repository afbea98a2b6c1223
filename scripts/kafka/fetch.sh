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

pom_sum="$(sha256sum "$POM" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$pom_sum" ] && ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
  echo "setup:kafka: Kafka jars already in .kafka/libs ($(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename))"
  exit 0
fi

command -v mvn >/dev/null 2>&1 || fail "Maven (mvn) not found on PATH; install Maven 3.8+ (Debian: apt-get install maven)"
command -v java >/dev/null 2>&1 || fail "java not found on PATH; install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"

staging="$ROOT/.kafka/libs.partial"
rm -rf "$staging"
mkdir -p "$staging"
log="$ROOT/.kafka/fetch.log"
echo "setup:kafka: fetching Kafka jars from Maven Central into .kafka/libs ..."
if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging" >"$log" 2>&1; then
  rm -rf "$staging"
  fail "mvn dependency:copy-dependencies failed (is Maven Central reachable?); last lines of $log:
$(grep -E 'ERROR|Could not' "$log" | head -n 10)"
fi
ls "$staging"/kafka_2.13-*.jar >/dev/null 2>&1 || fail "Maven finished but no kafka_2.13 jar arrived; see $log"

echo "$pom_sum" >"$staging/$(basename "$STAMP")"
rm -rf "$LIBS"
mv "$staging" "$LIBS"
echo "setup:kafka: $(ls "$LIBS"/*.jar | wc -l) jars in .kafka/libs ($(ls "$LIBS"/kafka_2.13-*.jar | xargs -n1 basename))"
