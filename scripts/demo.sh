#!/usr/bin/env bash
# The five-minute demo: a private redis-server, a fake WeChat with 30-second tokens, three tokend
# workers, and a live view showing one upstream call per token lifetime and which worker made it.
# The app also keeps a jsapi_ticket: the demo reads it and a JS-SDK wx.config signature over HTTP.
# Along the way it forces a refresh (as a business server that got 40001 would) and kill -9s the
# worker that fetched last, so another takes over.
#
# Usage: scripts/demo.sh            (until Ctrl-C)
#        DEMO_SECONDS=60 scripts/demo.sh
# Environment: DEMO_SECONDS (0 = until Ctrl-C), DEMO_LIFETIME (token lifetime, s, default 30),
#              DEMO_BUILD (release or debug, default release), DEMO_KEEP=1 (keep the temp dir).
# Stops everything it started, by PID, and nothing else. Never touches a Redis on 6379.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

seconds=${DEMO_SECONDS:-0}
lifetime=${DEMO_LIFETIME:-30}
build=${DEMO_BUILD:-release}
overlap=$(( lifetime / 4 > 1 ? lifetime / 4 : 1 ))
appid=wxdemo0000000001
prefix=demo
workers=3
started=$(date +%s)

say() { printf '[demo %3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

"$here/ensure-deps.sh" curl jq

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tokencentral-demo.XXXXXX")
summary() {
    echo
    echo "===== summary after $(( $(date +%s) - started )) s ====="
    local stats
    stats=$(curl -fsS "$mock_url/mock/stats" 2>/dev/null || echo '{}')
    printf 'fake WeChat: %s token calls, %s tokens issued\n' \
        "$(jq -r ".apps[\"$appid\"].token_calls // 0" <<<"$stats")" "$(jq -r ".apps[\"$appid\"].tokens_issued // 0" <<<"$stats")"
    printf 'fake WeChat: %s getticket calls, %s tickets issued\n' \
        "$(jq -r ".apps[\"$appid\"].ticket_calls // 0" <<<"$stats")" "$(jq -r ".apps[\"$appid\"].tickets_issued // 0" <<<"$stats")"
    printf 'Redis:       generation %s, last fetched by %s\n' "$(rcli HGET "$meta" generation)" "$(rcli HGET "$meta" worker)"
    for n in $(seq 1 "$workers"); do
        printf '  tokend-%s fetched: %s\n' "$n" "$(grep -c 'token refreshed' "$workdir/tokend-$n.log" || true)"
    done
    [ -t 1 ] && [ -s "$workdir/events.log" ] && { echo "events:"; sed 's/^/  /' "$workdir/events.log"; }
    local token
    token=$(rcli GET "$key")
    if [ -n "$token" ]; then
        printf 'current token accepted by the fake WeChat: %s\n' \
            "$(curl -fsS "$mock_url/cgi-bin/getcallbackip?access_token=$token" | jq -r 'if .ip_list then "yes" else "no: \(.errcode) \(.errmsg)" end')"
    fi
}

worker_pids=()
other_pids=()
stopped=0
cleanup() {
    local status=$?
    [ "$stopped" = 1 ] && return
    stopped=1
    trap - INT TERM HUP
    if [ -n "${mock_url:-}" ] && [ -n "${redis_port:-}" ]; then summary || true; fi
    # The scripted events first, then the workers (SIGTERM: they release their leases), the mock, Redis.
    [ -n "${choreography_pid:-}" ] && kill "$choreography_pid" 2>/dev/null && wait "$choreography_pid" 2>/dev/null || true
    for pid in "${worker_pids[@]}" "${other_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${worker_pids[@]}" "${other_pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo "kept $workdir (logs, config)"
    else
        rm -rf "$workdir"
    fi
    echo "demo stopped; everything it started is gone."
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

cd "$root"
if [ "$build" = release ]; then
    say "building release binaries: swift build -c release (the first time takes several minutes)"
    if ! swift build -c release >"$workdir/build.log" 2>&1; then
        tail -40 "$workdir/build.log"; exit 1
    fi
    tail -1 "$workdir/build.log"
fi
bin=$(swift build -c "$build" --show-bin-path)
for tool in tokend tokenctl wechat-mock; do
    [ -x "$bin/$tool" ] || { echo "missing $bin/$tool: build it first" >&2; exit 1; }
done
started=$(date +%s)   # DEMO_SECONDS counts from here, not from the start of the build

# 1. A private Redis. Servers run in their own sessions (setsid keeps the PID): Ctrl-C reaches only
#    this script and the live view, so the summary can still read Redis and the mock before cleanup.
redis_port=$("$here/free-port.sh")
setsid redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$workdir" --save "" --appendonly no \
    --daemonize no --logfile "$workdir/redis.log" &
other_pids+=($!)
rcli() { redis-cli -p "$redis_port" "$@"; }
for _ in $(seq 1 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.05; done
rcli ping >/dev/null

# 2. The fake WeChat: short lifetimes, the old token keeps working for $overlap s after a new one.
secret="demo-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
setsid "$bin/wechat-mock" --host 127.0.0.1 --port 0 --lifetime "$lifetime" --overlap "$overlap" \
    --app "$appid:$secret" >"$workdir/mock.log" 2>&1 &
other_pids+=($!)
mock_url=""
for _ in $(seq 1 200); do
    mock_url=$(sed -n 's/^wechat-mock listening on \(http:[^ ]*\)$/\1/p' "$workdir/mock.log")
    [ -n "$mock_url" ] && break
    sleep 0.05
done
[ -n "$mock_url" ] || { cat "$workdir/mock.log"; echo "wechat-mock did not start" >&2; exit 1; }

# 3. Three workers sharing one config file; each gets its id and HTTP port from TOKEND_* overrides,
#    and the secret from the environment (never from the file).
config="$workdir/tokend.yaml"
cat >"$config" <<EOF
redis:
  url: redis://127.0.0.1:$redis_port/0
  key_prefix: $prefix
upstream:
  wechat_base_url: $mock_url
  timeout: 3s
refresh:
  ahead: 300s          # capped at lifetime / 4: $(( lifetime / 4 )) s before expiry with $lifetime s tokens
  lock_ttl: 2s
  check_interval: 1s
  retry_initial: 500ms
  retry_maximum: 5s
  forced_cooldown: 10s
  forced_min_token_age: 5s   # the demo reports a token $(( lifetime / 2 )) s old
http:
  host: 127.0.0.1
apps:
  - appid: $appid
    grant: token
    secret_env: DEMO_APP_SECRET
    tickets: [jsapi]     # also keep the JS-SDK jsapi_ticket
EOF
declare -A worker_pid_by_id
http_ports=()
for n in $(seq 1 "$workers"); do
    port=$("$here/free-port.sh")
    http_ports+=("$port")
    DEMO_APP_SECRET="$secret" TOKEND_WORKER_ID="tokend-$n" TOKEND_HTTP_PORT="$port" \
        setsid "$bin/tokend" --config "$config" >"$workdir/tokend-$n.log" 2>&1 &
    worker_pids+=($!)
    worker_pid_by_id["tokend-$n"]=$!
    disown $!   # the demo kill -9s one of them: no "Killed" job notice from bash
done

key="$prefix:{$appid}:access_token"
meta="$prefix:{$appid}:meta"
ticket_key="$prefix:{$appid}:jsapi_ticket"
api="http://127.0.0.1:${http_ports[0]}/v1/apps/$appid"
tokenctl=("$bin/tokenctl" --config "$config")

cat <<EOF | tee "$workdir/where-to-look.txt"

  TokenCentral demo — $workers workers, one Redis, a fake WeChat issuing ${lifetime}-second tokens
  (a superseded token keeps working ${overlap} s). Workers: $(for n in $(seq 1 "$workers"); do printf 'tokend-%s (pid %s)  ' "$n" "${worker_pid_by_id[tokend-$n]}"; done)

  Where to look (while the demo runs):
    token in Redis   redis-cli -p $redis_port GET '$key'
    metadata         redis-cli -p $redis_port HGETALL '$meta'
    HTTP API         curl $api/access_token
    jsapi_ticket     curl $api/tickets/jsapi      (in Redis: GET '$ticket_key')
    JS-SDK config    curl -d '{"url":"https://example.com/page"}' $api/jssdk-config
    metrics          curl http://127.0.0.1:${http_ports[0]}/metrics   (workers on ports ${http_ports[*]})
    fake WeChat      curl $mock_url/mock/stats
    status           $bin/tokenctl --config $config status
    config, logs     $workdir

  What happens: one worker fetches each token ~$(( lifetime / 4 )) s before it expires. After about
  $(( lifetime / 2 )) s the demo reports the token as rejected (PUBLISH $prefix:refresh with bad_token);
  later it kill -9s the worker that fetched last, and another one takes over.

EOF

# 4. The scripted events, in the background; they are also written to events.log.
events="$workdir/events.log"
choreography() {
    trap 'kill "$nap_pid" 2>/dev/null; exit 0' TERM
    nap_pid=""
    nap() { sleep "$1" & nap_pid=$!; wait "$nap_pid"; }
    # With a terminal, tokenctl watch shows the end of the log under its table (--events); without one
    # the events are printed as they happen.
    log() { if [ -t 1 ]; then say "$*" >>"$events"; else say "$*" | tee -a "$events" >&2; fi; }
    local generation="" last=""
    for _ in $(seq 1 300); do
        [ -n "$(rcli GET "$key")" ] && break
        nap 0.1
    done
    log "first token stored (generation $(rcli HGET "$meta" generation), fetched by $(rcli HGET "$meta" worker))"
    local forced_at=$(( $(date +%s) + lifetime / 2 )) killed_at=$(( $(date +%s) + lifetime / 2 + lifetime / 3 ))
    local forced=0 killed=0 ticket_shown=0 ticket_deadline=$(( $(date +%s) + 30 ))
    while true; do
        # The jsapi_ticket, once, over HTTP: the ticket itself and a wx.config signature made with it.
        if [ "$ticket_shown" = 0 ] && [ -n "$(rcli GET "$ticket_key")" ]; then
            ticket_shown=1
            log "jsapi_ticket over HTTP: $(curl -fsS "$api/tickets/jsapi" | jq -c '{ticket: (.ticket[0:12] + "..."), expires_in}')"
            log "wx.config for https://example.com/page: $(curl -fsS -d '{"url":"https://example.com/page#top"}' "$api/jssdk-config" | jq -c .)"
        elif [ "$ticket_shown" = 0 ] && [ "$(date +%s)" -ge "$ticket_deadline" ]; then
            ticket_shown=1
            log "no jsapi_ticket after 30 s: $(curl -sS "$api/tickets/jsapi")"
        fi
        generation=$(rcli HGET "$meta" generation)
        if [ -n "$generation" ] && [ "$generation" != "$last" ] && [ -n "$last" ]; then
            log "new token: generation $generation fetched by $(rcli HGET "$meta" worker), valid $(( $(rcli PTTL "$key") / 1000 )) s"
        fi
        last=$generation
        local now
        now=$(date +%s)
        if [ "$forced" = 0 ] && [ "$now" -ge "$forced_at" ]; then
            forced=1
            local token heard
            token=$(rcli GET "$key")
            heard=$(rcli PUBLISH "$prefix:refresh" "{\"appid\":\"$appid\",\"bad_token\":\"$token\"}")
            log "a business server got 40001: PUBLISH $prefix:refresh {appid, bad_token: ${token:0:12}...} (heard by $heard workers)"
        fi
        if [ "$killed" = 0 ] && [ "$now" -ge "$killed_at" ]; then
            killed=1
            local holder victim
            holder=$(rcli GET "$prefix:{$appid}:lock")
            victim=${holder%%:*}
            [ -n "$victim" ] || victim=$(rcli HGET "$meta" worker)
            if [ -n "${worker_pid_by_id[$victim]:-}" ]; then
                kill -9 "${worker_pid_by_id[$victim]}" 2>/dev/null || true
                log "kill -9 $victim (pid ${worker_pid_by_id[$victim]}), the worker that $([ -n "$holder" ] && echo "holds the lease" || echo "fetched last"); the others take over"
            fi
        fi
        nap 1
    done
}
choreography &
choreography_pid=$!

# 5. The live view. With a terminal: tokenctl watch. Without one (CI, pipes), or if watch ends
#    early: tokenctl status every 5 s.
remaining() { echo $(( seconds - ($(date +%s) - started) )); }
until_deadline() { [ "$seconds" = 0 ] || [ "$(remaining)" -gt 0 ]; }
if [ -t 1 ]; then
    say "the live view (tokenctl watch) starts in 10 s and takes the whole screen; the text above is"
    say "also in $workdir/where-to-look.txt. The scripted events appear under the table as they happen."
    sleep 10 & wait $! || true
    : >>"$events"
    watch_args=(watch --interval 1 --events "$events")
    [ "$seconds" != 0 ] && watch_args+=(--duration "$(remaining)")
    "${tokenctl[@]}" "${watch_args[@]}" || true
fi
while until_deadline; do
    sleep 5 & wait $! || true
    echo "----- tokenctl status ($(( $(date +%s) - started )) s) -----"
    "${tokenctl[@]}" status 2>&1 || true
done
