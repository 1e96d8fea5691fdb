import Foundation
import Glibc

/// A process started with `posix_spawn` and stopped with signals and `waitpid`.
///
/// Foundation's `Process.waitUntilExit` spins a run loop on the calling thread on Linux (a cooperative
/// thread in async tests) and can miss the exit; plain POSIX calls are predictable. Every child is
/// recorded in `$TOKENCENTRAL_CHILD_PIDS` so `scripts/with-redis.sh` stops it even if the tests crash.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let name: String

    /// Starts `executable` with `arguments`; stdout and stderr go to `logPath` (appended) or /dev/null.
    public init(executable: URL, arguments: [String], environment: [String: String]? = nil, logPath: String? = nil) throws {
        name = executable.lastPathComponent
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = logPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            env.forEach { free($0) }
        }
        // The spawning thread (a Swift concurrency or Dispatch thread) may block signals, and a child
        // inherits that mask: give it an empty mask and default handlers, so SIGTERM stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let status = posix_spawn(&child, executable.path, &actions, &attributes, argv, env)
        guard status == 0 else { throw TestSupportError("cannot start \(executable.path): \(String(cString: strerror(status)))") }
        pid = child
        recordChildProcess(child)
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Sends SIGTERM (or `signal`) and waits for the exit; returns the exit status, nil if it did not exit in time.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(10)) async -> Int32? {
        self.signal(signal)
        return await waitForExit(timeout: timeout)
    }

    /// Waits for the process to exit; returns its exit code (or 128 + signal), nil on timeout.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                forgetChildProcess(pid)
                let signalled = status & 0x7f
                return signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
            }
            if result < 0 { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    deinit {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        forgetChildProcess(pid)
    }
}
