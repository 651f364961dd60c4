import ArgumentParser
import Foundation
import LineSocket
import OrderlyAdminProtocol

/// `orderly admin`: a client for the admin protocol, one-shot or interactive (like redis-cli).
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Send admin protocol commands to `orderly serve`.",
        discussion: """
            With words, sends them as one request and prints the reply (exit 1 on ERR); without, reads \
            commands from standard input (exit 1 if any reply was ERR); on a terminal with a prompt, line \
            editing and history: arrows, Home/End, Ctrl-A/E/B/F/P/N, Ctrl-K/U/W, Ctrl-L clears the \
            screen, Ctrl-C clears the line, Ctrl-D on an empty line quits; history is kept in \
            ~/.orderly_admin_history or ORDERLY_ADMIN_HISTORY, AUTH lines never. Credentials come from \
            ORDERLY_ADMIN_USER and ORDERLY_ADMIN_SECRET, or --credentials FILE holding "user secret" \
            (the file must not be readable by group or others).

            Example:
              orderly admin ORDER SHOW 42
              orderly admin STOCK RECEIVE warehouse=1 sku=2 qty=10 note="first delivery"
              orderly admin --json JOBS STATS
            """
    )

    @Option(help: "Server host.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 7420

    @Flag(help: "Speak TLS and verify the server's certificate (against the system's authorities unless --tls-ca).")
    var tls = false

    @Option(help: "A PEM file of the authorities that sign the server's certificate (implies --tls).")
    var tlsCa: String?

    @Option(help: "The name the server's certificate must carry, when it is not --host.")
    var tlsServerName: String?

    @Option(help: "A file with one line: user secret.")
    var credentials: String?

    @Flag(help: "Ask for JSON Lines replies.")
    var json = false

    @Flag(help: "Print replies as the server sends them (no tables).")
    var raw = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var words: [String] = []

    func run() async throws {
        // Words are passed through to the server, so the client's own help is looked for here.
        if let first = words.first, first == "--help" || first == "-h" {
            print(OrderlyCommand.helpMessage(for: Self.self))
            return
        }
        let verify = tls || tlsCa != nil || tlsServerName != nil
        let client = try AdminClient(
            host: host,
            port: port,
            tls: verify ? TLSClientSettings(trustRoots: tlsCa, serverName: tlsServerName) : nil
        )
        if let (user, secret) = try readCredentials() {
            let reply = try client.request("AUTH " + AdminClient.line(from: [user, secret]))
            guard reply.first?.hasPrefix("OK") == true else {
                print(reply.joined(separator: "\n"))
                throw ExitCode(1)
            }
        }
        if json { _ = try client.request("HELLO format=json") }
        if !words.isEmpty {
            let line = AdminClient.line(from: words)
            let reply = try client.request(line)
            print(render(reply, for: line))
            if reply.first.map(Self.isError) == true { throw ExitCode(1) }
            return
        }
        let interactive = isatty(STDIN_FILENO) == 1
        let editor = interactive ? LineEditor(historyPath: Self.historyPath) : nil
        if interactive { print(client.greeting) }
        var failed = false
        while true {
            let next = editor.map { $0.readLine(prompt: "orderly> ") } ?? readLine(strippingNewline: true)
            guard let line = next else { break }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let reply = try client.request(line)
            print(render(reply, for: line))
            if reply.first.map(Self.isError) == true { failed = true }
            if line.trimmingCharacters(in: .whitespaces).uppercased() == "QUIT" { break }
        }
        // A script (or a session) in which any request was refused fails, as a one-shot command would.
        if failed { throw ExitCode(1) }
    }

    /// `~/.orderly_admin_history`, unless ORDERLY_ADMIN_HISTORY names another file (empty: none).
    static var historyPath: String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["ORDERLY_ADMIN_HISTORY"] { return path.isEmpty ? nil : path }
        return environment["HOME"].map { $0 + "/.orderly_admin_history" }
    }

    static func isError(_ line: String) -> Bool {
        line.hasPrefix("ERR ") || (line.hasPrefix("@") && line.contains(" ERR ")) || line.contains("\"ok\":false")
    }

    /// Row sets for people (unless --raw or --json); everything else as it came.
    func render(_ reply: [String], for request: String) -> String {
        guard !raw, !json else { return reply.joined(separator: "\n") }
        return AdminRendering.render(reply, for: request, width: AdminRendering.terminalWidth())
    }

    func readCredentials() throws -> (String, String)? {
        if let path = credentials {
            let text = try PrivateFile.read(path)
            let parts = text.split(whereSeparator: \.isWhitespace)
            guard parts.count == 2 else { throw ValidationError("\(path) must hold: user secret") }
            return (String(parts[0]), String(parts[1]))
        }
        let environment = ProcessInfo.processInfo.environment
        if let user = environment["ORDERLY_ADMIN_USER"], let secret = environment["ORDERLY_ADMIN_SECRET"] {
            return (user, secret)
        }
        return nil
    }
}
