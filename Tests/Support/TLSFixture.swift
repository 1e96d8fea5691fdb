import Foundation
import RedisClient

/// A throwaway PKI made with the `openssl` CLI in a temporary directory: a CA, a server certificate
/// for `localhost` and `redis.test` (deliberately not for 127.0.0.1, so tests can connect by a name the
/// certificate does not list), a client certificate, and an unrelated CA that trusts none of them.
/// The keys never leave the directory, which is removed with the fixture.
public final class TLSFixture: Sendable {
    public let directory: URL
    public var caFile: String { path("ca.crt") }
    public var otherCAFile: String { path("other-ca.crt") }
    public var serverCertificateFile: String { path("server.crt") }
    public var serverKeyFile: String { path("server.key") }
    public var clientCertificateFile: String { path("client.crt") }
    public var clientKeyFile: String { path("client.key") }

    /// Settings that trust the CA; `client` adds the client certificate.
    public func configuration(client: Bool = false, serverName: String? = nil) -> RedisTLSConfiguration {
        RedisTLSConfiguration(
            caFile: caFile, certificateFile: client ? clientCertificateFile : nil, keyFile: client ? clientKeyFile : nil,
            serverName: serverName)
    }

    public init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await makeCA("ca", subject: "/CN=TokenCentral test CA")
        try await makeCA("other-ca", subject: "/CN=Unrelated test CA")
        try await makeCertificate(
            "server", subject: "/CN=redis.test", extensions: "subjectAltName=DNS:redis.test,DNS:localhost\nextendedKeyUsage=serverAuth\n",
            serial: 2)
        try await makeCertificate("client", subject: "/CN=tokencentral-client", extensions: "extendedKeyUsage=clientAuth\n", serial: 3)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// EC P-256 keys: generated in milliseconds, where RSA takes long on a loaded machine.
    private static let keyOptions = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    private func makeCA(_ name: String, subject: String) async throws {
        try await openssl(["req", "-x509"] + Self.keyOptions + [
            "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "2", "-subj", subject,
        ])
    }

    private func makeCertificate(_ name: String, subject: String, extensions: String, serial: Int) async throws {
        try Data(extensions.utf8).write(to: URL(fileURLWithPath: path("\(name).ext")))
        try await openssl(["req"] + Self.keyOptions + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try await openssl([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-set_serial", "\(serial)",
            "-days", "2", "-extfile", path("\(name).ext"), "-out", path("\(name).crt"),
        ])
    }

    private func openssl(_ arguments: [String]) async throws {
        let log = path("openssl.log")
        let process = try ChildProcess(executable: try executable("openssl"), arguments: arguments, logPath: log)
        let status = await process.waitForExit(timeout: .seconds(30))
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestSupportError("openssl \(arguments.prefix(2).joined(separator: " ")) failed (\(status.map(String.init) ?? "timeout")): \(output)")
        }
    }
}

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
