import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import TokenCentralClient

/// `TokenCentralClient.ticket(for:type:)` and `reportBadTicket` against a real Redis, with tickets
/// written as the refresher stores them (raw value, PX) and changed behind the client's back.
@Suite struct ClientTicketTests {
    @Test func ticketIsReadFromItsKeyAndCachedWhileListening() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeTicket("ticket-1")
        try await fixture.withListeningClient { client in
            #expect(try await client.ticket(for: fixture.appid, type: .jsapi) == "ticket-1")
            try await fixture.writeTicket("ticket-2")
            #expect(try await client.ticket(for: fixture.appid, type: .jsapi) == "ticket-1")
        }
        try await fixture.cleanUpTickets()
    }

    @Test func tokenAndEachTicketAreReadFromTheirOwnKeys() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeToken("token-1")
        try await fixture.writeTicket("jsapi-1")
        try await fixture.writeTicket("card-1", .wxCard)
        let read = try await fixture.withListeningClient { client in
            [try await client.accessToken(for: fixture.appid), try await client.ticket(for: fixture.appid, type: .jsapi),
             try await client.ticket(for: fixture.appid, type: .wxCard)]
        }
        #expect(read == ["token-1", "jsapi-1", "card-1"])
        try await fixture.cleanUp()
        try await fixture.cleanUpTickets()
    }

    @Test(arguments: [
        #"{"appid":"APPID","ticket":"jsapi","generation":2,"expires_at":0}"#, #"{"appid":"APPID","ticket":"jsapi"}"#,
        #"{"appid":"APPID","generation":2,"expires_at":0}"#,
    ])
    func announcementOfTheAppDropsItsCachedTicket(payload: String) async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeTicket("ticket-1")
        try await fixture.withListeningClient { client in
            _ = try await client.ticket(for: fixture.appid, type: .jsapi)
            try await fixture.writeTicket("ticket-2")
            try await fixture.redis.publish("\(fixture.prefix):refreshed", payload.replacingOccurrences(of: "APPID", with: fixture.appid))
            try await waitUntil("the announced ticket is read") {
                try await client.ticket(for: fixture.appid, type: .jsapi) == "ticket-2"
            }
        }
        try await fixture.cleanUpTickets()
    }

    @Test func missingTicketIsNoTicketNamingTheKey() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        let error = await #expect(throws: TokenCentralClientError.self) {
            try await client.ticket(for: fixture.appid, type: .wxCard)
        }
        #expect(error?.code == .noTicket)
        #expect(error?.key == fixture.ticketKey(.wxCard))
    }

    @Test func reportBadTicketPublishesTheTypeAndTicketAsJSON() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        let client = TokenCentralClient(redis: fixture.redis, keyPrefix: fixture.prefix)
        var requests = fixture.redis.subscribe(channels: ["\(fixture.prefix):refresh"]).makeAsyncIterator()
        #expect(await requests.next() == .subscribed)

        let badTicket = #"TICKET/with"quotes\"#
        try await client.reportBadTicket(appid: fixture.appid, type: .wxCard, ticket: badTicket)

        guard case .message(let message) = await requests.next() else {
            Issue.record("no message on \(fixture.prefix):refresh")
            return
        }
        let object = try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: String]
        #expect(object == ["appid": fixture.appid, "ticket": "wx_card", "bad_ticket": badTicket])
    }

    @Test func reportBadTicketDropsTheCachedTicket() async throws {
        let fixture = try ClientFixture(url: try sharedRedisURL())
        try await fixture.writeTicket("rejected")
        try await fixture.withListeningClient { client in
            _ = try await client.ticket(for: fixture.appid, type: .jsapi)
            try await fixture.writeTicket("replacement")
            try await client.reportBadTicket(appid: fixture.appid, type: .jsapi, ticket: "rejected")
            #expect(try await client.ticket(for: fixture.appid, type: .jsapi) == "replacement")
        }
        try await fixture.cleanUpTickets()
    }
}

extension ClientFixture {
    func ticketKey(_ type: TicketType) -> String { TokenKeys(prefix: prefix).ticket(appid, type) }

    func writeTicket(_ ticket: String, _ type: TicketType = .jsapi) async throws {
        try await redis.send("SET", ticketKey(type), ticket, "PX", 60_000)
    }

    func cleanUpTickets() async throws {
        try await redis.delete(ticketKey(.jsapi), ticketKey(.wxCard))
    }
}
