/// An error from PostgreSQL, from libpq, or from decoding a value.
///
/// `code` is stable and is what the admin protocol prints; `sqlState` and the fields
/// after it are what the server reported, when it reported anything.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// A stable classification of the error, independent of the server's wording.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case uniqueViolation = "UNIQUE_VIOLATION"
            case checkViolation = "CHECK_VIOLATION"
            case foreignKeyViolation = "FOREIGN_KEY_VIOLATION"
            case notNullViolation = "NOT_NULL_VIOLATION"
            case exclusionViolation = "EXCLUSION_VIOLATION"
            case serializationFailure = "SERIALIZATION_FAILURE"
            case deadlockDetected = "DEADLOCK_DETECTED"
            case lockTimeout = "LOCK_TIMEOUT"
            case queryCanceled = "QUERY_CANCELED"
            case connectionLost = "CONNECTION_LOST"
            case commitOutcomeUnknown = "COMMIT_OUTCOME_UNKNOWN"
            case connectionFailed = "CONNECTION_FAILED"
            case server = "SERVER_ERROR"
            case decoding = "DECODING_ERROR"
            case encoding = "ENCODING_ERROR"
            case transactionAborted = "TRANSACTION_ABORTED"
            case misuse = "MISUSE"
            case poolTimeout = "POOL_TIMEOUT"
            case poolClosed = "POOL_CLOSED"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// 23505: a unique or primary key constraint refused the row.
        public static let uniqueViolation = Code(.uniqueViolation)
        /// 23514: a CHECK constraint refused the row.
        public static let checkViolation = Code(.checkViolation)
        /// 23503: a foreign key refused the row.
        public static let foreignKeyViolation = Code(.foreignKeyViolation)
        /// 23502: NULL in a NOT NULL column.
        public static let notNullViolation = Code(.notNullViolation)
        /// 23P01: an exclusion constraint refused the row.
        public static let exclusionViolation = Code(.exclusionViolation)
        /// 40001: the transaction could not be serialized; retrying it is safe.
        public static let serializationFailure = Code(.serializationFailure)
        /// 40P01: the server broke a deadlock by aborting this transaction; retrying it is safe.
        public static let deadlockDetected = Code(.deadlockDetected)
        /// 55P03: a lock could not be taken within `lock_timeout` (or `NOWAIT`).
        public static let lockTimeout = Code(.lockTimeout)
        /// 57014: the statement was cancelled (`statement_timeout`, or a cancelled task).
        public static let queryCanceled = Code(.queryCanceled)
        /// The connection broke while in use; the server may or may not have run the statement.
        public static let connectionLost = Code(.connectionLost)
        /// The connection broke while COMMIT was in flight: the transaction may have committed or not.
        /// Never retried blindly; the caller must find out (or retry under an idempotency key).
        public static let commitOutcomeUnknown = Code(.commitOutcomeUnknown)
        /// A new connection could not be opened.
        public static let connectionFailed = Code(.connectionFailed)
        /// Any other error the server reported; `sqlState` says which.
        public static let server = Code(.server)
        /// A column's value could not be decoded as the requested Swift type.
        public static let decoding = Code(.decoding)
        /// A Swift value could not be sent as a parameter.
        public static let encoding = Code(.encoding)
        /// A statement failed inside the transaction earlier, so it can only roll back.
        public static let transactionAborted = Code(.transactionAborted)
        /// The API was used in a way it does not support (e.g. a nested transaction).
        public static let misuse = Code(.misuse)
        /// No connection became free within the pool's acquire timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(.poolClosed)

        public var description: String { base.rawValue }

        /// The stable name, e.g. `UNIQUE_VIOLATION`.
        public var name: String { base.rawValue }

        static func forSQLState(_ state: String?) -> Code {
            switch state {
            case "23505": return .uniqueViolation
            case "23514": return .checkViolation
            case "23503": return .foreignKeyViolation
            case "23502": return .notNullViolation
            case "23P01": return .exclusionViolation
            case "40001": return .serializationFailure
            case "40P01": return .deadlockDetected
            case "55P03": return .lockTimeout
            case "57014": return .queryCanceled
            // Class 08 and the admin-shutdown family mean the session is gone.
            case "57P01", "57P02", "57P03": return .connectionLost
            case .some(let s) where s.hasPrefix("08"): return .connectionLost
            default: return .server
            }
        }
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?

    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        schema: String? = nil,
        table: String? = nil,
        column: String? = nil,
        constraint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
    }

    /// Whether running the whole transaction again may succeed (40001, 40P01).
    public var isRetryable: Bool {
        code == .serializationFailure || code == .deadlockDetected
    }

    public var description: String {
        var text = "\(code)"
        if let sqlState { text += " (\(sqlState))" }
        text += ": \(message)"
        if let detail { text += " DETAIL: \(detail)" }
        if let constraint { text += " CONSTRAINT: \(constraint)" }
        if let hint { text += " HINT: \(hint)" }
        return text
    }
}
