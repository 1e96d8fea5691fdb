import ArgumentParser
import Foundation
import RedisClient
import TokenCentral

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "A live status table with the latest new-token announcements, until Ctrl-C or SIGTERM.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Seconds between repaints; a new token also repaints at once.")
    var interval: Double = 1

    @Option(help: "Stop after this many seconds. (default: run until Ctrl-C or SIGTERM)")
    var duration: Double?

    @Option(help: ArgumentHelp("Also show the last lines of this file, e.g. a log of what you are doing to the deployment.",
                               valueName: "file"))
    var events: String?

    @Flag(help: "Print one JSON object per announcement (appid, generation, worker, seen_at in unix ms) instead of the view.")
    var json = false

    func validate() throws {
        guard interval > 0, interval.isFinite else { throw ValidationError("--interval must be a positive number of seconds") }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
    }

    private enum Event: Sendable {
        case repaint
        case announced(WatchedAnnouncement)
        case stop
    }

    func run() async throws {
        let deployment = try connection.deployment()
        try await deployment.checkPermissions(deployment.watchProbes)
        _ = try await deployment.statusRows(try await deployment.appIDs())  // unreachable Redis: fail now
        var screen = WatchScreen(
            title: "tokenctl watch  \(deployment.redis.endpoint)  prefix \(deployment.keys.prefix)", eventsPath: events,
            clearsScreen: isatty(STDOUT_FILENO) == 1)
        let json = self.json
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        let period = Duration.seconds(interval)
        let limit = duration.map(Duration.seconds)
        await withTaskGroup { group in
            group.addTask {
                for await event in deployment.redis.subscribe(channels: [deployment.keys.refreshedChannel]) {
                    // Tokens only: a ticket's announcement names the ticket's generation, and its worker is in the ticket's meta.
                    if case .message(let message) = event, let announcement = RefreshedAnnouncement(payload: message.payload),
                        announcement.ticket == nil
                    {
                        let worker = try? await deployment.redis.send("HGET", deployment.keys.meta(announcement.appid), "worker").string
                        sink.yield(.announced(WatchedAnnouncement(
                            at: Date(), appid: announcement.appid, generation: announcement.generation, worker: worker)))
                    }
                }
            }
            if !json {
                group.addTask {
                    repeat { sink.yield(.repaint) } while (try? await Task.sleep(for: period)) != nil
                }
            }
            group.addTask {
                await TerminationSignals.next()
                sink.yield(.stop)
            }
            if let limit {
                group.addTask {
                    if (try? await Task.sleep(for: limit)) != nil { sink.yield(.stop) }
                }
            }
            loop: for await event in events {
                switch event {
                case .stop: break loop
                case .announced(let announcement) where json: try? JSONOutput.print(announcement); continue loop
                case .announced(let announcement): screen.record(announcement)
                case .repaint: break
                }
                let rows: Result<[StatusRow], RedisError>
                do throws(RedisError) {
                    rows = .success(try await deployment.statusRows(try await deployment.appIDs()))
                } catch {
                    rows = .failure(error)
                }
                FileHandle.standardOutput.write(Data(screen.frame(at: Date(), rows: rows).utf8))
            }
            group.cancelAll()
        }
    }
}
