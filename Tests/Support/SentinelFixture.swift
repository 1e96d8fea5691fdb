import Foundation
import Glibc
import RedisClient

/// A replicated Redis under Sentinel on loopback: one primary, one replica and three `redis-sentinel`
/// processes (quorum 2), tuned so that a failover completes in a few seconds (`down-after-milliseconds`
/// 1000, `failover-timeout` 4000). Own ports and temporary directory, no persistence; every process is
/// stopped by PID.
public final class SentinelFixture: @unchecked Sendable {
    // `@unchecked`: `nodes` and `sentinels` are only changed by the methods below, which a test calls
    // from one task.
    public static let masterName = "tcmaster"
    public let directory: URL
    /// The two data nodes' ports; the first starts as primary.
    public let nodePorts: [Int]
    public let sentinelPorts: [Int]
    /// The sentinels' `requirepass`, if any: clients must authenticate to ask them.
    public let sentinelPassword: String?
    private var nodes: [Int: ChildProcess] = [:]
    private var sentinels: [ChildProcess] = []

    public init(sentinelPassword: String? = nil) throws {
        self.sentinelPassword = sentinelPassword
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var ports: Set<Int> = []
        while ports.count < 5 { ports.insert(try freeLoopbackPort()) }
        let all = Array(ports)
        nodePorts = Array(all[0..<2])
        sentinelPorts = Array(all[2..<5])
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `host:port` of each sentinel, as `redis.sentinel.addresses` lists them.
    public var sentinelAddresses: [String] { sentinelPorts.map { "127.0.0.1:\($0)" } }

    /// The client configuration that reaches the primary through these sentinels.
    public var configuration: RedisSentinelConfiguration {
        RedisSentinelConfiguration(
            masterName: Self.masterName,
            sentinels: sentinelPorts.map { RedisEndpoint(address: .tcp(host: "127.0.0.1", port: $0), password: sentinelPassword) })
    }

    /// Starts the primary and the replica, waits for replication, then starts the sentinels and waits
    /// until each knows the replica and the two other sentinels (so that a failover can be agreed on).
    public func start() async throws {
        try await startNode(port: nodePorts[0], replicaOf: nil)
        try await startNode(port: nodePorts[1], replicaOf: nodePorts[0])
        try await waitUntil("the replica on port \(nodePorts[1]) is in sync", timeout: .seconds(15)) {
            await self.info(port: self.nodePorts[1]).contains("master_link_status:up")
        }
        for (index, port) in sentinelPorts.enumerated() {
            let file = directory.appendingPathComponent("sentinel-\(index).conf")
            let text = """
                port \(port)
                bind 127.0.0.1
                dir \(directory.path)
                sentinel monitor \(Self.masterName) 127.0.0.1 \(nodePorts[0]) 2
                sentinel down-after-milliseconds \(Self.masterName) 1000
                sentinel failover-timeout \(Self.masterName) 4000
                sentinel parallel-syncs \(Self.masterName) 1
                \(sentinelPassword.map { "requirepass \($0)" } ?? "")

                """
            try text.write(to: file, atomically: true, encoding: .utf8)
            sentinels.append(try ChildProcess(
                executable: try executable("redis-sentinel"), arguments: [file.path],
                logPath: directory.appendingPathComponent("sentinel-\(index).log").path))
        }
        for (index, port) in sentinelPorts.enumerated() {
            do {
                try await waitUntil("sentinel on port \(port) knows the replica and 2 other sentinels", timeout: .seconds(30), every: .milliseconds(100)) {
                    let fields = await self.masterState(sentinelPort: port)
                    return fields["num-slaves"] == "1" && fields["num-other-sentinels"] == "2"
                }
            } catch {
                let log = directory.appendingPathComponent("sentinel-\(index).log")
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                throw TestSupportError("\(error)\n\(await masterState(sentinelPort: port))\n--- \(log.lastPathComponent)\n\(text.suffix(3000))")
            }
        }
    }

    /// Stops every process this fixture started.
    public func stop() async {
        for sentinel in sentinels {
            sentinel.signal(SIGCONT)
            await sentinel.stop()
        }
        sentinels = []
        for node in nodes.values { await node.stop() }
        nodes = [:]
    }

    /// The port of the primary that the first answering sentinel names.
    public func primaryPort() async throws -> Int {
        for port in sentinelPorts {
            let reply = try? await redis(port).send(
                "SENTINEL", "get-master-addr-by-name", Self.masterName)
            if let parts = reply?.array, parts.count == 2, let named = parts[1].integer { return named }
        }
        throw TestSupportError("no sentinel names a primary for \(Self.masterName)")
    }

    /// `kill -9` of the current primary; returns its port.
    @discardableResult
    public func killPrimary() async throws -> Int {
        let port = try await primaryPort()
        guard let node = nodes.removeValue(forKey: port) else { throw TestSupportError("no node on port \(port)") }
        _ = await node.stop(signal: SIGKILL)
        return port
    }

    /// Asks a sentinel to fail over at once (`SENTINEL FAILOVER`), as an operator would.
    public func requestFailover() async throws {
        try await redis(sentinelPorts[0]).send("SENTINEL", "FAILOVER", Self.masterName)
    }

    /// Waits until the sentinels name a primary other than `oldPort` and that node says it is master.
    @discardableResult
    public func waitForFailover(from oldPort: Int, timeout: Duration = .seconds(20)) async throws -> Int {
        var newPort = oldPort
        try await waitUntil("the sentinels promote a new primary (old: \(oldPort))", timeout: timeout, every: .milliseconds(50)) {
            guard let port = try? await self.primaryPort(), port != oldPort else { return false }
            newPort = port
            return await self.info(port: port).contains("role:master")
        }
        return newPort
    }

    private func startNode(port: Int, replicaOf primary: Int?) async throws {
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no",
            "--dbfilename", "dump-\(port).rdb",
            // A replica's full sync starts at once instead of after Redis 7's 5 s wait for more replicas.
            "--repl-diskless-sync-delay", "0",
        ]
        if let primary { arguments += ["--replicaof", "127.0.0.1", "\(primary)"] }
        nodes[port] = try ChildProcess(
            executable: try executable("redis-server"), arguments: arguments,
            logPath: directory.appendingPathComponent("redis-\(port).log").path)
        try await waitUntil("redis-server on port \(port) answers PING", timeout: .seconds(10)) {
            await !self.info(port: port).isEmpty
        }
    }

