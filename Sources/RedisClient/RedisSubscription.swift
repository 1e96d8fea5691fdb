import Foundation
import Synchronization

/// What a subscription delivers.
public enum RedisPubSubEvent: Sendable, Hashable {
    /// Every channel and pattern is subscribed: after the first connection and again after each reconnect.
    ///
    /// Redis pub/sub is at-most-once: messages published while the connection was down are lost. A
    /// consumer that must not miss state changes re-reads that state whenever it sees this event.
    case subscribed
    case message(RedisPubSubMessage)
}

public struct RedisPubSubMessage: Sendable, Hashable {
    public var channel: String
    /// The pattern that matched, for messages received through `PSUBSCRIBE`.
    public var pattern: String?
    public var payload: [UInt8]

    public init(channel: String, pattern: String? = nil, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}

/// A live subscription on its own connection and thread, as an `AsyncSequence` of events.
///
/// It reconnects (with backoff) and resubscribes on its own after the server goes away. Ending the
/// iteration (the consuming task is cancelled or stops iterating) unsubscribes and closes the connection.
public struct RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubEvent
    private let stream: AsyncStream<RedisPubSubEvent>

    init(stream: AsyncStream<RedisPubSubEvent>) {
        self.stream = stream
    }

    public func makeAsyncIterator() -> AsyncStream<RedisPubSubEvent>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

extension RedisClient {
    /// Subscribes to `channels` (`SUBSCRIBE`) and `patterns` (`PSUBSCRIBE`) on a dedicated connection.
    ///
    /// Through Sentinel the subscription lives on the primary, and moves when the primary does: a
    /// `PUBLISH` on the new primary reaches only its own subscribers. Each move yields `.subscribed`.
    public func subscribe(channels: [String] = [], patterns: [String] = []) -> RedisSubscription {
        precondition(!channels.isEmpty || !patterns.isEmpty, "subscribe to at least one channel or pattern")
        // Generous but bounded: a consumer that falls this far behind loses the oldest messages,
        // which pub/sub consumers must tolerate anyway.
        let (stream, continuation) = AsyncStream.makeStream(
            of: RedisPubSubEvent.self,
            bufferingPolicy: .bufferingNewest(65_536)
        )
        let loop = SubscriptionLoop(
            route: target.subscriptionRoute(configuration),
            backoff: configuration.reconnectBackoff,
            channels: channels,
            patterns: patterns,
            deliver: { event in _ = continuation.yield(event) },
            finished: { continuation.finish() }
        )
        continuation.onTermination = { _ in loop.stop() }
        loop.start(threadName: "redis-subscriber")
        return RedisSubscription(stream: stream)
    }
}

/// How a subscription reaches its server: how to connect, whether a live connection still goes to the
/// right node (the primary may have moved), what to do when one breaks, and a number that changes when
/// the node to connect to does (`RedisTarget.epoch`): a new primary is tried without waiting out the
/// backoff meant for the old one.
struct SubscriptionRoute: Sendable {
    var connect: @Sendable () throws(RedisError) -> RedisConnection
    var isCurrent: @Sendable (RedisConnection) -> Bool
    var lost: @Sendable (RedisConnection) -> Void
    var epoch: @Sendable () -> Int
}

/// The blocking receive loop behind a `RedisSubscription` (and the sentinel watch); runs on its own thread.
final class SubscriptionLoop: Sendable {
    private let route: SubscriptionRoute
    private let backoff: Backoff
    private let channels: [String]
    private let patterns: [String]
    private let deliver: @Sendable (RedisPubSubEvent) -> Void
    private let finished: @Sendable () -> Void
    private let stopped = Atomic(false)

    /// How often the loop wakes to notice `stop()` or a new primary when no message arrives; bounds the
    /// unsubscribe latency. Every 50 ms was a fifth of an idle worker's CPU at 10,000 apps; a quarter
    /// second stays short next to a Sentinel failover, which takes seconds.
    private static let pollMilliseconds: Int32 = 250

    init(
        route: SubscriptionRoute,
        backoff: Backoff,
        channels: [String],
        patterns: [String],
        deliver: @escaping @Sendable (RedisPubSubEvent) -> Void,
        finished: @escaping @Sendable () -> Void
    ) {
        self.route = route
        self.backoff = backoff
        self.channels = channels
        self.patterns = patterns
        self.deliver = deliver
        self.finished = finished
    }

    func start(threadName: String) {
        let thread = Thread { [self] in run() }
        thread.name = threadName
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func run() {
        var failures = 0
        var connection: RedisConnection?
        var unconfirmed = 0
        while !isStopped {
            do throws(RedisError) {
                if let live = connection, !route.isCurrent(live) { connection = nil }
                if connection == nil {
                    let fresh = try route.connect()
                    if !channels.isEmpty { fresh.append([RedisCommand("SUBSCRIBE", channels)]) }
                    if !patterns.isEmpty { fresh.append([RedisCommand("PSUBSCRIBE", patterns)]) }
                    try fresh.flush()
                    unconfirmed = channels.count + patterns.count
                    connection = fresh
                }
                guard let live = connection else { continue }
                do throws(RedisError) {
                    while let reply = try live.bufferedReply() {
                        switch Self.classify(reply) {
                        case .confirmation:
                            unconfirmed -= 1
                            if unconfirmed == 0 {
                                failures = 0
                                deliver(.subscribed)
                            }
                        case .message(let message):
                            deliver(.message(message))
                        case .other:
                            break
                        }
                    }
                    _ = try live.receive(timeoutMilliseconds: Self.pollMilliseconds)
                } catch {
                    route.lost(live)
                    throw error
                }
            } catch {
                connection = nil
                sleepUnlessStopped(backoff.delay(attempt: failures), orMovedFrom: route.epoch())
                failures += 1
            }
        }
        if let connection {
            if !channels.isEmpty { connection.append([RedisCommand("UNSUBSCRIBE", channels)]) }
            if !patterns.isEmpty { connection.append([RedisCommand("PUNSUBSCRIBE", patterns)]) }
            try? connection.flush()
        }
        finished()
    }

    private func sleepUnlessStopped(_ duration: Duration, orMovedFrom epoch: Int) {
        let deadline = ContinuousClock.now + duration
        while !isStopped, ContinuousClock.now < deadline, route.epoch() == epoch {
            usleep(UInt32(Self.pollMilliseconds) * 1000)
        }
    }

    private enum Frame {
        case confirmation
        case message(RedisPubSubMessage)
        case other
    }

    private static func classify(_ reply: RedisReply) -> Frame {
        guard let parts = reply.array, let kind = parts.first?.string else { return .other }
        switch (kind, parts.count) {
        case ("subscribe", 3), ("psubscribe", 3):
            return .confirmation
        case ("message", 3):
            guard let channel = parts[1].string, let payload = parts[2].bytes else { return .other }
            return .message(RedisPubSubMessage(channel: channel, payload: payload))
        case ("pmessage", 4):
            guard let pattern = parts[1].string, let channel = parts[2].string, let payload = parts[3].bytes else {
                return .other
            }
            return .message(RedisPubSubMessage(channel: channel, pattern: pattern, payload: payload))
        default:
            return .other
        }
    }
}
