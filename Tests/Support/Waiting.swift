import Foundation
import Glibc

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes; tests wait on conditions, never on fixed sleeps.
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw TestSupportError("timed out after \(timeout) waiting for: \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// The shared test server, set by `make test` (scripts/with-redis.sh).
public func sharedRedisURL() throws -> String {
    guard let url = ProcessInfo.processInfo.environment["REDIS_URL"] else {
        throw TestSupportError("REDIS_URL is not set; run the tests with `make test`, which starts a private redis-server")
    }
    return url
}

/// A key prefix no other test uses, so tests can run in parallel against one server.
public func uniquePrefix(_ name: String = "test") -> String {
    "tc-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// A TCP port free on 127.0.0.1 at the time of the call.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
        }
    }
    guard bound else { throw TestSupportError("bind() on 127.0.0.1 failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Notes a process a test started in `$TOKENCENTRAL_CHILD_PIDS` (a directory made by `scripts/with-redis.sh`),
/// so the script stops it by PID even if the test process crashes before its own cleanup runs.
public func recordChildProcess(_ pid: Int32) {
    guard let directory = ProcessInfo.processInfo.environment["TOKENCENTRAL_CHILD_PIDS"] else { return }
    _ = FileManager.default.createFile(atPath: "\(directory)/\(pid)", contents: nil)
}

/// Removes a stopped process from `$TOKENCENTRAL_CHILD_PIDS`, so its PID, once reused, is never killed.
public func forgetChildProcess(_ pid: Int32) {
    guard let directory = ProcessInfo.processInfo.environment["TOKENCENTRAL_CHILD_PIDS"] else { return }
    try? FileManager.default.removeItem(atPath: "\(directory)/\(pid)")
}
