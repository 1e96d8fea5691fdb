#!/usr/bin/python3
"""Fleet figures for `make bench`: 10,000 apps on 3 tokend workers, and the HTTP read path under wrk.

Against $REDIS_URL (run through scripts/with-redis.sh): starts wechat-mock (derived secrets) and three
tokend workers from --bin-dir, under one upstream.rate_limit, and waits until every app has a token.
Then, while no token is due, the resident memory and CPU of each worker; then one refresh round (every
app refreshed once more), with the busiest second of upstream calls sampled from the mock and the
busiest Redis second counted in P:upstream_rate; the /metrics scrape of each metrics.per_app mode (one
worker each); then wrk's requests per second on GET /v1/apps/{appid}/access_token next to
redis-benchmark GET, in the same run. With --large: the first fill only (time, busiest second, memory,
scrapes), for 100,000 apps. Stops everything it started, by PID.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, threading, time, urllib.request

import redis

from bench_processes import BenchProcesses


def mock_calls(base_url):
    with urllib.request.urlopen(f"{base_url}/mock/stats") as response:
        return json.load(response)["totals"]["token_calls"]


class CallSampler:
    """Upstream calls counted by the mock, one sample a second (longer while the caller scans Redis
    between samples: `rates` divides each sample by its real length)."""

    def __init__(self, base_url):
        self.base_url, self.total, self.per_second, self.rates = base_url, 0, [], []
        self.sampled_at = time.perf_counter()

    def tick(self):
        time.sleep(1)
        calls, now = mock_calls(self.base_url), time.perf_counter()
        self.per_second.append(calls - self.total)
        self.rates.append((calls - self.total) / (now - self.sampled_at))
        self.total, self.sampled_at = calls, now


class RateWindowWatch:
    """The busiest Redis second counted in P:upstream_rate: its hash holds the slots of the latest slot's
    second, read every 20 ms in a thread (the last read of a second is within 20 ms of its end)."""

    def __init__(self, client, key):
        self.client, self.key, self.busiest, self.stopping = client, key, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.wait(0.02):
            calls = self.client.hget(self.key, "calls")
            self.busiest = max(self.busiest, int(calls or 0))

    def stop(self):
        self.stopping.set()
        self.thread.join()
        return self.busiest


def scrape(port, repetitions=3):
    """Size in bytes and the fastest of `repetitions` times in ms of GET /metrics."""
    best, size = None, 0
    for _ in range(repetitions):
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=120) as response:
            size = len(response.read())
        elapsed = (time.perf_counter() - started) * 1000
        best = elapsed if best is None else min(best, elapsed)
    return size, best


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid):
    """Resident memory as `RSS MiB (private P MiB)`: RSS counts the code pages of the binary and the Swift,
    Foundation and ICU libraries (about 39 MiB, the same with 10 apps and shared by every worker on a
    host); RssAnon is what this worker's apps and heap hold."""
    status = open(f"/proc/{pid}/status").read()
    rss, anon = (int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024 for field in ("VmRSS", "RssAnon"))
    return f"{rss:.0f} MiB (private {anon:.0f} MiB)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--lifetime", type=int, default=120)
    parser.add_argument("--idle-seconds", type=int, default=20)
    parser.add_argument("--rate-limit", type=int, default=500, help="upstream.rate_limit of the workers")
    parser.add_argument("--large", action="store_true", help="first fill, memory and scrapes only")
    parser.add_argument("--fill-timeout", type=int, default=300)
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
        modes = ["all", "attention", "off"]
        for index in range(3):
            http_port = int(subprocess.check_output(["scripts/free-port.sh"], text=True))
            http_ports.append(http_port)
            workers.append(fleet.start_worker(
                os.path.join(workdir, f"w{index}.yaml"),
                f"redis: {{url: '{os.environ['REDIS_URL']}', key_prefix: fleet}}\n"
                f"upstream: {{wechat_base_url: '{base_url}', timeout: 5s, rate_limit: {args.rate_limit}}}\n"
                f"metrics: {{per_app: {modes[index]}}}\n"
                f"worker: {{id: w{index}}}\nhttp: {{host: 127.0.0.1, port: {http_port}}}\napps:\n" + "\n".join(lines) + "\n",
                log_level=os.environ.get("FLEET_LOG_LEVEL", "error")))

        started = time.time()
        sampler = CallSampler(base_url)
        window = RateWindowWatch(redis.Redis.from_url(os.environ["REDIS_URL"]), "fleet:upstream_rate")
        while True:
            sampler.tick()
            have = sum(1 for _ in client.scan_iter(match="fleet:{*}:access_token", count=5000))
            if have == args.apps:
                break
            if time.time() - started > args.fill_timeout:
                if not args.large:
                    sys.exit(f"only {have} of {args.apps} tokens after {args.fill_timeout} s")
                print(f"{args.apps} apps: only {have} first tokens after {args.fill_timeout} s")
                break
        filled = time.time() - started
        # Samples last longer than a second while the scan above runs: compare rates, not counts.
        fill_peak = max(sampler.rates)
        if args.large:
            fill_redis_peak = window.stop()
            stored = "all first tokens" if have == args.apps else f"{have} of {args.apps} first tokens"
            print(f"{args.apps} apps, 3 workers, upstream.rate_limit {args.rate_limit}/s: {stored} after "
                  f"{filled:.1f} s (busiest second: {fill_redis_peak} calls counted in Redis; busiest "
                  f"sample of the mock {max(sampler.rates):.0f} calls/s)")
            print(f"{args.apps} apps: resident memory per worker: " + ", ".join(memory(w.pid) for w in workers)
                  + " (target <= 256 MiB at 100,000 apps, every first token within 300 s)")
            print_scrapes(args.apps, modes, http_ports)
            return

        # Idle: every app holds a token and none is due before lifetime - ahead - jitter (ahead is a
        # quarter of the lifetime, jitter a tenth of that) after its fetch; only the watchdog runs.
        first_due = args.lifetime * (1 - 0.25 - 0.025)
        # The window opens 10 s after the last first token: by then the passes that followed the fill
        # (workers re-reading apps others fetched) and the idle connections to upstream have ended.
        idle_from = filled + 10
        if idle_from + args.idle_seconds > first_due:
            sys.exit(f"the fill took {filled:.0f} s: no idle window before the first refresh at {first_due:.0f} s; "
                     f"raise --lifetime")
        while time.time() - started < idle_from:
            sampler.tick()
        before = [cpu_seconds(w.pid) for w in workers]
        for _ in range(args.idle_seconds):
            sampler.tick()
        idle_cpu = [(cpu_seconds(w.pid) - b) / args.idle_seconds * 100 for w, b in zip(workers, before)]
        memories = [memory(w.pid) for w in workers]
        idle_calls = sum(sampler.per_second[-args.idle_seconds:])

        # One refresh round: every app refreshed once more, spread by the jitter and the lease.
        round_start = len(sampler.per_second)
        while sampler.total < 2 * args.apps and time.time() - started < filled + args.lifetime + 30:
            sampler.tick()
        round_calls = sampler.per_second[round_start:]
        round_peak = max(sampler.rates[round_start:], default=0)
        redis_peak = window.stop()
        busy = [index for index, calls in enumerate(round_calls) if calls]
        print(f"upstream.rate_limit {args.rate_limit}/s: busiest second {redis_peak} calls counted in Redis "
              f"(P:upstream_rate); busiest sample of the mock {max(sampler.rates):.0f} calls/s")
        print(f"{args.apps} apps, 3 workers, {args.lifetime} s tokens: all first tokens after {filled:.1f} s "
              f"(busiest sample of the mock {fill_peak:.0f} calls/s)")
        print(f"refresh round: {sum(round_calls)} upstream calls for {args.apps} apps over "
              f"{(busy[-1] - busy[0] + 1) if busy else 0} samples, busiest sample {round_peak:.0f} calls/s; "
              f"{sampler.total} calls in all for {2 * args.apps} tokens")
        print("resident memory per worker: " + ", ".join(memories) + " (target <= 48 MiB at 10,000 apps)")
        print(f"CPU per worker while idle ({args.idle_seconds} s, {idle_calls} upstream calls): "
              + ", ".join(f"{c:.1f}%" for c in idle_cpu) + " (target <= 0.5%)")

        print_scrapes(args.apps, modes, http_ports)

        url = f"http://127.0.0.1:{http_ports[0]}/v1/apps/{appids[0]}/access_token"
        print_http_ratio(url, port)
    finally:
        fleet.stop()