    /// `INFO replication` of a node, empty when it does not answer.
    public func info(port: Int) async -> String {
        let client = redis(port)
        return (try? await client.send("INFO", "replication").string) ?? ""
    }

    private func masterState(sentinelPort: Int) async -> [String: String] {
        let reply = try? await redis(sentinelPort).send("SENTINEL", "MASTER", Self.masterName)
        return reply?.hashFields ?? [:]
    }

    /// One command to a node or sentinel of this fixture.
    @discardableResult
    public func send(port: Int, _ command: RedisCommand) async throws -> RedisReply {
        try await redis(port).send(command)
    }

    /// SIGSTOP / SIGCONT of one sentinel: it neither answers nor announces meanwhile.
    public func pauseSentinel(_ index: Int) { sentinels[index].signal(SIGSTOP) }
    public func resumeSentinel(_ index: Int) { sentinels[index].signal(SIGCONT) }

    private func redis(_ port: Int) -> RedisClient {
        RedisClient(
            endpoint: RedisEndpoint(
                address: .tcp(host: "127.0.0.1", port: port), password: sentinelPorts.contains(port) ? sentinelPassword : nil),
            configuration: .init(poolSize: 1, connectTimeout: .milliseconds(500), commandTimeout: .seconds(1),
                                 reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(10))))
    }
}

/// Runs `body` with a started `SentinelFixture`, stopping its processes whatever happens.
///
/// Its five ports come from `freeLoopbackPort`, and the kernel may hand one of them to another
/// process's connection before the server binds it: a fixture that lost a port that way is started
/// again on new ports, at most three times.
public func withSentinelFixture(sentinelPassword: String? = nil, _ body: (SentinelFixture) async throws -> Void) async throws {
    for attempt in 1...3 {
        let fixture = try SentinelFixture(sentinelPassword: sentinelPassword)
        do {
            try await fixture.start()
        } catch {
            await fixture.stop()
            if attempt < 3, fixture.lostAPort { continue }
            throw error
        }
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
        return
    }
}

extension SentinelFixture {
    /// Whether a server of this fixture exited because another process held its port.
    var lostAPort: Bool {
        let logs = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return logs.contains { log in
            log.pathExtension == "log" && ((try? String(contentsOf: log, encoding: .utf8))?.contains("Address already in use") ?? false)
        }
    }
}
