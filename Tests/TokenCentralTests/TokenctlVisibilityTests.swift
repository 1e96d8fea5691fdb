import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral

extension TokenctlTests {
    @Test(arguments: [false, true]) func refreshOfAnAlreadyReplacedTokenSucceedsAndSaysSo(json: Bool) async throws {
        try await seed("wxreplaced", token: "new-token", generation: 8)
        let outcome = try await tokenctl.run(
            connection + ["refresh", "wxreplaced", "--bad-token", "old-token", "--timeout", "20"] + (json ? ["--json"] : []))
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("already replaced"))
        #expect(outcome.output.contains(json ? #"{"already_replaced":true,"appid":"wxreplaced","generation":8}"# : "8\n"))
        try await cleanUp("wxreplaced")
    }

    @Test func watchWritesNoScreenCodesWhenStdoutIsNotATerminal() async throws {
        try await seed("wxplain", token: "t", generation: 1)
        let outcome = try await tokenctl.run(connection + ["watch", "--interval", "0.2", "--duration", "1"])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("wxplain"))
        #expect(!outcome.output.contains("\u{1B}"))
        try await cleanUp("wxplain")
    }

    @Test func redisPasswordComesFromTheEnvironmentOrAFileNotArgv() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-ctl-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwordFile = directory.appendingPathComponent("redis.password")
        try Data("ctl-password\n".utf8).write(to: passwordFile)
        let results = try await RedisServerProcess.with { server in
            try await RedisClient(url: server.url, configuration: .init(poolSize: 1)).send("CONFIG", "SET", "requirepass", "ctl-password")
            let status = ["--redis-url", server.url, "status", "--json"]
            return [
                try await tokenctl.run(status),
                try await tokenctl.run(status, environment: ["TOKENCENTRAL_REDIS_PASSWORD": "ctl-password"]),
                try await tokenctl.run(["--redis-password-file", passwordFile.path] + status),
            ]
        }
        #expect(results.map(\.status) == [1, 0, 0])
        #expect(results[0].output.contains("NOAUTH"))
        #expect(results.allSatisfy { !$0.output.contains("ctl-password") })
    }
}
