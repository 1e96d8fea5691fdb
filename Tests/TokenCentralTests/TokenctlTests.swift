import Foundation
import RedisClient
import TestSupport
import Testing
import TokenCentral

/// `tokenctl` as a person or a script runs it, against the shared Redis on a fresh prefix.
@Suite struct TokenctlTests {
    let redis: RedisClient
    let url: String
    let keys = TokenKeys(prefix: uniquePrefix("ctl"))
    let tokenctl: Tokenctl

    init() throws {
        url = try sharedRedisURL()
        redis = try RedisClient(url: url)
        tokenctl = try Tokenctl()
    }

    var connection: [String] { ["--redis-url", url, "--prefix", keys.prefix] }

    /// Writes what a worker would: the token with its TTL and the meta hash.
    func seed(_ appid: String, token: String, generation: Int, worker: String = "tokend-a") async throws {
        try await redis.send("SET", keys.accessToken(appid), token, "PX", 60_000)
        try await redis.send("HSET", keys.meta(appid), "token", token, "generation", generation, "worker", worker,
                             "grant", "token", "expires_at", 1, "fetched_at", 1)
    }

    /// A tokend configuration for this suite's Redis and prefix, `apps` being the YAML items of its `apps:`
    /// list; the caller removes the file.
    func configFile(apps: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokenctl-\(UUID().uuidString).yaml")
        try "redis:\n  url: \(url)\n  key_prefix: \(keys.prefix)\napps:\n\(apps)".write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func cleanUp(_ appids: String...) async throws {
        for appid in appids { try await redis.delete(keys.accessToken(appid), keys.meta(appid)) }
    }

    @Test func statusJSONListsTheAppsFoundWithSCAN() async throws {
        try await seed("wxbeta", token: "token-b", generation: 2)
        try await seed("wxalpha", token: "token-a", generation: 7, worker: "tokend-b")
        try await redis.send("HSET", keys.meta("wxbroken"), "error", "errcode 40125: invalid appsecret", "errcode", 40125)

        let outcome = try await tokenctl.run(connection + ["status", "--json"])
        #expect(outcome.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["appid"] as? String } == ["wxalpha", "wxbeta", "wxbroken"])
        #expect(rows[0]["generation"] as? Int == 7)
        #expect(rows[0]["worker"] as? String == "tokend-b")
        #expect((1...60).contains(rows[0]["expires_in"] as? Int ?? 0))
        #expect(rows[2]["errcode"] as? Int == 40125)
        #expect(rows[2]["expires_in"] == nil)
        #expect(!outcome.output.contains("token-a"))
        try await cleanUp("wxalpha", "wxbeta", "wxbroken")
    }

    @Test func statusTableListsTheConfiguredApps() async throws {
        try await seed("wxconfigured", token: "token-c", generation: 3)
        let file = try configFile(apps: """
              - appid: wxconfigured
                secret_env: TOKENCTL_TEST_SECRET_NOT_SET
              - appid: wxwaiting
                grant: stable_token
                secret_env: TOKENCTL_TEST_SECRET_NOT_SET
            """)
        defer { try? FileManager.default.removeItem(at: file) }

        let outcome = try await tokenctl.run(["--config", file.path, "status"])
        #expect(outcome.status == 0)
        let lines = outcome.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["APP", "GRANT", "GEN", "EXPIRES", "IN", "FETCHED", "BY", "FORCED", "LAST", "ERROR"])
        #expect(lines.dropFirst().first?.prefix(3) == ["wxconfigured", "token", "3"])
        #expect(lines.dropFirst(2).first == ["wxwaiting", "stable_token", "-", "no", "token", "-", "-"])
        try await cleanUp("wxconfigured")
    }

    @Test func statusShowsAForcedRefreshRefusalWhileItIsInEffect() async throws {
        try await seed("wxrefused", token: "token-r", generation: 5)
        try await seed("wxpast", token: "token-p", generation: 6)
        try await redis.send("HSET", keys.meta("wxrefused"), "forced_refused", "hourly_budget", "forced_refused_until", Int64.max / 2)
        try await redis.send("HSET", keys.meta("wxpast"), "forced_refused", "min_token_age", "forced_refused_until", 1)

        let json = try await tokenctl.run(connection + ["status", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["forced_refused"] as? String } == [nil, "hourly_budget"])
        let table = try await tokenctl.run(connection + ["status"])
        let lines = table.output.split(separator: "\n")
        #expect(lines.first { $0.hasPrefix("wxrefused") }?.contains("refused: hourly_budget") == true)
        #expect(lines.first { $0.hasPrefix("wxpast") }?.contains("refused") == false)
        try await cleanUp("wxrefused", "wxpast")
    }

