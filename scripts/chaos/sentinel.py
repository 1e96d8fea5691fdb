"""Redis failover under Sentinel: one primary, one replica, three redis-sentinel processes (quorum 2), the
workers and the readers all finding the primary through the sentinels; the primary is killed (kill -9) twice.

Sentinel is tuned to fail over in seconds (down-after-milliseconds 1000, failover-timeout 3000; production
defaults are 30 s and 3 min), so the figures measure the clients, not Sentinel's patience.
"""

import http.client
import json
import os
import time
import urllib.parse

import redis
import redis.sentinel

from . import observe, procs
from .harness import Harness
from .procs import HarnessError

MASTER = "chaos"


class ReplicatedRedis:
    """Two redis-server nodes (the first starts as primary) and three sentinels watching them."""

    def __init__(self, registry, workdir):
        self.registry = registry
        self.workdir = workdir
        self.nodes = []
        for index in range(2):
            directory = os.path.join(workdir, f"node-{index}")
            os.makedirs(directory)
            self.nodes.append(procs.RedisServer(registry, directory))
        self.sentinel_ports = [procs.free_port() for _ in range(3)]
        self.sentinel_procs = []
        self._sentinel = None

    # What Harness and the scenario use

    @property
    def url(self):
        """The workers' redis.url: with redis.sentinel it gives only credentials and db."""
        return f"redis://{MASTER}/0"

    @property
    def addresses(self):
        return [("127.0.0.1", port) for port in self.sentinel_ports]

    def worker_lines(self):
        listed = ", ".join(f'"{host}:{port}"' for host, port in self.addresses)
        return ["  sentinel:", f"    master: {MASTER}", f"    addresses: [{listed}]"]

    def client(self, timeout=2.0):
        """A client of the primary, through the sentinels (redis-py asks them again after a failure)."""
        return self.sentinel().master_for(MASTER, socket_timeout=timeout, socket_connect_timeout=timeout,
                                          decode_responses=True)

    def sentinel(self):
        if self._sentinel is None:
            self._sentinel = redis.sentinel.Sentinel(self.addresses, socket_timeout=0.5,
                                                     sentinel_kwargs={"socket_timeout": 0.5})
        return self._sentinel

    @property
    def proc(self):
        node = self.node_at(self.primary_port())
        return node.proc if node else None

    # Lifecycle

    def start(self):
        primary, replica = self.nodes
        self._start_node(primary)
        self._start_node(replica)
        replica.client().execute_command("REPLICAOF", "127.0.0.1", primary.port)
        self.wait_in_sync(replica)
        for index, port in enumerate(self.sentinel_ports):
            config = os.path.join(self.workdir, f"sentinel-{index}.conf")
            with open(config, "w") as out:
                out.write(f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                          f"sentinel monitor {MASTER} 127.0.0.1 {primary.port} 2\n"
                          f"sentinel down-after-milliseconds {MASTER} 1000\n"
                          f"sentinel failover-timeout {MASTER} 3000\n")
            self.sentinel_procs.append(self.registry.spawn(
                f"redis-sentinel-{index}", ["redis-sentinel", config], os.path.join(self.workdir, f"sentinel-{index}.log")))
        self.wait_sentinels_agree(timeout=20)

    def stop(self):
        self.registry.stop(self.sentinel_procs + [node.proc for node in self.nodes])

    # Faults and waiting

    def primary_port(self):
        for host, port in self.addresses:
            client = redis.Redis(host=host, port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                reply = client.execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
                if reply:
                    return int(reply[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        return None

    def node_at(self, port):
        return next((node for node in self.nodes if node.port == port), None)

    def kill_primary(self):
        """kill -9 of the node the sentinels name primary; returns its port."""
        port = self.primary_port()
        node = self.node_at(port)
        if node is None:
            raise HarnessError(f"the sentinels name port {port}, which is no node of this scenario")
        node.kill()
        return port

    def wait_failover(self, old_port, timeout=20.0):
        """Waits until the sentinels name another node and it says role:master; returns (port, wall time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            port = self.primary_port()
            if port is not None and port != old_port and self._role(port) == "master":
                return port, time.time()
            time.sleep(0.02)
        raise HarnessError(f"no new primary within {timeout} s of the primary on port {old_port} dying")

    def restart_as_replica(self, port, primary_port):
        """Starts a killed node again (empty) as a replica of the primary, as an operator would, and waits
        until it is in sync and every sentinel counts it as a healthy replica again."""
        node = self.node_at(port)
        self._start_node(node)
        node.client().execute_command("REPLICAOF", "127.0.0.1", primary_port)
        self.wait_in_sync(node)
        self.wait_sentinels_agree(timeout=30)

    @staticmethod
    def _start_node(node):
        node.start()
        # A full sync starts at once instead of after Redis 7's 5 s wait for more replicas.
        node.client().config_set("repl-diskless-sync-delay", 0)

    def wait_in_sync(self, node, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._info(node.port).get("master_link_status") == "up":
                return
            time.sleep(0.05)
        raise HarnessError(f"the replica on port {node.port} did not sync within {timeout} s")

    def wait_sentinels_agree(self, timeout):
        """Every sentinel knows the two others and one replica that is up (so it can fail over)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._sentinel_ready(port) for port in self.sentinel_ports):
                return
            time.sleep(0.1)
        raise HarnessError(f"the sentinels did not agree on a primary with a healthy replica within {timeout} s")

    def _sentinel_ready(self, port):
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, decode_responses=True)
        try:
            master = client.execute_command("SENTINEL", "MASTER", MASTER)
            fields = dict(zip(master[::2], master[1::2])) if isinstance(master, list) else master
            replicas = [dict(zip(r[::2], r[1::2])) if isinstance(r, list) else r
                        for r in client.execute_command("SENTINEL", "REPLICAS", MASTER)]
            # Seen up (flags exactly "slave") and in sync by the sentinel's own INFO of it: a replica it
            # has not looked at since it came back would not be chosen for a failover.
            healthy = [r for r in replicas if r.get("flags") == "slave" and r.get("master-link-status") == "ok"]
            return str(fields.get("num-other-sentinels")) == "2" and len(healthy) >= 1
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _info(self, port):
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.5,
                             decode_responses=True)
        try:
            return client.info("replication")
        except redis.RedisError:
            return {}
        finally:
            client.close()

    def _role(self, port):
        return self._info(port).get("role")


