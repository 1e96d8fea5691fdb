import Hummingbird
import HummingbirdCore
import NIOCore

extension TokendApplication {
    /// This worker's HTTP API on `http.host`:`http.port`: `/healthz`, `/readyz`, `/metrics` and the
    /// token endpoints under `/v1`. A connection that sends no complete request part for
    /// `http.idle_timeout` (a request head never finished, an idle keep-alive) is closed.
    ///
    /// Token reads this worker holds in memory are answered by each connection's `CachedTokenReadHandler`,
    /// before the router; the router answers the rest (and everything under HummingbirdTesting's
    /// `.test(.router)`, which has no connection).
    ///
    /// `services` runs it inside an `HTTPService` when `http.enabled`. Tests drive the same application
    /// with HummingbirdTesting (`.test(.router)`, `.test(.live)`). `onListening` runs once the socket is bound.
    public func buildHTTPApplication(onListening: @escaping @Sendable () -> Void = {}) -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            server: .http1(configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [CachedTokenReadInstaller(makeHandler: cachedTokenReads)],
                idleTimeout: TimeAmount(configuration.http.idleTimeout))),
            configuration: ApplicationConfiguration(address: .hostname(configuration.http.host, port: configuration.http.port)),
            onServerRunning: { _ in onListening() },
            logger: logger
        )
    }

    /// One per connection: it counts that connection's outstanding requests.
    private func cachedTokenReads() -> CachedTokenReadHandler {
        CachedTokenReadHandler(tokenView: refresher.tokenView, apps: apps, apiKey: configuration.http.apiKey,
                               answered: refresher.metrics.tokenReadsFromMemory)
    }
}
