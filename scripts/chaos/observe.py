"""What a scenario watches: the mock's admin API, business-reader simulators and the Redis sampler.

All times are wall-clock seconds (`time.time()`), the clock Redis' `TIME` uses on this machine, so they
compare directly with the unix-millisecond fields of `P:{APPID}:meta`.
"""

import http.client
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import redis


class MockAdmin:
    """The `/mock/...` admin API of wechat-mock."""

    def __init__(self, host, port):
        self.host = host
        self.port = port

    def _request(self, method, path, body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:200]!r}")
            return json.loads(data) if data else None
        finally:
            conn.close()

    def stats(self):
        return self._request("GET", "/mock/stats")

    def token_calls(self, appid):
        return self._request("GET", f"/mock/stats/{urllib.parse.quote(appid)}").get("token_calls", 0)

    def ticket_counts(self, appid):
        """(`getticket` calls, new tickets issued) for `appid`."""
        stats = self._request("GET", f"/mock/stats/{urllib.parse.quote(appid)}")
        return stats.get("ticket_calls", 0), stats.get("tickets_issued", 0)

    def fault(self, kind, appid=None, count=-1, errcode=None, latency_ms=None):
        body = {"kind": kind, "count": count}
        if appid is not None:
            body["appid"] = appid
        if errcode is not None:
            body["errcode"] = errcode
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        self._request("POST", "/mock/faults", body)

    def clear_faults(self):
        self._request("DELETE", "/mock/faults")

    def errcode(self, token):
        """What a WeChat business API answers for `token` (getcallbackip): 0, 40001 or 42001."""
        return self._request("GET", "/cgi-bin/getcallbackip?access_token=" + urllib.parse.quote(token, safe="")).get("errcode", 0)

    def revoke(self, appid):
        """Invalidates the app's current token at once (readers get 40001), as a secret reset does."""
        self._request("POST", f"/mock/apps/{urllib.parse.quote(appid)}/revoke")


@dataclass
class ReaderCounts:
    requests: int = 0  # validations (getcallbackip) made with a token read from Redis
    ok: int = 0
    invalid: int = 0  # 40001
    expired: int = 0  # 42001
    other: int = 0
    no_key: int = 0  # GET returned nothing
    redis_errors: int = 0
    http_errors: int = 0
    published: int = 0
    rejections: list = field(default_factory=list)  # (wall time, appid, errcode)

    def add(self, other):
        for name in ("requests", "ok", "invalid", "expired", "other", "no_key", "redis_errors", "http_errors",
                     "published"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)


class Readers:
    """Business-server simulators: GET the token, call getcallbackip with it, and on 40001/42001 publish
    `{"appid","bad_token"}` on `P:refresh`, as docs/redis-contract.md asks business servers to do."""

    def __init__(self, redis_port, mock_host, mock_port, prefix, appids, threads=4, interval=0.02):
        self.redis_port = redis_port
        self.mock_host = mock_host
        self.mock_port = mock_port
        self.prefix = prefix
        self.appids = list(appids)
        self.interval = interval
        self.stop_event = threading.Event()
        self.counts = [ReaderCounts() for _ in range(threads)]
        self.threads = [threading.Thread(target=self._run, args=(i,), name=f"reader-{i}", daemon=True)
                        for i in range(threads)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def totals(self):
        total = ReaderCounts()
        for counts in self.counts:
            total.add(counts)
        total.rejections.sort()
        return total

    def connect(self):
        """One reader's Redis client."""
        return redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1, socket_connect_timeout=1,
                           decode_responses=True)

    def _run(self, index):
        counts = self.counts[index]
        rng = random.Random(index)
        client = self.connect()
        conn = http.client.HTTPConnection(self.mock_host, self.mock_port, timeout=5)
        stop = self.stop_event
        while not stop.is_set():
            appid = self.appids[rng.randrange(len(self.appids))]
            try:
                token = client.get(f"{self.prefix}:{{{appid}}}:access_token")
            except redis.RedisError:
                counts.redis_errors += 1
                stop.wait(0.05)
                continue
            if token is None:
                counts.no_key += 1
                stop.wait(self.interval)
                continue
            try:
                conn.request("GET", "/cgi-bin/getcallbackip?access_token=" + urllib.parse.quote(token, safe=""))
                response = conn.getresponse()
                body = response.read()
                errcode = json.loads(body).get("errcode", 0)
            except (OSError, http.client.HTTPException, ValueError):
                counts.http_errors += 1
                conn.close()
                conn = http.client.HTTPConnection(self.mock_host, self.mock_port, timeout=5)
                stop.wait(0.05)
                continue
            counts.requests += 1
            if errcode == 0:
                counts.ok += 1
            elif errcode in (40001, 42001):
                if errcode == 40001:
                    counts.invalid += 1
                else:
                    counts.expired += 1
                counts.rejections.append((time.time(), appid, errcode))
                try:
                    client.publish(f"{self.prefix}:refresh", json.dumps({"appid": appid, "bad_token": token}))
                    counts.published += 1
                except redis.RedisError:
                    counts.redis_errors += 1
            else:
                counts.other += 1
            stop.wait(self.interval)
        conn.close()
        client.close()


