"""The scenarios. Each one builds its world with `ctx.harness(...)`, does its damage, calls `finish()` and
judges the figures; a scenario fails with every reason that applies, never just the first.

Timing with the default 8 s tokens: refreshed 2 s (lifetime/4) + up to 0.2 s jitter before expiry, so a new
token every ~6 s; lease TTL 0.67 s (a third of 2 s); a superseded token keeps working `overlap` = 2.5 s.
"""

import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import redis

from .harness import Harness
from .procs import HarnessError
from .sentinel import sentinel_failover

APP = "wxchaos00000000001"
# Keeps a jsapi ticket where the scenario injects token-call faults into APP: the mock's fault queue is one
# per app, shared by its token and getticket calls, so a ticket of APP could take the fault meant for a token.
TICKET_APP = "wxchaos00000000002"


@dataclass
class Result:
    name: str
    title: str
    passed: bool = False
    reasons: list = field(default_factory=list)  # why it failed
    notes: list = field(default_factory=list)  # what happened, scenario-specific figures
    figures: object = None
    allowed_excess: int = 0
    elapsed_s: float = 0.0
    workdir: str = None
    description: str = ""

    def fail(self, reason):
        self.reasons.append(reason)

    def note(self, text):
        self.notes.append(text)


class Context:
    def __init__(self, suite, result, short):
        self.suite = suite
        self.result = result
        self.short = short
        self.harnesses = []

    def harness(self, name, apps, **options):
        harness = Harness(self.suite, name, apps, **options)
        self.harnesses.append(harness)
        harness.start()
        return harness


# Shared judgement


def judge(res, h, fig, *, allowed_excess=0, windows=(), max_gap_s=0.0, apps=None):
    """The common pass criteria: no reader rejection outside `windows`, upstream calls within the allowance,
    no time without a key beyond `max_gap_s` (per gap), generations never going back."""
    res.figures = fig
    res.allowed_excess = allowed_excess
    apps = apps if apps is not None else h.apps
    outside = [r for r in fig.readers.rejections if not any(start <= r[0] <= end for start, end in windows)]
    if outside:
        first = outside[0][0] - h.t_start
        last = outside[-1][0] - h.t_start
        kinds = sorted({r[2] for r in outside})
        res.fail(f"{len(outside)} reader request(s) got {'/'.join(map(str, kinds))} "
                 f"{'outside the window the scenario forces ' if windows else ''}"
                 f"(from +{first:.2f} s to +{last:.2f} s)")
    excess = sum(fig.per_app[a].excess for a in apps)
    if excess > allowed_excess:
        worst = sorted((fig.per_app[a] for a in apps), key=lambda f: -f.excess)[:3]
        detail = ", ".join(f"{f.appid}: {f.calls} calls for {f.needed} tokens" for f in worst if f.excess > 0)
        res.fail(f"{excess} upstream call(s) beyond one per token, {allowed_excess} allowed ({detail})")
    no_token, gapped, regressed, returned = [], [], [], []
    for appid in apps:
        f = fig.per_app[appid]
        if not f.has_token:
            no_token.append(appid)
        long_gaps = [(s, e) for s, e, _ in f.gaps if e - s > max_gap_s + 1e-9]
        if long_gaps:
            gapped.append((appid, max(long_gaps, key=lambda g: g[1] - g[0]), sum(e - s for s, e in long_gaps)))
        if not f.monotonic:
            regressed.append((appid, h.sampler.tracks[appid].regressions[0]))
        if f.returned_tokens:
            returned.append((appid, f.returned_tokens))
    if no_token:
        res.fail(f"{len(no_token)} app(s) never got a token ({', '.join(no_token[:3])})")
    if gapped:
        appid, (s, e), _ = max(gapped, key=lambda g: g[1][1] - g[1][0])
        where = f"{appid}: {e - s:.2f} s from +{s - h.t_start:.2f} s"
        if len(gapped) == 1:
            res.fail(f"token key missing for longer than {max_gap_s:.2f} s ({where})")
        else:
            total = sum(g[2] for g in gapped)
            res.fail(f"token key missing for longer than {max_gap_s:.2f} s in {len(gapped)} apps, "
                     f"{total:.1f} app-seconds in all (longest {where})")
    if regressed:
        appid, (t, before, after) = regressed[0]
        res.fail(f"generation went back in {len(regressed)} app(s): {appid} from {before} to {after} at "
                 f"+{t - h.t_start:.2f} s (docs/redis-contract.md: 'never goes back')")
    if returned:
        res.fail(f"an older token came back into Redis in {len(returned)} app(s) ({returned[0][0]}: "
                 f"{returned[0][1]} time(s))")


def wait_call_in_flight(h, appid, base_calls, timeout):
    """Waits until the mock has counted a token call beyond `base_calls` (the call has started)."""
    return h.wait_for(lambda: h.admin.token_calls(appid) > base_calls, timeout, step=0.003)


def holder_during_call(h, appid, latency_ms):
    """Slows the next upstream call by `latency_ms`, waits until it is in flight, and returns the lease
    value and the (worker_id, process) holding the lease for it."""
    base = h.admin.token_calls(appid)
    h.admin.fault("latency", appid=appid, count=1, latency_ms=latency_ms)
    if not wait_call_in_flight(h, appid, base, h.lifetime + 4):
        raise HarnessError("no refresh call started within a lifetime")
    lease = h.lease_holder(appid)
    worker_id, proc = h.workers.by_lease_value(lease)
    if proc is None:
        raise HarnessError(f"refresh call in flight but lease value {lease!r} names no worker")
    return lease, worker_id, proc


def ticket_meta(h, appid):
    """The jsapi ticket's meta hash (decoded), {} when there is none."""
    with h.redis.client() as client:
        return client.hgetall(f"{h.prefix}:{{{appid}}}:jsapi_ticket:meta")


