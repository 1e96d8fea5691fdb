"""Runs an unmodified wechatpy WeChatClient against TokenCentral twice, as make test does:

1. with the adapter (``wechatpy_tokencentral.py``), calling wechat-mock directly;
2. through the gateway: the client's API base URL is a tokend worker, its token comes from the
   worker's WeChat-compatible /cgi-bin/token.

In each, its API calls must succeed, wechat-mock must see no token call made on its behalf, and after
the mock revokes the token, exactly one upstream token call (by a worker) must heal it while the
client's call succeeds. Environment: APPID, SECRET, REDIS_URL, TOKEN_PREFIX, WECHAT_BASE_URL (the mock),
TOKEND_URL (a worker with the gateway on). Prints one line per run; exits 0 only when both pass.
"""

import json
import os
import sys
import urllib.request

import redis
from wechatpy import WeChatClient

from wechatpy_tokencentral import TokenCentralStorage, TokenCentralWeChatClient

APPID = os.environ["APPID"]
MOCK = os.environ["WECHAT_BASE_URL"].rstrip("/")
TOKEND = os.environ["TOKEND_URL"].rstrip("/")


def http(method, url):
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=15) as response:
        body = response.read()
    return json.loads(body) if body else None


def token_calls():
    return http("GET", f"{MOCK}/mock/stats/{APPID}")["token_calls"]


def exercise(name, client):
    """Three calls, a revocation in the mock, three more calls; returns the failure, or None."""
    before = token_calls()
    for _ in range(3):
        client.misc.get_wechat_ips()
    if token_calls() != before:
        return f"{token_calls() - before} token calls while the token was valid, expected 0"
    http("POST", f"{MOCK}/mock/apps/{APPID}/revoke")
    for _ in range(3):
        client.misc.get_wechat_ips()  # raises if the SDK sees an error
    healed = token_calls() - before
    if healed != 1:
        return f"{healed} token calls to heal a revoked token, expected 1"
    print(f"wechatpy_check: {name}: 6/6 calls succeeded, 1 upstream token call to heal a revoked token")
    return None


def main():
    storage = TokenCentralStorage(redis.Redis.from_url(os.environ["REDIS_URL"]), prefix=os.environ["TOKEN_PREFIX"])
    adapter = TokenCentralWeChatClient(APPID, storage)
    adapter.API_BASE_URL = f"{MOCK}/cgi-bin/"
    failures = [f"adapter: {failure}"] if (failure := exercise("adapter", adapter)) else []

    # WeChatClient's own token fetch URL is hard-coded (api.weixin.qq.com), so it is handed a token from
    # the worker's WeChat-compatible endpoint; the gateway then injects the current one on every call.
    token = http("GET", f"{TOKEND}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={os.environ['SECRET']}")
    gateway = WeChatClient(APPID, os.environ["SECRET"], access_token=token["access_token"])
    gateway.API_BASE_URL = f"{TOKEND}/cgi-bin/"
    if failure := exercise("gateway", gateway):
        failures.append(f"gateway: {failure}")
    for failure in failures:
        print(f"wechatpy_check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
