# Sourced by the scripts that run examples against real processes: a private work directory, every
# process started recorded in `pids` and stopped by PID on exit, and `start_mock ARGS...`, which starts
# wechat-mock (debug binaries unless BIN_DIR says otherwise) on a free port and sets `mock_url`.
bin=${BIN_DIR:-.build/debug}
workdir=$(mktemp -d "${TMPDIR:-/tmp}/tokencentral-examples.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

start_mock() {
    "$bin/wechat-mock" --port 0 "$@" >"$workdir/mock.out" 2>"$workdir/mock.log" &
    pids+=($!)
    for _ in $(seq 1 100); do grep -qs listening "$workdir/mock.out" && break; sleep 0.05; done
    mock_url=$(awk '/listening/ { print $NF }' "$workdir/mock.out")
    [ -n "$mock_url" ] || { echo "wechat-mock did not start" >&2; cat "$workdir/mock.log" >&2; exit 1; }
}
