import ArgumentParser
import Foundation
import Logging
import TokenCentral

/// `tokend`: one worker of the access_token central control server.
@main
struct Tokend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keeps WeChat access_tokens valid in Redis; run several for availability.")

    @Option(name: .shortAndLong, help: "Configuration file (YAML). TOKEND_* environment variables override it.")
    var config: String = "tokend.yaml"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: TokendConfiguration
        do {
            configuration = try TokendConfiguration.load(file: config, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("tokend: invalid configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let application = try TokendApplication(configuration: configuration, logger: Logger(label: "tokend"))
        do {
            try await application.checkRedisPermissions()
        } catch {
            FileHandle.standardError.write(Data("tokend: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            try await application.run()
        } catch let error as ListenError {
            FileHandle.standardError.write(Data("tokend: invalid configuration: \(config): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
