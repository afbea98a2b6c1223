#!/usr/bin/env bash
# Stops a broker started by scripts/kafka/start.sh (in the background): SIGTERM for a clean
# shutdown that flushes logs, SIGKILL if it is still there after the grace period.
#
#   scripts/kafka/stop.sh [--data-dir DIR] [--grace SECONDS]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data_dir="$ROOT/.kafka/dev"
grace=15

while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="${2:?--data-dir needs a path}"; shift 2 ;;
    --grace) grace="${2:?--grace needs seconds}"; shift 2 ;;
    -h|--help) sed -n '2,5p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "kafka stop: unknown argument '$1' (see --help)" >&2; exit 1 ;;
  esac
done

pid_file="$data_dir/broker.pid"
if [ ! -f "$pid_file" ]; then
  echo "kafka stop: no broker.pid in $data_dir: nothing to stop"
  exit 0
fi
pid="$(cat "$pid_file")"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "kafka stop: broker pid $pid is not running; removing the stale pid file"
  rm -f "$pid_file"
  exit 0
fi

kill -TERM "$pid"
for _ in $(seq 1 $((grace * 10))); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pid_file"
    echo "Kafka broker stopped (pid $pid)"
    exit 0
  fi
  sleep 0.1
done
echo "kafka stop: pid $pid ignored SIGTERM for ${grace}s; sending SIGKILL" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pid_file"
