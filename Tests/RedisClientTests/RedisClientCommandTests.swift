import RedisClient
import TestSupport
import Testing

@Suite struct RedisClientCommandTests {
    let client: RedisClient
    let prefix = uniquePrefix("cmd")

    init() throws {
        client = try RedisClient(url: try sharedRedisURL())
    }

    @Test func statusReply() async throws {
        #expect(try await client.send("SET", "\(prefix):k", "v") == .status("OK"))
    }

    @Test func integerReply() async throws {
        #expect(try await client.send("INCRBY", "\(prefix):n", 41) == .integer(41))
    }

    @Test func bulkReply() async throws {
        try await client.set("\(prefix):k", "value")
        #expect(try await client.send("GET", "\(prefix):k") == .bulk(Array("value".utf8)))
    }

    @Test func nullReply() async throws {
        #expect(try await client.send("GET", "\(prefix):missing") == .null)
    }

    @Test func arrayReplyWithNullInside() async throws {
        try await client.set("\(prefix):a", "1")
        let reply = try await client.send("MGET", "\(prefix):a", "\(prefix):missing")
        #expect(reply == .array([.bulk(Array("1".utf8)), .null]))
    }

    @Test func errorReplyInPipelineIsAValue() async throws {
        let replies = try await client.pipeline([RedisCommand("NOSUCHCOMMAND"), RedisCommand("PING")])
        guard case .error(let message) = replies[0] else { Issue.record("expected an error reply"); return }
        #expect(message.hasPrefix("ERR"))
        #expect(replies[1] == .status("PONG"))
    }

    @Test func valuesWithNulBytesRoundTrip() async throws {
        let value: [UInt8] = [0, 1, 0, 255, 0x0d, 0x0a, 0]
        try await client.set("\(prefix):bin", value)
        #expect(try await client.get("\(prefix):bin") == value)
    }

    @Test func keysWithNulBytesAreDistinct() async throws {
        let key: [UInt8] = Array("\(prefix):k".utf8) + [0, 1]
        try await client.send(RedisCommand(arguments: [Array("SET".utf8), key, Array("x".utf8)]))
        #expect(try await client.get("\(prefix):k") == nil)
        #expect(try await client.send(RedisCommand(arguments: [Array("GET".utf8), key])) == .bulk(Array("x".utf8)))
    }

    @Test func oneMebibyteValueRoundTrips() async throws {
        let value = (0..<(1 << 20) as Range<Int>).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await client.set("\(prefix):big", value)
        #expect(try await client.get("\(prefix):big") == value)
    }

    @Test func wrongTypeIsAServerError() async throws {
        try await client.set("\(prefix):str", "x")
        do {
            try await client.send("LPUSH", "\(prefix):str", "y")
            Issue.record("expected WRONGTYPE")
        } catch {
            #expect(error.code == .server)
            #expect(error.serverErrorPrefix == "WRONGTYPE")
            #expect(!error.isConnectionError)
        }
    }

    @Test func pipelineRepliesComeInCommandOrder() async throws {
        let commands = (0..<1000).map { RedisCommand("SET", "\(prefix):p\($0)", $0) }
        _ = try await client.pipeline(commands)
        let replies = try await client.pipeline((0..<1000).map { RedisCommand("GET", "\(prefix):p\($0)") })
        #expect(replies.map(\.integer) == (0..<1000).map { $0 })
    }

    @Test func hundredConcurrentTasksShareThePool() async throws {
        let counter = "\(prefix):counter"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<100 {
                group.addTask {
                    for round in 0..<50 {
                        try await client.send("INCR", counter)
                        let own = "\(prefix):task\(task)"
                        try await client.set(own, round)
                        #expect(try await client.send("GET", own).integer == round)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send("GET", counter).integer == 5000)
    }

    @Test func scriptsSurviveScriptFlush() async throws {
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await client.evaluate(script, keys: ["\(prefix):s"], arguments: [2]) == .integer(2))
        try await client.send("SCRIPT", "FLUSH")
        #expect(try await client.evaluate(script, keys: ["\(prefix):s"], arguments: [3]) == .integer(5))
    }

    @Test func scriptRunsOfOnePipelineSurviveScriptFlushAndAnswerInOrder() async throws {
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        _ = try await client.evaluate(script, keys: ["\(prefix):e"], arguments: [0])
        try await client.send("SCRIPT", "FLUSH")
        let replies = try await client.evaluateEach(script, keys: ["\(prefix):e"], argumentLists: [[1], [10], [100]])
        #expect(replies == [.integer(1), .integer(11), .integer(111)])
    }

    @Test func anErrorInOneScriptRunOfAPipelineThrows() async throws {
        let script = RedisScript("if ARGV[1] == 'fail' then return redis.error_reply('ERR asked to fail') end return 1")
        await #expect(throws: RedisError.self) {
            try await client.evaluateEach(script, argumentLists: [["ok"], ["fail"]])
        }
    }

    @Test func selectsTheDatabaseFromTheURL() async throws {
        let base = try sharedRedisURL()
        let db3 = try RedisClient(url: String(base.dropLast()) + "3")
        try await db3.set("\(prefix):db", "three")
        #expect(try await db3.get("\(prefix):db") == Array("three".utf8))
        #expect(try await client.get("\(prefix):db") == nil)
        try await db3.delete("\(prefix):db")
    }
}

@Suite struct RedisPinnedConnectionTests {
    @Test func pinnedConnectionRunsCommandsAndPipelines() async throws {
        let client = try RedisClient(url: try sharedRedisURL(), configuration: .init(poolSize: 1))
        let key = uniquePrefix("pinned")
        let replies = try await client.withPinnedConnection { connection in
            try await connection.send(RedisCommand("SET", key, "1"))
            return try await connection.pipeline([RedisCommand("INCR", key), RedisCommand("GET", key)])
        }
        #expect(replies == [.integer(2), .bulk(Array("2".utf8))])
        try await client.ping()  // the connection went back to the pool
    }

    @Test func pinnedConnectionThrowsServerErrors() async throws {
        let client = try RedisClient(url: try sharedRedisURL())
        await #expect(throws: RedisError.self) {
            try await client.withPinnedConnection { connection in try await connection.send(RedisCommand("NOSUCHCOMMAND")) }
        }
    }
}
