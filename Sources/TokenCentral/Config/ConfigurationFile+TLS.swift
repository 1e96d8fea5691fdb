extension ConfigurationFile {
    /// `redis.tls`, as written.
    struct TLS: Decodable {
        var caFile: String?
        var certFile: String?
        var keyFile: String?
        var serverName: String?

        enum CodingKeys: String, CodingKey {
            case caFile = "ca_file", certFile = "cert_file", keyFile = "key_file", serverName = "server_name"
        }
    }
}
