/// A statement written as SQL with its values interpolated: each `\(value)` becomes the next `$n` and
/// its binding, so parameters are numbered by the builder, never by hand, and a value can never be
/// spliced into the SQL text. `\(unescaped:)` inserts SQL text (a fragment the code owns, never input);
/// `\(fragment)` inserts another statement's SQL with its bindings renumbered after these.
///
///     let statement: PostgresStatement = "SELECT name FROM skus WHERE id = \(id) AND active = \(true)"
///
/// A statement built this way is `cached` (prepared once per connection): its text depends only on the
/// code that wrote it, not on the values; unless it names an `\(identifier:)` (a table a test made, a
/// database), whose text differs from call to call.
extension PostgresStatement: ExpressibleByStringInterpolation {
    public init(stringLiteral value: String) {
        self.init(value, [], cached: true)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringInterpolation.sql, stringInterpolation.bindings, cached: stringInterpolation.cached)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var bindings: [any PostgresEncodable]
        var cached = true
        /// The parameter each `\(same:)` value was bound to, by type and value.
        var shared: [SharedKey: Int] = [:]

        struct SharedKey: Hashable {
            var type: ObjectIdentifier
            var value: AnyHashable
        }

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + 4 * interpolationCount)
            bindings = []
            bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// The next parameter, `$n`, bound to `value` (NULL for nil).
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// The next parameter, bound to `value` or NULL.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// A value used more than once in the statement, bound once: every `\(same: value)` of an equal
        /// value of the same type is the same `$n`, so the planner knows the uses are equal (nine
        /// parameters of one order id made PostgreSQL re-plan a statement that one plans once).
        public mutating func appendInterpolation<Value: PostgresEncodable & Hashable>(same value: Value) {
            share(value)
        }

        /// The same, for a value or NULL (spelt out so the compiler does not take an optional here
        /// for a debug description in a string).
        public mutating func appendInterpolation<Value: PostgresEncodable & Hashable>(same value: Value?) {
            share(value)
        }

        private mutating func share<Value: PostgresEncodable & Hashable>(_ value: Value) {
            let key = SharedKey(type: ObjectIdentifier(Value.self), value: AnyHashable(value))
            if let index = shared[key] {
                sql += "$\(index)"
                return
            }
            bindings.append(value)
            shared[key] = bindings.count
            sql += "$\(bindings.count)"
        }

        /// SQL text the code owns (an identifier it quoted, a clause it chose), inserted as it is.
        public mutating func appendInterpolation(unescaped text: String) { sql += text }

        /// A name (a table, a database, a channel) as a quoted identifier: `"name"`, any `"` doubled.
        /// The statement is not cached: its text changes with the name.
        public mutating func appendInterpolation(identifier name: String) {
            sql += "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
            cached = false
        }

        /// Another statement's SQL, its `$n` renumbered after the parameters so far.
        public mutating func appendInterpolation(_ fragment: PostgresStatement) {
            sql += Self.renumber(fragment.sql, by: bindings.count)
            bindings += fragment.bindings
            cached = cached && fragment.cached
        }

        /// `$n` → `$(n + offset)` outside quoted literals and identifiers. Works on the UTF-8 bytes:
        /// `$`, digits and quotes are ASCII, which no byte of a multi-byte character can be.
        static func renumber(_ sql: String, by offset: Int) -> String {
            guard offset > 0 else { return sql }
            let bytes = Array(sql.utf8)
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            var quote: UInt8?
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if let open = quote {
                    out.append(byte)
                    if byte == open { quote = nil }
                    continue
                }
                if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                    out.append(byte)
                    continue
                }
                guard byte == UInt8(ascii: "$"), index < bytes.count, (48...57).contains(bytes[index]) else {
                    out.append(byte)
                    continue
                }
                var number = 0
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    number = number * 10 + Int(bytes[index] - 48)
                    index += 1
                }
                out.append(UInt8(ascii: "$"))
                out += Array(String(number + offset).utf8)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// One or more statements and how to read their results: the one way a store hands SQL to a service.
