import Logging
import Synchronization

/// Logs at most one line per `interval`, reporting how many were suppressed in between, so a flood of
/// bad input (10,000 malformed messages a second) cannot flood the log.
final class RateLimitedLog: Sendable {
    private struct State {
        var lastLogged: ContinuousClock.Instant?
        var suppressed = 0
    }

    private let interval: Duration
    private let level: Logger.Level
    private let state = Mutex(State())

    init(interval: Duration, level: Logger.Level = .warning) {
        self.interval = interval
        self.level = level
    }

    func log(_ logger: Logger, _ message: Logger.Message, metadata: Logger.Metadata = [:]) {
        let now = ContinuousClock.now
        let suppressed = state.withLock { state -> Int? in
            if let last = state.lastLogged, now - last < interval {
                state.suppressed += 1
                return nil
            }
            defer { state.suppressed = 0 }
            state.lastLogged = now
            return state.suppressed
        }
        guard let suppressed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.log(level: level, message, metadata: metadata)
    }
}
