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
[ $status -eq 0 ] || { echo "--- tokend log"; cat "$workdir/tokend.log"; } >&2
exit $status
