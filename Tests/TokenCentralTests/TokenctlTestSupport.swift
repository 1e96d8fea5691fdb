import Foundation
import TestSupport

/// Runs the `tokenctl` binary built next to the test bundle (`swift build --build-tests` builds it).
struct Tokenctl {
    struct Outcome {
        var status: Int32
        /// stdout and stderr together.
        var output: String
    }

    let executable: URL

    init() throws {
        let buildDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        executable = buildDirectory.appendingPathComponent("tokenctl")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw TestSupportError("\(executable.path) is missing; build it with `swift build --build-tests`")
        }
    }

    /// Starts `tokenctl arguments...` (with `environment` added to this process's); `finish` waits for it.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tokenctl-\(UUID().uuidString).log")
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return Running(process: try ChildProcess(executable: executable, arguments: arguments, environment: merged, logPath: log.path), log: log)
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Outcome {
        try await start(arguments, environment: environment).finish()
    }

    struct Running {
        let process: ChildProcess
        let log: URL

        func finish(timeout: Duration = .seconds(30)) async throws -> Outcome {
            guard let status = await process.waitForExit(timeout: timeout) else {
                throw TestSupportError("tokenctl did not exit within \(timeout)")
            }
            defer { try? FileManager.default.removeItem(at: log) }
            return Outcome(status: status, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        }
    }
}
