/// What WeChat would answer for an access token presented to a business API.
public enum ValidationResult: Sendable, Equatable {
    /// The token works.
    case ok
    /// A newer token was issued and the overlap has passed: 40001.
    case superseded
    /// The token outlived its `expires_in`: 42001.
    case expired
    /// The mock never issued this token: 40001.
    case unknown

    /// The errcode WeChat reports for this outcome (0 when valid).
    public var errcode: Int {
        switch self {
        case .ok: 0
        case .superseded, .unknown: 40001
        case .expired: 42001
        }
    }
}
