"""The processes a scenario starts: a private redis-server, wechat-mock and tokend workers.

Every process is started here and recorded by PID in a `Registry`; only those PIDs are ever signalled.
Children run in their own session (a Ctrl-C in the terminal reaches only this script, whose cleanup stops
them) and, where `setpriv` supports it, with a parent-death signal, so even a `kill -9` of the suite does
not leave them running.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import redis


class HarnessError(Exception):
    """The harness could not set up or drive a scenario (not a product failure)."""


def free_port():
    """A TCP port free on 127.0.0.1 right now (same method as scripts/free-port.sh)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pdeathsig_prefix():
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return []
    try:
        out = subprocess.run([setpriv, "--help"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [setpriv, "--pdeathsig", "KILL"] if "--pdeathsig" in out else []


class Registry:
    """Every child process of the suite, by PID. Signals go only to PIDs recorded here and still unreaped
    (an unreaped child keeps its PID, so it cannot have been reused by another process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._procs = {}  # pid -> (name, Popen)
        self._prefix = _pdeathsig_prefix()

    def spawn(self, name, argv, log_path, env=None):
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                self._prefix + list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        with self._lock:
            self._procs[proc.pid] = (name, proc)
        return proc

    def alive(self, proc):
        return proc.poll() is None

    def signal(self, proc, sig):
        """Sends `sig` to a process this registry started, if it has not exited."""
        with self._lock:
            known = self._procs.get(proc.pid, (None, None))[1] is proc
        if known and proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, procs, grace=5.0):
        """SIGCONT (in case it is stopped) and SIGTERM, then SIGKILL whatever is left after `grace` s."""
        procs = [p for p in procs if p is not None]
        for proc in procs:
            self.signal(proc, signal.SIGCONT)
            self.signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in procs:
            if proc.poll() is None:
                self.kill9(proc)
        with self._lock:
            for proc in procs:
                if proc.poll() is not None:
                    self._procs.pop(proc.pid, None)

    def kill9(self, proc):
        self.signal(proc, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        with self._lock:
            self._procs.pop(proc.pid, None)

    def stop_all(self, grace=5.0):
        with self._lock:
            procs = [proc for _, proc in self._procs.values()]
        self.stop(procs, grace=grace)


class RedisServer:
    """A private redis-server on a loopback port with no persistence; can be killed and restarted on the
    same port (which then starts empty, like a restart without persistence)."""

    def __init__(self, registry, workdir, env=None):
        self.registry = registry
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.proc = None
        self.starts = 0

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout=2.0):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout, decode_responses=True)

    def start(self, timeout=10.0):
        self.starts += 1
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.workdir,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--logfile", os.path.join(self.workdir, f"redis-{self.starts}.log")]
        deadline = time.monotonic() + timeout
        while True:
            self.proc = self.registry.spawn("redis-server", argv, os.path.join(self.workdir, "redis.out"), env=self.env)
            if self._wait_ready(deadline):
                return
            # The port may still be held for a moment after a kill: retry until the deadline.
            self.registry.kill9(self.proc)
            if time.monotonic() > deadline:
                raise HarnessError(f"redis-server did not start on port {self.port} (see {self.workdir})")
            time.sleep(0.1)

    def _wait_ready(self, deadline):
        client = self.client(timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.RedisError:
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def kill(self):
        """kill -9: the data is gone (no persistence)."""
        if self.proc is not None:
            self.registry.kill9(self.proc)

    def stop(self):
        if self.proc is not None:
            self.registry.stop([self.proc])


class WeChatMock:
    """wechat-mock on a free port (--port 0); the URL is read from its `listening on` line."""

    def __init__(self, registry, workdir, binary, lifetime, overlap, apps=(), derived_secrets=False):
        self.registry = registry
        self.log_path = os.path.join(workdir, "wechat-mock.log")
        argv = [binary, "--host", "127.0.0.1", "--port", "0", "--lifetime", str(lifetime), "--overlap", str(overlap)]
        for appid, secret in apps:
            argv += ["--app", f"{appid}:{secret}"]
        if derived_secrets:
            argv.append("--derived-secrets")
        self.argv = argv
        self.proc = None
        self.url = None
        self.host = "127.0.0.1"
        self.port = None

    def start(self, timeout=15.0):
        self.proc = self.registry.spawn("wechat-mock", self.argv, self.log_path)
        deadline = time.monotonic() + timeout
        marker = "wechat-mock listening on "
        while time.monotonic() < deadline:
            with open(self.log_path, "r", errors="replace") as log:
                for line in log:
                    if line.startswith(marker):
                        self.url = line[len(marker):].strip()
                        hostport = self.url.split("//", 1)[1].rstrip("/")
                        self.host, port = hostport.rsplit(":", 1)
                        self.port = int(port)
                        return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise HarnessError(f"wechat-mock did not start (see {self.log_path})")

    def stop(self):
        if self.proc is not None:
            self.registry.stop([self.proc])


def _yaml(value):
    """A YAML scalar: JSON strings are valid YAML double-quoted strings."""
    return json.dumps(value) if isinstance(value, str) else str(value)


class Workers:
    """N tokend processes with generated configuration files (one per worker: its own worker.id)."""

    def __init__(self, registry, workdir, binary, redis_url, key_prefix, mock_url, apps, count,
                 refresh=None, log_level="info", redis_lines=(), tickets=(), ticket_apps=None):
        """`apps`: list of (appid, secret the worker is given); `redis_lines`: more of the `redis:` section;
        `tickets`: the ticket types (`jsapi`, `wx_card`) kept for each of `ticket_apps` (default: every app)."""
        self.registry = registry
        self.workdir = workdir
        self.binary = binary
        self.log_level = log_level
        self.procs = {}  # worker id -> Popen
        self.logs = {}  # worker id -> log path
        self.configs = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TOKEND_")}
        refresh_settings = {
            "check_interval": "200ms",
            "retry_initial": "100ms",
            "retry_maximum": "1s",
            "forced_cooldown": "2s",
            # Scenarios report tokens a second old (storm) and readers report the tokens they were refused.
            "forced_min_token_age": "500ms",
        }
        refresh_settings.update(refresh or {})
        app_lines = []
        for index, (appid, secret) in enumerate(apps):
            variable = f"CHAOS_SECRET_{index:05d}"
            self.env[variable] = secret
            app_lines += [f"  - appid: {_yaml(appid)}", "    grant: token", f"    secret_env: {variable}"]
            if tickets and (ticket_apps is None or appid in ticket_apps):
                app_lines.append(f"    tickets: [{', '.join(tickets)}]")
        for n in range(1, count + 1):
            worker_id = f"chaos-w{n}"
            text = "\n".join([
                "# generated by scripts/chaos.py",
                "redis:",
                f"  url: {_yaml(redis_url)}",
                f"  key_prefix: {_yaml(key_prefix)}",
                *redis_lines,
                "upstream:",
                f"  wechat_base_url: {_yaml(mock_url)}",
                "  timeout: 2s",
                "worker:",
                f"  id: {_yaml(worker_id)}",
                "refresh:",
                *[f"  {key}: {_yaml(value)}" for key, value in refresh_settings.items()],
                "http:",
                "  enabled: false",
                "apps:",
                *app_lines,
                "",
            ])
            path = os.path.join(workdir, f"{worker_id}.yaml")
            with open(path, "w") as config:
                config.write(text)
            self.configs[worker_id] = path
            self.logs[worker_id] = os.path.join(workdir, f"{worker_id}.log")

    def start(self):
        for worker_id, path in self.configs.items():
            self.procs[worker_id] = self.registry.spawn(
                worker_id, [self.binary, "--config", path, "--log-level", self.log_level], self.logs[worker_id],
                env=self.env)

    def check_alive(self):
        """Raises if a worker exited on its own (a crash, or an invalid configuration)."""
        for worker_id, proc in self.procs.items():
            if proc.poll() is not None and not getattr(proc, "chaos_killed", False):
                raise HarnessError(f"{worker_id} exited with status {proc.returncode}; see {self.logs[worker_id]}")

    def by_lease_value(self, value):
        """The worker holding a lease `WORKERID:NONCE`."""
        worker_id = value.rsplit(":", 1)[0] if value else None
        return worker_id, self.procs.get(worker_id)

    def kill9(self, worker_id):
        proc = self.procs[worker_id]
        proc.chaos_killed = True
        self.registry.kill9(proc)

    def pause(self, worker_id):
        self.registry.signal(self.procs[worker_id], signal.SIGSTOP)

    def resume(self, worker_id):
        self.registry.signal(self.procs[worker_id], signal.SIGCONT)

    def stop(self):
        self.registry.stop(list(self.procs.values()))

    def log_count(self, needle):
        """How many lines of all worker logs contain `needle`."""
        total = 0
        for path in self.logs.values():
            try:
                with open(path, "r", errors="replace") as log:
                    total += sum(1 for line in log if needle in line)
            except OSError:
                pass
        return total
