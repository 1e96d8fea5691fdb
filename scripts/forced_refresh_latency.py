#!/usr/bin/python3
"""Forced-refresh latency: time from PUBLISH on P:refresh to the new token's announcement on P:refreshed.

The announcement is published by the same Lua script that writes the token, so its arrival marks the
write. Starts wechat-mock and three tokend workers (from --bin-dir) against $REDIS_URL (run through
scripts/with-redis.sh), stops them by PID, prints p50/p99/max in milliseconds.
"""
import argparse, json, os, sys, tempfile, time

import redis

from bench_processes import BenchProcesses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    prefix, appid = "latency", "wxlatency"
    workdir = tempfile.mkdtemp(prefix="tc-latency-")
    log = open(os.path.join(workdir, "processes.log"), "w")
    fleet = BenchProcesses(args.bin_dir, log)
    try:
        base_url = fleet.start_mock("--app", f"{appid}:s1", "--lifetime", "7200")
        env = dict(os.environ, LATENCY_SECRET="s1")
        for index in range(3):
            fleet.start_worker(os.path.join(workdir, f"w{index}.yaml"),
                               f"redis: {{url: '{os.environ['REDIS_URL']}', key_prefix: {prefix}}}\n"
                               f"upstream: {{wechat_base_url: '{base_url}', timeout: 2s}}\n"
                               f"worker: {{id: w{index}}}\nhttp: {{enabled: false}}\n"
                               f"refresh: {{forced_cooldown: 1ms, forced_min_token_age: 1ms, forced_hourly_budget: 1000, "
                               f"forced_daily_budget: 1000}}\n"
                               f"apps: [{{appid: {appid}, secret_env: LATENCY_SECRET}}]\n", env=env)
        token_key = f"{prefix}:{{{appid}}}:access_token"
        deadline = time.time() + 30
        while client.get(token_key) is None:
            if time.time() > deadline:
                sys.exit("no token within 30 s")
            time.sleep(0.05)
        pubsub = client.pubsub()
        pubsub.subscribe(f"{prefix}:refreshed")
        pubsub.get_message(timeout=1)
        samples = []
        for _ in range(args.samples):
            bad = client.get(token_key).decode()
            started = time.perf_counter()
            client.publish(f"{prefix}:refresh", json.dumps({"appid": appid, "bad_token": bad}))
            while True:
                message = pubsub.get_message(timeout=5)
                if message is None:
                    sys.exit("no announcement within 5 s")
                if message["type"] == "message" and json.loads(message["data"])["appid"] == appid:
                    break
            samples.append((time.perf_counter() - started) * 1000)
            # Reports of a token a few milliseconds old can meet the fence's own margin: two tokens fetched
            # by different workers within the Redis-time uncertainty of each other are "of unknown issue
            # order", which costs one more fetch after a backoff. Production never reports a token that young
            # (refresh.forced_min_token_age); a short pause keeps the bench to what it measures.
            time.sleep(0.05)
        samples.sort()
        def pct(p):
            return samples[min(len(samples) - 1, int(round(p / 100 * (len(samples) - 1))))]
        print(f"forced refresh, publish -> new token announced ({len(samples)} samples, 3 workers, mock upstream): "
              f"p50 {pct(50):.2f} ms, p99 {pct(99):.2f} ms, max {samples[-1]:.2f} ms")
    finally:
        fleet.stop(timeout=10)

if __name__ == "__main__":
    main()
