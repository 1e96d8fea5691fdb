import Foundation
import Glibc
import TestSupport
import TokenCentral

/// Real `tokend` processes, for failures only a process can have: `kill -9`, `SIGSTOP`.
final class WorkerProcesses: Sendable {
    let processes: [String: ChildProcess]
    let directory: URL

    /// Starts `count` workers named `proc-0`... with a generated config file; secrets via environment.
    /// `listener` is the config's HTTP (and gateway) part: by default no listener.
    init(count: Int, appid: String, secret: String, redisURL: String, prefix: String, mockURL: URL,
         listener: String = "http:\n  enabled: false") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tokend")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestSupportError("\(binary.path) is missing; `make test` builds it with `swift build --build-tests`")
        }
        var processes: [String: ChildProcess] = [:]
        for index in 0..<count {
            let worker = "proc-\(index)"
            let config = directory.appendingPathComponent("\(worker).yaml")
            try """
            redis:
              url: \(redisURL)
              key_prefix: \(prefix)
            upstream:
              wechat_base_url: \(mockURL.absoluteString)
              timeout: 3s
            worker:
              id: \(worker)
            refresh:
              check_interval: 200ms
              retry_initial: 100ms
              retry_maximum: 1s
              forced_min_token_age: 1ms
            \(listener)
            apps:
              - appid: \(appid)
                secret_env: TEST_APP_SECRET
            """.write(to: config, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["TEST_APP_SECRET"] = secret
            processes[worker] = try ChildProcess(
                executable: binary, arguments: ["--config", config.path, "--log-level", "info"], environment: environment,
                logPath: directory.appendingPathComponent("\(worker).log").path)
        }
        self.processes = processes
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The worker named in a lease value `WORKERID:NONCE`.
    func holder(ofLease value: String) -> (name: String, process: ChildProcess)? {
        guard let name = value.split(separator: ":").first.map(String.init), let process = processes[name] else { return nil }
        return (name, process)
    }

    /// The workers' logs, for the failure message of a test.
    func logs() -> String {
        processes.keys.sorted().map { name in
            let text = (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
            return "--- \(name)\n\(text)"
        }.joined(separator: "\n")
    }

    func stopAll() async {
        for process in processes.values {
            process.signal(SIGCONT)
            await process.stop()
        }
    }
}
