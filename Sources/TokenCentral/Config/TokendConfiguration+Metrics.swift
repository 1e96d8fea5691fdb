import Configuration

extension TokendConfiguration {
    /// The `metrics` section: what `/metrics` renders.
    public struct Metrics: Sendable {
        /// `metrics.per_app`: `all` by default, so an upgrade keeps every series dashboards and alerts use;
        /// at tens of thousands of apps, `attention` or `off` keeps scrapes small (README, "Metrics").
        public var perApp: PerAppMetrics = .all

        public init() {}
    }
}

extension Resolver {
    /// `metrics.per_app` from the file or `TOKEND_METRICS_PER_APP`: `all`, `attention` or `off`.
    func metrics(_ file: ConfigurationFile.Metrics?, defaults: TokendConfiguration.Metrics) throws(ConfigError) -> TokendConfiguration.Metrics {
        var metrics = defaults
        guard let text = overrides.string(forKey: "metrics.per_app") ?? file?.perApp else { return metrics }
        guard let mode = PerAppMetrics(rawValue: text) else {
            let choices = PerAppMetrics.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("metrics.per_app", "'\(text)' is not one of \(choices)")
        }
        metrics.perApp = mode
        return metrics
    }
}
