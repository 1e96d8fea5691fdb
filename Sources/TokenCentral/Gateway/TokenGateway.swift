import AsyncHTTPClient
import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import RedisClient
import ServiceLifecycle
import Synchronization

/// Token-free WeChat calls: forwards an allowed WeChat API call to the configured upstream with the
/// app's current token in place of the one the caller sent, as WeChat Cloud Hosting's open interface
/// service does.
///
/// The caller is identified (and authenticated) by its `access_token`, as WeChat does it: one that
/// TokenCentral stores, or stored within WeChat's overlap (`TokenIndex`). Such a caller could call
/// WeChat itself with that token, so the gateway grants nothing new; it only spares the SDK its stale
/// tokens and its own token fetches.
///
/// Bodies stream both ways, so media keeps memory bounded. Only a request body small enough to be kept
/// (`replayableBodySize`) can be sent twice: when WeChat rejects the injected token (40001, 40014,
/// 42001) the token is reported like any report and, within `gateway.token_wait`, the call is retried
/// once with the new token. That is safe because WeChat rejected the call without acting on it.
///
/// A `Service` only to close its HTTP client (its own, so media transfers never hold the connections
/// token refreshes need) after the HTTP server stopped.
public final class TokenGateway: Service, Sendable {
    let settings: TokendConfiguration.Gateway
    private let upstream: TokendConfiguration.Upstream
    private let http: HTTPClient
    let index: TokenIndex
    private let apps: AppDirectory
    private let store: TokenStore
    private let reporter: TokenReporter
    let metrics: GatewayMetrics
    private let inFlight = Atomic<Int>(0)
    /// What the refresher's subscription hears, which keeps `index` current.
    private let heard: AsyncStream<TokenView.Heard>