def print_http_ratio(url, redis_port, runs=3):
    """wrk on the HTTP token read next to redis-benchmark GET, both with 16 connections, alternating
    `runs` times: each run's ratio, then their median (one pair alone moves with the machine's load)."""
    ratios = []
    for run in range(1, runs + 1):
        wrk = subprocess.run(["wrk", "-t", "1", "-c", "16", "-d", "5s", url], capture_output=True, text=True).stdout
        http_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
        bench = subprocess.run(["redis-benchmark", "-p", str(redis_port), "-t", "get", "-c", "16", "-n", "200000", "--csv"],
                               capture_output=True, text=True).stdout
        redis_rps = float([line for line in bench.splitlines() if "GET" in line][0].split('"')[3])
        ratios.append(http_rps / redis_rps)
        print(f"HTTP GET /v1/apps/{{appid}}/access_token (wrk -c 16), run {run}: {http_rps:.0f} rps; "
              f"redis-benchmark GET -c 16: {redis_rps:.0f} rps; ratio {ratios[-1]:.2f}")
    print(f"HTTP token read: median ratio {statistics.median(ratios):.2f} x redis-benchmark GET -c 16 (target >= 0.50)")


def print_scrapes(apps, modes, http_ports):
    """One line: the /metrics scrape of each metrics.per_app mode (worker index = mode index)."""
    figures = []
    for mode, port in zip(modes, http_ports):
        size, milliseconds = scrape(port)
        figures.append(f"{mode} {size / 1024:.0f} KiB in {milliseconds:.0f} ms")
    print(f"{apps} apps: GET /metrics by metrics.per_app: " + ", ".join(figures))


if __name__ == "__main__":
    main()
