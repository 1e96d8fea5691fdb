#!/usr/bin/env bash
# Compares the Swift Redis client with redis-benchmark on the same server, in the same run, as ratios;
# then the token read path, forced-refresh latency and a 10,000-app fleet.
# Run through `make bench` (release build, private redis-server, REDIS_URL/REDIS_PORT set).
set -euo pipefail
: "${REDIS_URL:?run through make bench}" "${REDIS_PORT:?run through make bench}"
bench=.build/release/tokencentral-bench
repetitions=${BENCH_REPETITIONS:-5}
sequential=${BENCH_SEQUENTIAL_REQUESTS:-100000}
pipelined=${BENCH_PIPELINED_REQUESTS:-1000000}

redis-cli -p "$REDIS_PORT" SET key:000000000000 xxx >/dev/null

# redis-benchmark --csv prints "test","rps",...: keep the requests per second.
redis_benchmark() { redis-benchmark -p "$REDIS_PORT" -t get --csv "$@" | awk -F'"' '/GET/ { print int($4) }'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One connection, one request (or one pipeline of 16) in flight: the shapes of redis-benchmark -c 1 [-P 16].
# "no spin" is the client with replySpin 0, sleeping in every read as redis-benchmark does in epoll_wait.
printf '%-22s %10s %10s %10s %10s %10s\n' "GET, one connection" "swift" "no spin" "redis-b" "swift -P16" "redis -P16"
seq_ratios=() nospin_ratios=() pipe_ratios=() seq_rb=()
for run in $(seq 1 "$repetitions"); do
    ours=$($bench redis-get --url "$REDIS_URL" --requests "$sequential")
    nospin=$($bench redis-get --url "$REDIS_URL" --requests "$sequential" --reply-spin 0)
    theirs=$(redis_benchmark -c 1 -n "$sequential")
    ours_p=$($bench redis-get --url "$REDIS_URL" --requests "$pipelined" --pipeline 16)
    theirs_p=$(redis_benchmark -c 1 -P 16 -n "$pipelined")
    seq_ratios+=("$(ratio "$ours" "$theirs")") nospin_ratios+=("$(ratio "$nospin" "$theirs")")
    pipe_ratios+=("$(ratio "$ours_p" "$theirs_p")") seq_rb+=("$theirs")
    printf '%-22s %10s %10s %10s %10s %10s\n' "run $run (rps)" "$ours" "$nospin" "$theirs" "$ours_p" "$theirs_p"
done
echo "median ratio sequential:          $(median "${seq_ratios[@]}") (target >= 0.90)"
echo "median ratio sequential, no spin: $(median "${nospin_ratios[@]}")"
echo "median ratio pipelined 16:        $(median "${pipe_ratios[@]}") (target >= 0.80)"

echo
printf '%-34s %12s %12s %7s\n' "token reads, one task" "cached rps" "GET rps" "ratio"
cached_rps=() get_rps=()
for run in $(seq 1 "$repetitions"); do
    read -r cached direct < <($bench client-read --url "$REDIS_URL" --requests "$sequential")
    cached_rps+=("$cached") get_rps+=("$direct")
    printf '%-34s %12s %12s %7s\n' "TokenCentralClient vs GET, run $run" "$cached" "$direct" "$(ratio "$cached" "$direct")"
done
cached=$(median "${cached_rps[@]}") direct=$(median "${get_rps[@]}") rb=$(median "${seq_rb[@]}")
echo "median: cached read $cached rps = $(ratio "$cached" "$direct") x GET through RedisClient ($direct rps)" \
    "= $(ratio "$cached" "$rb") x redis-benchmark GET -c 1 ($rb rps)"

echo
/usr/bin/python3 scripts/forced_refresh_latency.py --bin-dir .build/release --samples "${BENCH_FORCED_SAMPLES:-300}"

echo
/usr/bin/python3 scripts/fleet_bench.py --bin-dir .build/release --apps "${BENCH_FLEET_APPS:-10000}"
