import ArgumentParser
import TokenCentral

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every app: grant, generation, time left, the worker that fetched it, the last error.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print a JSON array (snake_case keys, times in unix ms) instead of the table.")
    var json = false

    func run() async throws {
        let deployment = try connection.deployment()
        try await deployment.checkPermissions(deployment.statusProbes)
        let rows = try await deployment.statusRows(try await deployment.appIDs())
        if json {
            try JSONOutput.print(rows)
        } else {
            print(StatusTable.render(rows), terminator: "")
            if rows.isEmpty { print("(no apps under prefix \(deployment.keys.prefix))") }
        }
    }
}
