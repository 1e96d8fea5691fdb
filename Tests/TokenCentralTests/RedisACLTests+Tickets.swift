import RedisClient
import TestSupport
import Testing
import TokenCentral
import TokenCentralClient

extension RedisACLTests {
    /// The documented `token-reader` reads tickets and reports a rejected one, as `TokenCentralClient` does.
    @Test func tokenReaderReadsAndReportsTickets() async throws {
        let users = try await DocumentedUsers.start()
        try await users.admin.send("SET", "wechat:{wxacl}:jsapi_ticket", "ticket-acl", "PX", 60_000)
        let client = TokenCentralClient(redis: try RedisClient(url: users.url("token-reader")), keyPrefix: "wechat")
        #expect(try await client.ticket(for: "wxacl", type: .jsapi) == "ticket-acl")
        try await client.reportBadTicket(appid: "wxacl", type: .jsapi, ticket: "ticket-acl")
        await users.server.stop()
    }
}
