/// How to secure a connection to Redis with TLS: which CA to trust, which certificate (if any) to
/// present, and which name the server's certificate must carry.
///
/// A small value so that it can be attached to any endpoint (`RedisEndpoint.tls`): a data node given
/// by a `rediss://` URL, and equally a sentinel or a primary found through one. The server's
/// certificate is always verified, chain and name: a connection that skipped either would send the
/// AUTH password and the tokens to whoever answers.
public struct RedisTLSConfiguration: Sendable, Hashable {
    /// PEM file of the CA certificates that may sign the server's certificate; nil trusts the system's
    /// CA store (OpenSSL's default paths), which suits a managed Redis with a public certificate.
    public var caFile: String?
    /// PEM certificate presented to the server, for `tls-auth-clients yes`; needs `keyFile`.
    public var certificateFile: String?
    /// PEM private key of `certificateFile`.
    public var keyFile: String?
    /// The name the server's certificate must carry, also sent as SNI; nil uses the endpoint's host
    /// (a DNS name, or an IP address matched against the certificate's IP entries). Set it when the
    /// host is an address or alias the certificate does not list.
    public var serverName: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}
