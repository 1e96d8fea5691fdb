#!/usr/bin/env bash
# Runs an unmodified wechatpy 1.8.18 WeChatClient against TokenCentral (examples/python/wechatpy_check.py):
# once through the adapter, once through the gateway. wechatpy is installed from PyPI into a private
# virtualenv under .build (created once; it sees Debian's python3-redis). Starts wechat-mock and one
# tokend worker (debug binaries, gateway on) on the Redis at $REDIS_URL (run through
# scripts/with-redis.sh); stops them by PID.
set -euo pipefail
: "${REDIS_URL:?run through scripts/with-redis.sh}"
bin=${BIN_DIR:-.build/debug}
venv=.build/wechatpy-venv
if ! "$venv/bin/python" -c 'import wechatpy, sys; sys.exit(wechatpy.__version__ != "1.8.18")' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'wechatpy==1.8.18'
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tokencentral-wechatpy.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

appid=wxwechatpy
secret=wechatpy-secret
prefix=wechatpy-$$
"$bin/wechat-mock" --port 0 --app "$appid:$secret" --lifetime 7200 --overlap 300 >"$workdir/mock.out" 2>"$workdir/mock.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -qs listening "$workdir/mock.out" && break; sleep 0.05; done
mock_url=$(awk '/listening/ { print $NF }' "$workdir/mock.out")
[ -n "$mock_url" ] || { echo "wechat-mock did not start" >&2; cat "$workdir/mock.log" >&2; exit 1; }

port=$(scripts/free-port.sh)
cat >"$workdir/tokend.yaml" <<YAML
redis: {url: "$REDIS_URL", key_prefix: $prefix}
upstream: {wechat_base_url: "$mock_url", timeout: 2s}
worker: {id: wechatpy-0}
http: {host: 127.0.0.1, port: $port}
gateway: {enabled: true}
apps:
  - {appid: $appid, secret_env: WECHATPY_SECRET}
YAML
WECHATPY_SECRET=$secret "$bin/tokend" --config "$workdir/tokend.yaml" --log-level warning 2>>"$workdir/tokend.log" &
pids+=($!)
tokend_url=http://127.0.0.1:$port
for _ in $(seq 1 200); do curl -fsS "$tokend_url/readyz" >/dev/null 2>&1 && break; sleep 0.05; done

status=0
APPID=$appid SECRET=$secret TOKEN_PREFIX=$prefix WECHAT_BASE_URL=$mock_url TOKEND_URL=$tokend_url \
    PYTHONPATH=examples/python "$venv/bin/python" examples/python/wechatpy_check.py || status=1
[ $status -eq 0 ] || { echo "--- tokend log"; cat "$workdir/tokend.log"; } >&2
redis-cli -u "$REDIS_URL" --scan --pattern "$prefix:*" | xargs -r redis-cli -u "$REDIS_URL" DEL >/dev/null
exit $status