/// Run it with `PostgresConnection.run(_:)`, or several in one round trip with `pipeline(_:...)`,
/// which returns each query's own type (no result indexed by position). A query of several statements
/// (an order and its lines) travels in one pipeline as well.
public struct PostgresQuery<Result: Sendable>: Sendable {
    public let statements: [PostgresStatement]
    let read: @Sendable ([PostgresRows]) throws -> Result

    public init(_ statement: PostgresStatement, decode: @escaping @Sendable (PostgresRows) throws -> Result) {
        self.statements = [statement]
        self.read = { results in try decode(results[0]) }
    }

    /// Statements read together: `decode` gets their results in order.
    public init(
        statements: [PostgresStatement],
        decode: @escaping @Sendable ([PostgresRows]) throws -> Result
    ) {
        self.statements = statements
        self.read = decode
    }

    /// Reads the results of `statements`, in order.
    public func decode(_ results: [PostgresRows]) throws -> Result {
        guard results.count == statements.count else {
            throw PostgresError(
                code: .misuse,
                message: "a query of \(statements.count) statements was given \(results.count) results"
            )
        }
        return try read(results)
    }

    /// The same statements read another way.
    public func map<Other>(_ transform: @escaping @Sendable (Result) throws -> Other) -> PostgresQuery<Other> {
        let read = self.read
        return PostgresQuery<Other>(statements: statements) { results in try transform(try read(results)) }
    }

    /// This query's statements, then `other`'s, read together.
    public func and<Other, Combined>(
        _ other: PostgresQuery<Other>,
        _ combine: @escaping @Sendable (Result, Other) throws -> Combined
    ) -> PostgresQuery<Combined> {
        let (first, second, split) = (self.read, other.read, statements.count)
        return PostgresQuery<Combined>(statements: statements + other.statements) { results in
            try combine(try first(Array(results[..<split])), try second(Array(results[split...])))
        }
    }
}

extension PostgresQuery {
    /// Each row decoded by `row`.
    public static func rows<Row>(
        _ statement: PostgresStatement,
        _ row: @escaping @Sendable (PostgresRow) throws -> Row
    ) -> PostgresQuery<[Row]> where Result == [Row] {
        PostgresQuery(statement) { rows in try rows.map(row) }
    }

    /// The first row decoded by `row`, or nil when there is none.
    public static func first<Row>(
        _ statement: PostgresStatement,
        _ row: @escaping @Sendable (PostgresRow) throws -> Row
    ) -> PostgresQuery<Row?> where Result == Row? {
        PostgresQuery(statement) { rows in try rows.first.map(row) }
    }
}

extension PostgresQuery where Result: PostgresDecodable {
    /// The only row's first column (`SELECT count(*)` and friends).
    public static func scalar(_ statement: PostgresStatement) -> PostgresQuery<Result> {
        PostgresQuery(statement) { rows in try rows.scalar(Result.self) }
    }
}

extension PostgresQuery where Result == Int {
    /// Rows affected; nothing else read.
    public static func command(_ statement: PostgresStatement) -> PostgresQuery<Int> {
        PostgresQuery(statement) { rows in rows.affectedRows }
    }
}

extension PostgresRow {
    /// The row's columns, in order, as the given types: `row.decode((Int64, String?).self)`. A column
    /// count other than the tuple's is a decoding error.
    public func decode<each Column: PostgresDecodable>(
        _ types: (repeat each Column).Type
    ) throws -> (
        repeat each Column
    ) {
        var expected = 0
        for _ in repeat (each Column).self { expected += 1 }
        guard rows.columns.count == expected else {
            throw PostgresError(
                code: .decoding,
                message: "the row has \(rows.columns.count) columns, the tuple \(expected)"
            )
        }
        var column = 0
        func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
            defer { column += 1 }
            return try decode(Value.self, at: column)
        }
        return (repeat try next((each Column).self))
    }
}

