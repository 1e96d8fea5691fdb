#!/usr/bin/env python3
"""Gateway figures for `make bench`: what going through a worker's gateway costs next to calling
wechat-mock directly, in the same run.

Against $REDIS_URL (run through scripts/with-redis.sh): starts wechat-mock and one tokend worker with
the gateway on (from --bin-dir), then runs wrk on GET /cgi-bin/getcallbackip (a call that validates the
token) directly and through the gateway: latency p50/p99 with one connection, requests per second with
16. Stops everything it started, by PID.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request

from bench_processes import BenchProcesses

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, connections, seconds):
    """wrk's latency percentiles (ms) and requests per second."""
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    percentiles = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    if re.search(r"Non-2xx", out):
        sys.exit(f"wrk saw errors on {url}:\n{out}")
    return percentiles, float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, open(os.path.join(workdir, "log"), "w") as log:
        processes = BenchProcesses(args.bin_dir, log)
        try:
            mock = processes.start_mock("--app", "wxgateway:bench-secret", "--lifetime", "7200")
            port = int(subprocess.check_output(["scripts/free-port.sh"], text=True))
            processes.start_worker(
                os.path.join(workdir, "tokend.yaml"),
                f"redis: {{url: '{os.environ['REDIS_URL']}', key_prefix: gatewaybench}}\n"
                f"upstream: {{wechat_base_url: '{mock}', timeout: 5s}}\nworker: {{id: gw0}}\n"
                f"http: {{host: 127.0.0.1, port: {port}}}\ngateway: {{enabled: true}}\n"
                "apps:\n  - {appid: wxgateway, secret_env: GATEWAY_BENCH_SECRET}\n",
                env={**os.environ, "GATEWAY_BENCH_SECRET": "bench-secret"})
            worker = f"http://127.0.0.1:{port}"
            deadline = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{worker}/cgi-bin/token?grant_type=client_credential"
                                                f"&appid=wxgateway&secret=bench-secret", timeout=2) as response:
                        token = json.load(response).get("access_token")
                    if token:
                        break
                except OSError:
                    pass
                if time.time() > deadline:
                    sys.exit("the worker had no token after 30 s")
                time.sleep(0.1)
            path = f"/cgi-bin/getcallbackip?access_token={token}"
            direct, _ = wrk(mock + path, 1, args.seconds)
            through, _ = wrk(worker + path, 1, args.seconds)
            _, direct_rps = wrk(mock + path, 16, args.seconds)
            _, through_rps = wrk(worker + path, 16, args.seconds)
            print(f"gateway, GET /cgi-bin/getcallbackip (wrk -c 1): p50 {through['50']:.2f} ms vs {direct['50']:.2f} ms direct "
                  f"({through['50'] - direct['50']:+.2f} ms), p99 {through['99']:.2f} ms vs {direct['99']:.2f} ms direct "
                  f"({through['99'] - direct['99']:+.2f} ms)")
            print(f"gateway, wrk -c 16: {through_rps:.0f} rps through the gateway, {direct_rps:.0f} rps direct; "
                  f"ratio {through_rps / direct_rps:.2f}")
        finally:
            processes.stop()


if __name__ == "__main__":
    main()
