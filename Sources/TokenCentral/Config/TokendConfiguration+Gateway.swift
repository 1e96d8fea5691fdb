extension TokendConfiguration {
    /// The gateway: WeChat API calls forwarded upstream with the current token injected (see `TokenGateway`).
    public struct Gateway: Sendable {
        /// Off by default: forwarding is a new way for callers to reach WeChat, so it is switched on deliberately.
        public var enabled: Bool = false
        /// Paths forwarded, by prefix; each starts and ends with `/`. `/sns/` is left out on purpose: its
        /// calls carry a user's OAuth token or the app secret, never the app's access_token.
        public var pathPrefixes: [String] = ["/cgi-bin/", "/wxa/", "/datacube/", "/card/", "/merchant/"]
        /// Bound on one forwarded call, bodies included: the HTTP client's deadline covers the whole exchange.
        public var timeout: Duration = .seconds(30)
        /// Forwarded calls waiting for WeChat's answer at once (further calls are refused with 503 instead
        /// of queueing behind slow media transfers), and the connections to WeChat (a body still streaming
        /// holds its connection; calls beyond them wait for one within `timeout`).
        public var maxConnections: Int = 64
        /// Largest request body forwarded (WeChat's largest media upload is 20 MB of video).
        public var maxBodySize: Int = 20 * 1024 * 1024
        /// How long a call rejected for its token waits for the new token before its one retry.
        public var tokenWait: Duration = .seconds(5)

        public init() {}
    }
}
