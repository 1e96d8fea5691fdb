/// A configuration problem, naming the file and the field so a person can fix it.
/// Never carries a secret value: only the names of the variables or files that hold them.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var field: String?
    public var message: String

    public init(file: String, field: String?, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { "\(file): \(field): \(message)" } else { "\(file): \(message)" }
    }
}
