import Foundation
import RedisClient

/// A `redis-server` started with the given arguments on its own port and directory, for setups the
/// shared server cannot show: TLS only (`--port 0 --tls-port`), a cluster node. Stopped by PID.
public final class ConfiguredRedisServer: Sendable {
    public let port: Int
    public let directory: URL
    private let process: ChildProcess

    /// Starts redis-server listening on `port` (plain, or TLS when `tls` is given, with `--port 0`) and
    /// waits until `probe` (`tls` applied) gets an answer other than a connection failure.
    public init(tls: TLSFixture? = nil, requireClientCertificates: Bool = false, arguments: [String] = []) async throws {
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var listen = ["--port", "\(port)"]
        if let tls {
            listen = [
                "--port", "0", "--tls-port", "\(port)", "--tls-cert-file", tls.serverCertificateFile,
                "--tls-key-file", tls.serverKeyFile, "--tls-ca-cert-file", tls.caFile,
                "--tls-auth-clients", requireClientCertificates ? "yes" : "no",
            ]
        }
        process = try ChildProcess(
            executable: try executable("redis-server"),
            arguments: listen + ["--bind", "127.0.0.1", "--dir", directory.path, "--save", "", "--appendonly", "no"] + arguments,
            logPath: directory.appendingPathComponent("redis.log").path
        )
        let probe = RedisClient(
            endpoint: endpoint(tls: tls?.configuration(client: true)),
            configuration: .init(poolSize: 1, reconnectBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(50))))
        try await waitUntil("redis-server on port \(port) answers", timeout: .seconds(10)) {
            do throws(RedisError) {
                try await probe.ping()
                return true
            } catch {
                return !error.isConnectionError
            }
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The server at `host`, over TLS with `tls` when given.
    public func endpoint(host: String = "localhost", tls: RedisTLSConfiguration? = nil) -> RedisEndpoint {
        RedisEndpoint(address: .tcp(host: host, port: port), tls: tls)
    }

    public func stop() async {
        await process.stop()
    }
}
