"""One scenario's world (Redis, fake WeChat, workers, readers, sampler) and the figures computed from it.

Counting upstream calls "per app per token lifetime": a token lives `lifetime` s and is renewed
`effective ahead` = lifetime/4 (+ up to a tenth of that as jitter) before it expires, so a run needs one
call per *token*, not per `lifetime` seconds of wall clock. From the tokens the sampler saw in meta:

- the first token of an app, and every token whose issue window starts after its predecessor was due
  (`issued_min >= predecessor.expires_at - ahead - jitter window - 100 ms`), is a *needed* token;
- a token written before its predecessor was due (a forced refresh, a duplicate fetch) is not, nor is a
  call that never produced a stored token (a killed holder's, a failed or fenced-out one);
- a scheduled refresh that was due when the workers were stopped counts as needed (its call may be in
  flight, its write cancelled).

`excess = upstream calls (from /mock/stats) - needed tokens`; `calls per token = calls / needed`.
"""

import os
import resource
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field

from . import observe, procs

DUE_TOLERANCE_MS = 100


@dataclass
class AppFigures:
    appid: str
    calls: int = 0
    tokens: int = 0
    needed: int = 0
    early: int = 0
    pending: int = 0
    excess: int = 0
    gap_s: float = 0.0
    max_gap_s: float = 0.0
    unreachable_gap_s: float = 0.0
    gaps: list = field(default_factory=list)
    monotonic: bool = True
    returned_tokens: int = 0
    has_token: bool = False


@dataclass
class Figures:
    apps: int = 0
    workers: int = 0
    duration_s: float = 0.0
    calls: int = 0
    needed: int = 0
    excess: int = 0
    per_app: dict = field(default_factory=dict)
    readers: observe.ReaderCounts = None
    no_key_s: float = 0.0
    max_gap_s: float = 0.0
    monotonic: bool = True
    stop_wall: float = 0.0
    lifetime: int = 0

    @property
    def rejected(self):
        return self.readers.invalid + self.readers.expired

    @property
    def rejection_span(self):
        if not self.readers.rejections:
            return None
        return self.readers.rejections[0][0], self.readers.rejections[-1][0]

    def calls_per_token(self, appids=None):
        """(mean, max) of calls / needed tokens over apps that got a token."""
        ratios = [f.calls / f.needed for a, f in self.per_app.items()
                  if f.needed and (appids is None or a in appids)]
        if not ratios:
            return None, None
        return sum(ratios) / len(ratios), max(ratios)


