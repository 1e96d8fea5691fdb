import Hummingbird

/// `{"access_token":"...","expires_in":N}`: WeChat's own shape, so clients written against WeChat
/// can point at a worker unchanged.
struct AccessTokenBody: ResponseEncodable, Sendable {
    var accessToken: String
    var expiresIn: Int

    init(accessToken: String, expiresIn: Int) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", expiresIn = "expires_in"
    }
}

/// `{"access_token":"...","expires_in":N,"generation":G,"refreshed":true|false}`.
struct RefreshedTokenBody: ResponseEncodable, Sendable {
    var accessToken: String
    var expiresIn: Int
    var generation: Int
    /// False when the answer is the token that was already current: the reported token had been replaced
    /// before, or, without `bad_token`, the cooldown applied or no new token came before the deadline.
    var refreshed: Bool

    init(_ current: CurrentToken, refreshed: Bool) {
        accessToken = current.record.token
        expiresIn = current.expiresIn
        generation = current.record.generation
        self.refreshed = refreshed
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", expiresIn = "expires_in", generation, refreshed
    }
}
