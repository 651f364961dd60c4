import CLibPQ
import Foundation
public import Logging
import Synchronization

/// Transaction isolation levels, as `BEGIN ISOLATION LEVEL ...` takes them.
public enum IsolationLevel: String, Sendable, CaseIterable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// One libpq connection, used synchronously.
///
/// Every call blocks the calling thread until the server answers, so this type is meant to be driven
/// from a thread of its own: `PostgresPool` gives each connection a dedicated thread and runs your
/// closure there, never on Swift's cooperative pool or an event loop.
///
/// `@unchecked Sendable`: a `PGconn` may be used by one thread at a time. The pool hands a connection
/// to one borrower at a time and runs all of its work on the connection's own thread; the only call
/// made from other threads is `cancelRunningStatement()`, which uses a `PGcancel` object that libpq
/// documents as safe to use from any thread.
public final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let cancelHandle: OpaquePointer?
    private let noticeBox: Unmanaged<NoticeBox>
    private let closed = Mutex(false)
    /// Set by `cancelRunningStatement()`; checked before each statement is sent, so a cancel that lands
    /// between statements (when the server has nothing to cancel) is not lost.
    private let cancelRequested = Atomic<Bool>(false)
    private var transactionDepth = 0
    /// A transaction's BEGIN, not yet sent: it travels with the transaction's first statement, saving
    /// a round trip.
    private var pendingBegin: String?
    /// Set once `commit(after:)` has committed the open transaction early.
    private var committedEarly = false
    /// Round trips to the server so far: each statement, pipeline or script counts one, however many
    /// statements it carries. Benchmarks and tests count them; the connection's thread owns it.
    public private(set) var roundTrips = 0
    /// Server-side prepared statements of `cached` statements: key (parameter types and SQL) → name.
    private var preparedStatements: [String: String] = [:]
    private var pendingPrepares = 0
    /// Statements cached per connection; beyond it, statements are parsed and planned each time.
    static let statementCacheCapacity = 256
    private var savepointCounter = 0
    public let logger: Logger
    /// The server process serving this connection (`pg_backend_pid()`).
    public let backendPID: Int32
    /// The server's version as an integer, e.g. 150018.
    public let serverVersion: Int32

    /// Opens a connection. Blocks until connected or failed.
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "orderly.libpq")) throws {
        let parameters = configuration.connectParameters
        var keywords = parameters.map { strdup($0.0) } + [nil]
        var values = parameters.map { strdup($0.1) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        // Both arrays end with a nil terminator, so they are never empty and their base addresses exist.
        let connection: OpaquePointer? = keywords.withUnsafeMutableBufferPointer { keywordBuffer in
            values.withUnsafeMutableBufferPointer { valueBuffer in
                keywordBuffer.baseAddress!.withMemoryRebound(
                    to: UnsafePointer<CChar>?.self,
                    capacity: keywordBuffer.count
                ) {
                    keywordPointer in
                    valueBuffer.baseAddress!.withMemoryRebound(
                        to: UnsafePointer<CChar>?.self,
                        capacity: valueBuffer.count
                    ) {
                        valuePointer in
                        PQconnectdbParams(keywordPointer, valuePointer, 1)
                    }
                }
            }
        }
        guard let connection else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(
                code: .connectionFailed,
                message: "cannot connect to \(configuration.redacted): \(message)"
            )
        }
        self.handle = connection
        self.logger = logger
        self.backendPID = PQbackendPID(connection)
        self.serverVersion = PQserverVersion(connection)
        self.cancelHandle = PQgetCancel(connection)
        // libpq prints NOTICEs on stderr unless told otherwise; route them to the logger instead. The
        // receiver also sees a FATAL the server sends an idle session before closing it (libpq hands that
        // to the notice path), which is how `isUsable` tells a terminated backend before its socket closes.
        self.noticeBox = Unmanaged.passRetained(NoticeBox(logger: logger))
        PQsetNoticeReceiver(
            connection,
            { context, result in
                guard let context, let result else { return }
                let box = Unmanaged<NoticeBox>.fromOpaque(context).takeUnretainedValue()
                let severity = PQresultErrorField(result, Diagnostic.severity).map { String(cString: $0) }
                if severity == "FATAL" || severity == "PANIC" {
                    box.sessionEnding.store(true, ordering: .sequentiallyConsistent)
                }
                box.logger.debug(
                    "postgres notice",
                    metadata: ["notice": "\(PostgresConnection.trimmed(PQresultErrorMessage(result)))"]
                )
            },
            noticeBox.toOpaque()
        )
        for (name, value) in configuration.settings.sorted(by: { $0.key < $1.key }) {
            do {
                try execute("SELECT set_config($1, $2, false)", [name, value])
            } catch {
                close()
                throw error
            }
        }
    }

    deinit {
        close()
        noticeBox.release()
    }

    /// Closes the connection; later calls fail with `.connectionLost`. Safe to call twice.
    public func close() {
        let wasClosed = closed.withLock { value in
            defer { value = true }
            return value
        }
        guard !wasClosed else { return }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(handle)
    }

    public var isClosed: Bool { closed.withLock { $0 } }

    /// True when the connection is idle, outside a transaction, and the server has not closed it.
    ///
    /// A backend ended by `pg_terminate_backend` or a server restart sends its goodbye and closes the
    /// socket while the connection sits idle; a non-blocking look at the socket sees that before the next
    /// statement would fail on it.
    public var isUsable: Bool {
        guard !isClosed, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE else {
            return false
        }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        if ready < 0 { return false }
        if ready > 0 {
            // Something arrived while idle: a notification, a parameter change, or the server's goodbye.
            if PQconsumeInput(handle) == 0 { return false }
            _ = PQisBusy(handle)  // parses what arrived, so a FATAL reaches the notice receiver
            if descriptor.revents & Int16(POLLHUP | POLLERR) != 0 { return false }
        }
        if noticeBox.takeUnretainedValue().sessionEnding.load(ordering: .sequentiallyConsistent) { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether a transaction is open on this connection (including one that failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Asks the server to cancel the statement running on this connection. Callable from any thread.
    public func cancelRunningStatement() {
        cancelRequested.store(true, ordering: .sequentiallyConsistent)
        guard let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }

    // MARK: Statements

    /// Runs one parameterized statement and returns its rows.
    ///
    /// Values are only ever sent as parameters (`$1`, `$2`, ...), never pasted into the SQL text.
    ///
    /// For SQL text held in a `String`: the bindings are required, so a literal (`query("… \(value)")`)
    /// never lands here, where Swift's own interpolation would paste the value into the SQL; it is a
    /// `PostgresStatement`, with the value bound.
    @discardableResult
    public func query(_ sql: String, _ bindings: [any PostgresEncodable]) throws -> PostgresRows {
        if pendingBegin != nil || committedEarly {
            return try pipeline([PostgresStatement(sql, bindings)])[0]
        }
        try checkOpen()
        let binds = try bindings.map { try $0.postgresBind() }
        guard binds.allSatisfy({ $0.byteCount < Int(Int32.max) }) else {
            throw PostgresError(code: .encoding, message: "a parameter is larger than libpq accepts (2 GiB)")
        }
        guard !sql.utf8.contains(0) else {
            throw PostgresError(code: .encoding, message: "the SQL text contains a NUL byte")
        }
        roundTrips += 1
        let result = Self.withBinds(binds) { count, types, values, lengths, formats in
            PQexecParams(handle, sql, count, types, values, lengths, formats, 0)
        }
        return try consume(result)
    }

    /// Runs one parameterized statement and returns how many rows it touched.
    ///
    /// For SQL text held in a `String`, bindings required (see `query(_:_:)`).
    @discardableResult
    public func execute(_ sql: String, _ bindings: [any PostgresEncodable]) throws -> Int {
        try query(sql, bindings).affectedRows
    }

    /// Runs one statement (a cached one is parsed once per connection) and returns its rows.
    @discardableResult
    public func query(_ statement: PostgresStatement) throws -> PostgresRows {
        try pipeline([statement])[0]
    }

    /// Runs one statement and returns how many rows it touched.
    @discardableResult
    public func execute(_ statement: PostgresStatement) throws -> Int {
        try pipeline([statement])[0].affectedRows
    }

    /// Runs a script of several statements through the simple query protocol.
    ///
    /// For fixed SQL only (migrations, DDL): the simple protocol takes no parameters.
    public func executeScript(_ sql: String) throws {
        try sendPendingBegin()
        try checkOpen()
        guard !sql.utf8.contains(0) else {
            throw PostgresError(code: .encoding, message: "the SQL text contains a NUL byte")
        }
        roundTrips += 1
        guard PQsendQuery(handle, sql) == 1 else { throw connectionError() }
        var firstError: PostgresError?
        while let result = PQgetResult(handle) {
            do {
                _ = try consume(result)
            } catch let error as PostgresError {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        if PQstatus(handle) != CONNECTION_OK { throw connectionError() }
    }

    /// Sends every statement before reading any result: one round trip for the lot (libpq's pipeline
    /// mode). Returns one result per statement, in order.
    ///
    /// Outside a transaction the statements run as one implicit transaction: all of them or none. The
    /// first failure is thrown; the statements after it did not run. Meant for a handful of statements
    /// (the client writes them all before reading, so a pipeline of megabytes could stall).
    @discardableResult
    public func pipeline(_ statements: [PostgresStatement]) throws -> [PostgresRows] {
        var statements = statements
        if committedEarly {
            throw PostgresError(code: .misuse, message: "the transaction was committed by commit(after:)")
        }
        let addedBegin = pendingBegin != nil
        if let begin = pendingBegin {
            statements.insert(PostgresStatement(begin), at: 0)
        }
        try checkOpen()
        guard !statements.isEmpty else { return [] }
        let encoded = try statements.map { statement in
            let binds = try statement.bindings.map { try $0.postgresBind() }
            guard binds.allSatisfy({ $0.byteCount < Int(Int32.max) }) else {
                throw PostgresError(code: .encoding, message: "a parameter is larger than libpq accepts (2 GiB)")
            }
            // Same text, same parameter types: same server-side statement, parsed and planned once.
            let key =
                statement.cached
                ? binds.map { String($0.type.rawValue) }.joined(separator: ",") + ":" + statement.sql : nil
            // A statement already prepared was checked when it was.
            guard key.map({ preparedStatements[$0] != nil }) == true || !statement.sql.utf8.contains(0) else {
                throw PostgresError(code: .encoding, message: "the SQL text contains a NUL byte")
            }
            return (statement, binds, key)
        }
        // From here the BEGIN goes out with the rest (or the connection is broken).
        pendingBegin = nil
        roundTrips += 1
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
        defer { _ = PQexitPipelineMode(handle) }
        // What each result read below answers: a Parse of a statement to cache, or a statement.
        enum Expected {
            case prepare(key: String, name: String)
            case statement
        }
        var expected: [Expected] = []
        for (statement, binds, key) in encoded {
            let sent = Self.withBinds(binds) { count, types, values, lengths, formats -> Int32 in
                guard let key else {
                    expected.append(.statement)
                    return PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
                }
                var name = preparedStatements[key]
                if name == nil {
                    guard preparedStatements.count + pendingPrepares < Self.statementCacheCapacity else {
                        expected.append(.statement)
                        return PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
                    }
                    let fresh = "orderly_\(preparedStatements.count + pendingPrepares)"
                    guard PQsendPrepare(handle, fresh, statement.sql, count, types) == 1 else { return 0 }
                    expected.append(.prepare(key: key, name: fresh))
                    pendingPrepares += 1
                    name = fresh
                }
                expected.append(.statement)
                return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
            }
            guard sent == 1 else {
                pendingPrepares = 0
                let error = connectionError()
                drainAfterFailedSend()
                throw error
            }
        }
        pendingPrepares = 0
        guard PQpipelineSync(handle) == 1 else {
            let error = connectionError()
            drainAfterFailedSend()
            throw error
        }
        var results: [PostgresRows] = []
        var firstError: PostgresError?
        for step in expected {
            guard let result = PQgetResult(handle) else {
                firstError = firstError ?? connectionError()
                break
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
            } else {
                do {
                    let rows = try consume(result)
                    switch step {
                    case .prepare(let key, let name): preparedStatements[key] = name
                    case .statement: results.append(rows)
                    }
                } catch let error as PostgresError {
                    firstError = firstError ?? error
                }
            }
            // Each statement's results end with a NULL.
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        // Up to and including the sync point.
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if PQstatus(handle) != CONNECTION_OK { throw firstError ?? connectionError() }
        if let firstError { throw firstError }
        // The result of the BEGIN we added is not the caller's.
        return addedBegin ? Array(results.dropFirst()) : results
    }

    /// After a send failed half-way through a pipeline: read whatever came back so the connection
    /// leaves pipeline mode clean, or is seen as broken.
    private func drainAfterFailedSend() {
        _ = PQpipelineSync(handle)
        while PQstatus(handle) == CONNECTION_OK, let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
    }

    /// Sends a deferred BEGIN now, for calls that cannot carry it along.
    private func sendPendingBegin() throws {
        if pendingBegin != nil { try pipeline([]) }
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: COMMIT if it returns, ROLLBACK if it throws.
    ///
    /// A statement that failed inside `body` leaves the transaction aborted even if `body` caught the
    /// error; such a transaction is rolled back and `.transactionAborted` is thrown instead of the
    /// silent ROLLBACK a plain COMMIT would perform.
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        guard transactionDepth == 0, !isInTransaction else {
            throw PostgresError(code: .misuse, message: "a transaction is already open; use savepoint(_:) to nest")
        }
        pendingBegin = "BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")"
        transactionDepth = 1
        defer {
            transactionDepth = 0
            pendingBegin = nil
            committedEarly = false
        }
        let value = try runUndoable(body, undo: "ROLLBACK", scope: "transaction")
        // Nothing sent means nothing to commit; an early commit already ended it.
        if pendingBegin == nil && !committedEarly {
            do {
                try execute("COMMIT", [])
            } catch {
                throw committing(error)
            }
        }
        return value
    }

    /// What a failure while COMMIT was in flight means: with the connection still up, the server
    /// answered (a definite error: nothing committed); with it gone, nobody can say whether the
    /// commit record was written before it went.
    private func committing(_ error: any Error) -> any Error {
        guard PQstatus(handle) != CONNECTION_OK else { return error }
        return PostgresError(
            code: .commitOutcomeUnknown,
            message: "the connection broke while COMMIT was in flight; the transaction may or may not have "
                + "committed (\((error as? PostgresError)?.message ?? "\(error)"))",
            sqlState: (error as? PostgresError)?.sqlState
        )
    }

    /// Inside `transaction`: sends `statements` and COMMIT together, one round trip for the
    /// transaction's last writes and its end. The transaction is over when this returns; a statement
    /// that fails rolls it all back and throws.
    @discardableResult
    public func commit(after statements: [PostgresStatement]) throws -> [PostgresRows] {
        guard transactionDepth > 0, !committedEarly else {
            throw PostgresError(code: .misuse, message: "commit(after:) needs an open transaction(_:)")
        }
        let results: [PostgresRows]
        do {
            results = try pipeline(statements + [PostgresStatement("COMMIT")])
        } catch {
            // A statement refused: the transaction is left aborted and `transaction` rolls it back.
            throw committing(error)
        }
        committedEarly = true
        return Array(results.dropLast())
    }

    /// Runs `body` inside a savepoint of the open transaction: released if it returns, rolled back to
    /// if it throws (the outer transaction goes on).
    public func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try sendPendingBegin()
        guard isInTransaction else {
            throw PostgresError(code: .misuse, message: "savepoint(_:) needs an open transaction")
        }
        savepointCounter += 1
        let name = "orderly_sp_\(savepointCounter)"
        try execute("SAVEPOINT " + name, [])
        let value = try runUndoable(body, undo: "ROLLBACK TO SAVEPOINT \(name)", scope: "savepoint")
        try execute("RELEASE SAVEPOINT " + name, [])
        return value
    }

    /// Runs `body`; if it throws, or leaves the transaction aborted by a failed statement it caught,
    /// runs `undo` and throws.
    private func runUndoable<T>(_ body: (PostgresConnection) throws -> T, undo: String, scope: String) throws -> T {
        let value: T
        do {
            value = try body(self)
        } catch {
            // A BEGIN never sent, or a transaction already committed, leaves nothing to undo.
            if pendingBegin == nil && !committedEarly { rollbackQuietly(undo) }
            throw error
        }
        if PQtransactionStatus(handle) == PQTRANS_INERROR {
            rollbackQuietly(undo)
            throw PostgresError(
                code: .transactionAborted,
                message: "a statement failed inside the \(scope), so it was rolled back"
            )
        }
        return value
    }

    /// Rolls back even after `cancelRunningStatement()`, which refuses every other statement.
    private func rollbackQuietly(_ statement: String) {
        guard !isClosed, PQstatus(handle) == CONNECTION_OK else { return }
        roundTrips += 1
        guard let result = PQexec(handle, statement) else { return }
        defer { PQclear(result) }
        if PQresultStatus(result) != PGRES_COMMAND_OK {
            logger.warning("rollback failed", metadata: ["error": "\(Self.trimmed(PQresultErrorMessage(result)))"])
        }
    }

    // MARK: LISTEN/NOTIFY support

    /// Quotes an identifier (for LISTEN, which takes no parameters) with libpq's own escaping.
    public func quoteIdentifier(_ identifier: String) throws -> String {
        try checkOpen()
        guard let quoted = PQescapeIdentifier(handle, identifier, identifier.utf8.count) else {
            throw PostgresError(code: .encoding, message: "cannot quote identifier: \(lastErrorMessage)")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// The socket, for the listener's poll loop.
    var socket: Int32 { PQsocket(handle) }

    /// Reads whatever has arrived and returns the notifications it held. Does not block.
    func drainNotifications() throws -> [PostgresNotification] {
        guard PQconsumeInput(handle) == 1 else { throw connectionError() }
        var notifications: [PostgresNotification] = []
        while let pointer = PQnotifies(handle) {
            let notify = pointer.pointee
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.relname),
                    payload: String(cString: notify.extra),
                    backendPID: notify.be_pid
                )
            )
            PQfreemem(pointer)
        }
        return notifications
    }

    // MARK: Results and errors

    private func checkOpen() throws {
        if isClosed {
            throw PostgresError(code: .connectionLost, message: "the connection is closed")
        }
        if cancelRequested.load(ordering: .sequentiallyConsistent) {
            throw PostgresError(code: .queryCanceled, message: "the statement was cancelled before it was sent")
        }
    }

    /// Forgets an earlier `cancelRunningStatement()`: the pool calls this when it lends the connection out.
    public func clearCancellation() {
        cancelRequested.store(false, ordering: .sequentiallyConsistent)
    }

    private var lastErrorMessage: String { Self.trimmed(PQerrorMessage(handle)) }

    private func connectionError() -> PostgresError {
        let code: PostgresError.Code = PQstatus(handle) == CONNECTION_OK ? .server : .connectionLost
        return PostgresError(code: code, message: lastErrorMessage)
    }

    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else { throw connectionError() }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(result: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            throw PostgresError(code: .misuse, message: "COPY is not supported through query()")
        default:
            defer { PQclear(result) }
            func field(_ code: Int32) -> String? {
                guard let value = PQresultErrorField(result, code) else { return nil }
                return String(cString: value)
            }
            let sqlState = field(Diagnostic.sqlState)
            var code = PostgresError.Code.forSQLState(sqlState)
            if PQstatus(handle) != CONNECTION_OK { code = .connectionLost }
            let message = field(Diagnostic.message) ?? Self.trimmed(PQresultErrorMessage(result))
            throw PostgresError(
                code: code,
                message: message.isEmpty ? lastErrorMessage : message,
                sqlState: sqlState,
                detail: field(Diagnostic.detail),
                hint: field(Diagnostic.hint),
                schema: field(Diagnostic.schema),
                table: field(Diagnostic.table),
                column: field(Diagnostic.column),
                constraint: field(Diagnostic.constraint)
            )
        }
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Lays out the parameters as the C arrays `PQexecParams` wants, valid for the duration of `body`.
    private static func withBinds<R>(
        _ binds: [PostgresBind],
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        if binds.isEmpty { return body(0, nil, nil, nil, nil) }
        var types = [Oid]()
        var lengths = [Int32]()
        var formats = [Int32]()
        var storage = [UInt8]()
        var offsets = [Int?]()
        types.reserveCapacity(binds.count)
        for bind in binds {
            types.append(bind.type.rawValue)
            switch bind.storage {
            case .null:
                offsets.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                offsets.append(storage.count)
                storage.append(contentsOf: text.utf8)
                lengths.append(Int32(text.utf8.count))
                storage.append(0)
                formats.append(0)
            case .binary(let bytes):
                offsets.append(storage.count)
                storage.append(contentsOf: bytes)
                lengths.append(Int32(bytes.count))
                storage.append(0)
                formats.append(1)
            }
        }
        return storage.withUnsafeBufferPointer { buffer in
            // All-NULL parameters leave the storage empty, and an empty buffer may have no base address.
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                guard let offset, let base else { return nil }
                return base + offset
            }
            return body(Int32(binds.count), types, values, lengths, formats)
        }
    }
}

/// Holds the logger for libpq's notice callback, which can only carry a raw pointer.
private final class NoticeBox: Sendable {
    let logger: Logger
    /// The server announced (FATAL) that it is ending this session.
    let sessionEnding = Atomic<Bool>(false)
    init(logger: Logger) { self.logger = logger }
}

/// Field codes for `PQresultErrorField` (the `PG_DIAG_*` macros of postgres_ext.h, which Swift cannot import).
private enum Diagnostic {
    static let sqlState = Int32(UInt8(ascii: "C"))
    static let severity = Int32(UInt8(ascii: "V"))
    static let message = Int32(UInt8(ascii: "M"))
    static let detail = Int32(UInt8(ascii: "D"))
    static let hint = Int32(UInt8(ascii: "H"))
    static let schema = Int32(UInt8(ascii: "s"))
    static let table = Int32(UInt8(ascii: "t"))
    static let column = Int32(UInt8(ascii: "c"))
    static let constraint = Int32(UInt8(ascii: "n"))
}

/// One statement with its parameters, for `PostgresConnection.pipeline(_:)`.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var bindings: [any PostgresEncodable]
    /// Prepare it once per connection (named, server-side) and reuse the parse and plan: for the fixed
    /// statements an application runs over and over. The Parse travels in the same round trip as the
    /// first execution. At most `statementCacheCapacity` per connection.
    public var cached: Bool

    public init(_ sql: String, _ bindings: [any PostgresEncodable] = [], cached: Bool = false) {
        self.sql = sql
        self.bindings = bindings
        self.cached = cached
    }
}

extension PostgresStatement {
    /// A statement prepared once per connection and reused (see `cached`).
    public static func cached(_ sql: String, _ bindings: [any PostgresEncodable] = []) -> PostgresStatement {
        PostgresStatement(sql, bindings, cached: true)
    }
}
