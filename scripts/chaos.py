#!/usr/bin/env python3
"""TokenCentral chaos suite: fault injection against real tokend workers on one machine.

For each scenario: a private redis-server (free loopback port, temporary directory, no persistence),
wechat-mock with 8 s tokens, three tokend workers with generated configuration, business-reader simulators
and a Redis sampler; then the fault (kill -9 / SIGSTOP of the lease holder, FLUSHALL, Redis restart or
outage, upstream errors, a forced-refresh storm, 1,000 apps...), then the figures and a verdict.

Only processes this script started are ever signalled, by PID; they are stopped on success, failure,
Ctrl-C or SIGTERM (and die with the script even on kill -9, via setpriv --pdeathsig when available).

Usage:
  python3 scripts/chaos.py                      # everything (~7 min), writes docs/RESULTS.md
  python3 scripts/chaos.py --short              # steady, kill, pause, flush, storm (~1.5 min), writes nothing
  python3 scripts/chaos.py --only kill,pause    # a selection
  python3 scripts/chaos.py --bin-dir .build/debug --results /tmp/RESULTS.md

Needs redis-server, redis-sentinel (the sentinel scenario) and redis-py (Debian python3-redis:
scripts/ensure-deps.sh python3-redis redis-sentinel) and the tokend and wechat-mock binaries
(swift build -c release --product tokend; ... --product wechat-mock).
Prints `N passed, N failed` last and exits 1 if any scenario failed (2 on a usage or setup error).
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _import_redis():
    """redis-py comes from the Debian package, which only /usr/bin/python3 sees: install it if missing, and
    re-run under the system interpreter when this one (pyenv, venv) cannot import it."""
    try:
        import redis  # noqa: F401
        return
    except ImportError:
        pass
    subprocess.run([os.path.join(ROOT, "scripts", "ensure-deps.sh"), "python3-redis"], check=False)
    try:
        import redis  # noqa: F401,F811
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system) \
            and not os.environ.get("CHAOS_REEXEC"):
        os.environ["CHAOS_REEXEC"] = "1"
        os.execv(system, [system] + sys.argv)
    sys.exit("chaos: cannot import redis (redis-py); install python3-redis (scripts/ensure-deps.sh python3-redis)")


def parse_arguments(names):
    parser = argparse.ArgumentParser(
        description="Fault-injection suite for tokend (private Redis and fake WeChat, loopback only).")
    parser.add_argument("--bin-dir", default=".build/release",
                        help="directory with tokend and wechat-mock (default .build/release)")
    parser.add_argument("--short", action="store_true",
                        help="steady, kill, pause, flush and storm with small numbers (< 3 min); "
                             "writes no report unless --results is given")
    parser.add_argument("--results", default=None,
                        help="write the Markdown report here (default docs/RESULTS.md; none with --short or --only)")
    parser.add_argument("--only", default=None, help=f"comma-separated scenarios: {', '.join(names)}")
    parser.add_argument("--keep", action="store_true",
                        help="keep every scenario's directory (configs, logs); failed ones are always kept")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return parser.parse_args()


class Suite:
    """What scenarios share: the process registry, the binaries, logging."""

    def __init__(self, registry, bin_dir):
        self.registry = registry
        self.bin_dir = bin_dir

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    @staticmethod
    def log(text):
        print(text, flush=True)


def snapshot_binaries(bin_dir, names, attempts=5):
    """Copies the binaries to a private directory, so a concurrent `swift build` relinking them cannot break
    a run half-way ("Text file busy") or mix two builds in one report. Each copy must answer --help."""
    target = tempfile.mkdtemp(prefix="tokencentral-chaos-bin-")
    info = {}
    for name in names:
        source = os.path.join(bin_dir, name)
        for attempt in range(attempts):
            copy = os.path.join(target, name)
            shutil.copy2(source, copy)
            try:
                ok = subprocess.run([copy, "--help"], capture_output=True, timeout=60).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if ok:
                info[name] = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(source).st_mtime))
                break
            time.sleep(3)  # probably being relinked right now
        else:
            shutil.rmtree(target, ignore_errors=True)
            raise SystemExit(f"chaos: {source} does not run (--help failed {attempts} times)")
    return target, info


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main():
    _import_redis()
    import redis

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from chaos import procs, report
    from chaos.scenarios import SCENARIOS, Context, Result

    names = [s.name for s in SCENARIOS]
    args = parse_arguments(names)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:18} {'short ' if scenario.short else '      '}{scenario.title}")
        return 0
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(f"chaos: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr)
            return 2
        selected = [s for s in SCENARIOS if s.name in wanted]
    else:
        selected = [s for s in SCENARIOS if s.short or not args.short]
    # A partial run (--short, --only) never overwrites the full report unless asked to.
    results_path = args.results if args.results is not None else (
        None if args.short or args.only else "docs/RESULTS.md")

    bin_dir = args.bin_dir if os.path.isabs(args.bin_dir) else os.path.join(os.getcwd(), args.bin_dir)
    if not os.path.isdir(bin_dir) and not os.path.isabs(args.bin_dir):
        bin_dir = os.path.join(ROOT, args.bin_dir)
    missing = [b for b in ("tokend", "wechat-mock") if not os.access(os.path.join(bin_dir, b), os.X_OK)]
    if missing:
        print(f"chaos: {', '.join(missing)} not found in {bin_dir}; build them first: "
              "swift build -c release --product tokend && swift build -c release --product wechat-mock",
              file=sys.stderr)
        return 2
    if subprocess.run(["sh", "-c", "command -v redis-server"], capture_output=True).returncode != 0:
        subprocess.run([os.path.join(ROOT, "scripts", "ensure-deps.sh")], check=False)

    command = "python3 scripts/chaos.py" + "".join(" " + shlex.quote(a) for a in sys.argv[1:])
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    # Explicitly: a shell without job control starts background commands with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)

    private_bin, built = snapshot_binaries(bin_dir, ["tokend", "wechat-mock"])
    registry = procs.Registry()
    suite = Suite(registry, private_bin)
    results = []
    started = time.time()
    interrupted = False
    try:
        for scenario in selected:
            result = Result(scenario.name, scenario.title, description=scenario.run.__doc__ or "")
            ctx = Context(suite, result, args.short)
            suite.log(f"== {scenario.name}: {scenario.title}")
            begun = time.time()
            try:
                scenario.run(ctx)
            except procs.HarnessError as error:
                result.fail(f"harness: {error}")
            except redis.RedisError as error:
                result.fail(f"harness: Redis error in the harness: {error!r}")
            finally:
                failed = bool(result.reasons)
                for harness in ctx.harnesses:
                    result.workdir = harness.workdir
                    harness.cleanup(keep_dir=failed or args.keep)
            result.passed = not result.reasons
            result.elapsed_s = time.time() - begun
            results.append(result)
            verdict = "PASS" if result.passed else "FAIL"
            suite.log(f"   {verdict} in {result.elapsed_s:.0f} s")
            for note in result.notes:
                suite.log(f"   - {note}")
            for reason in result.reasons:
                suite.log(f"   ! {reason}")
            if not result.passed and result.workdir:
                suite.log(f"   logs and configs kept in {result.workdir}")
    except (KeyboardInterrupt, SystemExit) as stop:
        interrupted = True
        suite.log(f"chaos: interrupted ({type(stop).__name__}); stopping everything it started")
    finally:
        registry.stop_all()
        shutil.rmtree(private_bin, ignore_errors=True)

    elapsed = time.time() - started
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    if results:
        print()
        print(report.console_table(results))
        print()
        print(f"total runtime {elapsed:.0f} s")
    if results_path and results and not interrupted:
        path = results_path if os.path.isabs(results_path) else os.path.join(os.getcwd(), results_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shown_bin = os.path.relpath(bin_dir, os.getcwd()) if bin_dir.startswith(os.getcwd()) else bin_dir
        with open(path, "w") as out:
            out.write(report.markdown(results, command=command, bin_dir=shown_bin, built=built, started=started,
                                      elapsed_s=elapsed, short=args.short, passed=passed, failed=failed))
        print(f"report written to {results_path}")
    if interrupted:
        print(f"{passed} passed, {failed + 1} failed")
        return 130
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
