import Configuration
import Foundation
import RedisClient

extension TokendConfiguration.Redis {
    /// `endpoint` with the `redis.tls` settings when it uses TLS (`rediss://`); any endpoint this
    /// configuration describes goes through here, so the CA, client certificate and server name apply
    /// to every node it names.
    public func applyingTLS(to endpoint: RedisEndpoint) -> RedisEndpoint {
        var endpoint = endpoint
        if endpoint.tls != nil, let tls { endpoint.tls = tls }
        return endpoint
    }
}

extension Resolver {
    /// `redis.tls`: settings for a `rediss://` URL, nil when none is given (a `rediss://` URL then trusts
    /// the system's CAs). Files must be readable now, so a typo fails at startup rather than at connect.
    func tls(_ section: ConfigurationFile.TLS?, url: String) throws(ConfigError) -> RedisTLSConfiguration? {
        func setting(_ name: String, _ value: String?) -> String? {
            overrides.string(forKey: ConfigKey("redis.tls.\(name)")) ?? value
        }
        func file(_ name: String, _ value: String?) throws(ConfigError) -> String? {
            guard let path = setting(name, value) else { return nil }
            let resolved = resolvedPath(path)
            guard FileManager.default.isReadableFile(atPath: resolved) else { throw fail("redis.tls.\(name)", "cannot read \(resolved)") }
            return resolved
        }
        let tls = RedisTLSConfiguration(
            caFile: try file("ca_file", section?.caFile),
            certificateFile: try file("cert_file", section?.certFile),
            keyFile: try file("key_file", section?.keyFile),
            serverName: setting("server_name", section?.serverName)
        )
        if tls == RedisTLSConfiguration() { return nil }
        guard url.hasPrefix("rediss://") else {
            throw fail("redis.tls", "TLS settings need a rediss:// redis.url; TLS is used only with rediss://")
        }
        if (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw fail(tls.keyFile == nil ? "redis.tls.key_file" : "redis.tls.cert_file", "a client certificate needs both cert_file and key_file")
        }
        return tls
    }

    /// A path from the configuration: relative paths are relative to the configuration file.
    func resolvedPath(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
    }
}