class Harness:
    def __init__(self, suite, name, apps, *, workers=3, lifetime=8, overlap=2.5, derived_secrets=False,
                 mock_apps=None, worker_secrets=None, readers=4, reader_interval=0.02, sample_interval=0.02,
                 refresh=None, timeout=150.0, ahead_ms=300_000, redis_env=None, tickets=(), ticket_apps=None):
        """`apps`: the appids the workers serve. `mock_apps`: (appid, secret) the mock knows (default: each
        app with a random secret). `worker_secrets`: appid -> secret given to the workers (default: the
        mock's). `redis_env`: the environment redis-server runs in (default: ours), e.g. to fake its clock.
        `tickets`: the ticket types (`jsapi`, `wx_card`) kept for each of `ticket_apps` (default: every app)."""
        self.suite = suite
        self.name = name
        self.apps = list(apps)
        self.worker_count = workers
        self.lifetime = lifetime
        self.overlap = overlap
        self.derived_secrets = derived_secrets
        if mock_apps is None and not derived_secrets:
            mock_apps = [(appid, "chaos-" + uuid.uuid4().hex) for appid in self.apps]
        self.mock_apps = mock_apps or []
        secrets = dict(self.mock_apps)
        if derived_secrets:
            secrets = {appid: "secret-" + appid for appid in self.apps}
        secrets.update(worker_secrets or {})
        self.worker_secrets = secrets
        self.reader_threads = readers
        self.reader_interval = reader_interval
        self.sample_interval = sample_interval
        self.refresh = refresh
        self.redis_env = redis_env
        self.tickets = tuple(tickets)
        self.ticket_apps = ticket_apps
        self.deadline = time.monotonic() + timeout
        self.effective_ahead_ms = min(ahead_ms, lifetime * 1000 // 4)
        self.jitter_ms = self.effective_ahead_ms // 10
        self.lease_ttl_s = max(self.effective_ahead_ms // 3, 50) / 1000
        self.prefix = f"chaos-{name}-{uuid.uuid4().hex[:8]}"
        self.workdir = None
        self.redis = self.mock = self.workers = self.admin = self.sampler = self.readers = None
        self.t_start = None
        self.events = []  # (wall time, text) for the report's notes
        self.figures = None
        self.cpu = {}  # process group -> CPU seconds used during the scenario

    # Lifecycle

    def start(self):
        self.workdir = tempfile.mkdtemp(prefix=f"tokencentral-chaos-{self.name}-")
        registry = self.suite.registry
        self.redis = self.start_redis()
        self.mock = procs.WeChatMock(registry, self.workdir, self.suite.binary("wechat-mock"), self.lifetime,
                                     self.overlap, apps=self.mock_apps, derived_secrets=self.derived_secrets)
        self.mock.start()
        self.admin = observe.MockAdmin(self.mock.host, self.mock.port)
        self.sampler = self.new_sampler()
        self.sampler.start()
        self.workers = procs.Workers(registry, self.workdir, self.suite.binary("tokend"), self.redis.url, self.prefix,
                                     self.mock.url, [(a, self.worker_secrets[a]) for a in self.apps],
                                     self.worker_count, refresh=self.refresh, redis_lines=self.worker_redis_lines(),
                                     tickets=self.tickets, ticket_apps=self.ticket_apps)
        self.workers.start()
        self.t_start = time.time()
        self._harness_cpu_start = _own_cpu()
        if self.reader_threads:
            self.readers = self.new_readers()
            self.readers.start()

    def reader_apps(self):
        return self.apps

    # The Redis side, replaceable by a subclass (scripts/chaos/sentinel.py: a replicated Redis under Sentinel).

    def start_redis(self):
        server = procs.RedisServer(self.suite.registry, self.workdir, env=self.redis_env)
        server.start()
        return server

    def new_sampler(self):
        return observe.Sampler(self.redis.port, self.prefix, self.apps, interval=self.sample_interval)

    def new_readers(self):
        return observe.Readers(self.redis.port, self.mock.host, self.mock.port, self.prefix, self.reader_apps(),
                               threads=self.reader_threads, interval=self.reader_interval)

    def worker_redis_lines(self):
        """Extra lines of the workers' `redis:` section."""
        return []

    def cleanup(self, keep_dir=False):
        """Stops everything this scenario started (by PID) and removes its directory unless kept."""
        for observer in (self.readers, self.sampler):
            if observer is not None:
                try:
                    observer.stop()
                except Exception:  # noqa: BLE001 - cleanup must go on
                    pass
        if self.workers is not None:
            self.workers.stop()
        if self.mock is not None:
            self.mock.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.workdir and not keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # Waiting

    def check(self):
        if time.monotonic() > self.deadline:
            raise procs.HarnessError(f"scenario {self.name} exceeded its time limit")
        self.workers.check_alive()

    def sleep(self, seconds):
        end = time.monotonic() + seconds
        while True:
            self.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def wait_for(self, predicate, timeout, step=0.01):
        """Polls `predicate` until true (returns True) or `timeout` s (returns False)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.check()
            time.sleep(step)
        return bool(predicate())

    def note(self, text):
        self.events.append((time.time(), text))
        self.suite.log(f"  [{self.name} +{time.time() - self.t_start:5.1f}s] {text}")

    def wait_first_tokens(self, timeout=20.0, apps=None):
        apps = list(apps if apps is not None else self.apps)
        ok = self.wait_for(lambda: all(self.sampler.latest(a) is not None for a in apps), timeout, step=0.05)
        if not ok:
            missing = [a for a in apps if self.sampler.latest(a) is None]
            raise procs.HarnessError(f"{len(missing)} app(s) got no first token within {timeout} s "
                                     f"(e.g. {missing[:3]}); see {self.workdir}")
        return time.time()

    def wait_new_token(self, appid, timeout, since=None):
        """Waits for a token beyond the `since`-th seen (default: the current one); returns the first such
        token, or None on timeout. Pass `since=sampler.token_count(appid)` taken *before* an action whose
        effect may be faster than this call."""
        before = self.sampler.token_count(appid) if since is None else since
        if self.wait_for(lambda: self.sampler.token_count(appid) > before, timeout):
            with self.sampler.lock:
                return self.sampler.tracks[appid].tokens[before]
        return None

    def due_at(self, token):
        """Earliest wall time at which a scheduled refresh of `token` may start."""
        return (token.expires_at - self.effective_ahead_ms - self.jitter_ms) / 1000

    def lease_holder(self, appid, client=None):
        own = client is None
        client = client or self.redis.client()
        try:
            return client.get(f"{self.prefix}:{{{appid}}}:lock")
        finally:
            if own:
                client.close()

    # Finishing

    def quiesce(self, timeout=8.0):
        """Waits for a moment when no app is within 0.3 s of its refresh (so stopping the workers does not
        cut a scheduled call in half). Best effort: `pending` accounts for one that is."""
        def quiet():
            now_ms = time.time() * 1000
            for appid in self.apps:
                token = self.sampler.latest(appid)
                if token is None:
                    continue
                due = token.expires_at - self.effective_ahead_ms - self.jitter_ms - DUE_TOLERANCE_MS
                if now_ms >= due - 300:
                    return False
            return True
        return self.wait_for(quiet, timeout, step=0.02)

    def finish(self):
        """Stops readers, quiesces, stops the workers (SIGTERM), takes the last sample and the mock's
        counters, and computes the figures."""
        if self.readers is not None:
            self.readers.stop()
        self.quiesce()
        self.cpu = {
            "tokend workers": sum(_cpu_seconds(p) for p in self.workers.procs.values()),
            "redis-server": _cpu_seconds(self.redis.proc),
            "wechat-mock": _cpu_seconds(self.mock.proc),
            "chaos harness (readers, sampler)": _own_cpu() - self._harness_cpu_start,
        }
        stop_wall = time.time()
        self.workers.stop()
        time.sleep(max(0.1, 2 * self.sample_interval))
        self.sampler.stop()
        self.sampler.close_gaps(stop_wall)
        stats = self.admin.stats()
        self.figures = self._compute(stats, stop_wall)
        return self.figures

    def _compute(self, stats, stop_wall):
        fig = Figures(apps=len(self.apps), workers=self.worker_count, stop_wall=stop_wall, lifetime=self.lifetime)
        fig.duration_s = stop_wall - self.t_start
        fig.readers = self.readers.totals() if self.readers is not None else observe.ReaderCounts()
        app_stats = stats.get("apps", {})
        for appid in self.apps:
            track = self.sampler.tracks[appid]
            f = AppFigures(appid)
            f.calls = app_stats.get(appid, {}).get("token_calls", 0)
            f.tokens = len(track.tokens)
            f.has_token = bool(track.tokens)
            if track.tokens:
                f.needed = 1
                for prev, cur in zip(track.tokens, track.tokens[1:]):
                    due_floor = prev.expires_at - self.effective_ahead_ms - self.jitter_ms - DUE_TOLERANCE_MS
                    if cur.issued_min >= due_floor:
                        f.needed += 1
                    else:
                        f.early += 1
                    if cur.generation > prev.generation + 1:
                        f.early += cur.generation - prev.generation - 1  # tokens never seen: written and replaced
                last = track.tokens[-1]
                if stop_wall * 1000 >= last.expires_at - self.effective_ahead_ms - self.jitter_ms - DUE_TOLERANCE_MS:
                    f.pending = 1
                    f.needed += 1
            f.excess = f.calls - f.needed
            f.gaps = [(s, min(e, stop_wall), u) for s, e, u in track.gaps if s < stop_wall]
            f.gap_s = sum(e - s for s, e, _ in f.gaps)
            f.unreachable_gap_s = sum(e - s for s, e, u in f.gaps if u)
            f.max_gap_s = max((e - s for s, e, _ in f.gaps), default=0.0)
            f.monotonic = not track.regressions
            f.returned_tokens = len(track.returned_tokens)
            fig.per_app[appid] = f
            fig.calls += f.calls
            fig.needed += f.needed
            fig.excess += f.excess
            fig.no_key_s += f.gap_s
            fig.max_gap_s = max(fig.max_gap_s, f.max_gap_s)
            fig.monotonic = fig.monotonic and f.monotonic
        return fig


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_seconds(proc):
    """utime + stime of a running child, from /proc (0 once it has exited)."""
    try:
        with open(f"/proc/{proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, AttributeError):
        return 0.0