def judge_tickets(res, h, appid, *, allowed_excess=0):
    """The jsapi ticket kept alongside the token: one `getticket` call per ticket lifetime. The mock hands out
    the same ticket until it expires, so the workers' first call ahead of expiry gets it back and teaches
    them to ask at expiry (`renews_at_expiry`): one call beyond the tickets issued is part of the design."""
    calls, issued = h.admin.ticket_counts(appid)
    excess = calls - issued - 1
    res.note(f"jsapi ticket: {calls} getticket calls for {issued} tickets in {h.figures.duration_s:.0f} s "
             f"(lifetime {h.lifetime} s; 1 learning call + {allowed_excess} allowed beyond one per ticket)")
    if issued < max(1, int(h.figures.duration_s // h.lifetime)):
        res.fail(f"only {issued} ticket(s) in {h.figures.duration_s:.0f} s of {h.lifetime} s tickets")
    if excess > allowed_excess:
        res.fail(f"{excess} getticket call(s) beyond one per ticket lifetime (+1 learning call), {allowed_excess} allowed")


def ticket_storm(res, h, appid, messages):
    """`messages` reports of the current ticket (and as many of an older one): exactly one getticket call."""
    start = ticket_meta(h, appid).get("generation")
    if not h.wait_for(lambda: ticket_meta(h, appid).get("generation") != start, h.lifetime + 4):
        raise HarnessError("no new ticket within a lifetime")
    h.sleep(0.6)  # past `forced_min_token_age` (500 ms), which would refuse reports of a newer ticket
    meta = ticket_meta(h, appid)
    before, _ = h.admin.ticket_counts(appid)
    client = h.redis.client()
    try:
        pipe = client.pipeline(transaction=False)
        for _ in range(messages):
            pipe.publish(f"{h.prefix}:refresh", json.dumps({"appid": appid, "ticket": "jsapi", "bad_ticket": meta["token"]}))
            pipe.publish(f"{h.prefix}:refresh", json.dumps({"appid": appid, "ticket": "jsapi", "bad_ticket": "older"}))
        pipe.execute()
    finally:
        client.close()
    h.wait_for(lambda: h.admin.ticket_counts(appid)[0] > before, 3)
    h.sleep(1.0)
    after, _ = h.admin.ticket_counts(appid)
    regenerated = ticket_meta(h, appid).get("generation") != meta["generation"]
    res.note(f"ticket storm: {2 * messages} reports ({messages} of the current ticket) caused {after - before} "
             f"getticket call(s){' (a scheduled ticket came meanwhile)' if regenerated else ''}")
    if after - before != 1 and not regenerated:
        res.fail(f"{after - before} getticket calls for a storm of reports of one ticket (expected exactly 1)")


def cycle_s(h):
    return h.lifetime - h.effective_ahead_ms / 1000


# Scenarios


def steady(ctx):
    """3 workers, one app, 5 token lifetimes (2 with --short): one upstream call per token, readers never
    see an invalid token, the key never missing; its jsapi ticket costs one getticket call per ticket lifetime."""
    lifetimes = 2 if ctx.short else 5
    h = ctx.harness("steady", [APP], tickets=["jsapi"])
    h.wait_first_tokens()
    h.note(f"first token; running {lifetimes} lifetimes ({lifetimes * h.lifetime} s)")
    h.sleep(lifetimes * h.lifetime)
    fig = h.finish()
    judge(ctx.result, h, fig)
    judge_tickets(ctx.result, h, APP)


def kill_holder(ctx):
    """kill -9 the lease holder while its upstream call is in flight (latency injected): another worker takes
    over within a lease TTL, before the token expires. The killed call is answered after the takeover's, so
    WeChat's last-issued token is one nobody stores: the taker must fetch once more after the killed call
    would have timed out, before WeChat retires its token. Allowance +2 per app whose lease the killed worker
    held: its unwritten call and that one more fetch. A second app keeps a jsapi ticket through the kill: one
    getticket call per ticket lifetime (+1 if the killed worker was mid-call for it)."""
    res = ctx.result
    h = ctx.harness("kill", [APP, TICKET_APP], tickets=["jsapi"], ticket_apps=[TICKET_APP])
    h.wait_first_tokens()
    current = h.sampler.latest(APP)
    lease, worker_id, proc = holder_during_call(h, APP, latency_ms=1500)
    since = h.sampler.token_count(APP)
    # The second app's token is due at the same moment: the killed worker may be mid-call for it too.
    also_held = h.workers.by_lease_value(h.lease_holder(TICKET_APP))[0] == worker_id
    h.workers.kill9(worker_id)
    killed_at = time.time()
    h.note(f"kill -9 {worker_id} (pid {proc.pid}), lease {lease!r}, during its upstream call"
           + (f"; it also held {TICKET_APP}'s lease" if also_held else ""))
    new = h.wait_new_token(APP, timeout=h.lifetime, since=since)
    if new is None:
        res.fail("no worker stored a new token after the holder was killed")
    else:
        takeover = new.seen - killed_at
        margin = current.expires_at / 1000 - new.seen
        res.note(f"{new.worker} stored generation {new.generation} {takeover:.2f} s after the kill "
                 f"(lease TTL {h.lease_ttl_s:.2f} s), {margin:.2f} s before the old token expired")
        if margin <= 0:
            res.fail(f"takeover came {-margin:.2f} s after the old token expired")
    h.sleep(2 * cycle_s(h))
    fig = h.finish()
    abandoned = h.workers.log_count("the previous lease holder abandoned its upstream call")
    res.note(f"one more fetch after the abandoned call logged: {abandoned}")
    # Either sign shows a second abandoned call: the lease read just before the kill, or the taker's log.
    abandoned_apps = max(2 if also_held else 1, abandoned)
    judge(res, h, fig, allowed_excess=2 * abandoned_apps)
    # The killed worker may have held the ticket's lease too, mid-call: one more call at most.
    judge_tickets(res, h, TICKET_APP, allowed_excess=1)


def pause_holder(ctx):
    """SIGSTOP the lease holder during its upstream call for longer than the lease, then SIGCONT: another
    worker takes over; the fenced write must keep the token WeChat issued last. Allowance +2: the paused
    holder's call (like a killed holder's) and one more fetch after it, certainly issued last (the taker
    saw an abandoned call; the paused holder's late write found the issue order ambiguous). Every token
    stored must have been issued after the one before it (`check_issue_order`)."""
    res = ctx.result
    h = ctx.harness("pause", [APP])
    h.wait_first_tokens()
    pause_s = 1.5
    lease, worker_id, proc = holder_during_call(h, APP, latency_ms=1000)
    before = h.sampler.token_count(APP)
    h.workers.pause(worker_id)
    stopped_at = time.time()
    h.note(f"SIGSTOP {worker_id} (pid {proc.pid}), lease {lease!r}, for {pause_s} s "
           f"(lease TTL {h.lease_ttl_s:.2f} s) during its upstream call (1 s latency)")
    try:
        h.sleep(pause_s)
    finally:
        h.workers.resume(worker_id)
    h.note(f"SIGCONT {worker_id}")
    tokens = h.sampler.tracks[APP].tokens
    takeover = [t for t in tokens[before:] if t.seen <= time.time()]
    if takeover:
        res.note(f"{takeover[0].worker} stored generation {takeover[0].generation} "
                 f"{takeover[0].seen - stopped_at:.2f} s after the SIGSTOP")
    else:
        res.fail(f"no other worker stored a token while {worker_id} was stopped {pause_s} s")
    h.sleep(2 * cycle_s(h))
    fig = h.finish()
    ambiguous = h.workers.log_count("issue order unknown (a fetch outlived its lease)")
    older = h.workers.log_count("the stored token was issued later")
    lost = h.workers.log_count("refresh lease lost during the upstream call")
    requested = bool(h.sampler.tracks[APP].refresh_requested)
    res.note(f"write outcomes logged: ambiguous {ambiguous}, older {older}; lease-lost warnings {lost}; "
             f"refresh_requested seen in meta: {'yes' if requested else 'no'}")
    check_issue_order(res, h, APP)
    judge(res, h, fig, allowed_excess=2)


def check_issue_order(res, h, appid):
    """The fence's promise, checked on what Redis held: each token stored was issued after the one before it
    (its issue window starts after the previous window ends). Unlike the generation, which the write script
    raises whatever it writes, this fails if a late write of an earlier-issued token ever won."""
    with h.sampler.lock:
        tokens = list(h.sampler.tracks[appid].tokens)
    backwards = [(a, b) for a, b in zip(tokens, tokens[1:]) if b.issued_min <= a.issued_max]
    res.note(f"issue order of the {len(tokens)} tokens stored: "
             f"{'strictly increasing' if not backwards else f'{len(backwards)} step(s) back'}")
    if backwards:
        a, b = backwards[0]
        res.fail(f"generation {b.generation} (issued {b.issued_min}..{b.issued_max}) was stored after generation "
                 f"{a.generation} (issued {a.issued_min}..{a.issued_max}): not issued after it")


def flush(ctx):
    """Redis FLUSHALL twice (mid-cycle, and 1 s before the refresh is due): workers re-seed the token from
    memory within refresh.check_interval (200 ms) without calling upstream, keeping its generation."""
    res = ctx.result
    h = ctx.harness("flush", [APP])
    h.wait_first_tokens()
    client = h.redis.client()
    key = f"{h.prefix}:{{{APP}}}:access_token"
    limit = 1.0
    try:
        for phase in ("mid-cycle", "1 s before due"):
            token = h.wait_new_token(APP, timeout=h.lifetime)
            if token is None:
                raise HarnessError("no scheduled refresh within a lifetime")
            if phase == "mid-cycle":
                h.sleep(1.5)
            else:
                h.sleep(max(0.0, h.due_at(token) - 1.0 - time.time()))
            client.flushall()
            flushed_at = time.time()
            back = h.wait_for(lambda: client.exists(key) == 1, timeout=5, step=0.003)
            gap = time.time() - flushed_at
            stored = client.hgetall(f"{h.prefix}:{{{APP}}}:meta")
            same = stored.get("token") == token.token and stored.get("generation") == str(token.generation)
            h.note(f"FLUSHALL ({phase}): key back after {gap:.3f} s, "
                   f"{'same token and generation ' + str(token.generation) if same else 'meta ' + repr({k: stored.get(k) for k in ('generation', 'worker')})}")
            res.note(f"FLUSHALL {phase}: key back after {gap:.2f} s"
                     f"{', re-seeded (same token, generation ' + str(token.generation) + ')' if same else ''}")
            if not back:
                res.fail(f"FLUSHALL {phase}: token key not back within 5 s")
            elif not same:
                res.fail(f"FLUSHALL {phase}: Redis did not get the same token and generation back")
        h.sleep(cycle_s(h) + 0.5)
    finally:
        client.close()
    fig = h.finish()
    judge(res, h, fig, max_gap_s=limit)


def redis_restart(ctx):
    """Redis kill -9 and restarted at once on the same port, empty (no persistence): workers reconnect and
    re-seed from memory; their subscriptions come back (checked with one forced refresh, allowance +1)."""
    res = ctx.result
    h = ctx.harness("redis-restart", [APP], readers=4)
    h.wait_first_tokens()
    token = h.wait_new_token(APP, timeout=h.lifetime)
    if token is None:
        raise HarnessError("no scheduled refresh within a lifetime")
    h.sleep(1.5)
    h.redis.kill()
    killed_at = time.time()
    h.redis.start()
    up_at = time.time()
    h.note(f"redis-server kill -9 and restarted empty on port {h.redis.port} ({up_at - killed_at:.2f} s)")
    client = h.redis.client()
    key = f"{h.prefix}:{{{APP}}}:access_token"
    limit = 3.0
    try:
        back = h.wait_for(lambda: _exists(client, key), timeout=10, step=0.005)
        gap = time.time() - killed_at
        stored = client.hgetall(f"{h.prefix}:{{{APP}}}:meta")
        same = stored.get("token") == token.token and stored.get("generation") == str(token.generation)
        res.note(f"key back {gap:.2f} s after the kill{', re-seeded (same token and generation)' if same else ''}")
        if not back:
            res.fail("token key not back within 10 s of the restart")
        elif not same:
            res.fail(f"after the restart Redis holds generation {stored.get('generation')}, not the re-seeded "
                     f"{token.generation}")
        channel = f"{h.prefix}:refresh"
        resubscribed = h.wait_for(lambda: _numsub(client, channel) >= h.worker_count, timeout=10, step=0.02)
        res.note(f"{_numsub(client, channel)} of {h.worker_count} workers subscribed to {channel} "
                 f"{time.time() - up_at:.2f} s after the restart")
        if not resubscribed:
            res.fail(f"workers did not resubscribe to {channel} within 10 s")
        current = client.get(key)
        since = h.sampler.token_count(APP)
        heard = client.publish(channel, json.dumps({"appid": APP, "bad_token": current}))
        published_at = time.time()
        forced = h.wait_new_token(APP, timeout=3, since=since)
        if forced is None:
            res.fail(f"a forced refresh published after the restart (heard by {heard}) produced no new token in 3 s")
        else:
            res.note(f"forced refresh after the restart: heard by {heard}, new token in "
                     f"{forced.seen - published_at:.2f} s")
    finally:
        client.close()
    h.sleep(cycle_s(h) + 1)
    fig = h.finish()
    judge(res, h, fig, allowed_excess=1, max_gap_s=limit)


def redis_down(ctx):
    """Redis down 10 s (kill -9, restarted empty on the same port): longer than a token lifetime, so the
    token expires meanwhile. Workers must not call upstream without Redis; after recovery exactly one fetch
    and valid tokens again. The key is missing for the outage (forced); recovery bounded by the Redis
    reconnect backoff (≤ 5 s) plus one fetch."""
    res = ctx.result
    h = ctx.harness("redis-down", [APP])
    h.wait_first_tokens()
    token = h.wait_new_token(APP, timeout=h.lifetime)
    if token is None:
        raise HarnessError("no scheduled refresh within a lifetime")
    h.sleep(1.0)
    calls_before = h.admin.token_calls(APP)
    h.redis.kill()
    down_at = time.time()
    h.note(f"redis-server kill -9; down for 10 s (token generation {token.generation} expires in "
           f"{token.expires_at / 1000 - down_at:.1f} s)")
    h.sleep(10.0)
    calls_during = h.admin.token_calls(APP) - calls_before
    h.redis.start()
    up_at = time.time()
    h.note(f"redis-server restarted empty after {up_at - down_at:.1f} s")
    client = h.redis.client()
    key = f"{h.prefix}:{{{APP}}}:access_token"
    recovery_limit = 6.5
    try:
        back = h.wait_for(lambda: _exists(client, key), timeout=15, step=0.01)
        recovery = time.time() - up_at
    finally:
        client.close()
    res.note(f"upstream calls while Redis was down: {calls_during}; token back {recovery:.2f} s after Redis")
    if calls_during:
        res.fail(f"{calls_during} upstream call(s) while Redis was down (nowhere to store a token)")
    if not back:
        res.fail("no token in Redis within 15 s of its return")
    elif recovery > recovery_limit:
        res.fail(f"token back {recovery:.2f} s after Redis returned (limit {recovery_limit} s)")
    h.sleep(cycle_s(h) + 1)
    fig = h.finish()
    after = [t for t in h.sampler.tracks[APP].tokens if t.seen > up_at]
    if after:
        res.note(f"generation before the outage {token.generation}; first token after it: generation "
                 f"{after[0].generation}, fetched by {after[0].worker}")
    outage_gap = (up_at - down_at) + recovery + 0.5
    judge(res, h, fig, max_gap_s=outage_gap)


def upstream_fault(kind, errcode=None):
    def scenario(ctx):
        res = ctx.result
        h = ctx.harness(f"upstream-{kind}", [APP])
        h.wait_first_tokens()
        token = h.wait_new_token(APP, timeout=h.lifetime)
        if token is None:
            raise HarnessError("no scheduled refresh within a lifetime")
        calls_before = h.admin.token_calls(APP)
        h.admin.fault(kind, appid=APP, count=-1, errcode=errcode)
        injected_at = time.time()
        expiry = token.expires_at / 1000
        due = h.due_at(token)
        clear_at = expiry + 2.0
        h.note(f"fault {kind}{'' if errcode is None else ' ' + str(errcode)} injected until cleared; token "
               f"due at +{due - h.t_start:.1f} s, expires at +{expiry - h.t_start:.1f} s; clearing at "
               f"+{clear_at - h.t_start:.1f} s ({clear_at - due:.1f} s of failures, margin "
               f"{h.effective_ahead_ms / 1000:.1f} s)")
        h.sleep(max(0.0, clear_at - time.time()))
        since = h.sampler.token_count(APP)
        h.admin.clear_faults()
        cleared_at = time.time()
        failed_calls = h.admin.token_calls(APP) - calls_before
        new = h.wait_new_token(APP, timeout=8, since=since)
        recovered_at = new.seen if new else None
        h.sleep(cycle_s(h) + 1)
        fig = h.finish()

        track = h.sampler.tracks[APP]
        # Old token kept while valid: unchanged during the fault, and its key present until it expired.
        changed = [t for t in track.tokens if injected_at < t.seen < cleared_at]
        if changed:
            res.fail(f"the token changed during the fault (generation {changed[0].generation})")
        early_gaps = [(s, e) for s, e, _ in fig.per_app[APP].gaps if injected_at <= s < expiry - 0.1]
        if early_gaps:
            res.fail(f"token key vanished {expiry - early_gaps[0][0]:.2f} s before the old token expired")
        retry_cap = min(1.0, max(0.1, h.effective_ahead_ms / 4000))
        failing_window = max(0.0, cleared_at - due)
        per_call = 2.0 if kind == "hang" else 0.0  # a hung call lasts upstream.timeout
        bound = 3 + math.ceil(failing_window / (retry_cap / 2 + per_call))
        res.note(f"{failed_calls} upstream call(s) during {failing_window:.1f} s of failures (bound {bound}: "
                 f"shared backoff {retry_cap / 2:.2f}-{retry_cap:.2f} s"
                 f"{' after each 2 s timeout' if kind == 'hang' else ''})")
        recovery_limit = 2.0 + retry_cap + 1.0
        if recovered_at is None:
            res.fail("no new token within 8 s of the fault being cleared")
            window_end = fig.stop_wall
        else:
            recovery = recovered_at - cleared_at
            res.note(f"new token {recovery:.2f} s after the fault was cleared (limit {recovery_limit:.1f} s); "
                     f"key missing {fig.no_key_s:.2f} s (old token expired at +{expiry - h.t_start:.1f} s)")
            if recovery > recovery_limit:
                res.fail(f"new token {recovery:.2f} s after the fault was cleared (limit {recovery_limit:.1f} s)")
            window_end = recovered_at + 0.25
        forced_gap = window_end - expiry + 0.5
        judge(res, h, fig, allowed_excess=bound, windows=[(expiry - 0.25, window_end)], max_gap_s=forced_gap)
    scenario.__doc__ = (f"Upstream answers {kind}{'' if errcode is None else ' ' + str(errcode)} from just after "
                        "a refresh until 2 s after the token expired (longer than the 2 s refresh margin): "
                        "the old token is kept while valid, retries are bounded by the shared backoff, and "
                        "within seconds of recovery tokens are valid again. Readers may be rejected only "
                        "between expiry and recovery.")
    return scenario


def wrong_secret(ctx):
    """20 apps, one configured with a wrong secret: it gets no token and one upstream call per
    refresh.config_error_retry (300 s), errcode 40125 in its meta, no secret anywhere in Redis; the 19
    others behave as in steady."""
    res = ctx.result
    apps = [f"wxchaos{n:011d}" for n in range(1, 21)]
    bad = apps[6]
    mock_apps = [(appid, "chaos-secret-" + appid[-4:] + "-" + str(time.time_ns())) for appid in apps]
    h = ctx.harness("wrong-secret", apps, mock_apps=mock_apps, worker_secrets={bad: "wrong-secret-for-chaos"})
    good = [a for a in apps if a != bad]
    h.wait_first_tokens(apps=good)
    client = h.redis.client()
    try:
        h.wait_for(lambda: client.hget(f"{h.prefix}:{{{bad}}}:meta", "errcode") is not None, timeout=5, step=0.05)
        h.sleep(2 * h.lifetime)
        meta = client.hgetall(f"{h.prefix}:{{{bad}}}:meta")
        secrets = [s for _, s in mock_apps] + ["wrong-secret-for-chaos"]
        leaked = _secrets_in_redis(client, h.prefix, secrets)
    finally:
        client.close()
    fig = h.finish()
    bad_fig = fig.per_app[bad]
    allowed_calls = 1 + int(fig.duration_s // 300)
    res.note(f"{bad}: {bad_fig.calls} upstream call(s) in {fig.duration_s:.0f} s, meta errcode "
             f"{meta.get('errcode')}, error {meta.get('error', '')[:90]!r}")
    if bad_fig.has_token:
        res.fail(f"{bad} (wrong secret) has a token")
    if bad_fig.calls > allowed_calls:
        res.fail(f"{bad}: {bad_fig.calls} upstream calls with a wrong secret (allowed {allowed_calls})")
    if meta.get("errcode") != "40125":
        res.fail(f"{bad}: meta errcode {meta.get('errcode')!r}, expected 40125 (invalid appsecret)")
    if leaked:
        res.fail(f"a secret appears in Redis: {leaked[:3]}")
    else:
        res.note("no secret in any Redis key or hash field")
    judge(res, h, fig, apps=good)
    res.allowed_excess = allowed_calls  # the wrong-secret app's calls; none for the 19 others
    mean, worst = fig.calls_per_token(good)
    res.note(f"19 good apps: {sum(fig.per_app[a].calls for a in good)} calls for "
             f"{sum(fig.per_app[a].needed for a in good)} tokens (max {worst:.2f} per token)")


def storm(ctx):
    """10,000 forced-refresh messages carrying the same bad token (the current one) within one second, from
    many connections (pipelined PUBLISH): exactly one extra upstream call, readers unaffected. Then 1,000
    reports of the current jsapi ticket (and 1,000 of an older one): exactly one getticket call."""
    res = ctx.result
    messages, connections = (1000, 5) if ctx.short else (10_000, 20)
    h = ctx.harness("storm", [APP], tickets=["jsapi"])
    h.wait_first_tokens()
    token = h.wait_new_token(APP, timeout=h.lifetime)
    if token is None:
        raise HarnessError("no scheduled refresh within a lifetime")
    h.sleep(1.0)
    bad = token.token
    channel = f"{h.prefix}:refresh"
    payload = json.dumps({"appid": APP, "bad_token": bad})
    per_connection = messages // connections
    barrier = threading.Barrier(connections + 1)
    heard = [0] * connections
    errors = []

    def publisher(index):
        client = redis.Redis(host="127.0.0.1", port=h.redis.port, socket_timeout=10)
        try:
            client.ping()
            pipe = client.pipeline(transaction=False)
            for _ in range(per_connection):
                pipe.publish(channel, payload)
            barrier.wait(timeout=10)
            heard[index] = sum(pipe.execute())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            client.close()

    since = h.sampler.token_count(APP)
    threads = [threading.Thread(target=publisher, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=10)
    started = time.time()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.time() - started
    if errors:
        raise HarnessError(f"storm publishers failed: {errors[:2]}")
    sent = per_connection * connections
    h.note(f"storm: {sent} PUBLISH with bad_token = generation {token.generation} from {connections} "
           f"connections in {elapsed:.2f} s, {sum(heard) / sent:.2f} receivers each")
    res.note(f"{sent} messages from {connections} connections in {elapsed:.2f} s "
             f"(each heard by {sum(heard) / sent:.1f} workers)")
    if elapsed > 1.0:
        res.fail(f"harness: the storm took {elapsed:.2f} s (> 1 s)")
    forced = h.wait_new_token(APP, timeout=3, since=since)
    if forced is None:
        res.fail("no forced refresh within 3 s of the storm")
    else:
        res.note(f"{forced.worker} stored generation {forced.generation} {forced.seen - started:.2f} s after the storm began")
    ticket_storm(res, h, APP, messages // 10)
    h.sleep(max(0.0, cycle_s(h) + 1 - (time.time() - started)))
    fig = h.finish()
    early = fig.per_app[APP].early
    res.note(f"tokens written before their refresh was due: {early} (1 expected: the forced one)")
    if early != 1:
        res.fail(f"{early} forced refreshes for one bad token (expected exactly 1)")
    judge(res, h, fig, allowed_excess=1)


def report_current(h, appid, client=None):
    """Publishes a report of the token Redis holds now, as a business server that got 40001 does; returns it."""
    own = client is None
    client = client or h.redis.client()
    try:
        token = client.get(f"{h.prefix}:{{{appid}}}:access_token")
        if token is not None:
            client.publish(f"{h.prefix}:refresh", json.dumps({"appid": appid, "bad_token": token}))
        return token
    finally:
        if own:
            client.close()


def fresh_cycle(h, appid, age_s):
    """Waits for a scheduled refresh, then until that token is `age_s` old: a forced refresh now has most
    of a cycle before the next scheduled one."""
    token = h.wait_new_token(appid, timeout=h.lifetime)
    if token is None:
        raise HarnessError("no scheduled refresh within a lifetime")
    h.sleep(max(0.0, token.issued_max / 1000 + age_s - time.time()))
    return token


def forced_transient(ctx):
    """WeChat revokes the current token; the forced refresh's first upstream call fails (errcode -1); a
    business server reports the token once: the request stands in Redis (forced_at) and is carried out at
    retry_at. Expected: the new token within the retry delay + 2 s, in at most 3 upstream calls. No
    readers: their repeated reports would hide a request lost after its first call."""
    res = ctx.result
    h = ctx.harness("forced-transient", [APP], readers=0)
    h.wait_first_tokens()
    fresh_cycle(h, APP, age_s=1.0)
    base = h.admin.token_calls(APP)
    since = h.sampler.token_count(APP)
    h.admin.fault("errcode", appid=APP, count=1, errcode=-1)
    revoked = time.time()  # before the call: a reader may be refused before the mock's answer reaches us
    h.admin.revoke(APP)
    bad = report_current(h, APP)
    h.note(f"revoked the token, queued one errcode -1, reported it ({bad[:8]}...): WeChat answers "
           f"{h.admin.errcode(bad)} for it")
    # retry_initial 100 ms: the first retry waits half to all of it.
    limit = 0.1 + 2.0
    new = h.wait_new_token(APP, timeout=limit + 3, since=since)
    calls = h.admin.token_calls(APP) - base
    if new is None:
        res.fail(f"no new token within {limit + 3:.1f} s of the report ({calls} upstream calls)")
        served = revoked + limit + 3
    else:
        served = new.seen
        res.note(f"{new.worker} stored generation {new.generation} {new.seen - revoked:.2f} s after the report, "
                 f"{calls} upstream calls (the failed one included)")
        if new.seen - revoked > limit:
            res.fail(f"new token {new.seen - revoked:.2f} s after the report (limit {limit:.1f} s)")
        if h.admin.errcode(new.token) != 0:
            res.fail("WeChat rejects the new token")
    if calls > 3:
        res.fail(f"{calls} upstream calls for one forced refresh through one failure (at most 3)")
    h.sleep(1.0)
    fig = h.finish()
    # The failed call and the forced one are extra.
    judge(res, h, fig, allowed_excess=2, windows=[(revoked, served + 0.5)])


def report_loop(ctx):
    """A client reports the current token every 100 ms for 60 s (20 s with --short), with a forced-refresh
    budget of 5 s minimum token age and 20 an hour: upstream calls stay within it (one per 5 s), and a
    genuine report after a revoke is still served within 2 s."""
    res = ctx.result
    duration = 20 if ctx.short else 60
    min_age_s, hourly = 5.0, 20
    h = ctx.harness("report-loop", [APP], refresh={"forced_min_token_age": "5s", "forced_hourly_budget": hourly,
                                                   "forced_daily_budget": 100}, timeout=150.0 + duration)
    h.wait_first_tokens()
    fresh_cycle(h, APP, age_s=0.0)
    base = h.admin.token_calls(APP)
    since = h.sampler.token_count(APP)
    client = h.redis.client()
    reports = 0
    started = time.time()
    try:
        while time.time() - started < duration:
            if report_current(h, APP, client) is not None:
                reports += 1
            h.sleep(0.1)
    finally:
        client.close()
    calls = h.admin.token_calls(APP) - base
    tokens = h.sampler.token_count(APP) - since
    budget = min(hourly, int(duration / min_age_s) + 1)
    res.note(f"{reports} reports of the current token in {duration} s: {calls} upstream calls, {tokens} new tokens "
             f"(budget: one per {min_age_s:.0f} s, {hourly} an hour: at most {budget})")
    if calls > budget:
        res.fail(f"{calls} upstream calls from {reports} reports in {duration} s (budget {budget})")
    # A genuine report: the token is revoked once it is older than the minimum age.
    with h.sampler.lock:
        current = h.sampler.tracks[APP].tokens[-1]
    h.sleep(max(0.0, current.issued_max / 1000 + min_age_s + 0.2 - time.time()))
    since = h.sampler.token_count(APP)
    revoked = time.time()  # before the call: a reader may be refused before the mock's answer reaches us
    h.admin.revoke(APP)
    report_current(h, APP)
    new = h.wait_new_token(APP, timeout=5, since=since)
    if new is None:
        res.fail("a genuine report after a revoke got no new token within 5 s")
        served = revoked + 5
    else:
        served = new.seen
        res.note(f"genuine report after a revoke: new token {new.seen - revoked:.2f} s later")
        if new.seen - revoked > 2.0:
            res.fail(f"a genuine report after a revoke was served {new.seen - revoked:.2f} s later (limit 2 s)")
    refused = h.workers.log_count("forced refresh refused by the app's forced-refresh budget")
    res.note(f"budget warnings logged: {refused} (one per token at most, across workers: min_token_age's period)")
    h.sleep(1.0)
    fig = h.finish()
    judge(res, h, fig, allowed_excess=budget + 1, windows=[(revoked, served + 0.5)])


def many_apps(lifetime):
    def scenario(ctx):
        res = ctx.result
        apps = [f"wxchaos{n:011d}" for n in range(1, 1001)]
        h = ctx.harness(f"1000-apps-{lifetime}s", apps, lifetime=lifetime, derived_secrets=True,
                        sample_interval=0.25, timeout=120 + 3 * lifetime)
        first_all = h.wait_first_tokens(timeout=90)
        h.note(f"all {len(apps)} apps have a token {first_all - h.t_start:.1f} s after start")
        res.note(f"all {len(apps)} apps had a first token {first_all - h.t_start:.1f} s after the workers started; "
                 f"lease TTL {h.lease_ttl_s:.2f} s, refresh jitter window {h.jitter_ms / 1000:.2f} s")
        h.sleep(2 * h.lifetime)
        fig = h.finish()
        judge(res, h, fig)
        mean, worst = fig.calls_per_token()
        over = sum(1 for f in fig.per_app.values() if f.excess > 0)
        gapped = sum(1 for f in fig.per_app.values() if f.gaps)
        res.note(f"calls per app per token: mean {mean:.3f}, max {worst:.2f}; apps with an extra call: {over}; "
                 f"apps whose key went missing: {gapped}")
        ambiguous = h.workers.log_count("issue order unknown (a fetch outlived its lease)")
        lost = h.workers.log_count("refresh lease lost during the upstream call")
        late = h.workers.log_count("refresh.reason=expired")
        requested = h.workers.log_count("refresh.reason=requested")
        res.note(f"refreshes logged with reason 'expired' (started after the token had expired): {late}; "
                 f"with reason 'requested' (the extra fetch after an ambiguous write): {requested}")
        widths = sorted(t.issued_max - t.issued_min for f in fig.per_app.values()
                        for t in h.sampler.tracks[f.appid].tokens)
        if widths:
            res.note(f"write outcomes logged: ambiguous {ambiguous}; lease-lost warnings {lost}; token issue "
                     f"windows (issued_max - issued_min): median {widths[len(widths) // 2]} ms, "
                     f"max {widths[-1]} ms")
        res.note("CPU seconds used during the run: " + ", ".join(f"{name} {seconds:.1f}"
                                                                 for name, seconds in h.cpu.items())
                 + f" (of {fig.duration_s:.0f} s x {os.cpu_count()} CPUs)")
    scenario.__doc__ = (f"1,000 apps x 3 workers over 2 lifetimes of {lifetime} s tokens (mock --derived-secrets; "
                        "each app's secret in its own environment variable): every app one upstream call per "
                        "token, no invalid token, no key missing after the first."
                        + (" With 8 s tokens the lease TTL is 0.67 s and the refresh jitter window 0.2 s, so "
                           "all 1,000 apps (fetched within ~2 s at start) come due together."
                           if lifetime < 30 else
                           " The same load with a 2.5 s lease TTL and 0.75 s jitter window, to tell the "
                           "coordination from the time compression."))
    return scenario


def restore_older(ctx):
    """Right after a refresh, the previous token's key and meta come back (DUMP/RESTORE, as after a
    failover that lost the write or an RDB restore), with the TTL they had. Workers remember the newer
    token and write it back through the fence within refresh.check_interval (200 ms): the last-issued token
    is back within check_interval + 1 s, and no reader gets 40001 once WeChat retires the older one after
    its overlap. 20 s tokens, so the restored one would outlive that overlap by 2.5 s. No extra upstream
    call: the write-back comes from memory. (The sampler sees the older token return and its generation go
    back: that is the damage done, not counted against the workers.)"""
    res = ctx.result
    h = ctx.harness("restore-older", [APP], lifetime=20)
    h.wait_first_tokens()
    raw = redis.Redis(host="127.0.0.1", port=h.redis.port, socket_timeout=2)
    key, meta = f"{h.prefix}:{{{APP}}}:access_token", f"{h.prefix}:{{{APP}}}:meta"
    limit = 0.2 + 1.0
    try:
        older = h.sampler.latest(APP)
        # Dumped as soon as it is stored: what a replica or a backup holds when the next refresh is lost.
        dumped_key, dumped_meta = raw.dump(key), raw.dump(meta)
        if raw.hget(meta, "token") != older.token.encode():
            raise HarnessError("the token changed while it was being dumped")
        since = h.sampler.token_count(APP)
        newer = h.wait_new_token(APP, timeout=h.lifetime, since=since)
        if newer is None:
            raise HarnessError("no second scheduled refresh within a lifetime")
        pttl = older.expires_at - int(time.time() * 1000)
        calls_before = h.admin.token_calls(APP)
        raw.restore(key, max(pttl, 1), dumped_key, replace=True)
        raw.restore(meta, 0, dumped_meta, replace=True)
        restored_at = time.time()
        h.note(f"RESTORE of generation {older.generation} ({pttl / 1000:.1f} s left) over generation "
               f"{newer.generation}, {restored_at - newer.seen:.2f} s after it was stored")
        back = h.wait_for(lambda: raw.get(key) == newer.token.encode(), timeout=10, step=0.005)
        back_s = time.time() - restored_at
        generation = int(raw.hget(meta, "generation") or 0)
        res.note(f"generation {newer.generation}'s token back {back_s:.3f} s after the restore "
                 f"(limit {limit:.1f} s), meta generation {generation}")
        if not back:
            res.fail("the newer token was not written back within 10 s")
        elif back_s > limit:
            res.fail(f"the newer token came back {back_s:.2f} s after the restore (limit {limit:.1f} s)")
        h.sleep(2 * cycle_s(h))
        calls_after = h.admin.token_calls(APP) - calls_before
    finally:
        raw.close()
    fig = h.finish()
    overlap_end = restored_at + h.overlap
    late = [r for r in fig.readers.rejections if r[0] > overlap_end]
    res.note(f"reader 40001/42001 after the overlap: {len(late)}; in all: {len(fig.readers.rejections)}; "
             f"upstream calls from the restore to the end: {calls_after}")
    caused = []
    scratch_res = Result(res.name, res.title)
    judge(scratch_res, h, fig)
    for reason in scratch_res.reasons:
        if reason.startswith("generation went back") or reason.startswith("an older token came back"):
            caused.append(reason)
        else:
            res.fail(reason)
    res.figures, res.allowed_excess = scratch_res.figures, scratch_res.allowed_excess
    if caused:
        res.note("caused by the restore itself: " + "; ".join(caused))


CLOCK_SHIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "redis_clock_shim.c")


def clock_back(ctx):
    """The Redis server's clock steps back by 30 s (an LD_PRELOAD shim, redis_clock_shim.c, as an NTP step
    or a failover to a skewed replica would), 1 s after a refresh. Every time in Redis is now 30 s late in
    real time: the key would outlive its token, and a fresh token would look issued before the stored one
    and be refused. The workers notice the step, move the stored times back with it once, and go on: no
    reader ever gets an expired or retired token, and no extra upstream call (no fetch loop)."""
    res = ctx.result
    shim_dir = tempfile.mkdtemp(prefix="chaos-clock-")
    shim, offset = os.path.join(shim_dir, "clock.so"), os.path.join(shim_dir, "offset_ms")
    try:
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, CLOCK_SHIM], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise HarnessError(f"cannot build {CLOCK_SHIM} (make chaos installs gcc): {error}")
    with open(offset, "w") as stamp:
        stamp.write("0\n")
    env = dict(os.environ, LD_PRELOAD=shim, CHAOS_CLOCK_OFFSET_FILE=offset)
    try:
        h = ctx.harness("clock-back", [APP], redis_env=env)
        h.wait_first_tokens()
        token = h.wait_new_token(APP, timeout=h.lifetime)
        if token is None:
            raise HarnessError("no scheduled refresh within a lifetime")
        h.sleep(1.0)
        client = h.redis.client()
        try:
            before = client.time()
            with open(offset + ".new", "w") as rewritten:
                rewritten.write("-30000\n")
            os.replace(offset + ".new", offset)
            time.sleep(0.02)  # the shim re-reads the file every 5 ms
            after = client.time()
            stepped_at = time.time()
            step = (before[0] + before[1] / 1e6) - (after[0] + after[1] / 1e6)
            h.note(f"Redis TIME stepped back by {step:.2f} s, {stepped_at - token.seen:.2f} s after generation "
                   f"{token.generation} was stored")
            if step < 25:
                raise HarnessError(f"stepping the Redis clock failed: TIME moved back by {step:.2f} s only")
            calls_before = h.admin.token_calls(APP)
            h.sleep(4 * cycle_s(h))
            calls = h.admin.token_calls(APP) - calls_before
        finally:
            client.close()
        fig = h.finish()
        warned = h.workers.log_count("Redis clock stepped back")
        shifted = h.workers.log_count("moved the stored token's times back with the Redis clock")
        refused = h.workers.log_count("the fence refused this worker's token")
        res.note(f"step of {step:.2f} s; {calls} upstream call(s) in the {4 * cycle_s(h):.0f} s after it; workers "
                 f"that warned: {warned}; stored times moved by: {shifted} worker(s); refusal streaks logged: {refused}")
        stored = [t for t in h.sampler.tracks[APP].tokens if t.seen > stepped_at]
        res.note(f"tokens stored after the step: {len(stored)} (generations "
                 f"{', '.join(str(t.generation) for t in stored)}) for {calls} upstream call(s)")
        if not warned:
            res.fail("no worker warned about the Redis clock stepping back")
        if calls > len(stored) + 1:
            res.fail(f"{calls} upstream calls after the step for {len(stored)} stored tokens (a fetch loop)")
        # The harness dates tokens on the Redis clock: across the step, the first token after it looks 30 s
        # early and the last one's due time 30 s late, so its per-token count may be off by one.
        judge(res, h, fig, allowed_excess=1)
    finally:
        shutil.rmtree(shim_dir, ignore_errors=True)

def _exists(client, key):
    try:
        return client.exists(key) == 1
    except redis.RedisError:
        return False


def _numsub(client, channel):
    try:
        return dict(client.pubsub_numsub(channel)).get(channel, 0)
    except redis.RedisError:
        return 0


def _secrets_in_redis(client, prefix, secrets):
    """Every (key, field) under `prefix` whose name or value contains one of `secrets`."""
    found = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        kind = client.type(key)
        values = []
        if kind == "string":
            values = [client.get(key) or ""]
        elif kind == "hash":
            values = [f"{k}={v}" for k, v in client.hgetall(key).items()]
        for value in [key] + values:
            if any(secret in value for secret in secrets):
                found.append(key)
    return found


@dataclass
class Scenario:
    name: str
    title: str
    run: object
    short: bool


SCENARIOS = [
    Scenario("steady", "steady state: 3 workers, 5 lifetimes", steady, True),
    Scenario("kill", "kill -9 of the lease holder during its upstream call", kill_holder, True),
    Scenario("pause", "SIGSTOP of the lease holder longer than the lease, then SIGCONT", pause_holder, True),
    Scenario("flush", "Redis FLUSHALL (twice)", flush, True),
    Scenario("redis-restart", "Redis restarted empty on the same port", redis_restart, False),
    Scenario("redis-down", "Redis down for 10 s", redis_down, False),
    Scenario("upstream-errcode", "upstream errcode -1 for longer than the margin", upstream_fault("errcode", -1), False),
    Scenario("upstream-hang", "upstream timeouts (hang) for longer than the margin", upstream_fault("hang"), False),
    Scenario("upstream-http500", "upstream HTTP 500 for longer than the margin", upstream_fault("http500"), False),
    Scenario("upstream-garbage", "upstream garbage bodies for longer than the margin", upstream_fault("garbage"), False),
    Scenario("wrong-secret", "one app with a wrong secret among 20", wrong_secret, False),
    Scenario("storm", "forced-refresh storm: 10,000 messages, same bad token, 1 s", storm, True),
    Scenario("forced-transient", "forced refresh through a transient failure", forced_transient, False),
    Scenario("report-loop", "a client reporting the current token every 100 ms for 60 s", report_loop, False),
    Scenario("1000-apps", "1,000 apps × 3 workers over 2 lifetimes (8 s tokens)", many_apps(8), False),
    Scenario("1000-apps-30s", "1,000 apps × 3 workers over 2 lifetimes (30 s tokens)", many_apps(30), False),
    Scenario("restore-older", "an older token restored after a refresh (DUMP/RESTORE)", restore_older, False),
    Scenario("clock-back", "the Redis clock stepped back by 30 s", clock_back, False),
    Scenario("sentinel", "Redis primary kill -9 under Sentinel, twice (steady, refresh in flight)",
             sentinel_failover, False),
]
