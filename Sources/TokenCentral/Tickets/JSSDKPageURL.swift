/// The page URL a `jssdk-config` request asks to sign, checked before anything is signed.
///
/// WeChat compares the signature with one over the page's own `location.href`, so a URL that cannot be a
/// page's address (relative, another scheme, spaces) would only yield a signature `wx.config` rejects
/// later with a vague `invalid signature`: answering 400 at once says what is wrong.
public struct JSSDKPageURL: Sendable, Hashable {
    /// Longer is refused: page URLs beyond it are not signed by any browser flow worth supporting, and the
    /// bound keeps a request from making the worker hash megabytes.
    public static let maximumLength = 4096

    public let value: String

    public enum Invalid: Error, Hashable, CustomStringConvertible {
        case missing
        case tooLong(Int)
        case notHTTP
        case noHost
        case whitespaceOrControl

        public var description: String {
            switch self {
            case .missing: #"url is required: {"url":"https://example.com/page?x=1"}"#
            case .tooLong(let count): "url has \(count) characters; at most \(JSSDKPageURL.maximumLength) are signed"
            case .notHTTP: "url must be an absolute http:// or https:// URL, the page's location.href"
            case .noHost: "url has no host after its scheme"
            case .whitespaceOrControl: "url contains whitespace or control characters; send location.href as the browser has it (percent-encoded)"
            }
        }
    }

    public init(validating text: String?) throws(Invalid) {
        guard let text, !text.isEmpty else { throw .missing }
        guard text.count <= Self.maximumLength else { throw .tooLong(text.count) }
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            throw .whitespaceOrControl
        }
        let lowered = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { throw .notHTTP }
        let authority = text.dropFirst(scheme.count).prefix { !"/?#".contains($0) }
        let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        guard !host.isEmpty, !host.hasPrefix(":") else { throw .noHost }
        value = text
    }
}
