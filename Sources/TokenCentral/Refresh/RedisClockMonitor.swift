import CoreMetrics
import Logging
import Synchronization

/// One worker's `RedisClockWatch`, fed by every Redis clock reading its app loops and watchdog take.
///
/// A step is warned about and counted once, by whichever reading reveals it. App loops then correct their
/// app's stored times by the sum of the steps back they have not applied yet (`steppedBack`).
final class RedisClockMonitor: Sendable {
    private let watch = Mutex(RedisClockWatch())

    /// The sum of every step back seen so far.
    var steppedBack: ClockShift { watch.withLock { $0.steppedBack } }

    func observe(_ sample: RedisTimeSample, metrics: TokenMetrics, logger: Logger) {
        guard let step = watch.withLock({ $0.observe(sample) }) else { return }
        switch step {
        case .back(let shift):
            metrics.clockStepsBack.increment()
            logger.warning(
                "Redis clock stepped back; moving stored times back with it so no token outlives its real expiry",
                metadata: [LogKey.clockStep: "\(shift.lower)...\(shift.upper)"])
        case .forward(let shift):
            metrics.clockStepsForward.increment()
            logger.warning(
                "Redis clock jumped forward; stored tokens now expire early and are refreshed early",
                metadata: [LogKey.clockStep: "\(shift.lower)...\(shift.upper)"])
        }
    }
}