class SentinelSampler(observe.Sampler):
    def __init__(self, replicated, *args, **kwargs):
        self.replicated = replicated
        super().__init__(None, *args, **kwargs)

    def _connect(self):
        self._client = self.replicated.client(timeout=0.5)


class SentinelReaders(observe.Readers):
    def __init__(self, replicated, *args, **kwargs):
        self.replicated = replicated
        super().__init__(None, *args, **kwargs)

    def connect(self):
        return self.replicated.client(timeout=1)


class SentinelHarness(Harness):
    """A `Harness` whose Redis is a `ReplicatedRedis` and whose workers, readers and sampler use Sentinel."""

    def start_redis(self):
        replicated = ReplicatedRedis(self.suite.registry, self.workdir)
        replicated.start()
        return replicated

    def new_sampler(self):
        return SentinelSampler(self.redis, self.prefix, self.apps, interval=self.sample_interval)

    def new_readers(self):
        return SentinelReaders(self.redis, self.mock.host, self.mock.port, self.prefix, self.reader_apps(),
                               threads=self.reader_threads, interval=self.reader_interval)

    def worker_redis_lines(self):
        return self.redis.worker_lines()


def _is_last_issued(h, appid, token):
    """WeChat (the mock) accepts a superseded token only for `overlap` s: a token that still works once that
    long has passed since the last upstream call is the last one issued."""
    calls = h.admin.token_calls(appid)
    h.sleep(h.overlap + 0.5)
    if h.admin.token_calls(appid) != calls:
        return None  # another token was issued meanwhile: no verdict
    conn = http.client.HTTPConnection(h.mock.host, h.mock.port, timeout=5)
    try:
        conn.request("GET", "/cgi-bin/getcallbackip?access_token=" + urllib.parse.quote(token, safe=""))
        return json.loads(conn.getresponse().read()).get("errcode", 0) == 0
    finally:
        conn.close()


