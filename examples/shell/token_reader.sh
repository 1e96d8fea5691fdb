#!/usr/bin/env bash
# Use the WeChat access_token that tokend keeps in Redis, with nothing but redis-cli and curl.
# The same flow as examples/python/token_reader.py: read P:{APPID}:access_token, call
# GET /cgi-bin/getcallbackip; on errcode 40001/42001 report the token on P:refresh, wait for
# P:refreshed (or for the key to change), re-read and retry once. Never calls /cgi-bin/token itself.
#
# Environment: REDIS_URL (default redis://127.0.0.1:6379/0), TOKEN_PREFIX (default wechat), APPID
# (required), WECHAT_BASE_URL (default https://api.weixin.qq.com), ITERATIONS (default 10),
# WAIT_SECONDS (longest wait for a new token, default 30).
# Through Redis Sentinel: REDIS_SENTINELS (host:port,host:port) and REDIS_SENTINEL_MASTER (the master's
# name); the primary is asked of the sentinels in turn and again whenever a Redis command fails, and
# REDIS_URL then gives only the password and db (its host is replaced). The sentinels' own password,
# if any, goes in REDIS_SENTINEL_PASSWORD.
# Prints one summary line; exits 0 when every call finally succeeded, 1 otherwise.
set -uo pipefail

: "${APPID:?set APPID to the app whose token to use}"
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
prefix=${TOKEN_PREFIX:-wechat}
base_url=${WECHAT_BASE_URL:-https://api.weixin.qq.com}
iterations=${ITERATIONS:-10}
wait_seconds=${WAIT_SECONDS:-30}
key="$prefix:{$APPID}:access_token"   # the braces are literal (a Redis Cluster hash tag)
reports=0

log() { echo "token_reader.sh: $*" >&2; }
rcli_once() { redis-cli -u "$redis_url" --no-auth-warning "$@"; }

# With Sentinel: points redis_url at the node the first answering sentinel names primary, if ROLE agrees.
node_url=$redis_url
resolve_primary() {
    local sentinel addr host port role
    for sentinel in ${REDIS_SENTINELS//,/ }; do
        addr=$(REDISCLI_AUTH=${REDIS_SENTINEL_PASSWORD:-} redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" \
            --no-auth-warning SENTINEL get-master-addr-by-name "$REDIS_SENTINEL_MASTER" 2>/dev/null) || continue
        host=$(sed -n 1p <<<"$addr"); port=$(sed -n 2p <<<"$addr")
        [ -n "$port" ] || continue
        # redis://[credentials@]host:port/db -> the same with the primary's host:port
        redis_url=$(sed -E "s#^(redis://([^@/]*@)?)[^/]*#\1$host:$port#" <<<"$node_url")
        role=$(rcli_once ROLE 2>/dev/null | head -n 1)
        # A user without +role (least-privilege ACL) takes the sentinel's word.
        { [ "$role" = master ] || [[ "$role" == NOPERM* ]]; } && return 0
    done
    log "no sentinel of ${REDIS_SENTINELS} named a primary for ${REDIS_SENTINEL_MASTER}"
    return 1
}
if [ -n "${REDIS_SENTINELS:-}" ]; then
    : "${REDIS_SENTINEL_MASTER:?set REDIS_SENTINEL_MASTER with REDIS_SENTINELS}"
    resolve_primary || exit 1
fi

# A Redis command; through Sentinel a failed one asks the sentinels again and is retried once.
rcli() {
    local output
    if output=$(rcli_once "$@") && [[ "$output" != READONLY* ]]; then printf '%s\n' "$output"; return 0; fi
    [ -n "${REDIS_SENTINELS:-}" ] && resolve_primary || return 1
    rcli_once "$@"
}

# Prints the token once it differs from $1 (empty: any token); fails after WAIT_SECONDS. $2, if given,
# is the output of a subscription to P:refreshed: an announcement for APPID ends the wait with one last read.
await_token() {
    local deadline=$(( SECONDS + wait_seconds )) token announced=""
    while :; do
        [ -n "${2:-}" ] && grep -q "\"appid\":\"$APPID\"" "$2" && announced=1
        token=$(rcli GET "$key") || return 1
        if [ -n "$token" ] && [ "$token" != "$1" ]; then printf '%s' "$token"; return 0; fi
        { [ -n "$announced" ] || [ "$SECONDS" -ge "$deadline" ]; } && return 1
        sleep 0.1
    done
}

# Reports $1 as rejected and prints the token that replaces it.
replace_token() {
    local events subscriber token status
    events=$(mktemp)
    # Subscribe before reporting, so the announcement cannot slip by in between.
    timeout "$wait_seconds" redis-cli -u "$redis_url" --no-auth-warning SUBSCRIBE "$prefix:refreshed" >"$events" &
    subscriber=$!
    for _ in $(seq 1 100); do grep -qxF "$prefix:refreshed" "$events" && break; sleep 0.05; done
    # Tokens and appids hold no quotes or backslashes, so plain interpolation makes valid JSON.
    log "token rejected; reported on $prefix:refresh ($(rcli PUBLISH "$prefix:refresh" \
        "{\"appid\":\"$APPID\",\"bad_token\":\"$1\"}") tokend workers listening)"
    token=$(await_token "$1" "$events"); status=$?
    kill "$subscriber" 2>/dev/null; wait "$subscriber" 2>/dev/null
    rm -f "$events"
    printf '%s' "$token"
    return $status
}

# One WeChat call, retried once with a new token if WeChat rejects the first.
one_call() {
    local token body errcode attempt
    token=$(await_token "") || { log "no access_token at $key within ${wait_seconds}s"; return 1; }
    for attempt in 1 2; do
        body=$(curl -fsS --max-time 10 -G "$base_url/cgi-bin/getcallbackip" --data-urlencode "access_token=$token") \
            || { log "getcallbackip failed"; return 1; }
        errcode=$(sed -n 's/.*"errcode": *\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$body")
        [ -z "$errcode" ] || [ "$errcode" = 0 ] && return 0
        if [ "$attempt" = 2 ] || { [ "$errcode" != 40001 ] && [ "$errcode" != 42001 ]; }; then
            log "getcallbackip answered errcode $errcode"
            return 1
        fi
        reports=$(( reports + 1 ))
        token=$(replace_token "$token") || { log "no new token within ${wait_seconds}s"; return 1; }
    done
}

succeeded=0
for _ in $(seq 1 "$iterations"); do
    one_call && succeeded=$(( succeeded + 1 ))
done
echo "token_reader.sh: $APPID: $succeeded/$iterations calls succeeded, $reports rejected tokens reported"
[ "$succeeded" = "$iterations" ]