extension PostgresConnection {
    /// Runs one query (its statements in one round trip) and reads its result.
    @discardableResult
    public func run<Result>(_ query: PostgresQuery<Result>) throws -> Result {
        if query.statements.count == 1 { return try query.decode([self.query(query.statements[0])]) }
        return try query.decode(pipeline(query.statements))
    }

    /// Sends the queries in one round trip (one pipeline) and reads each result as its query says:
    /// `let (order, warehouse) = try tx.pipeline(orders.order(id, lock: true), store.warehouse(w))`.
    public func pipeline<each Result>(_ queries: repeat PostgresQuery<each Result>) throws -> (repeat each Result) {
        try Self.read(repeat each queries, from: pipeline(Self.statements(repeat each queries)))
    }

    /// One query and COMMIT in one round trip (see `commit(after:)`).
    @discardableResult
    public func commit<Result>(after query: PostgresQuery<Result>) throws -> Result {
        try query.decode(commit(after: query.statements))
    }

    /// `pipeline` with COMMIT at its end: the queries and the commit in one round trip (see
    /// `commit(after:)`).
    public func commit<each Result>(after queries: repeat PostgresQuery<each Result>) throws -> (repeat each Result) {
        try Self.read(repeat each queries, from: commit(after: Self.statements(repeat each queries)))
    }

    static func statements<each Result>(_ queries: repeat PostgresQuery<each Result>) -> [PostgresStatement] {
        var statements: [PostgresStatement] = []
        for query in repeat each queries { statements += query.statements }
        return statements
    }

    static func read<each Result>(
        _ queries: repeat PostgresQuery<each Result>,
        from results: [PostgresRows]
    ) throws -> (repeat each Result) {
        var next = 0
        func take<R>(_ query: PostgresQuery<R>) throws -> R {
            let count = query.statements.count
            defer { next += count }
            return try query.decode(Array(results[next..<(next + count)]))
        }
        return (repeat try take(each queries))
    }
}

/// Statements sent together whose number is known only at run time (a message written only when the
/// order has an e-mail): each query added returns a slot, and the results are read by slot, never by
/// position.
///
///     var batch = PostgresBatch()
///     let released = batch.add(store.release(orderID: id))
///     if let email { batch.add(store.enqueueMessage(...)) }
///     let results = try tx.commit(after: batch)
///     let units = try results[released]
public struct PostgresBatch: Sendable {
    public private(set) var statements: [PostgresStatement] = []

    public init() {}

    /// Where a query's results are in the batch's.
    public struct Slot<Result: Sendable>: Sendable {
        let start: Int
        let query: PostgresQuery<Result>
    }

    @discardableResult
    public mutating func add<Result>(_ query: PostgresQuery<Result>) -> Slot<Result> {
        let slot = Slot(start: statements.count, query: query)
        statements += query.statements
        return slot
    }

    /// A statement whose result is not read.
    public mutating func add(_ statement: PostgresStatement) { statements.append(statement) }

    public mutating func add(_ more: [PostgresStatement]) { statements += more }
}

/// A batch's results, read by the slots its queries were added at.
public struct PostgresBatchResults: Sendable {
    let results: [PostgresRows]

    public init(_ results: [PostgresRows]) { self.results = results }

    public subscript<Result>(_ slot: PostgresBatch.Slot<Result>) -> Result {
        get throws {
            let end = slot.start + slot.query.statements.count
            guard end <= results.count else {
                throw PostgresError(code: .misuse, message: "a slot past the batch's \(results.count) results")
            }
            return try slot.query.decode(Array(results[slot.start..<end]))
        }
    }
}

extension PostgresConnection {
    /// The batch in one round trip.
    public func pipeline(_ batch: PostgresBatch) throws -> PostgresBatchResults {
        PostgresBatchResults(try pipeline(batch.statements))
    }

    /// The batch and COMMIT in one round trip (see `commit(after:)`).
    public func commit(after batch: PostgresBatch) throws -> PostgresBatchResults {
        PostgresBatchResults(try commit(after: batch.statements))
    }
}