@dataclass
class TokenObs:
    """A token as first seen in `P:{APPID}:meta`."""
    seen: float
    generation: int
    token: str
    expires_at: int  # unix ms
    issued_min: int
    issued_max: int
    worker: str


@dataclass
class AppTrack:
    appid: str
    first_key: float = None  # when the token key first existed
    in_gap: bool = False
    gap_start: float = None
    gap_unreachable: bool = False
    gaps: list = field(default_factory=list)  # (start, end, unreachable) after the first key
    tokens: list = field(default_factory=list)  # TokenObs, each distinct token once, in order seen
    seen_tokens: set = field(default_factory=set)
    max_generation: int = 0
    regressions: list = field(default_factory=list)  # (time, previous max generation, generation seen)
    returned_tokens: list = field(default_factory=list)  # (time, generation): an older token came back
    refresh_requested: list = field(default_factory=list)  # times meta carried refresh_requested
    last_meta: dict = field(default_factory=dict)


class Sampler(threading.Thread):
    """Every `interval` s, in one pipeline: does each app's token key exist, and what does its meta say.
    Records gaps without a key (after the first key), each distinct token, and generation regressions."""

    META_FIELDS = ("generation", "token", "expires_at", "issued_min", "issued_max", "worker", "refresh_requested",
                   "errcode", "error")

    def __init__(self, redis_port, prefix, appids, interval=0.02):
        super().__init__(name="sampler", daemon=True)
        self.redis_port = redis_port
        self.prefix = prefix
        self.appids = list(appids)
        self.interval = interval
        self.tracks = {appid: AppTrack(appid) for appid in self.appids}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.samples = 0
        self.unreachable_samples = 0
        self.last_sample = 0.0
        self._client = None

    def _connect(self):
        self._client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1,
                                   socket_connect_timeout=0.5, decode_responses=True)

    def run(self):
        self._connect()
        while not self.stop_event.is_set():
            started = time.monotonic()
            self.sample_once()
            self.stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))
        self.sample_once()
        self._client.close()

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)

    def sample_once(self):
        pipe = self._client.pipeline(transaction=False)
        for appid in self.appids:
            pipe.exists(f"{self.prefix}:{{{appid}}}:access_token")
            pipe.hmget(f"{self.prefix}:{{{appid}}}:meta", *self.META_FIELDS)
        try:
            replies = pipe.execute()
            reachable = True
        except redis.RedisError:
            replies = None
            reachable = False
            try:
                self._client.close()
            except redis.RedisError:
                pass
            self._connect()
        now = time.time()
        with self.lock:
            self.samples += 1
            self.last_sample = now
            if not reachable:
                self.unreachable_samples += 1
            for index, appid in enumerate(self.appids):
                track = self.tracks[appid]
                if reachable:
                    exists = bool(replies[2 * index])
                    self._meta(track, now, dict(zip(self.META_FIELDS, replies[2 * index + 1])))
                else:
                    exists = False
                self._presence(track, now, exists, reachable)

    @staticmethod
    def _presence(track, now, exists, reachable):
        if exists:
            if track.first_key is None:
                track.first_key = now
            if track.in_gap:
                track.gaps.append((track.gap_start, now, track.gap_unreachable))
                track.in_gap = False
        elif track.first_key is not None:
            if not track.in_gap:
                track.in_gap = True
                track.gap_start = now
                track.gap_unreachable = not reachable
            elif not reachable:
                track.gap_unreachable = True

    @staticmethod
    def _meta(track, now, meta):
        track.last_meta = meta
        if meta.get("refresh_requested"):
            track.refresh_requested.append(now)
        token = meta.get("token")
        try:
            generation = int(meta.get("generation") or 0)
        except ValueError:
            generation = 0
        if not token or not generation:
            return
        if generation < track.max_generation:
            track.regressions.append((now, track.max_generation, generation))
        track.max_generation = max(track.max_generation, generation)
        if track.tokens and track.tokens[-1].token == token:
            return
        if token in track.seen_tokens:
            track.returned_tokens.append((now, generation))
            return
        track.seen_tokens.add(token)
        track.tokens.append(TokenObs(
            seen=now, generation=generation, token=token, expires_at=int(meta.get("expires_at") or 0),
            issued_min=int(meta.get("issued_min") or 0), issued_max=int(meta.get("issued_max") or 0),
            worker=meta.get("worker") or ""))

    # Views for scenarios (thread-safe copies).

    def latest(self, appid):
        with self.lock:
            tokens = self.tracks[appid].tokens
            return tokens[-1] if tokens else None

    def token_count(self, appid):
        with self.lock:
            return len(self.tracks[appid].tokens)

    def apps_with_key(self):
        with self.lock:
            return sum(1 for track in self.tracks.values() if track.first_key is not None)

    def key_present(self, appid):
        with self.lock:
            track = self.tracks[appid]
            return track.first_key is not None and not track.in_gap

    def meta(self, appid):
        with self.lock:
            return dict(self.tracks[appid].last_meta)

    def close_gaps(self, now):
        """Ends open gaps at `now` (called once sampling stopped)."""
        with self.lock:
            for track in self.tracks.values():
                if track.in_gap:
                    track.gaps.append((track.gap_start, now, track.gap_unreachable))
                    track.in_gap = False
