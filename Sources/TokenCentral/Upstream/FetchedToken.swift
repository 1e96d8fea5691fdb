/// A token as a token endpoint returned it.
public struct FetchedToken: Sendable, Hashable {
    public var token: String
    /// Validity announced by WeChat (`expires_in`); never assumed to be 7200.
    public var expiresIn: Duration
    /// What upstream announced when it exceeded `TokenLifetime.maximum` and `expiresIn` was capped to it;
    /// nil otherwise. Kept so the refresher can warn about the absurd answer.
    public var announcedExpiresIn: Duration?

    public init(token: String, expiresIn: Duration, announcedExpiresIn: Duration? = nil) {
        self.token = token
        self.expiresIn = expiresIn
        self.announcedExpiresIn = announcedExpiresIn
    }
}
