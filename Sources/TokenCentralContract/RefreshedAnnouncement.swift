import Foundation

/// What a worker publishes on `P:refreshed` after storing a new token (never the token itself):
/// `{"appid":...,"generation":...,"expires_at":...}`; after a new ticket it adds `"ticket":"jsapi"` (or
/// `"wx_card"`), which readers of old versions ignore.
public struct RefreshedAnnouncement: Decodable, Sendable, Hashable {
    public var appid: String
    /// The ticket stored; nil for the token.
    public var ticket: TicketType?
    public var generation: Int
    /// Unix ms, Redis clock.
    public var expiresAt: Int64

    /// Nil for a payload that is not an announcement.
    public init?(payload: [UInt8]) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let decoded = try? decoder.decode(Self.self, from: Data(payload)) else { return nil }
        self = decoded
    }
}
