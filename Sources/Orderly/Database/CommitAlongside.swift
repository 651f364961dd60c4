package import LibPQ

/// Statements a caller commits together with a service call, built from the value the call is about
/// to return: they run on the call's connection, in its transaction, after its own writes, and go to
/// the server with its COMMIT (no extra round trip).
///
/// The admin server stores an `idem=` key's reply this way: a command that committed always has its
/// reply stored, and one that rolled back (a refusal, a crash, a lost connection before COMMIT) leaves
/// its key free. If one of these statements fails, the whole call rolls back.
public struct CommitAlongside<Value>: Sendable {
    let statements: @Sendable (Value) throws -> [PostgresStatement]

    package init(_ statements: @escaping @Sendable (Value) throws -> [PostgresStatement]) {
        self.statements = statements
    }
}

extension PostgresConnection {
    /// Ends a service call's transaction on `value`: `last` (the call's final writes), the caller's
    /// statements for `value` and COMMIT, in one round trip. Returns `last`'s results.
    ///
    /// Where `value` depends on what `last` returns, use `finish(_:alongside:)` after a pipeline.
    @discardableResult
    func commit<V>(
        after last: [PostgresStatement],
        returning value: V,
        alongside: CommitAlongside<V>?
    ) throws -> [PostgresRows] {
        let extra = try alongside?.statements(value) ?? []
        return Array(try commit(after: last + extra).prefix(last.count))
    }

    /// `commit(after:returning:alongside:)` for a batch: its results, read by slot.
    @discardableResult
    func commit<V>(
        after last: PostgresBatch,
        returning value: V,
        alongside: CommitAlongside<V>?
    ) throws -> PostgresBatchResults {
        var batch = last
        batch.add(try alongside?.statements(value) ?? [])
        return try commit(after: batch)
    }

    /// Ends a service call's transaction on `value` with the caller's statements and COMMIT in one
    /// round trip; without any, leaves the COMMIT to the enclosing `transaction`.
    func finish<V>(_ value: V, alongside: CommitAlongside<V>?) throws -> V {
        if let alongside { try commit(after: try alongside.statements(value)) }
        return value
    }
}

extension OrderlyDatabase {
    /// One piece of store work in its own transaction, the caller's statements committed alongside.
    func write<V: Sendable>(
        alongside: CommitAlongside<V>?,
        _ body: @escaping @Sendable (PostgresConnection) throws -> V
    ) async throws -> V {
        try await pool.transaction { tx in try tx.finish(try body(tx), alongside: alongside) }
    }
}
