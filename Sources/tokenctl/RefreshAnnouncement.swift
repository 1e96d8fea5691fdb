import Foundation

/// What a worker publishes on `P:refreshed` after storing a new token (never the token itself):
/// `{"appid":...,"generation":...,"expires_at":...}`.
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
