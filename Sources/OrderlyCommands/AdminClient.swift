import Foundation
import OrderlyAdminProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking client for the admin protocol: `orderly admin` and the server tests use it.
public final class AdminClient {
    private let socket: Int32
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 4096)
    /// The server's greeting line.
    public private(set) var greeting = ""

    /// Connects and reads the greeting. `timeout` bounds each read and write.
    public init(host: String, port: Int, timeout: Double = 30) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw AdminClientError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var connected: Int32 = -1
        var lastError = ""
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let fd = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    connected = fd
                    break
                }
                lastError = String(cString: strerror(errno))
                Glibc.close(fd)
            }
            candidate = info.pointee.ai_next
        }
        guard connected >= 0 else { throw AdminClientError("cannot connect to \(host):\(port): \(lastError)") }
        socket = connected
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        greeting = try readLine() ?? ""
    }

    deinit { Glibc.close(socket) }

    /// Sends raw bytes as they are.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw AdminClientError("send failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// One line without its LF, or nil when the server closed the connection.
    public func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let socket = self.socket
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            // End of stream, or the server reset a connection it closed with our input unread: closed.
            if count == 0 || (count < 0 && errno == ECONNRESET) { return nil }
            guard count > 0 else { throw AdminClientError("read failed: \(String(cString: strerror(errno)))") }
            buffer += chunk[..<count]
        }
    }

    /// Reads one whole reply: a line, or for `OK rows=N` the N rows and END. Nil if the server closed.
    public func readReply() throws -> [String]? {
        guard let first = try readLine() else { return nil }
        var lines = [first]
        let words = first.split(separator: " ")
        let status = words.first?.hasPrefix("@") == true ? words.dropFirst() : words[...]
        if status.count == 2, status.first == "OK", status.last?.hasPrefix("rows=") == true {
            while let line = try readLine() {
                lines.append(line)
                if line == "END" { break }
            }
        }
        return lines
    }

    /// Sends one request line and reads its reply.
    public func request(_ line: String) throws -> [String] {
        try send(line + "\n")
        guard let reply = try readReply() else { throw AdminClientError("the server closed the connection") }
        return reply
    }

    /// Closes our sending side (like `nc -N`): the server answers what it has, then closes.
    public func shutdownWrite() { Glibc.shutdown(socket, Int32(SHUT_WR)) }

    /// Turns command-line words into a request line: `key=value with spaces` gets its value quoted.
    public static func line(from words: [String]) -> String {
        words.map { word in
            if let equals = word.firstIndex(of: "="),
                word[..<equals].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }),
                !word[..<equals].isEmpty
            {
                return word[...equals] + AdminQuoting.quote(String(word[word.index(after: equals)...]))
            }
            return AdminQuoting.quote(word)
        }.joined(separator: " ")
    }
}

public struct AdminClientError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
