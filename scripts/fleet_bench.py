#!/usr/bin/python3
"""Fleet figures for `make bench`: 10,000 apps on 3 tokend workers, and the HTTP read path under wrk.

Against $REDIS_URL (run through scripts/with-redis.sh): starts wechat-mock (derived secrets) and three
tokend workers from --bin-dir, waits until every app has a token, then reports per worker the resident
memory and the CPU used while idle, the busiest second of upstream calls (sampled from the mock), and
wrk's requests per second on GET /v1/apps/{appid}/access_token next to redis-benchmark GET, in the same
run. Stops everything it started, by PID.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request

import redis

from bench_processes import BenchProcesses


def mock_calls(base_url):
    with urllib.request.urlopen(f"{base_url}/mock/stats") as response:
        return json.load(response)["totals"]["token_calls"]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    match = re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read())
    return int(match.group(1)) / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--lifetime", type=int, default=60)
    parser.add_argument("--idle-seconds", type=int, default=10)
    args = parser.parse_args()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    port = int(os.environ["REDIS_PORT"])
    workdir = tempfile.mkdtemp(prefix="tc-fleet-")
    log = open(os.path.join(workdir, "processes.log"), "w")
    fleet = BenchProcesses(args.bin_dir, log)
    try:
        base_url = fleet.start_mock("--derived-secrets", "--lifetime", str(args.lifetime), "--quota", "100000")
        appids = [f"wxfleet{index:06d}" for index in range(args.apps)]
        secrets = os.path.join(workdir, "secrets")
        os.mkdir(secrets)
        lines = []
        for appid in appids:
            with open(os.path.join(secrets, appid), "w") as f:
                f.write(f"secret-{appid}")
            lines.append(f"  - {{appid: {appid}, secret_file: secrets/{appid}}}")
        http_ports, workers = [], []
        for index in range(3):
            http_port = int(subprocess.check_output(["scripts/free-port.sh"], text=True))
            http_ports.append(http_port)
            workers.append(fleet.start_worker(
                os.path.join(workdir, f"w{index}.yaml"),
                f"redis: {{url: '{os.environ['REDIS_URL']}', key_prefix: fleet}}\n"
                f"upstream: {{wechat_base_url: '{base_url}', timeout: 5s}}\n"
                f"worker: {{id: w{index}}}\nhttp: {{host: 127.0.0.1, port: {http_port}}}\napps:\n" + "\n".join(lines) + "\n",
                log_level=os.environ.get("FLEET_LOG_LEVEL", "error")))

        started = time.time()
        per_second, last = [], 0
        while True:
            time.sleep(1)
            calls = mock_calls(base_url)
            per_second.append(calls - last)
            last = calls
            have = sum(1 for _ in client.scan_iter(match="fleet:{*}:access_token", count=5000))
            if have == args.apps:
                break
            if time.time() - started > 300:
                sys.exit(f"only {have} of {args.apps} tokens after 300 s")
        filled = time.time() - started
        # One refresh round: a lifetime later every app has been refreshed once more.
        while time.time() - started < filled + args.lifetime:
            time.sleep(1)
            calls = mock_calls(base_url)
            per_second.append(calls - last)
            last = calls
        before = [cpu_seconds(w.pid) for w in workers]
        time.sleep(args.idle_seconds)
        idle_cpu = [(cpu_seconds(w.pid) - b) / args.idle_seconds * 100 for w, b in zip(workers, before)]
        memory = [rss_mib(w.pid) for w in workers]
        print(f"{args.apps} apps, 3 workers, {args.lifetime} s tokens: all tokens after {filled:.1f} s; "
              f"{last} upstream calls for {2 * args.apps} tokens over {len(per_second)} s, busiest second {max(per_second)} calls")
        print("resident memory per worker: " + ", ".join(f"{m:.0f} MiB" for m in memory))
        print(f"CPU per worker while idle ({args.idle_seconds} s): " + ", ".join(f"{c:.1f}%" for c in idle_cpu))

        url = f"http://127.0.0.1:{http_ports[0]}/v1/apps/{appids[0]}/access_token"
        wrk = subprocess.run(["wrk", "-t", "1", "-c", "16", "-d", "5s", url], capture_output=True, text=True).stdout
        http_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
        bench = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "get", "-c", "16", "-n", "200000", "--csv"],
                               capture_output=True, text=True).stdout
        redis_rps = float([line for line in bench.splitlines() if "GET" in line][0].split('"')[3])
        print(f"HTTP GET access_token (wrk -c 16): {http_rps:.0f} rps; redis-benchmark GET -c 16: {redis_rps:.0f} rps; "
              f"ratio {http_rps / redis_rps:.2f}")
    finally:
        fleet.stop()

if __name__ == "__main__":
    main()
