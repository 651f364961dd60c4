import Logging
import NIOCore
import NIOEmbedded
import Orderly
import OrderlyAdminProtocol
import Testing

@testable import LibPQ
@testable import OrderlyAdminServer

/// One admin connection's pipeline on an EmbeddedChannel: time moves only when the test moves it, so
/// the idle, auth and line deadlines are checked by events, whatever the machine's speed.
final class EmbeddedConnection {
    let channel = EmbeddedChannel()
    var loop: EmbeddedEventLoop { channel.embeddedEventLoop }

    /// A server bound to a non-loopback address, so auth is required and nothing asks the database
    /// before a command does (there is no database behind this one).
    init(_ configure: (inout AdminServerConfiguration) -> Void = { _ in }) throws {
        var configuration = AdminServerConfiguration(host: "192.0.2.1", port: 0)
        configure(&configuration)
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: "host=/nonexistent-orderly-test"))
        var logger = Logger(label: "test.embedded")
        logger.logLevel = .critical
        let shared = AdminServerShared(
            configuration: configuration,
            executor: AdminExecutor(database: OrderlyDatabase(pool: pool), logger: logger),
            logger: logger
        )
        try channel.pipeline.syncOperations.addHandlers(AdminServer.connectionHandlers(shared))
        try channel.connect(to: SocketAddress(ipAddress: "198.51.100.7", port: 40000)).wait()
    }

    func send(_ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    /// Every reply line written so far.
    func replies() throws -> [String] {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text.split(separator: "\n").map(String.init)
    }

    func advance(_ amount: TimeAmount) { loop.advanceTime(by: amount) }

    var isOpen: Bool { channel.isActive }
}

@Suite
struct ConnectionClockTests {
    @Test func theGreetingSaysAuthIsRequired() throws {
        let c = try EmbeddedConnection()
        #expect(try c.replies() == ["OK orderly protocol=1 auth=required"])
    }

    @Test func anIdleConnectionClosesAtTheIdleTimeoutAndActivityPostponesIt() throws {
        let c = try EmbeddedConnection {
            $0.idleTimeout = .seconds(300)
            $0.authTimeout = .hours(1)
        }
        _ = try c.replies()
        c.advance(.seconds(299))
        #expect(c.isOpen)
        try c.send("PING\n")
        #expect(try c.replies() == ["OK pong=true"])
        c.advance(.seconds(299))
        #expect(c.isOpen, "the PING 299 s ago counts as activity")
        c.advance(.seconds(2))
        #expect(!c.isOpen)
    }

    @Test func noAuthWithinTheAuthTimeoutCloses() throws {
        let c = try EmbeddedConnection { $0.authTimeout = .seconds(10) }
        _ = try c.replies()
        try c.send("PING\n")
        c.advance(.milliseconds(9_999))
        #expect(c.isOpen)
        c.advance(.milliseconds(1))
        #expect(try c.replies() == ["OK pong=true", "ERR NOAUTH no AUTH within the time allowed"])
        #expect(!c.isOpen)
    }

    @Test func aLineArrivingSlowerThanTheLineDeadlineCloses() throws {
        // Slowloris: a byte every 50 s never trips the 300 s idle timeout, but the line takes too long.
        let c = try EmbeddedConnection {
            $0.lineTimeout = .seconds(60)
            $0.authTimeout = .hours(1)
        }
        _ = try c.replies()
        try c.send("PI")
        c.advance(.seconds(50))
        try c.send("N")
        c.advance(.seconds(9))
        #expect(c.isOpen)
        try c.send("G\n")
        #expect(try c.replies() == ["OK pong=true"], "a line that arrived within the deadline is served")
        // The next line starts its own deadline.
        try c.send("PI")
        c.advance(.seconds(59))
        #expect(c.isOpen)
        try c.send("N")
        c.advance(.seconds(1))
        let replies = try c.replies()
        #expect(replies.count == 1 && replies[0].hasPrefix("ERR TIMEOUT"), "\(replies)")
        #expect(!c.isOpen)
    }

    @Test func completeLinesNeverTripTheLineDeadline() throws {
        let c = try EmbeddedConnection {
            $0.lineTimeout = .seconds(60)
            $0.authTimeout = .hours(1)
        }
        _ = try c.replies()
        for _ in 0..<10 {
            try c.send("PING\n")
            c.advance(.seconds(59))
        }
        #expect(c.isOpen)
        #expect(try c.replies().count == 10)
    }