    /// Request bodies up to this size are kept, so that a call can be retried; larger ones stream.
    static let replayableBodySize = 64 * 1024
    /// Responses with a `Content-Length` up to this size are read whole to look for a rejected-token
    /// errcode (WeChat's error bodies are about 100 bytes); larger ones stream through untouched.
    static let inspectedBodySize = 4 * 1024
    /// Headers that concern one connection, not the call (RFC 9110 7.6.1), plus those the client sets.
    private static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "authorization", "accept-encoding",
    ]

    init(
        configuration: TokendConfiguration, apps: AppDirectory, store: TokenStore, refresher: TokenRefresher, heard: AsyncStream<TokenView.Heard>,
        metrics: GatewayMetrics
    ) {
        settings = configuration.gateway
        upstream = configuration.upstream
        var client = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: Self.timeAmount(configuration.gateway.timeout)),
            connectionPool: .init(idleTimeout: .seconds(60),
                                  concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.gateway.maxConnections))
        client.decompression = .disabled
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: client)
        index = TokenIndex(store: store, apps: apps)
        self.apps = apps
        self.store = store
        reporter = TokenReporter(store: store, refresher: refresher)
        self.metrics = metrics
        self.heard = heard
    }

    /// Keeps `index` current until shutdown, then closes the HTTP client (the server, started after
    /// this service, has stopped by then).
    public func run() async throws {
        await cancelWhenGracefulShutdown { [index, heard] in
            // A failed read is not retried: a miss scans again on demand.
            for await event in heard {
                switch event {
                case .subscribed, .unreadable: try? await index.scan()
                case .announced(let appid): try? await index.learn(appid)
                }
            }
        }
        try await http.shutdown()
    }

    /// One route per allowed prefix and method; the token endpoints, registered by exact path, win.
    func addRoutes(to router: Router<BasicRequestContext>) {
        for prefix in settings.pathPrefixes {
            for method in [HTTPRequest.Method.get, .post] {
                router.on(RouterPath(prefix + "**"), method: method) { request, context in
                    await self.forward(request, logger: context.logger)
                }
            }
        }
    }

    func forward(_ request: Request, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        guard inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= settings.maxConnections else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            return refuse(.serviceUnavailable, "the gateway has \(settings.maxConnections) calls in flight; retry shortly")
        }
        defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }

        guard let presented = Self.accessToken(in: request.uri.query) else {
            metrics.call(.rejected)
            return .wechatJSON(WeChatErrorBody.accessTokenMissing)
        }
        let appid: String
        var current: (token: String, millisecondsLeft: Int)
        do {
            guard let known = try await index.appid(for: presented) else {
                metrics.call(.rejected)
                return .wechatJSON(WeChatErrorBody.invalidAccessToken)
            }
            appid = known
            guard let stored = try await store.readableToken(appid) else {
                return refuse(.serviceUnavailable, "no valid token for \(appid) yet; retry shortly")
            }
            current = stored
        } catch {
            logger.info("gateway cannot read the token store", metadata: [LogKey.error: "\(error)"])
            return refuse(.serviceUnavailable, "the token store is unreachable; retry shortly")
        }
        await index.observe(appid: appid, token: current.token)

        let body: OutboundBody
        switch await OutboundBody.from(request, limit: settings.maxBodySize) {
        case .success(let outbound): body = outbound
        case .failure(let refusal): return refuse(refusal.status, refusal.detail)
        }

        var upstreamTime = Duration.zero
        var attempt = await send(request, appid: appid, token: current.token, body: body, upstreamTime: &upstreamTime, logger: logger)
        if attempt.rejectedToken {
            logger.info("WeChat rejected the injected token; reporting it", metadata: [LogKey.appID: "\(appid)"])
            if body.isReplayable {
                let replacement = try? await reporter.reportAndAwaitReplacement(appid: appid, badToken: current.token, wait: settings.tokenWait)
                if let replacement {
                    current = replacement
                    await index.observe(appid: appid, token: current.token)
                    metrics.retries.increment()
                    attempt = await send(request, appid: appid, token: current.token, body: body, upstreamTime: &upstreamTime, logger: logger)
                }
            } else {
                _ = try? await reporter.report(appid: appid, badToken: current.token)
            }
        }
        metrics.call(attempt.failed ? .failed : .forwarded)
        metrics.addedLatency.recordNanoseconds(max(0, (ContinuousClock.now - started - upstreamTime).nanoseconds))
        return attempt.response
    }

    private struct Attempt {
        var response: Response
        var rejectedToken = false
        var failed = false
    }

    private func send(
        _ request: Request, appid: String, token: String, body: OutboundBody, upstreamTime: inout Duration, logger: Logger
    ) async -> Attempt {
        let base = apps[appid]?.grant == .wecom ? upstream.wecomBaseURL : upstream.wechatBaseURL
        var outbound = HTTPClientRequest(url: base + request.uri.path + "?" + Self.query(request.uri.query, injecting: token))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.notForwarded.contains(field.name.canonicalName) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.body = body.clientBody
        let sentAt = ContinuousClock.now
        defer { upstreamTime += ContinuousClock.now - sentAt }
        do {
            let response = try await http.execute(outbound, timeout: Self.timeAmount(settings.timeout))
            metrics.upstreamResponse(GatewayMetrics.UpstreamClass(status: Int(response.status.code)))
            var headers = HTTPFields()
            for (name, value) in response.headers where !Self.notForwarded.contains(name.lowercased()) || name.lowercased() == "content-length" {
                if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
            }
            let status = HTTPResponse.Status(code: Int(response.status.code))
            guard let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= Self.inspectedBodySize else {
                return Attempt(response: Response(status: status, headers: headers, body: ResponseBody(asyncSequence: response.body)))
            }
            let buffer = try await response.body.collect(upTo: Self.inspectedBodySize)
            return Attempt(response: Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer)),
                           rejectedToken: Self.rejectsToken(buffer))
        } catch {
            metrics.upstreamResponse(.error)
            let timedOut = (error as? HTTPClientError) == .deadlineExceeded || (error as? HTTPClientError) == .readTimeout
            logger.info("gateway call to WeChat failed", metadata: [LogKey.appID: "\(appid)", LogKey.error: "\(error)"])
            let detail = timedOut ? "WeChat did not answer within \(settings.timeout)" : "WeChat could not be reached"
            return Attempt(response: .wechatJSON(WeChatErrorBody.systemError(detail), status: timedOut ? .gatewayTimeout : .badGateway),
                           failed: true)
        }
    }

    private func refuse(_ status: HTTPResponse.Status, _ detail: String) -> Response {
        metrics.call(.refused)
        return .wechatJSON(WeChatErrorBody.systemError(detail), status: status)
    }

    /// The first non-empty `access_token` of a raw query string, percent-decoded.
    static func accessToken(in query: String?) -> String? {
        for item in (query ?? "").split(separator: "&") {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "access_token" else { continue }
            if let value = String(parts[1]).removingPercentEncoding, !value.isEmpty { return value }
        }
        return nil
    }

    /// The caller's query as sent, every `access_token` dropped and `token` added.
    static func query(_ query: String?, injecting token: String) -> String {
        let kept = (query ?? "").split(separator: "&").filter { !($0 == "access_token" || $0.hasPrefix("access_token=")) }
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? token
        return (kept.map(String.init) + ["access_token=\(encoded)"]).joined(separator: "&")
    }

    /// True for a WeChat error body whose errcode says the access_token was rejected.
    static func rejectsToken(_ body: ByteBuffer) -> Bool {
        struct ErrorCode: Decodable { var errcode: Int? }
        guard let errcode = (try? JSONDecoder().decode(ErrorCode.self, from: Data(body.readableBytesView)))?.errcode else { return false }
        return WeChatErrorBody.rejectedTokenCodes.contains(errcode)
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating: what NIO's `TimeAmount` and swift-metrics' timers take.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : product + attoseconds / 1_000_000_000
    }
}
