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