    @Test func oneConnectionAnswersAtMostItsShareOfCommandsPerTurn() throws {
        let c = try EmbeddedConnection {
            $0.commandsPerTurn = 64
            $0.authTimeout = .hours(1)
        }
        _ = try c.replies()
        try c.send(String(repeating: "PING\n", count: 1000))
        // One read's worth of PINGs: 64 answered, then the event loop is the others' turn.
        #expect(try c.replies().count == 64)
        c.loop.run()
        #expect(try c.replies().count == 1000 - 64)
    }

    @Test func aStrayCarriageReturnBeforeTheLineEndIsASyntaxError() throws {
        let c = try EmbeddedConnection { $0.authTimeout = .hours(1) }
        _ = try c.replies()
        try c.send("PING\r\r\nPING\r\n")
        let replies = try c.replies()
        #expect(replies.count == 2)
        #expect(replies.first?.hasPrefix("ERR SYNTAX a carriage return inside the line") == true, "\(replies)")
        #expect(replies.last == "OK pong=true")
    }

    @Test func tooManyArgumentsBeforeAuthAreTooManyWhateverTheCommand() throws {
        let c = try EmbeddedConnection { $0.authTimeout = .hours(1) }
        _ = try c.replies()
        try c.send("HELP a b c d e f g h i\n")
        try c.send("PING a b c d e f g h i\n")
        try c.send("HELP a b\n")
        let replies = try c.replies()
        #expect(replies.count == 3)
        #expect(replies[0].hasPrefix("ERR TOO_MANY_ARGS"), "\(replies)")
        #expect(replies[1].hasPrefix("ERR TOO_MANY_ARGS"), "\(replies)")
        #expect(replies[2].hasPrefix("ERR UNKNOWN_COMMAND"), "\(replies)")
    }
}

@Suite
struct AuthThrottleTests {
    final class Clock: @unchecked Sendable {
        // Only touched by the test's own thread.
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    }

    @Test func failuresPastTheFreeOnesMustWaitADoublingDelay() {
        let clock = Clock()
        let throttle = AuthThrottle(freeFailures: 2, maximumDelay: .seconds(8), now: { clock.now })
        let keys = AuthThrottle.keys(user: "adm", peer: "10.0.0.1")
        throttle.failed(keys)
        throttle.failed(keys)
        #expect(throttle.delay(for: keys) == nil, "two failures are free")
        throttle.failed(keys)
        #expect(throttle.delay(for: keys) == .seconds(1))
        clock.now = clock.now + .seconds(1)
        #expect(throttle.delay(for: keys) == nil)
        throttle.failed(keys)
        #expect(throttle.delay(for: keys) == .seconds(2))
        for _ in 0..<10 { throttle.failed(keys) }
        #expect(throttle.delay(for: keys) == .seconds(8), "capped")
        // Another user from the same address waits too; the same user from elsewhere too.
        #expect(throttle.delay(for: AuthThrottle.keys(user: "ro", peer: "10.0.0.1")) == .seconds(8))
        #expect(throttle.delay(for: AuthThrottle.keys(user: "adm", peer: "10.0.0.2")) == .seconds(8))
        #expect(throttle.delay(for: AuthThrottle.keys(user: "ro", peer: "10.0.0.2")) == nil)
        throttle.succeeded(keys)
        #expect(throttle.delay(for: keys) == nil)
    }

    @Test func countsFadeAndTheTableStaysBounded() {
        let clock = Clock()
        let throttle = AuthThrottle(
            freeFailures: 1,
            maximumDelay: .seconds(60),
            forgetAfter: .minutes(15),
            capacity: 100,
            now: { clock.now }
        )
        let keys = AuthThrottle.keys(user: "adm", peer: "10.0.0.1")
        throttle.failed(keys)
        throttle.failed(keys)
        #expect(throttle.delay(for: keys) != nil)
        clock.now = clock.now + .minutes(16)
        #expect(throttle.delay(for: keys) == nil)
        throttle.failed(keys)
        #expect(throttle.delay(for: keys) == nil, "counting started again")
        for index in 0..<1000 { throttle.failed(AuthThrottle.keys(user: "guess\(index)", peer: "10.0.0.9")) }
        #expect(throttle.count <= 100)
    }
}
