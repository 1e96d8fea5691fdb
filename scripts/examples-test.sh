#!/usr/bin/env bash
# Runs the other-language examples for real: wechat-mock and two tokend workers (debug binaries) on the
# Redis at $REDIS_URL (run through scripts/with-redis.sh), then each example reads tokens, and, after
# the mock forgets every token (so WeChat answers 40001), must report the bad token and recover.
# Stops everything it started, by PID. WORKER_REDIS_URL (default: REDIS_URL) is the workers' Redis URL
# and EXAMPLES_PREFIX (default: examples) their key prefix, so scripts/examples-acl-test.sh can run
# workers and examples as different Redis users.
set -euo pipefail
: "${REDIS_URL:?run through scripts/with-redis.sh}"
source scripts/test-processes.sh

appid=wxexample
prefix=${EXAMPLES_PREFIX:-examples}
start_mock --app "$appid:example-secret" --lifetime 7200

for worker in 0 1; do
    cat >"$workdir/tokend-$worker.yaml" <<YAML
redis: {url: "${WORKER_REDIS_URL:-$REDIS_URL}", key_prefix: $prefix}
upstream: {wechat_base_url: "$mock_url", timeout: 2s}
worker: {id: example-$worker}
http: {enabled: false}
# The examples report a token fetched seconds before (the mock forgot it): honour that at once.
refresh: {forced_min_token_age: 1ms}
apps:
  - {appid: $appid, secret_env: EXAMPLE_SECRET}
YAML
    EXAMPLE_SECRET=example-secret "$bin/tokend" --config "$workdir/tokend-$worker.yaml" --log-level warning \
        2>>"$workdir/tokend.log" &
    pids+=($!)
done

export APPID=$appid TOKEN_PREFIX=$prefix WECHAT_BASE_URL=$mock_url WAIT_SECONDS=15
status=0
# Runs an example; $1 = the number of rejected tokens it must have reported (its summary line says).
run_example() {
    local reported=$1 summary
    shift
    summary=$("$@") || { echo "$summary"; return 1; }
    echo "$summary"
    grep -q ", $reported rejected tokens reported" <<<"$summary" || { echo "expected $reported reported" >&2; return 1; }
}
for example in "/usr/bin/python3 examples/python/token_reader.py" "bash examples/shell/token_reader.sh"; do
    ITERATIONS=5 run_example 0 $example || status=1
    # WeChat forgets the token (as after a token fetched elsewhere): the example must report the
    # rejected token on P:refresh, get the new one and succeed.
    curl -fsS -X POST "$mock_url/mock/reset" >/dev/null
    ITERATIONS=3 run_example 1 $example || status=1
done

# The same through Redis Sentinel: one redis-sentinel watching this Redis (quorum 1; with no replica it
# never fails over: tests/chaos cover failovers), and the examples find the primary by asking it.
sentinel_port=$(scripts/free-port.sh)
printf 'port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor examples 127.0.0.1 %s 1\n' \
    "$sentinel_port" "$workdir" "$REDIS_PORT" >"$workdir/sentinel.conf"
redis-sentinel "$workdir/sentinel.conf" >"$workdir/sentinel.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    redis-cli -p "$sentinel_port" SENTINEL get-master-addr-by-name examples 2>/dev/null | grep -q . && break
    sleep 0.05
done
for example in "/usr/bin/python3 examples/python/token_reader.py" "bash examples/shell/token_reader.sh"; do
    REDIS_SENTINELS=127.0.0.1:$sentinel_port REDIS_SENTINEL_MASTER=examples ITERATIONS=3 run_example 0 $example || status=1
    curl -fsS -X POST "$mock_url/mock/reset" >/dev/null
    REDIS_SENTINELS=127.0.0.1:$sentinel_port REDIS_SENTINEL_MASTER=examples ITERATIONS=2 run_example 1 $example || status=1
done
[ $status -eq 0 ] || { echo "--- tokend log"; cat "$workdir/tokend.log"; } >&2
exit $status
