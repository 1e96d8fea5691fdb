import ArgumentParser

/// An `ID:SECRET` command-line pair; the secret may itself contain colons.
struct Credential: ExpressibleByArgument {
    var id: String
    var secret: String

    init?(argument: String) {
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        let id = String(argument[..<colon])
        let secret = String(argument[argument.index(after: colon)...])
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        self.id = id
        self.secret = secret
    }
}
