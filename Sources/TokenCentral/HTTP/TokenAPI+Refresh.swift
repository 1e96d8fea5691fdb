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
    /// Nothing: the reported token was already replaced, or the refresher will decline (cooldown).
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
    /// `POST /v1/apps/{appid}/refresh`: hands a forced refresh to this worker's refresher (which applies
    /// the same deduplication as `P:refresh` messages), then re-reads Redis at each `P:refreshed`
    /// announcement of the app until the awaited token shows up or `refreshDeadline` passes. Announcements
    /// come from whichever worker wrote the token, so one written by another worker ends the wait as well.
    func refresh(appid: String, body: RequestBody, logger: Logger) async throws -> RefreshedTokenBody {
        try requireConfigured(appid)
        let badToken = try await Self.badToken(in: body)
        try admitWaiter()
        defer { waiters.release() }
        let before = try await snapshot(appid, logger: logger)
        let awaited: AwaitedToken
        if let badToken {
            awaited = before.status.record?.token == badToken ? .replacing(badToken) : .nothing
        } else {
            // Checked before asking: once asked, the refresher sets the same marker for this very request.
            let coolingDown = try await fromStore(appid, logger: logger) { store throws(RedisError) in
                try await store.forcedCooldownActive(appid)
            }
            awaited = coolingDown ? .nothing : .newerThan(generation: before.status.record?.generation ?? 0)
        }
        guard refresher.requestForcedRefresh(appid: appid, badToken: badToken) else { throw Self.unknownApp(appid) }

        let latest = try await awaitAnnouncedToken(appid, from: before, logger: logger, until: awaited.isSatisfied(by:))

        if let badToken, latest.status.record?.token == badToken {
            logger.info("forced refresh timed out; the reported token is still current", metadata: [LogKey.appID: "\(appid)"])
            throw APIError(.refreshTimeout, "no new token for \(appid) within \(refreshDeadline); retry later")
        }
        guard let current = CurrentToken(latest) else { throw Self.tokenUnavailable(appid, snapshot: latest) }
        let refreshed = current.record.generation > before.status.record?.generation ?? 0
        logger.info(refreshed ? "forced refresh over HTTP: new token" : "forced refresh over HTTP: current token kept",
                    metadata: [LogKey.appID: "\(appid)", LogKey.generation: "\(current.record.generation)"])
        return RefreshedTokenBody(current, refreshed: refreshed)
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
