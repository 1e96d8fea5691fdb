#!/usr/bin/env bash
# Runs a command with a private redis-server: free loopback port, temporary directory, no persistence.
# Exports REDIS_URL (and REDIS_PORT); stops the server it started, by PID, whatever the command does.
# Never touches a Redis on 6379. Usage: scripts/with-redis.sh COMMAND [ARG ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tokencentral-redis.XXXXXX")
port=$("$here/free-port.sh")
redis-server --port "$port" --bind 127.0.0.1 --dir "$workdir" --save "" --appendonly no \
    --daemonize no --logfile "$workdir/redis.log" &
redis_pid=$!
# Processes the tests start (private servers, workers) are listed here by PID and stopped below,
# even when the test process itself crashed.
export TOKENCENTRAL_CHILD_PIDS="$workdir/children"
mkdir -p "$TOKENCENTRAL_CHILD_PIDS"
cleanup() {
    for pidfile in "$TOKENCENTRAL_CHILD_PIDS"/*; do
        [ -e "$pidfile" ] && kill "$(basename "$pidfile")" 2>/dev/null
    done
    kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    rm -rf "$workdir"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    kill -0 "$redis_pid" 2>/dev/null || { cat "$workdir/redis.log"; exit 1; }
    sleep 0.05
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start on port $port" >&2; exit 1; }

export REDIS_URL="redis://127.0.0.1:$port/0" REDIS_PORT="$port"
echo "private redis-server pid $redis_pid on $REDIS_URL"
set +e
"$@"
status=$?
exit $status
