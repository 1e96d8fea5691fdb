import Foundation
import Hummingbird
import Logging
import NIOCore
import RedisClient

/// The optional body of `POST .../refresh`: the same field as a `P:refresh` message.
private struct RefreshRequestBody: Decodable {
    var badToken: String?

    enum CodingKeys: String, CodingKey {
        case badToken = "bad_token"
    }
}

/// What a refresh request waits for before answering.
private enum AwaitedToken {
    /// A valid token other than this one: the reported token is the current one.
    case replacing(String)
    /// A valid token of a later generation: no token was reported, so any new one will do.
    case newerThan(generation: Int)
    /// Nothing: the reported token was already replaced, or the request hit the cooldown.
    case nothing

    func isSatisfied(by snapshot: TokenStore.Snapshot) -> Bool {
        switch self {
        case .replacing(let badToken): CurrentToken(snapshot).map { $0.record.token != badToken } ?? false
        case .newerThan(let generation): (CurrentToken(snapshot)?.record.generation ?? 0) > generation
        case .nothing: true
        }
    }
}

extension TokenAPI {
    /// `POST /v1/apps/{appid}/refresh`: puts a forced refresh to Redis through this worker's refresher
    /// (the same rules as `P:refresh` messages), answering at once when it is refused; otherwise re-reads
    /// Redis at each `P:refreshed` announcement of the app until the awaited token shows up, upstream
    /// refuses the app (the request is withdrawn, which the once-a-second fallback read sees), or
    /// `refreshDeadline` passes. Announcements come from whichever worker wrote the token, so one written
    /// by another worker ends the wait as well.
    func refresh(appid: String, body: RequestBody, logger: Logger) async throws -> RefreshedTokenBody {
        try requireConfigured(appid)
        let badToken = try await Self.badToken(in: body)
        try admitWaiter()
        defer { waiters.release() }
        let before = try await snapshot(appid, logger: logger)
        let verdict = try await fromStore(appid, logger: logger) { _ throws(RedisError) in
            try await refresher.forceRefresh(appid: appid, badToken: badToken)
        }
        let awaited: AwaitedToken
        let since = verdict?.standingSince ?? .max
        switch verdict {
        case nil: throw Self.unknownApp(appid)
        case .stale, .cooldown: awaited = .nothing
        case .standing, .accepted:
            // The request stands for the token current when it was accepted: any other token answers it.
            awaited = before.status.record.map { .replacing(badToken ?? $0.token) } ?? .newerThan(generation: 0)
        case .refused(let refusal):
            throw Self.refused(appid, refusal, nowMillis: before.time.redisNow())
        }

        let latest = try await awaitAnnouncedToken(appid, from: before, logger: logger) {
            awaited.isSatisfied(by: $0) || Self.withdrawal($0, since: since) != nil
        }

        if !awaited.isSatisfied(by: latest), let refusal = Self.withdrawal(latest, since: since) {
            throw Self.refused(appid, refusal, nowMillis: latest.time.redisNow())
        }
        if let badToken, latest.status.record?.token == badToken {
            logger.info("forced refresh timed out; the reported token is still current", metadata: [LogKey.appID: "\(appid)"])
            throw APIError(.refreshTimeout, "no new token for \(appid) within \(refreshDeadline); the request stands and is retried")
        }
        guard let current = CurrentToken(latest) else { throw Self.tokenUnavailable(appid, snapshot: latest) }
        let refreshed = current.record.generation > before.status.record?.generation ?? 0
        logger.info(refreshed ? "forced refresh over HTTP: new token" : "forced refresh over HTTP: current token kept",
                    metadata: [LogKey.appID: "\(appid)", LogKey.generation: "\(current.record.generation)"])
        return RefreshedTokenBody(current, refreshed: refreshed)
    }

    /// The refusal that withdrew a request standing since `since` (upstream refused the app, or the
    /// stable_token force allowance ran out), if one did.
    private static func withdrawal(_ snapshot: TokenStore.Snapshot, since: Int64) -> ForcedRefreshRefusal? {
        guard snapshot.status.forcedAt == nil, snapshot.status.forcedRefusedAt ?? .min >= since,
            let refusal = snapshot.status.forcedRefusal, !refusal.reason.isBudget
        else { return nil }
        return refusal
    }

    /// 429 when the app's forced-refresh budget refused the request, 503 when upstream refuses the app.
    private static func refused(_ appid: String, _ refusal: ForcedRefreshRefusal, nowMillis: Int64) -> APIError {
        APIError(refusal.reason.isBudget ? .refreshBudget : .refreshRefused,
                 "forced refresh of \(appid) refused (\(refusal.reason.rawValue))", reason: refusal.explanation(nowMillis: nowMillis))
    }

    /// The reported token from an optional JSON body; an empty body (or `"bad_token":""`) reports none.
    private static func badToken(in body: RequestBody) async throws -> String? {
        let buffer = try await body.collect(upTo: RefreshMessage.maximumSize)
        let bytes = buffer.readableBytesView
        guard bytes.contains(where: { !" \t\r\n".utf8.contains($0) }) else { return nil }
        guard let decoded = try? JSONDecoder().decode(RefreshRequestBody.self, from: Data(bytes)) else {
            throw APIError(.badRequest, #"the body must be empty or a JSON object such as {"bad_token":"..."}"#)
        }
        return decoded.badToken.flatMap { $0.isEmpty ? nil : $0 }
    }
}
