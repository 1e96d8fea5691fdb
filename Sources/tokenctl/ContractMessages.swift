import Foundation

/// What a worker publishes on `P:refreshed` after storing a new token (never the token itself).
struct RefreshAnnouncement: Decodable, Sendable, Hashable {
    var appid: String
    var generation: Int
    /// Unix ms, Redis clock.
    var expiresAt: Int64

    /// Nil for a payload that is not an announcement.
    init?(payload: [UInt8]) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let decoded = try? decoder.decode(Self.self, from: Data(payload)) else { return nil }
        self = decoded
    }
}

/// A forced-refresh request as published on `P:refresh`: `{"appid":"...","bad_token":"..."}`.
struct ForcedRefreshRequestBody: Encodable, Sendable {
    var appid: String
    /// Omitted when nil: the workers then apply their cooldown instead of comparing tokens.
    var badToken: String?
}

/// JSON for scripts: snake_case keys in a stable order.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func print(_ value: some Encodable) throws {
        Swift.print(String(decoding: try encode(value), as: UTF8.self))
    }
}
