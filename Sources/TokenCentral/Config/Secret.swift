/// A credential (app secret, API key). Deliberately not `Equatable`: `==` on strings is not
/// constant-time, so comparisons must be written explicitly where needed. Its value is reachable only where it is used; printing,
/// logging or interpolating a `Secret` shows `<redacted>`.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    /// Hides the value from `dump` and other reflection too.
    public var customMirror: Mirror { Mirror(self, children: []) }
}
