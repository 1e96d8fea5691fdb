import Foundation
import RedisClient
import TestSupport
import Testing
@testable import TokenCentral
import WeChatMock

/// Tickets kept by workers against the real Redis and the real wechat-mock (whose `getticket` hands out
/// the same ticket while it lives, `expires_in` always 7200 or the configured lifetime).
@Suite(.timeLimit(.minutes(2))) struct TicketRefresherTests {
    static func app(_ appid: String) -> AppConfiguration {
        AppConfiguration(appid: appid, grant: .token, secret: Secret("s1"), tickets: [.jsapi])
    }

    @Test func threeWorkersMakeOneGetticketCallPerTicketLifetime() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 4, overlap: .seconds(2), apps: ["wxtsteady": "s1"])
        try await WorkerFleet.run(workers: 3, apps: [Self.app("wxtsteady")], mock: mock) { fleet, _ in
            try await fleet.waitForTicketGeneration("wxtsteady", atLeast: 3)
            let stats = fleet.mock.stats(appid: "wxtsteady")
            let generation = try await fleet.ticket("wxtsteady")?.generation ?? 0
            #expect(stats.ticketsIssued == generation)
            // The first ticket is also asked for once ahead of its expiry, which teaches the workers that
            // upstream hands it out until it expires (`renews_at_expiry`); later ones cost one call each.
            #expect(stats.ticketCalls <= generation + 1)
        }
    }

    @Test func nextTicketIsStoredWhileTheFirstIsStillServed() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtahead": "s1"])
        let tickets = ScriptedTicketFetcher(lifetime: .seconds(4))
        try await WorkerFleet.run(workers: 1, apps: [Self.app("wxtahead")], mock: mock, ticketFetcher: tickets) { fleet, _ in
            try await fleet.waitForTicketGeneration("wxtahead", atLeast: 1)
            let first = try #require(try await fleet.ticket("wxtahead"))
            try await fleet.waitForTicketGeneration("wxtahead", atLeast: 2)
            let second = try #require(try await fleet.ticket("wxtahead"))
            #expect(second.fetchedAt < first.expiresAt)
        }
    }

    @Test func leaseMakesOneGetticketCallAcrossWorkers() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtlease": "s1"])
        // A new ticket on every call, as an upstream renewing early would: any duplicate call shows.
        let tickets = ScriptedTicketFetcher(lifetime: .seconds(4))
        try await WorkerFleet.run(workers: 3, apps: [Self.app("wxtlease")], mock: mock, ticketFetcher: tickets) { fleet, _ in
            try await fleet.waitForTicketGeneration("wxtlease", atLeast: 2)
            #expect(try await fleet.ticket("wxtlease")?.token == "ticket-2")
            #expect(tickets.calls == 2)
        }
    }

    @Test func stormOfReportsOfTheCurrentTicketCausesOneCall() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtstorm": "s1"])
        try await WorkerFleet.run(workers: 3, apps: [Self.app("wxtstorm")], mock: mock) { fleet, _ in
            try await fleet.waitForTicketGeneration("wxtstorm", atLeast: 1)
            let first = try #require(try await fleet.ticket("wxtstorm"))
            let report = RefreshMessage(appid: "wxtstorm", ticket: .jsapi, badTicket: first.token).payload
            let stale = RefreshMessage(appid: "wxtstorm", ticket: .jsapi, badTicket: "an-older-ticket").payload
            for _ in 0..<50 {
                _ = try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, report)
                _ = try await fleet.store.redis.publish(fleet.store.keys.refreshChannel, stale)
            }
            try await waitUntil("upstream answered the report with the same ticket") {
                try await fleet.ticketStatus("wxtstorm").renewsAtExpiry
            }
            let status = try await fleet.ticketStatus("wxtstorm")
            #expect(status.record?.expiresAt == first.expiresAt)
            #expect(status.record?.generation == 1)
            #expect(fleet.mock.stats(appid: "wxtstorm").ticketCalls == 2)
        }
    }

    @Test func flushAllIsReseededFromMemoryWithoutGetticketCall() async throws {
        let server = try RedisServerProcess()
        try await server.start()
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtflush": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [Self.app("wxtflush")], mock: mock, redisURL: server.url) { fleet, workers in
            try await fleet.waitForTicketGeneration("wxtflush", atLeast: 1)
            let first = try #require(try await fleet.ticket("wxtflush"))
            for worker in workers {
                try await waitUntil("\(worker.configuration.workerID) remembers the ticket") {
                    worker.ticketRefresher.remembered("wxtflush", .jsapi) != nil
                }
            }
            try await fleet.store.redis.send("FLUSHALL")
            try await waitUntil("ticket re-seeded") { try await fleet.ticket("wxtflush")?.token == first.token }
            #expect(try await fleet.ticket("wxtflush")?.expiresAt == first.expiresAt)
            #expect(fleet.mock.stats(appid: "wxtflush").ticketCalls == 1)
        }
    }

    @Test func rejectedTokenIsReportedThenTheTicketIsFetchedWithTheNewOne() async throws {
        let mock = WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxtrevoked": "s1"])
        try await WorkerFleet.run(workers: 2, apps: [Self.app("wxtrevoked")], mock: mock) { fleet, workers in
            try await fleet.waitForTicketGeneration("wxtrevoked", atLeast: 1)
            let ticket = try #require(try await fleet.ticket("wxtrevoked"))
            #expect(fleet.mock.revoke(appid: "wxtrevoked"))
            let verdict = try await workers[0].ticketRefresher.forceRefresh(appid: "wxtrevoked", type: .jsapi, badTicket: ticket.token)
            #expect(verdict?.standingSince != nil)
            try await waitUntil("the ticket was fetched again with a new token") {
                try await fleet.ticketStatus("wxtrevoked").renewsAtExpiry
            }
            #expect(try await fleet.generation("wxtrevoked") == 2)
            // The initial call, the one the revoked token failed, and the retry with the new token.
            #expect(fleet.mock.stats(appid: "wxtrevoked").ticketCalls == 3)
            let status = try await fleet.ticketStatus("wxtrevoked")
            #expect(status.record?.token == ticket.token)
            #expect(status.lastError == nil)
        }
    }
}

extension WorkerFleet {
    func ticketStatus(_ appid: String, _ type: TicketType = .jsapi) async throws -> AppStatus {
        try await store.snapshot(appid, ticket: type).status
    }

    func ticket(_ appid: String, _ type: TicketType = .jsapi) async throws -> TokenRecord? {
        try await ticketStatus(appid, type).record
    }

    func waitForTicketGeneration(_ appid: String, atLeast generation: Int, timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("\(appid) ticket reaches generation \(generation)", timeout: timeout) {
            try await self.ticket(appid)?.generation ?? 0 >= generation
        }
    }
}
