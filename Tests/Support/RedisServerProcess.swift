import Foundation
import RedisClient

/// A private `redis-server` for tests that must stop, restart or pause a server without disturbing
/// the shared one at `REDIS_URL`: own port, own temporary directory, no persistence.
public final class RedisServerProcess: @unchecked Sendable {
    // `@unchecked`: `process` is only replaced by `start`/`stop`, which a test calls from one task.
    public let port: Int
    public let directory: URL
    private var process: ChildProcess?
    /// Extra environment for redis-server (e.g. `LD_PRELOAD`), on top of this process's.
    private let environment: [String: String]

    public var url: String { "redis://127.0.0.1:\(port)/0" }
    public var socketPath: String { directory.appendingPathComponent("redis.sock").path }

    public init(environment: [String: String] = [:]) throws {
        self.environment = environment
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server (again, after `stop`) on the same port and waits until it answers PING.
    public func start() async throws {
        process = try ChildProcess(
            executable: try executable("redis-server"),
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path,
                "--unixsocket", socketPath, "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
            ],
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            logPath: directory.appendingPathComponent("redis.log").path
        )
        let probe = RedisClient(
            endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)),
            configuration: .init(poolSize: 1, reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(50))))
        try await waitUntil("redis-server on port \(port) answers PING", timeout: .seconds(10)) {
            (try? await probe.ping()) != nil
        }
    }

    /// Stops the server and waits for it to exit.
    public func stop() async {
        await process?.stop()
        process = nil
    }

    public func restart() async throws {
        await stop()
        try await start()
    }
}

/// Finds an executable on PATH (tests run with the environment `make test` sets up).
public func executable(_ name: String) throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw TestSupportError("\(name) is not on PATH; run the tests through `make test`, which installs it")
}
