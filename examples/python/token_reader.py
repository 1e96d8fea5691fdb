#!/usr/bin/python3
"""Use the WeChat access_token that tokend keeps in Redis, as a business server in Python would.

Each iteration reads P:{APPID}:access_token and calls GET /cgi-bin/getcallbackip with it. When WeChat
answers 40001 (invalid credential) or 42001 (token expired), it reports the token on P:refresh with
{"appid": ..., "bad_token": ...}, waits for P:refreshed (polling the key too, since pub/sub can drop
messages), re-reads the token and retries once. It never calls /cgi-bin/token itself: only tokend does.

Environment:
  REDIS_URL        redis://[[user]:password@]host:port/db   (default redis://127.0.0.1:6379/0)
  REDIS_SENTINELS  host:port,host:port: find the primary through Redis Sentinel (REDIS_URL then gives only
                   the password and db; its host is ignored)
  REDIS_SENTINEL_MASTER     the master's name in the sentinels' configuration (required with REDIS_SENTINELS)
  REDIS_SENTINEL_PASSWORD   the sentinels' own password, if they have one
  TOKEN_PREFIX     tokend's redis.key_prefix                  (default wechat)
  APPID            the app whose token to use                 (required)
  WECHAT_BASE_URL  WeChat or a compatible mock                (default https://api.weixin.qq.com)
  ITERATIONS       calls to make                              (default 10)
  INTERVAL         seconds between calls                      (default 0)
  WAIT_SECONDS     longest wait for a (new) token             (default 30)

Prints one summary line; exits 0 when every call finally succeeded, 1 otherwise, 2 on bad settings.
Needs redis-py (Debian: python3-redis; elsewhere: pip install redis).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import redis
import redis.sentinel

# errcodes that mean "this access_token is no good": ask tokend for a new one.
INVALID_TOKEN_ERRCODES = {40001, 42001}


def log(message):
    print(f"token_reader: {message}", file=sys.stderr, flush=True)


class TokenReader:
    def __init__(self, client, prefix, appid, base_url, wait_seconds):
        self.client = client
        self.appid = appid
        self.base_url = base_url.rstrip("/")
        self.wait_seconds = wait_seconds
        # The braces are literal: a Redis Cluster hash tag (docs/redis-contract.md).
        self.token_key = f"{prefix}:{{{appid}}}:access_token"
        self.refresh_channel = f"{prefix}:refresh"
        self.refreshed_channel = f"{prefix}:refreshed"
        self.reports = 0

    def read_token(self, not_this=None):
        """The current token, waiting up to wait_seconds for one (other than not_this) to appear."""
        deadline = time.monotonic() + self.wait_seconds
        pubsub = None
        try:
            while True:
                token = self.client.get(self.token_key)
                token = token.decode() if token else None
                if token and token != not_this:
                    return token
                if pubsub is None and not_this is not None:
                    # Subscribe before reporting, so the announcement cannot slip by in between;
                    # then look again: someone may have replaced the token meanwhile.
                    pubsub = self.subscribe()
                    self.report(not_this)
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if pubsub is not None:
                    # Wakes at once on an announcement; otherwise re-reads the key every second.
                    pubsub.get_message(timeout=min(1.0, remaining))
                else:
                    time.sleep(min(0.2, remaining))
        finally:
            if pubsub is not None:
                pubsub.close()

    def subscribe(self):
        pubsub = self.client.pubsub()
        pubsub.subscribe(self.refreshed_channel)
        confirmation = pubsub.get_message(timeout=5)
        if not confirmation or confirmation["type"] != "subscribe":
            raise RuntimeError(f"could not subscribe to {self.refreshed_channel}")
        return pubsub

    def report(self, bad_token):
        self.reports += 1
        listeners = self.client.publish(
            self.refresh_channel, json.dumps({"appid": self.appid, "bad_token": bad_token}, separators=(",", ":")))
        log(f"token rejected; reported on {self.refresh_channel} ({listeners} tokend workers listening)")

    def call_wechat(self, token):
        """The errcode of GET /cgi-bin/getcallbackip (0 on success), or None when the call failed."""
        url = f"{self.base_url}/cgi-bin/getcallbackip?" + urllib.parse.urlencode({"access_token": token})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as error:
            log(f"getcallbackip failed: {error}")
            return None
        return body.get("errcode", 0)

    def one_call(self):
        """One WeChat call, retried once with a new token if WeChat rejects the first."""
        token = self.read_token()
        if token is None:
            log(f"no access_token at {self.token_key} within {self.wait_seconds:g}s")
            return False
        errcode = self.call_wechat(token)
        if errcode in INVALID_TOKEN_ERRCODES:
            token = self.read_token(not_this=token)
            if token is None:
                log(f"no new token within {self.wait_seconds:g}s")
                return False
            errcode = self.call_wechat(token)
        if errcode == 0:
            return True
        if errcode is not None:
            log(f"getcallbackip answered errcode {errcode}")
        return False


def connect(url, sentinels, master, sentinel_password):
    """A client of the Redis at `url`, or, with `sentinels`, of the primary they name for `master`: redis-py's
    Sentinel asks them again whenever the primary fails, and pub/sub goes to the primary too."""
    if not sentinels:
        return redis.Redis.from_url(url, socket_timeout=10)
    if not master:
        raise ValueError("REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS")
    addresses = []
    for address in (a.strip() for a in sentinels.split(",")):
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "26379")
        addresses.append((host, int(port)))
    node = redis.connection.parse_url(url)  # the data nodes' password, username and db; not their host
    sentinel = redis.sentinel.Sentinel(addresses, socket_timeout=10,
                                       sentinel_kwargs={"password": sentinel_password, "socket_timeout": 2})
    return sentinel.master_for(master, socket_timeout=10, password=node.get("password"),
                               username=node.get("username"), db=node.get("db", 0))


def main():
    try:
        appid = os.environ["APPID"]
        iterations = int(os.environ.get("ITERATIONS", "10"))
        interval = float(os.environ.get("INTERVAL", "0"))
        wait_seconds = float(os.environ.get("WAIT_SECONDS", "30"))
        client = connect(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), os.environ.get("REDIS_SENTINELS"),
                         os.environ.get("REDIS_SENTINEL_MASTER"), os.environ.get("REDIS_SENTINEL_PASSWORD"))
    except (KeyError, ValueError) as error:
        log(f"bad settings ({error}); see the docstring at the top of this file")
        return 2
    reader = TokenReader(client, os.environ.get("TOKEN_PREFIX", "wechat"), appid,
                         os.environ.get("WECHAT_BASE_URL", "https://api.weixin.qq.com"), wait_seconds)
    succeeded = 0
    try:
        for index in range(iterations):
            if index and interval:
                time.sleep(interval)
            succeeded += reader.one_call()
    except (redis.RedisError, RuntimeError) as error:
        log(f"Redis: {error}")
    print(f"token_reader: {appid}: {succeeded}/{iterations} calls succeeded, "
          f"{reader.reports} rejected tokens reported")
    return 0 if succeeded == iterations else 1


if __name__ == "__main__":
    sys.exit(main())
