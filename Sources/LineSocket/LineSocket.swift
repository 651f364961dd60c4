#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP connection read line by line: the admin client and the SMTP notifier use it. Each
/// read and write is bounded by the timeout given at connect. TLS from the start (`tls:`) or from a
/// point the protocol agrees on (`startTLS`, SMTP's STARTTLS).
public final class LineSocket {
    private let socket: Int32
    private let host: String
    private var timeout: Double
    private var tls: TLSStream?
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 4096)
    /// The longest line `readLine` accepts; a peer sending more without a newline is an error.
    public var maxLineBytes = 1 << 20

    public init(host: String, port: Int, timeout: Double, tls: TLSClientSettings? = nil) throws(LineSocketError) {
        self.host = host
        self.timeout = timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw LineSocketError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var connected: Int32 = -1
        var lastError = ""
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let fd = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd >= 0 {
                Self.setTimeout(fd, timeout)
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    connected = fd
                    break
                }
                lastError = String(cString: strerror(errno))
                Glibc.close(fd)
            }
            candidate = info.pointee.ai_next
        }
        guard connected >= 0 else { throw LineSocketError("cannot connect to \(host):\(port): \(lastError)") }
        socket = connected
        if let tls { try startTLS(tls) }
    }

    deinit { Glibc.close(socket) }

    /// Runs the TLS handshake on this connection; everything after it is encrypted. The server's
    /// certificate is verified as `settings` say. Bytes already read and not yet taken are an error:
    /// they came in the clear after the point where the protocol switches.
    public func startTLS(_ settings: TLSClientSettings) throws(LineSocketError) {
        guard tls == nil else { throw LineSocketError("TLS is already on") }
        guard buffer.isEmpty else { throw LineSocketError("the peer sent data in the clear before TLS began") }
        tls = try TLSStream(socket: socket, host: host, settings: settings, timeout: timeout)
    }

    /// Bounds each later read and write by `seconds`.
    public func setTimeout(_ seconds: Double) {
        timeout = seconds
        Self.setTimeout(socket, seconds)
    }

    private static func setTimeout(_ fd: Int32, _ seconds: Double) {
        var time = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends raw bytes as they are.
    public func send(_ bytes: [UInt8]) throws(LineSocketError) {
        if let tls { return try tls.send(bytes, timeout: timeout) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw LineSocketError("send failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    public func send(_ text: String) throws(LineSocketError) { try send(Array(text.utf8)) }

    /// One line without its LF (a CR before it is kept), or nil when the peer closed the connection.
    public func readLine() throws(LineSocketError) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            guard buffer.count <= maxLineBytes else {
                throw LineSocketError("the peer sent a line longer than \(maxLineBytes) bytes")
            }
            if let tls {
                guard let received = try tls.receive(timeout: timeout) else { return nil }
                buffer += received
                continue
            }
            let socket = self.socket
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            // End of stream, or a reset from a peer that closed with our input unread: closed.
            if count == 0 || (count < 0 && errno == ECONNRESET) { return nil }
            guard count > 0 else {
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : String(cString: strerror(errno))
                throw LineSocketError("read failed: \(reason)")
            }
            buffer += chunk[..<count]
        }
    }

    /// Closes our sending side: the peer reads end of stream after what we sent.
    public func shutdownWrite() {
        if let tls { return tls.shutdownWrite() }
        Glibc.shutdown(socket, Int32(SHUT_WR))
    }
}

public struct LineSocketError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
