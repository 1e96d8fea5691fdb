#!/usr/bin/env bash
# Runs wechatpy 1.8.18 against TokenCentral (examples/python/wechatpy_check.py): once through the
# adapter (examples/python/wechatpy_tokencentral.py), once an unmodified WeChatClient through the gateway. wechatpy is installed from PyPI into a private
# virtualenv under .build (created once; it sees Debian's python3-redis). Starts wechat-mock and one
# tokend worker (debug binaries, gateway on) on the Redis at $REDIS_URL (run through
# scripts/with-redis.sh); stops them by PID.
set -euo pipefail
: "${REDIS_URL:?run through scripts/with-redis.sh}"
venv=.build/wechatpy-venv
if ! "$venv/bin/python" -c 'import wechatpy, sys; sys.exit(wechatpy.__version__ != "1.8.18")' 2>/dev/null; then
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'wechatpy==1.8.18'
fi

source scripts/test-processes.sh

appid=wxwechatpy
secret=wechatpy-secret
prefix=wechatpy-$$
start_mock --app "$appid:$secret" --lifetime 7200 --overlap 300

port=$(scripts/free-port.sh)
cat >"$workdir/tokend.yaml" <<YAML
redis: {url: "$REDIS_URL", key_prefix: $prefix}
upstream: {wechat_base_url: "$mock_url", timeout: 2s}
worker: {id: wechatpy-0}
http: {host: 127.0.0.1, port: $port}
gateway: {enabled: true}
# The revoke below comes seconds after the token was issued: let that report through the budget's minimum age.
refresh: {forced_min_token_age: 1ms}
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
