import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral
import TokenCentralClient
import WeChatMock

/// The three Redis users of docs/redis-contract.md, created from `deploy/redis-acl-users.txt` (which
/// that page quotes), each on a private redis-server: the programs work with exactly those permissions,
/// and a missing one stops them at startup, named.
@Suite(.timeLimit(.minutes(2))) struct RedisACLTests {
    @Test func theContractQuotesEveryUserLine() throws {
        let contract = try String(contentsOf: DocumentedUsers.repository.appendingPathComponent("docs/redis-contract.md"), encoding: .utf8)
        let lines = try DocumentedUsers.lines()
        #expect(lines.map { $0.split(separator: " ")[2] } == ["tokend", "token-reader", "tokenctl"])
        for line in lines { #expect(contract.contains(line), "docs/redis-contract.md must quote: \(line)") }
    }

    @Test func workersTokenctlAndClientsRunAsTheDocumentedUsers() async throws {
        let users = try await DocumentedUsers.start()
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxacl": "s1"]))
        try await withWeChatMockServer(mock) { url in
            let workers = try WorkerProcesses(count: 2, appid: "wxacl", secret: "s1", redisURL: users.url("tokend"), prefix: "wechat", mockURL: url)
            try await waitUntil("a worker stores the first token", timeout: .seconds(20)) {
                try await users.admin.send("EXISTS", "wechat:{wxacl}:access_token").integer == 1
            }
            let tokenctl = try Tokenctl()
            let connection = ["--redis-url", users.url("tokenctl"), "--prefix", "wechat"]
            let token = try await tokenctl.run(connection + ["get", "wxacl"])
            #expect(token.status == 0)
            let reader = TokenCentralClient(redis: try RedisClient(url: users.url("token-reader")))
            #expect(try await reader.accessToken(for: "wxacl") + "\n" == token.output)

            let status = try await tokenctl.run(connection + ["status", "--json"])
            #expect(status.status == 0 && status.output.contains(#""appid":"wxacl""#), "\(status.output)")
            // Through the workers' whole forced-refresh path: lease, upstream call, fenced write, announcement.
            let refresh = try await tokenctl.run(connection + ["refresh", "wxacl", "--bad-token", token.output.trimmingCharacters(in: .newlines)])
            #expect(refresh.status == 0 && refresh.output == "2\n", "\(refresh.output)")
            let watch = try await tokenctl.run(connection + ["watch", "--json", "--duration", "0.2"])
            #expect(watch.status == 0, "\(watch.output)")
            try await reader.reportInvalid(appid: "wxacl", token: "a-token-already-replaced")

            await workers.stopAll()
            #expect(!workers.logs().contains("NOPERM"), "\(workers.logs())")
        }
        await users.server.stop()
    }

    @Test func tokendWithoutTheRefreshedChannelStopsAtStartupNamingIt() async throws {
        let log = try await Self.startupFailure(withoutPermission: "&wechat:refreshed")
        #expect(log.contains("Redis user 'tokend'"), "\(log)")
        #expect(log.contains("SUBSCRIBE wechat:refreshed:"), "\(log)")
        #expect(log.contains("PUBLISH wechat:refreshed x:"), "\(log)")
    }

    @Test func tokendWithoutEvalshaStopsAtStartupNamingIt() async throws {
        let log = try await Self.startupFailure(withoutPermission: "+evalsha")
        #expect(log.contains("EVALSHA <sha1> 2 wechat:{wxacl}:access_token wechat:{wxacl}:meta:"), "\(log)")
        #expect(log.contains("no permissions to run the 'evalsha' command"), "\(log)")
    }

    @Test func tokenctlWithoutAPermissionNamesIt() async throws {
        let users = try await DocumentedUsers.start(tokenctlWithout: "+hgetall")
        let outcome = try await Tokenctl().run(["--redis-url", users.url("tokenctl"), "--prefix", "wechat", "status"])
        #expect(outcome.status == 1)
        #expect(outcome.output.contains("Redis user 'tokenctl'") && outcome.output.contains("HGETALL wechat:{APPID}:meta:"), "\(outcome.output)")
        await users.server.stop()
    }

    @Test func aclDryRunAndADiscardedTransactionFindTheSameDenials() async throws {
        let users = try await DocumentedUsers.start(tokendWithout: "&wechat:refreshed")
        let check = RedisPermissionCheck.tokend(keys: TokenKeys(prefix: "wechat"), appid: "wxacl")
        let transaction = try await check.run(on: try RedisClient(url: users.url("tokend")))
        try await users.admin.send("ACL", "SETUSER", "tokend", "+acl|dryrun")
        let dryRun = try await check.run(on: try RedisClient(url: users.url("tokend")))

        #expect(transaction.method == .discardedTransaction)
        #expect(dryRun.method == .aclDryRun)
        #expect(transaction.denials.map(\.probe.shown) == ["SUBSCRIBE wechat:refreshed", "PUBLISH wechat:refreshed x"])
        #expect(dryRun.denials.map(\.probe) == transaction.denials.map(\.probe))
        #expect(dryRun.denials.first?.reason == "This user has no permissions to access the 'wechat:refreshed' channel")
        await users.server.stop()
    }

    @Test func aUserAllowedNeitherDryRunNorMultiIsLeftUncheckedAndNothingRuns() async throws {
        let users = try await DocumentedUsers.start(tokendWithout: "+multi")
        let check = RedisPermissionCheck.tokend(keys: TokenKeys(prefix: "wechat"), appid: "wxacl")
        let report = try await check.run(on: try RedisClient(url: users.url("tokend")))
        #expect(report.method == nil && report.denials.isEmpty)
        #expect(try await users.admin.send("DBSIZE").integer == 0)
        await users.server.stop()
    }

    /// Starts one worker as a `tokend` user lacking `permission`; returns its output once it exited with 2.
    private static func startupFailure(withoutPermission permission: String) async throws -> String {
        let users = try await DocumentedUsers.start(tokendWithout: permission)
        let mock = try WeChatMock(configuration: WeChatMockConfiguration(tokenLifetime: 7200, apps: ["wxacl": "s1"]))
        let log = try await withWeChatMockServer(mock) { url in
            let workers = try WorkerProcesses(count: 1, appid: "wxacl", secret: "s1", redisURL: users.url("tokend"), prefix: "wechat", mockURL: url)
            let status = await workers.processes["proc-0"]?.waitForExit(timeout: .seconds(20))
            #expect(status == 2)
            // Stopped before any write, not half-way through one.
            #expect(try await users.admin.send("DBSIZE").integer == 0)
            #expect(mock.stats(appid: "wxacl").tokenCalls == 0)
            return workers.logs()
        }
        await users.server.stop()
        return log
    }
}

/// A private redis-server with the users of `deploy/redis-acl-users.txt`, each with a fresh password.
struct DocumentedUsers {
    let server: RedisServerProcess
    /// The server's `default` user, which has every permission.
    let admin: RedisClient
    let passwords: [String: String]

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `ACL SETUSER` lines of the file, without its comments.
    static func lines() throws -> [String] {
        try String(contentsOf: repository.appendingPathComponent("deploy/redis-acl-users.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    /// Starts the server and creates the users, leaving out one permission of `tokend` or `tokenctl`.
    static func start(tokendWithout: String? = nil, tokenctlWithout: String? = nil) async throws -> DocumentedUsers {
        let server = try RedisServerProcess()
        try await server.start()
        let admin = try RedisClient(url: server.url)
        var passwords: [String: String] = [:]
        for line in try lines() {
            var arguments = line.split(separator: " ").map(String.init)
            let user = arguments[2]
            let left = ["tokend": tokendWithout, "tokenctl": tokenctlWithout][user] ?? nil
            if let left {
                guard let index = arguments.firstIndex(of: left) else { throw TestSupportError("\(user) has no \(left) to leave out") }
                arguments.remove(at: index)
            }
            let password = UUID().uuidString
            passwords[user] = password
            arguments = arguments.map { $0.hasPrefix(">") && $0.hasSuffix("-PASSWORD") ? ">" + password : $0 }
            try await admin.send(RedisCommand(arguments[0], Array(arguments.dropFirst())))
        }
        return DocumentedUsers(server: server, admin: admin, passwords: passwords)
    }

    func url(_ user: String) -> String {
        "redis://\(user):\(passwords[user] ?? "")@127.0.0.1:\(server.port)/0"
    }
}
