import ArgumentParser

/// `tokenctl`: looks at and nudges the tokens `tokend` keeps in Redis, talking to Redis directly.
@main
struct Tokenctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenctl",
        abstract: "Inspect and refresh the WeChat access_tokens that tokend keeps in Redis.",
        discussion: """
            Reads Redis directly, so it works while every tokend worker is down. Point it at a deployment \
            with --config (the tokend configuration; secrets are not read), or --redis-url (or --sentinel and \
            --sentinel-master) and --prefix (apps are then discovered with SCAN). Connection options go before \
            or after the subcommand.
            """,
        subcommands: [StatusCommand.self, GetCommand.self, RefreshCommand.self, WatchCommand.self]
    )

    @OptionGroup var connection: ConnectionOptions
}
