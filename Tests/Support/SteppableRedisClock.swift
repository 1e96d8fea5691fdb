import Foundation
import Glibc

/// A wall clock for a private `redis-server` that a test can step, as an NTP step or a failover to a
/// replica with a skewed clock would: `scripts/chaos/redis_clock_shim.c`, built with `cc` and preloaded
/// into the server, adds the milliseconds written in a file to every wall-clock reading.
public final class SteppableRedisClock: Sendable {
    public let directory: URL
    private let offsetFile: URL
    private let library: URL

    /// Builds the shim into a temporary directory; the offset starts at 0.
    public init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-clock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        offsetFile = directory.appendingPathComponent("offset_ms")
        library = directory.appendingPathComponent("clock.so")
        try Data("0\n".utf8).write(to: offsetFile)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/chaos/redis_clock_shim.c")
        let compiler = try ChildProcess(
            executable: try executable("cc"), arguments: ["-shared", "-fPIC", "-O2", "-o", library.path, source.path],
            logPath: directory.appendingPathComponent("cc.log").path)
        guard await compiler.waitForExit(timeout: .seconds(60)) == 0 else {
            throw TestSupportError("cc could not build \(source.path) (see \(directory.path)/cc.log)")
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The environment that puts redis-server on this clock.
    public var environment: [String: String] {
        ["LD_PRELOAD": library.path, "CHAOS_CLOCK_OFFSET_FILE": offsetFile.path]
    }

    /// Sets the clock's offset from real time (replacing the file, so the shim never reads half of it).
    public func set(offset: Duration) throws {
        let next = directory.appendingPathComponent("offset_ms.next")
        try Data("\(offset.components.seconds * 1000 + offset.components.attoseconds / 1_000_000_000_000_000)\n".utf8).write(to: next)
        guard rename(next.path, offsetFile.path) == 0 else { throw TestSupportError("cannot replace \(offsetFile.path)") }
    }
}