def _failover(h, res, appid, label, kill, windows):
    """kill() the primary, then measure: promotion, workers subscribed on the new primary, the first token
    write after the kill, and whether the token in Redis then is the last one WeChat issued."""
    from .scenarios import _numsub

    since = h.sampler.token_count(appid)
    old_port, killed_at = kill()
    h.note(f"{label}: kill -9 of the primary on port {old_port}")
    new_port, promoted_at = h.redis.wait_failover(old_port)
    client = h.redis.client()
    try:
        channel = f"{h.prefix}:refresh"
        subscribed = h.wait_for(lambda: _numsub(client, channel) >= h.worker_count, timeout=15, step=0.02)
        subscribed_at = time.time()
        new = h.wait_new_token(appid, timeout=h.lifetime, since=since)
        if new is None:
            res.fail(f"{label}: no token written within {h.lifetime} s of the kill")
            return None
        written_at = new.seen
        current = client.get(f"{h.prefix}:{{{appid}}}:access_token")
    finally:
        client.close()
    last = _is_last_issued(h, appid, current) if current else False
    windows.append((killed_at, written_at + 0.5))
    res.note(f"{label}: new primary (port {new_port}) named {promoted_at - killed_at:.2f} s after the kill; "
             f"all {h.worker_count} workers subscribed on it after {subscribed_at - killed_at:.2f} s"
             f"{'' if subscribed else ' (NOT within 15 s)'}; first write (generation {new.generation} by "
             f"{new.worker}) {written_at - killed_at:.2f} s after the kill; token in Redis then is the last "
             f"WeChat issued: {'yes' if last else ('no' if last is False else 'no verdict')}")
    if not subscribed:
        res.fail(f"{label}: the workers did not all subscribe on the new primary within 15 s")
    if last is False:
        res.fail(f"{label}: the token in Redis after the failover is not the last one WeChat issued")
    return old_port, new_port


def sentinel_failover(ctx):
    """Replicated Redis under Sentinel (1 primary, 1 replica, 3 redis-sentinel, quorum 2; detection after 1 s),
    3 workers and 4 readers that all find the primary through the sentinels, 30 s tokens. kill -9 of the
    primary twice: in steady state (0.5 s before a refresh is due, so that the refresh needs the new primary)
    and while a refresh's upstream call is in flight (2 s latency). Measured: seconds until the workers write
    again, reader errors, extra upstream calls, and whether the token in Redis after each failover is the last
    one WeChat issued."""
    from .scenarios import APP, holder_during_call, judge

    res = ctx.result
    h = SentinelHarness(ctx.suite, "sentinel", [APP], lifetime=30, timeout=240)
    ctx.harnesses.append(h)
    h.start()
    h.wait_first_tokens()
    first = h.sampler.latest(APP)
    windows = []

    def kill_in_steady_state():
        h.sleep(max(0.0, h.due_at(first) - 0.5 - time.time()))
        return h.redis.kill_primary(), time.time()

    ports = _failover(h, res, APP, "steady state", kill_in_steady_state, windows)
    if ports is None:
        h.finish()
        return
    old_port, new_port = ports
    h.redis.restart_as_replica(old_port, new_port)
    h.note(f"port {old_port} back as a replica of {new_port}, in sync; sentinels agree")
    errors_before = h.readers.totals().redis_errors

    def kill_in_flight():
        lease, worker_id, _ = holder_during_call(h, APP, latency_ms=2000)
        h.note(f"refresh in flight: {worker_id} holds {lease!r}")
        return h.redis.kill_primary(), time.time()

    _failover(h, res, APP, "in flight", kill_in_flight, windows)
    h.sleep(3)
    fig = h.finish()
    res.note(f"reader errors: {fig.readers.redis_errors} Redis errors of {fig.readers.requests + fig.readers.no_key + fig.readers.redis_errors} "
             f"reads ({errors_before} in the first failover), {fig.readers.invalid + fig.readers.expired} "
             f"rejected tokens, {fig.readers.no_key} reads without a key")
    res.note(f"upstream calls: {fig.calls} for {fig.needed} needed tokens: {fig.excess} extra")
    judge(res, h, fig, allowed_excess=2, windows=windows, max_gap_s=max((e - s for s, e in windows), default=0.0))
