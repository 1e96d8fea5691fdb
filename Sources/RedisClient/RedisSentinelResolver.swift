import Foundation
import Synchronization

/// Finds the primary of a Sentinel-managed master and follows it through failovers.
///
/// A client must never keep writing to a node that is no longer primary: its writes are refused
/// (`READONLY`) or, worse, lost when that node is demoted and resynchronised. So the resolver
/// - asks the sentinels in turn (`SENTINEL get-master-addr-by-name`) and confirms every new connection
///   with `ROLE`, since a sentinel may still name a node that was just demoted;
/// - asks again when a connection to the primary breaks or answers `READONLY` (`primaryLost`);
/// - listens for `+switch-master` on a sentinel, so that connections that still work (to a demoted
///   primary, which keeps serving reads) move to the new primary as soon as the sentinels switch.
final class RedisSentinelResolver: Sendable {
    let configuration: RedisSentinelConfiguration
    private let client: RedisClientConfiguration
    private let state: Mutex<State>
    private let watch: Mutex<SubscriptionLoop?> = Mutex(nil)

    private struct State {
        /// The node the sentinels named last; nil until they first answered.
        var primary: RedisEndpoint?
        /// True once a connection to `primary` broke or was refused: the next connection asks again.
        var stale = true
        /// +1 whenever `primary` moves: the client's reconnect backoff does not apply to a new primary.
        var epoch = 0
        /// The sentinel to ask first: the last one that answered.
        var preferred = 0
        /// Connections of the `+switch-master` watch so far: each goes to the next sentinel.
        var watchConnections = 0
    }

    init(configuration: RedisSentinelConfiguration, client: RedisClientConfiguration) {
        self.configuration = configuration
        self.client = client
        self.state = Mutex(State())
    }

    /// The primary last named, or the configured data node before any sentinel answered.
    var endpoint: RedisEndpoint { state.withLock { $0.primary } ?? configuration.dataNode }

    var epoch: Int { state.withLock { $0.epoch } }

    /// Whether a connection still goes to the primary the sentinels name now.
    func isCurrent(_ address: RedisEndpoint.Address) -> Bool {
        state.withLock { $0.primary?.address == address }
    }

    /// A connection to `address` broke or found a replica there: the next connection asks the sentinels.
    func primaryLost(_ address: RedisEndpoint.Address) {
        state.withLock { state in
            if state.primary?.address == address { state.stale = true }
        }
    }

    /// Connects to the primary, asking the sentinels first when its address is unknown or stale, and
    /// confirms with `ROLE` that the node is a master. When the address known from before fails either
    /// way, the sentinels are asked at once and the named node tried: the usual case after a failover
    /// whose announcement has not arrived yet. Blocking: runs on a connection's own thread.
    func connectToPrimary(replySpin: Duration) throws(RedisError) -> RedisConnection {
        let (primary, asked) = try currentPrimary()
        do {
            return try connectAndConfirm(primary, replySpin: replySpin)
        } catch where !asked {
            return try connectAndConfirm(currentPrimary().endpoint, replySpin: replySpin)
        }
    }

    private func connectAndConfirm(_ primary: RedisEndpoint, replySpin: Duration) throws(RedisError) -> RedisConnection {
        do throws(RedisError) {
            let connection = try RedisConnection(
                endpoint: primary, connectTimeout: client.connectTimeout, commandTimeout: client.commandTimeout,
                replySpin: replySpin)
            let role = try connection.roundTrip([RedisCommand("ROLE")])[0]
            // A user not allowed ROLE (least-privilege ACL without +role) takes the sentinels' word; a write
            // that still reaches a demoted node is refused with READONLY, which asks them again.
            if case .error(let message) = role, message.hasPrefix("NOPERM") { return connection }
            guard role.array?.first?.string == "master" else {
                let said = role.array?.first?.string ?? "\(role)"
                throw RedisError(
                    .connectionFailed,
                    "the sentinels name this node primary of '\(configuration.masterName)' but ROLE says \(said) "
                        + "(a failover in progress); asking the sentinels again on the next attempt",
                    endpoint: primary.description)
            }
            return connection
        } catch {
            primaryLost(primary.address)
            throw error
        }
    }

