#!/usr/bin/env bash
# Compares the Swift Redis client with redis-benchmark on the same server, in the same run, as ratios.
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

printf '%-34s %12s %12s %7s\n' "GET, one connection" "swift rps" "redis-b rps" "ratio"
seq_ratios=() pipe_ratios=()
for run in $(seq 1 "$repetitions"); do
    ours=$($bench redis-get --url "$REDIS_URL" --requests "$sequential")
    theirs=$(redis_benchmark -c 1 -n "$sequential")
    seq_ratios+=("$(ratio "$ours" "$theirs")")
    printf '%-34s %12s %12s %7s\n' "sequential (-c 1), run $run" "$ours" "$theirs" "${seq_ratios[-1]}"
    ours=$($bench redis-get --url "$REDIS_URL" --requests "$pipelined" --pipeline 16)
    theirs=$(redis_benchmark -c 1 -P 16 -n "$pipelined")
    pipe_ratios+=("$(ratio "$ours" "$theirs")")
    printf '%-34s %12s %12s %7s\n' "pipelined 16 (-c 1 -P 16), run $run" "$ours" "$theirs" "${pipe_ratios[-1]}"
done
echo "median ratio sequential: $(median "${seq_ratios[@]}") (target >= 0.90)"
echo "median ratio pipelined:  $(median "${pipe_ratios[@]}") (target >= 0.80)"

echo
printf '%-34s %12s %12s %7s\n' "token reads" "cached rps" "GET rps" "ratio"
for run in $(seq 1 "$repetitions"); do
    read -r cached direct < <($bench client-read --url "$REDIS_URL" --requests "$sequential")
    printf '%-34s %12s %12s %7s\n' "TokenCentralClient vs GET, run $run" "$cached" "$direct" "$(ratio "$cached" "$direct")"
done

echo
/usr/bin/python3 scripts/forced_refresh_latency.py --bin-dir .build/release --samples "${BENCH_FORCED_SAMPLES:-300}"

echo
/usr/bin/python3 scripts/fleet_bench.py --bin-dir .build/release --apps "${BENCH_FLEET_APPS:-2000}"
