import Synchronization

/// A count that only goes up, rendered as a Prometheus counter by `MetricsExposition`.
final class MetricCounter: Sendable {
    private let value = Atomic<Int>(0)

    func increment() {
        value.add(1, ordering: .relaxed)
    }

    var count: Int { value.load(ordering: .relaxed) }
}