    /// The primary's endpoint, and whether the sentinels were asked for it just now: the one known, or a
    /// fresh answer from the first sentinel that gives one.
    private func currentPrimary() throws(RedisError) -> (endpoint: RedisEndpoint, asked: Bool) {
        let (known, preferred) = state.withLock { state in (state.stale ? nil : state.primary, state.preferred) }
        if let known { return (known, false) }
        let sentinels = configuration.sentinels
        var failures: [String] = []
        for offset in sentinels.indices {
            let index = (preferred + offset) % sentinels.count
            do throws(RedisError) {
                let address = try ask(sentinels[index])
                record(address, from: index)
                return (endpoint, true)
            } catch {
                failures.append("\(sentinels[index]): \(error.message)")
            }
        }
        throw RedisError(
            .connectionFailed,
            "no sentinel named a primary for master '\(configuration.masterName)' ("
                + failures.joined(separator: "; ")
                + "); check the master name, the sentinel addresses and their credentials",
            endpoint: configuration.dataNode.description)
    }

    /// `SENTINEL get-master-addr-by-name` on one sentinel.
    private func ask(_ sentinel: RedisEndpoint) throws(RedisError) -> RedisEndpoint.Address {
        let connection = try RedisConnection(
            endpoint: sentinel, connectTimeout: client.connectTimeout, commandTimeout: client.commandTimeout)
        let reply = try connection.roundTrip([
            RedisCommand("SENTINEL", "get-master-addr-by-name", configuration.masterName)
        ])[0]
        switch reply {
        case .array(let parts) where parts.count == 2:
            guard let host = parts[0].string, let port = parts[1].integer else { break }
            return .tcp(host: host, port: port)
        case .null:
            throw RedisError(.unexpectedReply, "does not monitor a master named '\(configuration.masterName)'")
        case .error(let message):
            throw RedisError(.server, message)
        default:
            break
        }
        throw RedisError(.unexpectedReply, "unexpected answer to SENTINEL get-master-addr-by-name")
    }

    /// Makes `address` the primary (from a sentinel's answer or a `+switch-master` announcement).
    private func record(_ address: RedisEndpoint.Address, from sentinel: Int? = nil) {
        state.withLock { state in
            if state.primary?.address != address {
                var endpoint = configuration.dataNode
                endpoint.address = address
                state.primary = endpoint
                state.epoch += 1
            }
            state.stale = false
            if let sentinel { state.preferred = sentinel }
        }
    }

    // MARK: Following +switch-master

    /// Subscribes to `+switch-master` on the sentinels (one at a time, moving on when one fails) on a
    /// thread of its own, until `stopWatching`.
    func startWatching() {
        let loop = SubscriptionLoop(
            route: sentinelRoute(),
            backoff: client.reconnectBackoff,
            channels: [Self.switchChannel],
            patterns: [],
            deliver: { [weak self] event in self?.switched(event) },
            finished: {}
        )
        watch.withLock { $0 = loop }
        loop.start(threadName: "redis-sentinel-watch")
    }

    func stopWatching() {
        watch.withLock { $0 }?.stop()
    }

    static let switchChannel = "+switch-master"

    /// Each (re)connection goes to the next sentinel: one that stops answering is not retried forever.
    private func sentinelRoute() -> SubscriptionRoute {
        SubscriptionRoute(
            connect: { [weak self] () throws(RedisError) -> RedisConnection in
                guard let self else { throw RedisError(.shutdown, "the Redis client was shut down") }
                let sentinels = configuration.sentinels
                let index = state.withLock { state in
                    defer { state.watchConnections += 1 }
                    return state.watchConnections % sentinels.count
                }
                return try RedisConnection(
                    endpoint: sentinels[index], connectTimeout: client.connectTimeout,
                    commandTimeout: client.commandTimeout)
            },
            isCurrent: { _ in true },
            lost: { _ in },
            epoch: { 0 }
        )
    }

    /// `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`: the new primary, at once. After a
    /// (re)subscription an announcement may have been missed, so the next connection asks again.
    private func switched(_ event: RedisPubSubEvent) {
        switch event {
        case .subscribed:
            state.withLock { $0.stale = true }
        case .message(let message):
            let words = String(decoding: message.payload, as: UTF8.self).split(separator: " ")
            guard words.count == 5, words[0] == configuration.masterName, let port = Int(words[4]) else { return }
            record(.tcp(host: String(words[3]), port: port))
        }
    }
}
