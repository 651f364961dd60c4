/// An HTTP/1.1 exchange over a blocking `LineSocket` (`Connection: close`, the answer read to the end
/// of the stream): `orderly probe`'s GET, the webhook notifier's POST and the tests'. Enough for one
/// request to a known peer; not a general client (no redirects, no chunked bodies, no reuse).
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String

    public static func get(host: String, port: Int, path: String, timeout: Double) throws(LineSocketError) -> HTTPAnswer
    {
        try exchange(method: "GET", host: host, port: port, path: path, timeout: timeout)
    }

    /// Sends one request (`headers` beside Host, Connection and, with a body, Content-Length) and reads
    /// the answer; TLS when `tls` is given.
    public static func exchange(
        method: String,
        host: String,
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        tls: TLSClientSettings? = nil,
        timeout: Double
    ) throws(LineSocketError) -> HTTPAnswer {
        let socket = try LineSocket(host: host, port: port, timeout: timeout, tls: tls)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        try socket.send(Array((head + "\r\n").utf8) + body)
        func line() throws(LineSocketError) -> String? {
            guard let line = try socket.readLine() else { return nil }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        guard let statusLine = try line() else { throw LineSocketError("the connection closed") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw LineSocketError("not an HTTP answer: \(statusLine)")
        }
        var answerHeaders: [(String, String)] = []
        while let line = try line(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            answerHeaders.append(
                (
                    line[..<colon].lowercased(),
                    String(line[line.index(after: colon)...]).trimmed
                )
            )
        }
        var lines: [String] = []
        while let next = try line() { lines.append(next) }
        return HTTPAnswer(status: status, headers: answerHeaders, body: lines.joined(separator: "\n"))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0 == name.lowercased() }?.1
    }
}

extension String {
    fileprivate var trimmed: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
