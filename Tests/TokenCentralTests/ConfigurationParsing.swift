@testable import TokenCentral

/// A configuration text parsed as `tokend` parses its file, for the configuration suites: one file path,
/// the apps' secrets in the environment, and a call's own variables added on top.
struct ConfigurationParsing {
    var file = "/etc/tokend/tokend.yaml"
    var environment = ["WX_SECRET": "s3cr3t-AppSecret-7f9c2b"]

    func parse(_ yaml: String, environment extra: [String: String] = [:], resolvingSecrets: Bool = true)
        throws(ConfigError) -> TokendConfiguration
    {
        try TokendConfiguration.parse(
            yaml: yaml, file: file, environment: environment.merging(extra) { $1 }, resolvingSecrets: resolvingSecrets)
    }

    /// The error parsing fails with, or nil when it succeeds.
    func failure(_ yaml: String, environment extra: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try parse(yaml, environment: extra)
            return nil
        } catch {
            return error
        }
    }
}
