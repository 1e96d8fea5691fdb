import Foundation
import RedisClient
import Testing
import TokenCentral

/// `tokenctl status` and `get --ticket` with tickets written as the refresher stores them (raw value with
/// PX, meta hash with the token's fields).
extension TokenctlTests {
    func seedTicket(_ appid: String, _ type: TicketType, ticket: String, generation: Int) async throws {
        try await redis.send("SET", keys.ticket(appid, type), ticket, "PX", 60_000)
        try await redis.send("HSET", keys.meta(appid, type), "token", ticket, "generation", generation, "worker", "tokend-b",
                             "expires_at", 1, "fetched_at", 1)
    }

    func cleanUpTickets(_ appids: String...) async throws {
        for appid in appids {
            for type in TicketType.allCases { try await redis.delete(keys.ticket(appid, type), keys.meta(appid, type)) }
        }
    }

    @Test func statusJSONShowsTheTicketsFoundInRedisUnderTheirApp() async throws {
        try await seed("wxjs", token: "token-js", generation: 1)
        try await seedTicket("wxjs", .jsapi, ticket: "ticket-js", generation: 3)
        try await redis.send("HSET", keys.meta("wxjs", .wxCard), "error", "errcode 40001: invalid credential", "errcode", 40001)
        try await seed("wxplain", token: "token-plain", generation: 1)

        let outcome = try await tokenctl.run(connection + ["status", "--json"])
        #expect(outcome.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [[String: Any]])
        // A ticket's meta key (`P:{APPID}:jsapi_ticket:meta`) is not mistaken for an app's.
        #expect(rows.map { $0["appid"] as? String } == ["wxjs", "wxplain"])
        let tickets = try #require(rows[0]["tickets"] as? [[String: Any]])
        #expect(tickets.map { $0["ticket"] as? String } == ["jsapi", "wx_card"])
        #expect(tickets[0]["generation"] as? Int == 3)
        #expect(tickets[0]["worker"] as? String == "tokend-b")
        #expect((1...60).contains(tickets[0]["expires_in"] as? Int ?? 0))
        #expect(tickets[1]["errcode"] as? Int == 40001)
        #expect(tickets[1]["expires_in"] == nil)
        #expect(rows[1]["tickets"] == nil)
        #expect(!outcome.output.contains("ticket-js"))
        try await cleanUp("wxjs", "wxplain")
        try await cleanUpTickets("wxjs")
    }

    @Test func statusTableListsTheConfiguredTicketsIndentedUnderTheirApp() async throws {
        try await seed("wxconf", token: "token-conf", generation: 1)
        try await seedTicket("wxconf", .jsapi, ticket: "ticket-c", generation: 2)
        let file = try configFile(apps: """
              - appid: wxconf
                secret_env: TOKENCTL_TEST_SECRET_NOT_SET
                tickets: [jsapi, wx_card]
              - appid: wxnone
                secret_env: TOKENCTL_TEST_SECRET_NOT_SET
            """)
        defer { try? FileManager.default.removeItem(at: file) }

        let outcome = try await tokenctl.run(["--config", file.path, "status"])
        #expect(outcome.status == 0, "\(outcome.output)")
        let lines = outcome.output.split(separator: "\n").map { String($0) }
        #expect(lines.count == 5)
        #expect(lines[1].hasPrefix("wxconf "))
        #expect(lines[2].hasPrefix("  jsapi ticket "))
        let jsapi = lines[2].split(separator: " ")
        #expect(jsapi.prefix(4) == ["jsapi", "ticket", "-", "2"])
        #expect(jsapi.dropFirst(4).first?.hasSuffix("s") == true)
        #expect(jsapi.dropFirst(5).first == "tokend-b")
        #expect(lines[3].split(separator: " ") == ["wx_card", "ticket", "-", "-", "no", "ticket", "-", "-"])
        #expect(lines[4].hasPrefix("wxnone "))
        try await cleanUp("wxconf")
        try await cleanUpTickets("wxconf")
    }

    @Test func getTicketPrintsTheTicketOrFails() async throws {
        try await seedTicket("wxget", .jsapi, ticket: "the-ticket", generation: 4)
        #expect(try await tokenctl.run(connection + ["get", "wxget", "--ticket", "jsapi"]).output == "the-ticket\n")

        let json = try await tokenctl.run(connection + ["get", "wxget", "--ticket", "jsapi", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["ticket", "expires_in", "generation"])
        #expect(object["ticket"] as? String == "the-ticket")
        #expect(object["generation"] as? Int == 4)

        let missing = try await tokenctl.run(connection + ["get", "wxget", "--ticket", "wx_card"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("no wx_card ticket for wxget"))

        let unknown = try await tokenctl.run(connection + ["get", "wxget", "--ticket", "card"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("expected one of jsapi, wx_card"))
        try await cleanUpTickets("wxget")
    }
}
