import Hummingbird

extension TokendApplication {
    /// This worker's HTTP API on `http.host`:`http.port`: `/healthz`, `/readyz`, `/metrics` and the
    /// token endpoints under `/v1`.
    ///
    /// A Hummingbird application is a ServiceLifecycle `Service`: `services` runs it after the refresher
    /// when `http.enabled`. Tests drive the same application with HummingbirdTesting (`.test(.router)`).
    public func buildHTTPApplication() -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.http.host, port: configuration.http.port)),
            logger: logger
        )
    }
}
