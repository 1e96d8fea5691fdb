import ArgumentParser
import RedisClient

/// The `redis.tls` settings as options, for a `rediss://` `--redis-url`.
struct TLSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("PEM file of the CA that signed the server's certificate. (default: the system's CAs)", valueName: "file"))
    var tlsCaFile: String?

    @Option(help: ArgumentHelp("PEM client certificate, for a server with tls-auth-clients.", valueName: "file"))
    var tlsCertFile: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert-file.", valueName: "file"))
    var tlsKeyFile: String?

    @Option(help: ArgumentHelp("Name the server's certificate must carry. (default: the URL's host)", valueName: "name"))
    var tlsServerName: String?

    func validate() throws {
        if (tlsCertFile == nil) != (tlsKeyFile == nil) { throw ValidationError("--tls-cert-file and --tls-key-file go together") }
    }

    /// The settings given, nil when none is.
    var configuration: RedisTLSConfiguration? {
        let settings = RedisTLSConfiguration(
            caFile: tlsCaFile, certificateFile: tlsCertFile, keyFile: tlsKeyFile, serverName: tlsServerName)
        return settings == RedisTLSConfiguration() ? nil : settings
    }

    /// `endpoint` with these settings, when it uses TLS and any is given.
    func applied(to endpoint: RedisEndpoint) -> RedisEndpoint {
        var endpoint = endpoint
        if endpoint.tls != nil, let configuration { endpoint.tls = configuration }
        return endpoint
    }
}
