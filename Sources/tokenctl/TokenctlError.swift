/// A failure tokenctl explains in one line (ArgumentParser prints it on stderr and exits with 1).
struct TokenctlError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
