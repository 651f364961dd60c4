import CLibPQ
import Foundation
public import Logging
import Synchronization

/// LISTEN/NOTIFY as an `AsyncSequence`, on a connection and a thread of its own.
///
/// The listener keeps its connection alive: when the connection breaks it reconnects with backoff,
/// LISTENs again on every channel and delivers `.reconnected`, because notifications sent while it
/// was away are lost. A consumer should treat that event as "look for work now".
public final class PostgresListener: Sendable {
    public enum Event: Sendable, Hashable {
        case notification(PostgresNotification)
        /// The connection was re-established; notifications may have been missed meanwhile.
        case reconnected
    }

    private enum Command: Sendable {
        case listen(String, CheckedContinuation<Void, any Error>)
        case unlisten(String, CheckedContinuation<Void, any Error>)
    }

    private struct State {
        var channels: [String] = []
        var commands: [Command] = []
        var stopped = false
    }

    /// Notifications in the order the server sent them.
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let configuration: PostgresConfiguration
    private let logger: Logger

    /// Connects, LISTENs on `channels`, and starts delivering. Throws if the first connection fails.
    public static func start(
        configuration: PostgresConfiguration,
        channels: [String] = [],
        logger: Logger = Logger(label: "orderly.listener")
    ) async throws -> PostgresListener {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw PostgresError(code: .misuse, message: "cannot create a wake-up pipe: errno \(errno)")
        }
        // Close-on-exec, so a child process spawned later does not keep the pipe open.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let listener = PostgresListener(
            configuration: configuration,
            logger: logger,
            wakeRead: fds[0],
            wakeWrite: fds[1]
        )
        listener.state.withLock { $0.channels = channels }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    let connection = try PostgresConnection(configuration: configuration, logger: logger)
                    for channel in channels {
                        try connection.execute("LISTEN \(identifier: channel)")
                    }
                    continuation.resume()
                    listener.run(connection)
                } catch {
                    continuation.resume(throwing: error)
                    listener.finish()
                }
            }
            thread.name = "orderly-listener"
            thread.start()
        }
        return listener
    }

    private init(configuration: PostgresConfiguration, logger: Logger, wakeRead: Int32, wakeWrite: Int32) {
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(100_000))
        self.configuration = configuration
        self.logger = logger
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        continuation.onTermination = { [weak self] _ in self?.stop() }
    }

    /// Starts listening on `channel`; returns once the server has confirmed.
    public func listen(_ channel: String) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.listen(channel, continuation))
        }
    }

    /// Stops listening on `channel`; returns once the server has confirmed.
    public func unlisten(_ channel: String) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.unlisten(channel, continuation))
        }
    }

    /// Closes the connection and finishes `events`.
    public func stop() {
        state.withLock { $0.stopped = true }
        wake()
    }

    private func enqueue(_ command: Command) {
        let accepted = state.withLock { state in
            guard !state.stopped else { return false }
            state.commands.append(command)
            return true
        }
        if accepted {
            wake()
        } else {
            switch command {
            case .listen(_, let continuation), .unlisten(_, let continuation):
                continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the listener is stopped"))
            }
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    // MARK: The listener thread

    private func run(_ initial: PostgresConnection) {
        var connection: PostgresConnection? = initial
        var backoff = 0.05
        while !state.withLock({ $0.stopped }) {
            guard let current = connection else {
                if waitForWake(timeout: backoff) { continue }
                backoff = min(backoff * 2, 5)
                connection = reconnect()
                if connection != nil {
                    backoff = 0.05
                    continuation.yield(.reconnected)
                }
                continue
            }
            do {
                try runCommands(on: current)
                var descriptors = [
                    pollfd(fd: current.socket, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&descriptors, 2, 1000)
                if ready < 0 && errno != EINTR {
                    throw PostgresError(code: .connectionLost, message: "poll failed: errno \(errno)")
                }
                if descriptors[1].revents != 0 { drainWakePipe() }
                if descriptors[0].revents != 0 || ready == 0 {
                    for notification in try current.drainNotifications() {
                        continuation.yield(.notification(notification))
                    }
                }
            } catch {
                logger.warning("listener connection lost; reconnecting", metadata: ["error": "\(error)"])
                current.close()
                connection = nil
            }
        }
        connection?.close()
        failPendingCommands()
        finish()
    }

    private func runCommands(on connection: PostgresConnection) throws {
        let commands = state.withLock { state in
            defer { state.commands = [] }
            return state.commands
        }
        for (index, command) in commands.enumerated() {
            do {
                switch command {
                case .listen(let channel, let reply):
                    try connection.execute("LISTEN \(identifier: channel)")
                    state.withLock { if !$0.channels.contains(channel) { $0.channels.append(channel) } }
                    reply.resume()
                case .unlisten(let channel, let reply):
                    try connection.execute("UNLISTEN \(identifier: channel)")
                    state.withLock { $0.channels.removeAll { $0 == channel } }
                    reply.resume()
                }
            } catch let error as PostgresError where error.code == .connectionLost {
                // Put this and the rest back: they run again on the next connection.
                state.withLock { $0.commands.insert(contentsOf: commands[index...], at: 0) }
                throw error
            } catch {
                switch command {
                case .listen(_, let reply), .unlisten(_, let reply): reply.resume(throwing: error)
                }
            }
        }
    }

    private func reconnect() -> PostgresConnection? {
        do {
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            for channel in state.withLock({ $0.channels }) {
                try connection.execute("LISTEN \(identifier: channel)")
            }
            logger.info("listener reconnected")
            return connection
        } catch {
            logger.debug("listener reconnect failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Sleeps up to `timeout` seconds; true if woken early (a command or stop arrived).
    private func waitForWake(timeout: Double) -> Bool {
        var descriptor = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(timeout * 1000))
        if ready > 0 {
            drainWakePipe()
            return state.withLock { $0.stopped }
        }
        return false
    }

    private func failPendingCommands() {
        let commands = state.withLock { state in
            defer { state.commands = [] }
            return state.commands
        }
        for command in commands {
            switch command {
            case .listen(_, let reply), .unlisten(_, let reply):
                reply.resume(throwing: PostgresError(code: .poolClosed, message: "the listener is stopped"))
            }
        }
    }

    private func finish() {
        continuation.finish()
    }

    deinit {
        // Closed here, not in finish(): a late stop() must never write into a descriptor number that
        // has meanwhile been reused for some other file.
        close(wakeRead)
        close(wakeWrite)
    }
}
