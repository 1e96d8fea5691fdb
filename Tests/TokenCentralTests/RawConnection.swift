import Glibc
import TestSupport

/// A plain TCP connection to the loopback, for requests no HTTP client would send.
struct RawConnection {
    let descriptor: Int32

    /// Connects to `port` on 127.0.0.1, or on ::1 when the server listens there only.
    init(port: Int) throws {
        for family in [AF_INET, AF_INET6] {
            let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            var connected = false
            if family == AF_INET {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                    }
                }
            } else {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = in_port_t(UInt16(port).bigEndian)
                address.sin6_addr = in6addr_loopback
                connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                    }
                }
            }
            if connected {
                self.descriptor = descriptor
                return
            }
            Glibc.close(descriptor)
        }
        throw TestSupportError("cannot connect to port \(port) on the loopback")
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// True once the server closed the connection (a read returns end of file or a reset).
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let read = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT))
        return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// What the server sent until `complete` holds for all of it, or throws after `timeout`.
    func receive(timeout: Duration = .seconds(10), until complete: (String) -> Bool) async throws -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !complete(String(decoding: received, as: UTF8.self)) {
            guard ContinuousClock.now < deadline else {
                throw TestSupportError("no complete answer within \(timeout); received: \(String(decoding: received, as: UTF8.self))")
            }
            let count = recv(descriptor, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += chunk[0..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) {
                throw TestSupportError("the server closed the connection; received: \(String(decoding: received, as: UTF8.self))")
            } else {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        Glibc.close(descriptor)
    }
}
