/// Where and how to reach a Redis server, parsed from a URL.
///
/// Accepted forms:
/// - `redis://[user[:password]@]host[:port][/db]` (port defaults to 6379, db to 0). As in any URL
///   (RFC 3986 userinfo), `redis://name@host` names a user without a password; `redis://:secret@host`
///   is a password for the default user.
/// - `unix:///path/to/redis.sock[?db=N]`, with optional `unix://[[user]:password@]/path`
/// - `rediss://...`: a `redis://` URL over TLS, verified with `tls` (default settings: the system's CAs)
///
/// `description` never shows the password, so an endpoint can be logged.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int
    /// TLS for a TCP address; nil talks plain RESP. A `rediss://` URL sets the defaults, which a
    /// configuration then refines (CA file, client certificate, server name).
    public var tls: RedisTLSConfiguration?

    public init(
        address: Address, username: String? = nil, password: String? = nil, database: Int = 0,
        tls: RedisTLSConfiguration? = nil
    ) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public init(url: String) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidURL, "invalid Redis URL '\(Self.redact(url))': \(why)")
        }
        let scheme: String
        let rest: Substring
        tls = nil
        if url.hasPrefix("redis://") {
            (scheme, rest) = ("redis", url.dropFirst("redis://".count))
        } else if url.hasPrefix("rediss://") {
            (scheme, rest) = ("redis", url.dropFirst("rediss://".count))
            tls = RedisTLSConfiguration()
        } else if url.hasPrefix("unix://") {
            (scheme, rest) = ("unix", url.dropFirst("unix://".count))
        } else {
            throw invalid("expected redis://host:port[/db], rediss://host:port[/db] (TLS) or unix:///path")
        }
        var hostPart = rest
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            hostPart = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                username = Self.percentDecoded(credentials)
            }
        }
        database = 0
        if scheme == "unix" {
            var path = hostPart
            if let question = hostPart.firstIndex(of: "?") {
                path = hostPart[..<question]
                let query = hostPart[hostPart.index(after: question)...]
                for item in query.split(separator: "&") {
                    let pair = item.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0] == "db", let db = Int(pair[1]), db >= 0 else {
                        throw invalid("unsupported query '\(item)', only db=N is understood")
                    }
                    database = db
                }
            }
            guard path.hasPrefix("/") else { throw invalid("a unix socket path must be absolute") }
            address = .unix(path: String(path))
            return
        }
        var authority = hostPart
        if let slash = hostPart.firstIndex(of: "/") {
            authority = hostPart[..<slash]
            let db = hostPart[hostPart.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { throw invalid("database '\(db)' is not a number") }
                database = number
            }
        }
        var host = authority
        var port = 6379
        if authority.hasPrefix("[") {  // IPv6 literal: [::1]:6379
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw invalid("port is not a number") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else {
                throw invalid("port is not a number")
            }
            port = p
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        guard (1...65535).contains(port) else { throw invalid("port \(port) is out of range") }
        address = .tcp(host: String(host), port: port)
    }

    public var description: String {
        var credentials = ""
        if password != nil {
            credentials = "\(username ?? ""):***@"
        } else if let username {
            credentials = "\(username)@"
        }
        switch address {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "\(tls == nil ? "redis" : "rediss")://\(credentials)\(shownHost):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(credentials)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    /// A URL with its credentials masked, for error messages about URLs that did not even parse:
    /// everything before the last `@` (after the scheme, when there is one) is hidden.
    static func redact(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let scheme = url.firstRange(of: "://").map { url[..<$0.upperBound] } ?? ""
        return scheme + "***" + url[at...]
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
