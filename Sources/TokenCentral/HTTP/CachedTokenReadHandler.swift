import CoreMetrics
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers `GET /v1/apps/{appid}/access_token` on the event loop when this worker holds the app's token
/// in memory, without handing the request to a task: that hand-off (a thread switch each way) cost more
/// than everything else a token read does. Anything else (another route, a miss, a wrong key, a body,
/// a `Connection` header other than `keep-alive`, a request behind one the application is still
/// answering) goes to the router as before, which gives every error its usual answer.
///
/// It sits between Hummingbird's connection state handler (idle timeout, graceful shutdown: they see
/// these requests and responses like any other) and the application, and answers only when the
/// application has no request of this connection outstanding, so pipelined responses keep their order.
final class CachedTokenReadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let tokenView: TokenView
    private let apps: AppDirectory
    private let apiKey: Secret?
    private let answered: Counter
    private var date = HTTPDate()
    /// Requests passed to the application whose response has not ended yet.
    private var outstanding = 0
    /// The answer to the request being read, sent once its end arrives.
    private var answer: (head: HTTPResponse, body: ByteBuffer)?

    init(tokenView: TokenView, apps: AppDirectory, apiKey: Secret?, answered: Counter) {
        self.tokenView = tokenView
        self.apps = apps
        self.apiKey = apiKey
        self.answered = answered
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if outstanding == 0, let answer = cachedAnswer(to: request) {
                self.answer = answer
                return
            }
            outstanding += 1
        case .body:
            if answer != nil { return }
        case .end:
            if var answer {
                self.answer = nil
                answer.head.headerFields[.date] = date.current()
                answered.increment()
                context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
                context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Floored at zero: the answer to a request that never parsed (400) ends no request counted here.
        if case .end = unwrapOutboundIn(data) { outstanding = max(0, outstanding - 1) }
        context.write(data, promise: promise)
    }

    private func cachedAnswer(to request: HTTPRequest) -> (head: HTTPResponse, body: ByteBuffer)? {
        guard request.method == .get, let path = request.path,
            request.headerFields[.contentLength] == nil, request.headerFields[.transferEncoding] == nil,
            request.headerFields[.connection].map({ $0.lowercased() == "keep-alive" }) ?? true,
            let appid = Self.appid(inTokenPath: path), apps.position(of: appid) != nil
        else { return nil }
        if let apiKey, !apiKey.isPresented(inAuthorization: request.headerFields[.authorization]) { return nil }
        guard let current = tokenView.cached(appid) else { return nil }
        return current.body.parts(expiresIn: current.expiresIn)
    }

    /// The appid of `/v1/apps/{appid}/access_token` exactly (no query, no escapes), or nil.
    static func appid(inTokenPath path: String) -> String? {
        let prefix = "/v1/apps/", suffix = "/access_token"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.utf8.count > prefix.utf8.count + suffix.utf8.count else { return nil }
        let appid = path.dropFirst(prefix.count).dropLast(suffix.count)
        guard !appid.contains(where: { $0 == "/" || $0 == "?" || $0 == "%" || $0 == "#" }) else { return nil }
        return String(appid)
    }
}

/// Puts a `CachedTokenReadHandler` right behind Hummingbird's `HTTPConnectionStateHandler` once the
/// connection's pipeline is complete (its first request part), then leaves. Hummingbird adds its extra
/// handlers in front of that one, where the requests answered here would escape its idle timeout and
/// graceful shutdown.
final class CachedTokenReadInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let makeHandler: () -> CachedTokenReadHandler

    init(makeHandler: @escaping () -> CachedTokenReadHandler) {
        self.makeHandler = makeHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pipeline = context.pipeline.syncOperations
        if let state = try? pipeline.context(handlerType: HTTPConnectionStateHandler.self) {
            try? pipeline.addHandler(makeHandler(), position: .after(state.handler))
        }
        context.fireChannelRead(data)
        pipeline.removeHandler(context: context, promise: nil)
    }
}
