import Foundation
public import LineSocket
import OrderlyAdminProtocol

/// A blocking client for the admin protocol: `orderly admin` and the server tests use it.
public final class AdminClient {
    private let connection: LineSocket
    /// The server's greeting line.
    public private(set) var greeting = ""

    /// Connects (over TLS when `tls` says how to verify the server) and reads the greeting. `timeout`
    /// bounds each read and write.
    public init(host: String, port: Int, timeout: Double = 30, tls: TLSClientSettings? = nil) throws {
        do {
            connection = try LineSocket(host: host, port: port, timeout: timeout, tls: tls)
        } catch {
            throw AdminClientError(error.description)
        }
        greeting = try readLine() ?? ""
    }

    /// Bounds each later read and write by `seconds`.
    public func setTimeout(_ seconds: Double) { connection.setTimeout(seconds) }

    /// Sends raw bytes as they are.
    public func send(_ bytes: [UInt8]) throws {
        do { try connection.send(bytes) } catch { throw AdminClientError(error.description) }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// One line without its LF, or nil when the server closed the connection.
    public func readLine() throws -> String? {
        do { return try connection.readLine() } catch { throw AdminClientError(error.description) }
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
    public func shutdownWrite() { connection.shutdownWrite() }

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
