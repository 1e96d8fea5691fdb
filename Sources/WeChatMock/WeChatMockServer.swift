import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The Hummingbird application serving `mock`'s WeChat endpoints and admin API.
///
/// - Parameters:
///   - port: 0 picks a free port; `onListening` receives the one actually bound.
///   - onListening: Called once the server accepts connections.
public func buildApplication(
    mock: WeChatMock,
    host: String = "127.0.0.1",
    port: Int = 8090,
    logger: Logger = Logger(label: "wechat-mock"),
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    mock.addWeChatRoutes(to: router)
    mock.addAdminRoutes(to: router)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
        onServerRunning: { channel in
            await onListening(channel.localAddress?.port ?? port)
        },
        logger: logger
    )
}

/// Why ``withWeChatMockServer(_:host:port:logger:isolation:_:)`` could not serve.
public enum WeChatMockServerError: Error, Equatable {
    /// The server stopped before it ever listened (e.g. the address is in use).
    case stoppedBeforeListening(host: String, port: Int)
    /// `host` cannot be part of a URL.
    case invalidHost(String)
}

/// Serves `mock` on a loopback port for the duration of `body`, then shuts the server down.
///
/// The server runs in a child task and is stopped gracefully when `body` returns or throws;
/// hanging faults are cut short by that shutdown, so it is prompt.
///
/// - Parameters:
///   - port: 0 (the default) picks a free port.
///   - logger: Defaults to one that discards everything, to keep test output clean.
///   - body: Receives the base URL, e.g. `http://127.0.0.1:54321`.
public func withWeChatMockServer<R: Sendable>(
    _ mock: WeChatMock,
    host: String = "127.0.0.1",
    port: Int = 0,
    logger: Logger = Logger(label: "wechat-mock", factory: { _ in SwiftLogNoOpLogHandler() }),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (URL) async throws -> R
) async throws -> R {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = buildApplication(mock: mock, host: host, port: port, logger: logger) { port in
        portContinuation.yield(port)
        portContinuation.finish()
    }
    let serviceGroup = ServiceGroup(configuration: .init(services: [application], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var portIterator = ports.makeAsyncIterator()
        guard let boundPort = await portIterator.next() else {
            try await group.waitForAll()
            throw WeChatMockServerError.stoppedBeforeListening(host: host, port: port)
        }
        let hostInURL = host.contains(":") ? "[\(host)]" : host
        do {
            guard let url = URL(string: "http://\(hostInURL):\(boundPort)") else {
                throw WeChatMockServerError.invalidHost(host)
            }
            let result = try await body(url)
            await serviceGroup.triggerGracefulShutdown()
            return result
        } catch {
            await serviceGroup.triggerGracefulShutdown()
            throw error
        }
    }
}