    @Test func getPrintsTheTokenOrFails() async throws {
        try await seed("wxget", token: "the-token", generation: 4)
        #expect(try await tokenctl.run(connection + ["get", "wxget"]).output == "the-token\n")

        let json = try await tokenctl.run(connection + ["get", "wxget", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(object["access_token"] as? String == "the-token")
        #expect(object["generation"] as? Int == 4)
        #expect((1...60).contains(object["expires_in"] as? Int ?? 0))

        let missing = try await tokenctl.run(connection + ["get", "wxmissing"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("no access_token for wxmissing"))
        try await cleanUp("wxget")
    }

    @Test(arguments: [false, true]) func refreshWaitsForAHigherGenerationOfThatApp(json: Bool) async throws {
        try await seed("wxrefresh", token: "old-token", generation: 5)
        var requests = redis.subscribe(channels: [keys.refreshChannel]).makeAsyncIterator()
        #expect(await requests.next() == .subscribed)

        let arguments = ["refresh", "wxrefresh", "--bad-token", "old-token", "--timeout", "20"] + (json ? ["--json"] : [])
        let running = try tokenctl.start(connection + arguments)
        guard case .message(let request) = await requests.next() else {
            Issue.record("no request on \(keys.refreshChannel)")
            return
        }
        #expect(RefreshMessage.parse(request.payload) == .success(RefreshMessage(appid: "wxrefresh", badToken: "old-token")))
        // Only the last of these answers the request: a ticket's announcement counts a generation of its own.
        try await redis.publish(keys.refreshedChannel, #"{"appid":"wxrefresh","ticket":"jsapi","generation":9,"expires_at":1}"#)
        for (appid, generation) in [("wxrefresh", 5), ("wxother", 9), ("wxrefresh", 6)] {
            try await redis.publish(keys.refreshedChannel, #"{"appid":"\#(appid)","generation":\#(generation),"expires_at":1}"#)
        }
        let outcome = try await running.finish()
        #expect(outcome.status == 0)
        #expect(outcome.output == (json ? #"{"appid":"wxrefresh","generation":6}"# + "\n" : "6\n"))
        try await cleanUp("wxrefresh")
    }

    @Test func refreshFailsAtOnceWhenNoWorkerListens() async throws {
        let outcome = try await tokenctl.run(connection + ["refresh", "wxalone", "--timeout", "20"])
        #expect(outcome.status == 1)
        #expect(outcome.output.contains("no tokend worker listens on \(keys.refreshChannel)"))
    }

    @Test func watchShowsAnnouncementsAndStopsAfterItsDuration() async throws {
        try await seed("wxwatch", token: "watched", generation: 1)
        let running = try tokenctl.start(connection + ["watch", "--interval", "0.2", "--duration", "3"])
        try await waitUntil("watch subscribes") {
            try await redis.send("PUBSUB", "NUMSUB", keys.refreshedChannel).array?[1].integer == 1
        }
        try await redis.publish(keys.refreshedChannel, #"{"appid":"wxwatch","generation":2,"expires_at":1}"#)
        let outcome = try await running.finish()
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("wxwatch  generation 2  fetched by tokend-a"))
        #expect(!outcome.output.contains("watched"))
        try await cleanUp("wxwatch")
    }

    @Test func watchShowsTheEndOfTheEventsFile() async throws {
        try await seed("wxevents", token: "t", generation: 1)
        let events = FileManager.default.temporaryDirectory.appendingPathComponent("tc-events-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: events) }
        try "12:00:00 kill -9 tokend-2\n".write(to: events, atomically: true, encoding: .utf8)
        let outcome = try await tokenctl.run(connection + ["watch", "--duration", "0.5", "--events", events.path])
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("12:00:00 kill -9 tokend-2"))
        try await cleanUp("wxevents")
    }

    @Test func watchJSONPrintsOneLinePerAnnouncement() async throws {
        try await seed("wxwatchjson", token: "t", generation: 1, worker: "tokend-c")
        let running = try tokenctl.start(connection + ["watch", "--json", "--duration", "3"])
        try await waitUntil("watch subscribes") {
            try await redis.send("PUBSUB", "NUMSUB", keys.refreshedChannel).array?[1].integer == 1
        }
        try await redis.publish(keys.refreshedChannel, #"{"appid":"wxwatchjson","generation":2,"expires_at":1}"#)
        let outcome = try await running.finish()
        #expect(outcome.status == 0)
        let lines = outcome.output.split(separator: "\n")
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["appid"] as? String == "wxwatchjson")
        #expect(object["generation"] as? Int == 2)
        #expect(object["worker"] as? String == "tokend-c")
        #expect(object["seen_at"] is Int)
        try await cleanUp("wxwatchjson")
    }

    @Test func unreachableRedisIsOneLineAndAFailure() async throws {
        let outcome = try await tokenctl.run(["--redis-url", "redis://:hunter2@127.0.0.1:\(try freeLoopbackPort())/0", "status"])
        #expect(outcome.status == 1)
        #expect(outcome.output.split(separator: "\n").count == 1)
        #expect(outcome.output.contains("cannot connect"))
        #expect(!outcome.output.contains("hunter2"))
    }
}
