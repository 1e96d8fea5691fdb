import DequeModule
import RedisClient

/// Which app a caller's access_token belongs to: the gateway identifies (and authenticates) a call by
/// the token it carries, as WeChat does, so it accepts only a token TokenCentral stores now or stored
/// within WeChat's overlap before the current one.
///
/// Tokens are learned as they are announced on `P:refreshed` (one `GET` of the announced app's key, so
/// every worker knows each stored token at once, and accepts it through its overlap even if it never
/// served it), from every token this worker hands out or injects, and from a scan of every app's key
/// (one pipelined `GET`) at each (re)subscription, when announcements may have been lost, and on a
/// miss. An idle deployment costs nothing, however many apps it has. Misses are the only cost a caller
/// can force, so scans are coalesced (callers missing during a scan wait for it) and at most one starts
/// per `minimumScanInterval`.
actor TokenIndex {
    private struct Entry {
        var appid: String
        /// When a newer token of the app was seen; nil while this one is current.
        var replacedAt: ContinuousClock.Instant?
    }

    private let store: TokenStore
    private let apps: AppDirectory
    /// How long a replaced token is still accepted: WeChat keeps the previous token valid this long.
    private let overlap: Duration
    private let minimumScanInterval: Duration
    private var entries: [String: Entry] = [:]
    private var currentToken: [String: String] = [:]
    /// Replaced tokens in the order they were replaced, so each is forgotten once its overlap ends.
    private var replaced: Deque<(token: String, at: ContinuousClock.Instant)> = []
    private var lastScan: ContinuousClock.Instant?
    /// Callers waiting for the scan in progress; nil when none runs.
    private var scanWaiters: [CheckedContinuation<Void, Never>]?

    init(store: TokenStore, apps: AppDirectory, overlap: Duration = .seconds(300), minimumScanInterval: Duration = .milliseconds(500)) {
        self.store = store
        self.apps = apps
        self.overlap = overlap
        self.minimumScanInterval = minimumScanInterval
    }

    /// The app `token` belongs to, or nil when it is no token of ours (or one replaced too long ago).
    func appid(for token: String) async throws(RedisError) -> String? {
        if let appid = live(token) { return appid }
        try await scan()
        return live(token)
    }

    /// Records `token` as `appid`'s current token; the previous one starts its overlap.
    func observe(appid: String, token: String) {
        let now = ContinuousClock.now
        if let previous = currentToken[appid], previous != token, entries[previous] != nil {
            entries[previous]?.replacedAt = now
            replaced.append((previous, now))
        }
        currentToken[appid] = token
        entries[token] = Entry(appid: appid, replacedAt: nil)
        forgetReplaced(now: now)
    }

    /// Drops the tokens whose overlap has ended.
    private func forgetReplaced(now: ContinuousClock.Instant) {
        while let oldest = replaced.first, now - oldest.at > overlap {
            replaced.removeFirst()
            if let replacedAt = entries[oldest.token]?.replacedAt, now - replacedAt > overlap { entries[oldest.token] = nil }
        }
    }

    /// Reads the current token of `appid`, just announced.
    func learn(_ appid: String) async throws(RedisError) {
        if let bytes = try await store.redis.get(store.keys.accessToken(appid)), !bytes.isEmpty {
            observe(appid: appid, token: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The app of a token already known, without reading Redis.
    func live(_ token: String) -> String? {
        guard let entry = entries[token] else { return nil }
        if let replacedAt = entry.replacedAt, ContinuousClock.now - replacedAt > overlap { return nil }
        return entry.appid
    }

    /// Reads every app's current token (see the type's comment for when).
    func scan() async throws(RedisError) {
        if scanWaiters != nil {
            await withCheckedContinuation { scanWaiters?.append($0) }
            return
        }
        scanWaiters = []
        defer {
            for waiter in scanWaiters ?? [] { waiter.resume() }
            scanWaiters = nil
        }
        if let lastScan, ContinuousClock.now < lastScan + minimumScanInterval {
            try? await Task.sleep(until: lastScan + minimumScanInterval)
        }
        lastScan = .now
        let replies = try await store.redis.pipeline(apps.apps.map { RedisCommand("GET", store.keys.accessToken($0.appid)) })
        for (app, reply) in zip(apps.apps, replies) {
            if let token = reply.string, !token.isEmpty { observe(appid: app.appid, token: token) }
        }
    }
}
