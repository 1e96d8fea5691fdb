import Dispatch
import Foundation

/// SIGINT and SIGTERM as an awaitable event, so `watch` stops between repaints and exits 0.
enum TerminationSignals {
    /// Returns when SIGINT or SIGTERM arrives, or when the task is cancelled. From the call on, these
    /// signals no longer end the process by themselves.
    static func next() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        var signals = stream.makeAsyncIterator()
        _ = await signals.next()
    }
}
