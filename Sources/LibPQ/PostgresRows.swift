import CLibPQ

/// The rows a statement returned, read lazily from libpq's result.
///
/// `@unchecked Sendable`: a `PGresult` is never modified after libpq returns it, and libpq documents
/// read access to one from several threads as safe. It is freed when the last reference goes.
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
    private let result: OpaquePointer
    /// Column names and types, in order.
    public let columns: [(name: String, type: PostgresType)]
    private let columnIndex: [String: Int]
    public let startIndex = 0
    public let endIndex: Int

    init(result: OpaquePointer) {
        self.result = result
        let fieldCount = Int(PQnfields(result))
        var columns: [(name: String, type: PostgresType)] = []
        var columnIndex: [String: Int] = [:]
        for index in 0..<fieldCount {
            let name = String(cString: PQfname(result, Int32(index)))
            columns.append((name, PostgresType(rawValue: PQftype(result, Int32(index)))))
            if columnIndex[name] == nil { columnIndex[name] = index }
        }
        self.columns = columns
        self.columnIndex = columnIndex
        self.endIndex = Int(PQntuples(result))
    }

    deinit { PQclear(result) }

    /// Rows inserted, updated, deleted, selected, ... as the command tag reports them.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    /// The command tag, e.g. `INSERT 0 1`.
    public var commandTag: String { String(cString: PQcmdStatus(result)) }

    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The only row's first column, for `SELECT count(*)` and friends. Zero or several rows is an error.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard count == 1 else {
            throw PostgresError(code: .decoding, message: "expected exactly one row, got \(count)")
        }
        return try self[0].decode(T.self, at: 0)
    }

    func cell(row: Int, column: Int) throws -> PostgresCell {
        guard row >= 0, row < endIndex else {
            throw PostgresError(code: .misuse, message: "row \(row) out of range (0..<\(endIndex))")
        }
        guard column >= 0, column < columns.count else {
            throw PostgresError(code: .misuse, message: "column \(column) out of range (0..<\(columns.count))")
        }
        let isNull = PQgetisnull(result, Int32(row), Int32(column)) == 1
        let text = isNull ? "" : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
        return PostgresCell(
            columnName: columns[column].name,
            columnIndex: column,
            type: columns[column].type,
            text: text,
            isNull: isNull
        )
    }

    func index(ofColumn name: String) throws -> Int {
        guard let index = columnIndex[name] else {
            throw PostgresError(code: .misuse, message: "no column named \"\(name)\" in the result")
        }
        return index
    }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes the column at `column` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        let cell = try rows.cell(row: index, column: column)
        return cell.isNull ? try T.decodeNull(from: cell) : try T.decode(from: cell)
    }

    /// Decodes the column named `column`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T {
        try decode(T.self, at: rows.index(ofColumn: column))
    }

    /// Whether the column at `column` is NULL.
    public func isNull(at column: Int) throws -> Bool {
        try rows.cell(row: index, column: column).isNull
    }

    /// The column's text as the server sent it, whatever its type (for generic printing).
    public func rawText(at column: Int) throws -> String {
        try rows.cell(row: index, column: column).text
    }
}

/// A notification delivered by `NOTIFY` / `pg_notify`.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var backendPID: Int32
}
