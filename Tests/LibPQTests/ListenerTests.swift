import LibPQ
import OrderlyTestSupport
import Synchronization
import Testing

/// Drains a listener's events in the background so a test can wait for the next one with a timeout.
final class EventCollector: Sendable {
    private let buffer = Mutex<[PostgresListener.Event]>([])

    /// Collects until the stream finishes (the listener stops).
    init(_ events: AsyncStream<PostgresListener.Event>) {
        Task { [self] in
            for await event in events { buffer.withLock { $0.append(event) } }
        }
    }

    /// The next event, or nil if none arrives within `timeout` (a hang guard: every caller expects an
    /// event, so a slow machine only makes it wait longer).
    func next(timeout: Duration = .seconds(600)) async -> PostgresListener.Event? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let event = buffer.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return event }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

@Suite(.database)
struct ListenerTests {
    @Test func deliversNotificationsInOrderAndFollowsListenAndUnlisten() async throws {
        let database = try TestDatabase.require()
        let listener = try await PostgresListener.start(configuration: database.configuration, channels: ["jobs"])
        defer { listener.stop() }
        let sender = try database.connect()
        defer { sender.close() }
        let events = EventCollector(listener.events)
        for index in 0..<3 {
            try sender.execute("SELECT pg_notify($1, $2)", ["jobs", "payload \(index)"])
        }
        for index in 0..<3 {
            guard case .notification(let note) = await events.next() else {
                Issue.record("no notification \(index)")
                return
            }
            #expect(note.channel == "jobs")
            #expect(note.payload == "payload \(index)")
            #expect(note.backendPID == sender.backendPID)
        }
        // A channel name that needs quoting.
        let odd = "Orders \"EU\"; DROP"
        try await listener.listen(odd)
        try sender.execute("SELECT pg_notify($1, 'x')", [odd])
        guard case .notification(let quoted) = await events.next() else {
            Issue.record("no notification on a quoted channel")
            return
        }
        #expect(quoted.channel == odd)
        try await listener.unlisten("jobs")
        try sender.execute("SELECT pg_notify('jobs', 'ignored')")
        try sender.execute("SELECT pg_notify($1, 'after')", [odd])
        guard case .notification(let after) = await events.next() else {
            Issue.record("no notification after unlisten")
            return
        }
        #expect(after.payload == "after")
    }

    @Test func reconnectsAndListensAgainAfterItsBackendIsKilled() async throws {
        let database = try TestDatabase.require()
        var configuration = database.configuration
        configuration.applicationName = "listener-under-test"
        let listener = try await PostgresListener.start(configuration: configuration, channels: ["wake"])
        defer { listener.stop() }
        let admin = try database.connect()
        defer { admin.close() }
        try admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            ["listener-under-test"]
        )
        let events = EventCollector(listener.events)
        #expect(await events.next() == .reconnected)
        try admin.execute("SELECT pg_notify('wake', 'again')")
        guard case .notification(let note) = await events.next() else {
            Issue.record("no notification after reconnecting")
            return
        }
        #expect(note.payload == "again")
    }

    @Test func stopFinishesTheStream() async throws {
        let listener = try await PostgresListener.start(configuration: try TestDatabase.require().configuration)
        var events = listener.events.makeAsyncIterator()
        listener.stop()
        #expect(await events.next() == nil)
        await #expect(throws: PostgresError.self) { try await listener.listen("late") }
    }
}
