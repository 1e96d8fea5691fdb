import Foundation
import RedisClient
import Testing
import TokenCentral

/// `redis.tls` and its `TOKEND_REDIS_TLS_*` twins.
@Suite final class TokendConfigurationTLSTests {
    /// A directory holding `tokend.yaml`'s neighbours `ca.crt`, `client.crt` and `client.key`.
    private let directory: URL
    private let apps = "apps:\n  - appid: wx1\n    secret_env: WX_SECRET\n"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["ca.crt", "client.crt", "client.key"] {
            try Data("PEM".utf8).write(to: directory.appendingPathComponent(name))
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> TokendConfiguration {
        try TokendConfiguration.parse(
            yaml: yaml + apps, file: directory.appendingPathComponent("tokend.yaml").path,
            environment: environment.merging(["WX_SECRET": "s"]) { $1 })
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The TLS settings of the endpoint the configuration connects to.
    private func tls(_ configuration: TokendConfiguration) throws -> RedisTLSConfiguration? {
        configuration.redis.applyingTLS(to: try RedisEndpoint(url: configuration.redis.url)).tls
    }

    @Test func tlsSectionIsAppliedToARedissEndpointWithPathsRelativeToTheFile() throws {
        let configuration = try load("""
            redis:
              url: rediss://cache.internal:6380/0
              tls:
                ca_file: ca.crt
                cert_file: client.crt
                key_file: client.key
                server_name: redis.internal

            """)
        let expected = RedisTLSConfiguration(
            caFile: path("ca.crt"), certificateFile: path("client.crt"), keyFile: path("client.key"), serverName: "redis.internal")
        #expect(try tls(configuration) == expected)
    }

    @Test func environmentSetsTLSWithoutTheFile() throws {
        let configuration = try load("", environment: [
            "TOKEND_REDIS_URL": "rediss://cache.internal:6380/0", "TOKEND_REDIS_TLS_CA_FILE": path("ca.crt"),
            "TOKEND_REDIS_TLS_SERVER_NAME": "redis.internal",
        ])
        #expect(try tls(configuration) == RedisTLSConfiguration(caFile: path("ca.crt"), serverName: "redis.internal"))
    }

    @Test func redissURLAloneTrustsTheSystemCAs() throws {
        let configuration = try load("", environment: ["TOKEND_REDIS_URL": "rediss://cache.internal:6380/0"])
        #expect(try tls(configuration) == RedisTLSConfiguration())
    }

    @Test func tlsSettingsWithAPlainURLAreRefused() {
        #expect {
            try load("redis:\n  tls:\n    ca_file: ca.crt\n")
        } throws: { error in
            (error as? ConfigError)?.field == "redis.tls" && (error as? ConfigError)?.message.contains("rediss://") == true
        }
    }

    @Test func unreadableCAFileNamesTheField() {
        #expect {
            try load("redis:\n  url: rediss://cache.internal\n  tls:\n    ca_file: absent.crt\n")
        } throws: { error in
            (error as? ConfigError)?.field == "redis.tls.ca_file"
        }
    }

    @Test func clientCertificateWithoutKeyNamesTheMissingField() {
        #expect {
            try load("redis:\n  url: rediss://cache.internal\n  tls:\n    cert_file: client.crt\n")
        } throws: { error in
            (error as? ConfigError)?.field == "redis.tls.key_file"
        }
    }

    @Test func unknownTLSKeyIsRejected() {
        #expect {
            try load("redis:\n  url: rediss://cache.internal\n  tls:\n    ca_fil: ca.crt\n")
        } throws: { error in
            (error as? ConfigError)?.field == "redis.tls.ca_fil"
        }
    }
}
