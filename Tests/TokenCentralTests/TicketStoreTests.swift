import Foundation
import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// The fenced write applied to tickets, against the real Redis: a ticket's expiry counts from when it
/// was first seen, and an older ticket is never put back.
@Suite struct TicketStoreTests {
    let store: TokenStore
    let appid = "wxticket"

    init() throws {
        store = try .onSharedRedis("tickets")
    }

    /// A jsapi ticket issued within `window` (relative to the Redis time `now`), valid for a minute.
    func write(_ ticket: String, issued window: ClosedRange<Int64>, at now: Int64, reseed: Bool = false) async throws -> WriteOutcome {
        try await store.write(
            appid: appid, token: ticket, issued: (now + window.lowerBound)...(now + window.upperBound), lifetimeMillis: 60_000,
            worker: "test", grant: .token, reseed: reseed, ticket: .jsapi)
    }

    func status() async throws -> AppStatus { try await store.snapshot(appid, ticket: .jsapi).status }

    /// Runs `body` on this test's prefix, deleting its keys afterwards.
    func withKeys(_ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            try? await deleteKeys(withPrefix: store.keys.prefix, on: store.redis)
            throw error
        }
        try await deleteKeys(withPrefix: store.keys.prefix, on: store.redis)
    }

    @Test func sameTicketAgainKeepsItsFirstSeenExpiry() async throws {
        try await withKeys {
            let now = try await store.time().redisNow()
            guard case .written(_, let firstExpiry) = try await write("t1", issued: -20_000 ... -19_990, at: now) else {
                Issue.record("expected a write"); return
            }
            // getticket says expires_in 7200 again: the answer must not extend the ticket's life.
            #expect(try await write("t1", issued: -10 ... -5, at: now) == .same(generation: 1, expiresAt: firstExpiry))
            let status = try await status()
            #expect(status.record?.expiresAt == firstExpiry)
            #expect(status.renewsAtExpiry)
            // Asked again once upstream certainly retired it: the first window's end plus the lifetime.
            #expect(status.retryAt == now - 19_990 + 60_000 + 1)
            let left = try #require(try await store.readableTicket(appid, .jsapi)?.millisecondsLeft)
            #expect(left <= 40_000)
        }
    }

    @Test func olderTicketIsRefused() async throws {
        try await withKeys {
            let now = try await store.time().redisNow()
            _ = try await write("newer", issued: -100 ... -50, at: now)
            #expect(try await write("older", issued: -300 ... -200, at: now) == .older(storedGeneration: 1))
            #expect(try await store.readableTicket(appid, .jsapi)?.ticket == "newer")
        }
    }

    @Test func ticketLivesInItsOwnKeysBesideTheToken() async throws {
        try await withKeys {
            let now = try await store.time().redisNow()
            _ = try await write("a-ticket", issued: -100 ... -50, at: now)
            #expect(try await store.readableToken(appid) == nil)
            #expect(try await store.snapshot(appid).status.record == nil)
            #expect(try await store.redis.get("\(store.keys.prefix):{\(appid)}:jsapi_ticket") == Array("a-ticket".utf8))
            #expect(try await store.redis.send("HGET", "\(store.keys.prefix):{\(appid)}:jsapi_ticket:meta", "token") == .bulk(Array("a-ticket".utf8)))
        }
    }

    @Test func newTicketIsAnnouncedWithItsTypeAndTokenAnnouncementsAreUnchanged() async throws {
        try await withKeys {
            let subscription = store.redis.subscribe(channels: [store.keys.refreshedChannel])
            var events = subscription.makeAsyncIterator()
            guard case .subscribed = await events.next() else { Issue.record("expected a subscription"); return }
            let now = try await store.time().redisNow()
            guard case .written(_, let expiresAt) = try await write("announced", issued: -100 ... -50, at: now) else {
                Issue.record("expected a write"); return
            }
            _ = try await store.write(appid: appid, token: "a-token", issued: (now - 100)...(now - 50), lifetimeMillis: 60_000,
                                      worker: "test", grant: .token)
            guard case .message(let ticketMessage) = await events.next(), case .message(let tokenMessage) = await events.next() else {
                Issue.record("expected two announcements"); return
            }
            #expect(String(decoding: ticketMessage.payload, as: UTF8.self)
                    == #"{"appid":"wxticket","ticket":"jsapi","generation":1,"expires_at":\#(expiresAt)}"#)
            #expect(RefreshedAnnouncement(payload: ticketMessage.payload)?.ticket == .jsapi)
            #expect(String(decoding: tokenMessage.payload, as: UTF8.self).hasPrefix(#"{"appid":"wxticket","generation":1,"expires_at":"#))
            #expect(RefreshedAnnouncement(payload: tokenMessage.payload)?.ticket == nil)
        }
    }
}
