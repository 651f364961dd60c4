/// A row of a listing as the admin protocol prints it: (column, cell) pairs in the order the query
/// names its columns.
public typealias ReportRow = [(String, ReportCell)]

/// One cell of a listing: text, an integer, a flag, or NULL.
public enum ReportCell: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case bool(Bool)
    case null
}
