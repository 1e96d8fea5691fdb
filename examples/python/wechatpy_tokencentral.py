"""wechatpy on TokenCentral: wechatpy reads the central token and never fetches one itself.

Two pieces, both through wechatpy's own extension points:

- ``TokenCentralStorage``, a wechatpy ``SessionStorage`` (``get``/``set``/``delete``): the token key
  wechatpy asks for, ``<appid>_access_token``, is answered from TokenCentral's ``P:{appid}:access_token``
  (waiting, bounded, while there is none); wechatpy's own writes of it are ignored, since only
  TokenCentral stores tokens; deleting it reports the token as rejected (``PUBLISH P:refresh``) and
  waits, bounded, for the new one. Other keys (JS-SDK tickets, ...) stay in this process's memory.
- ``TokenCentralWeChatClient``, a ``WeChatClient`` whose ``fetch_access_token`` deletes the key
  through that storage instead of calling ``https://api.weixin.qq.com/cgi-bin/token``. wechatpy 1.8
  calls ``fetch_access_token`` when WeChat answers 40001, 40014 or 42001 and then retries the call
  once, with whatever token the storage now holds: so the rejected token is reported, the retry uses
  the new one, and the caller never sees the error. (The storage alone cannot do this: wechatpy 1.8
  fetches from a hard-coded WeChat URL on 40001 without touching the storage first.)

The token is read from Redis on every call (a sub-millisecond GET), so a token refreshed by
TokenCentral is used at once. Needs redis-py and wechatpy (tested with 1.8.18).
"""

import json
import time

from wechatpy import WeChatClient
from wechatpy.session import SessionStorage

TOKEN_KEY_SUFFIX = "_access_token"


class TokenCentralStorage(SessionStorage):
    def __init__(self, redis, prefix="wechat", wait_seconds=10.0):
        self.redis = redis
        self.prefix = prefix
        self.wait_seconds = wait_seconds
        self.reports = 0
        self._local = {}
        # The token last handed to wechatpy per app: the one to report when wechatpy gives up on it.
        self._handed_out = {}

    def get(self, key, default=None):
        appid = self._appid(key)
        if appid is None:
            return self._local.get(key, default)
        token = self._await_token(appid, lambda token: token is not None)
        self._handed_out[appid] = token
        return token

    def set(self, key, value, ttl=None):
        if self._appid(key) is None:
            self._local[key] = value
        # A token wechatpy fetched itself would retire the central one; the client below never fetches.

    def delete(self, key):
        appid = self._appid(key)
        if appid is None:
            self._local.pop(key, None)
            return
        rejected = self._handed_out.get(appid) or self._read(appid)
        if rejected is None:
            return
        # With bad_token, any number of reports of the same token cause one upstream call, and a report
        # of a token already replaced causes none.
        self.redis.publish(f"{self.prefix}:refresh", json.dumps({"appid": appid, "bad_token": rejected}))
        self.reports += 1
        self._await_token(appid, lambda token: token is not None and token != rejected)

    def _appid(self, key):
        return key[: -len(TOKEN_KEY_SUFFIX)] if key.endswith(TOKEN_KEY_SUFFIX) else None

    def _read(self, appid):
        token = self.redis.get(f"{self.prefix}:{{{appid}}}:access_token")
        return token.decode() if isinstance(token, bytes) else token

    def _await_token(self, appid, accept):
        deadline = time.monotonic() + self.wait_seconds
        while True:
            token = self._read(appid)
            if accept(token):
                return token
            if time.monotonic() >= deadline:
                raise TimeoutError(f"TokenCentral had no (new) token for {appid} within {self.wait_seconds} s")
            time.sleep(0.05)


class TokenCentralWeChatClient(WeChatClient):
    """A WeChatClient that asks TokenCentral (through ``TokenCentralStorage``) instead of WeChat for tokens."""

    def __init__(self, appid, storage, **kwargs):
        super().__init__(appid, secret="", session=storage, **kwargs)

    def fetch_access_token(self):
        self.session.delete(self.access_token_key)
        return {"access_token": self.session.get(self.access_token_key)}
