import RedisClient
import TestSupport
import Testing
@testable import TokenCentral

/// The documented `tokend` user may keep tickets, and the startup check names a missing ticket key pattern.
@Suite(.timeLimit(.minutes(1))) struct TicketPermissionTests {
    @Test func documentedTokendUserMayKeepTickets() async throws {
        let users = try await DocumentedUsers.start()
        let check = RedisPermissionCheck.tickets(keys: TokenKeys(prefix: "wechat"), appid: "wxacl", ticket: .wxCard)
        let report = try await check.run(on: try RedisClient(url: users.url("tokend")))
        #expect(report.method != nil && report.denials.isEmpty, "\(report.denials)")
        await users.server.stop()
    }

    @Test func tokendWithoutTheTicketMetaPatternIsToldWhichKey() async throws {
        let users = try await DocumentedUsers.start(tokendWithout: "~wechat:{*}:*_ticket:*")
        let check = RedisPermissionCheck.tickets(keys: TokenKeys(prefix: "wechat"), appid: "wxacl", ticket: .jsapi)
        let report = try await check.run(on: try RedisClient(url: users.url("tokend")))
        #expect(report.denials.contains { $0.probe.shown == "HGETALL wechat:{wxacl}:jsapi_ticket:meta" }, "\(report.denials)")
        #expect(!report.denials.contains { $0.probe.shown == "GET wechat:{wxacl}:jsapi_ticket" })
        await users.server.stop()
    }
}
