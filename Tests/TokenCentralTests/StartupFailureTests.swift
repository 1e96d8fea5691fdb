import Foundation
import Glibc
import TestSupport
import Testing

/// A real `tokend` that cannot listen where its configuration says: exit code 2 and the field named,
/// as for any other configuration error, not a raw socket error and exit code 1.
@Suite(.timeLimit(.minutes(1))) struct StartupFailureTests {
    /// Runs `tokend` with `http` as its http section until it exits; returns its status and output.
    private func runTokend(http: String) async throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tokend")
        let config = directory.appendingPathComponent("tokend.yaml")
        try """
            redis:
              url: \(try sharedRedisURL())
              key_prefix: \(uniquePrefix("startup"))
            upstream:
              wechat_base_url: http://127.0.0.1:9
            http:
            \(http)
            apps:
              - appid: wxstartup
                secret_env: TEST_APP_SECRET
            """.write(to: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("tokend.log").path
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TOKEND_") }
        environment["TEST_APP_SECRET"] = "secret"
        let process = try ChildProcess(executable: binary, arguments: ["--config", config.path], environment: environment, logPath: log)
        guard let status = await process.waitForExit(timeout: .seconds(30)) else {
            await process.stop(signal: SIGKILL)
            throw TestSupportError("tokend kept running")
        }
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func portInUseExitsWith2NamingHTTPPort() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0
                && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))

        let outcome = try await runTokend(http: "  host: 127.0.0.1\n  port: \(port)")
        #expect(outcome.status == 2)
        #expect(outcome.output.contains("tokend: invalid configuration:"))
        #expect(outcome.output.contains("http.port: 127.0.0.1:\(port) is already in use"))
    }

    @Test func hostNotOnThisMachineExitsWith2NamingHTTPHost() async throws {
        // 192.0.2.1 (TEST-NET-1) is assigned to no machine: bind fails with EADDRNOTAVAIL.
        let outcome = try await runTokend(http: "  host: 192.0.2.1\n  port: 0\n  allow_unauthenticated: true")
        #expect(outcome.status == 2)
        #expect(outcome.output.contains("http.host: cannot listen on 192.0.2.1:0"))
    }
}
