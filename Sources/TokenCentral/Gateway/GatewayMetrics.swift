import CoreMetrics

/// The gateway's metrics (listed with every other metric in `TokenMetrics`): worker-wide, because the
/// caller's app is known only once its token is, and a flood of unknown tokens must not mint series.
struct GatewayMetrics: Sendable {
    /// What became of a call to the gateway.
    enum Outcome: String, CaseIterable, Sendable {
        /// Forwarded, and WeChat's answer relayed (whatever its errcode).
        case forwarded
        /// Not forwarded: no access_token, or one that is not ours.
        case rejected
        /// Not forwarded: too many calls in flight, a body over the limit, no token, Redis unreachable.
        case refused
        /// Forwarding failed: WeChat unreachable or too slow.
        case failed
    }

    /// WeChat's answers by HTTP status class, and `error` when none came.
    enum UpstreamClass: String, CaseIterable, Sendable {
        case informational = "1xx", success = "2xx", redirection = "3xx", clientError = "4xx", serverError = "5xx", error

        init(status: Int) {
            switch status {
            case ..<200: self = .informational
            case 200..<300: self = .success
            case 300..<400: self = .redirection
            case 400..<500: self = .clientError
            default: self = .serverError
            }
        }
    }

    private let calls: [Outcome: Counter]
    private let upstream: [UpstreamClass: Counter]
    let retries: Counter
    /// Time spent in the gateway itself, WeChat's own time excluded: the cost of going through it.
    let addedLatency: Timer

    init(factory: any MetricsFactory) {
        calls = Dictionary(uniqueKeysWithValues: Outcome.allCases.map {
            ($0, Counter(label: "tokencentral_gateway_calls_total", dimensions: [("outcome", $0.rawValue)], factory: factory))
        })
        upstream = Dictionary(uniqueKeysWithValues: UpstreamClass.allCases.map {
            ($0, Counter(label: "tokencentral_gateway_upstream_responses_total", dimensions: [("class", $0.rawValue)], factory: factory))
        })
        retries = Counter(label: "tokencentral_gateway_retries_total", factory: factory)
        addedLatency = Timer(label: "tokencentral_gateway_added_latency_seconds", factory: factory)
    }

    func call(_ outcome: Outcome) {
        calls[outcome]?.increment()
    }

    func upstreamResponse(_ responseClass: UpstreamClass) {
        upstream[responseClass]?.increment()
    }
}
