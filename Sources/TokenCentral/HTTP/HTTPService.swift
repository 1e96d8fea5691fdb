import Glibc
import NIOCore
import ServiceLifecycle
import Synchronization

/// `http.host`/`http.port` cannot be listened on: the address is taken, not on this machine, or not
/// a host name at all. A configuration error like any other, naming the field, so `tokend` exits 2
/// instead of failing with a bare socket error.
public struct ListenError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String

    public var description: String { "\(field): \(message)" }
}

/// The HTTP API as one service of the worker: turns a failure to bind into a `ListenError`, and
/// reports graceful shutdown to `/readyz` at once, so a load balancer stops sending requests while those
/// in flight finish.
struct HTTPService: Service, CustomStringConvertible {
    let application: TokendApplication

    /// ServiceGroup names each service by its description, made once at startup: the default one of
    /// this struct would print the whole configuration, every app included (megabytes at 10,000 apps).
    var description: String { "HTTPService(\(application.configuration.http.host):\(application.configuration.http.port))" }

    func run() async throws {
        let listening = ListeningFlag()
        let server = application.buildHTTPApplication(onListening: { listening.set() })
        let health = application.refresher.health
        do {
            try await withGracefulShutdownHandler {
                try await server.run()
            } onGracefulShutdown: {
                health.beginShutdown()
            }
        } catch where !listening.isSet {
            throw listenError(error)
        }
    }

    private func listenError(_ error: any Error) -> ListenError {
        let http = application.configuration.http
        let address = "\(http.host):\(http.port)"
        switch (error as? IOError)?.errnoCode {
        case EADDRINUSE?:
            return ListenError(field: "http.port", message: "\(address) is already in use by another process (\(error))")
        case EACCES?:
            return ListenError(field: "http.port", message: "not allowed to listen on \(address); ports below 1024 need privileges (\(error))")
        default:
            return ListenError(field: "http.host", message: "cannot listen on \(address): not an address of this machine (\(error))")
        }
    }
}

/// Set once the server is bound: errors before that are configuration errors, errors after it are not.
private final class ListeningFlag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
