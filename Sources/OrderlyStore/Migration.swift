import Foundation

/// One schema migration: `sql/migrations/NNNN_name.sql`, embedded into the binary at build time.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Every migration in `sql/migrations`, in version order.
    public static let all: [Migration] = EmbeddedMigrations.files
        .map { Migration(version: $0.version, name: $0.name, sql: $0.sql) }
        .sorted { $0.version < $1.version }

    /// `0007_name`, as the file is called.
    public static func fileStem(version: Int, name: String) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }

    public var fileStem: String { Self.fileStem(version: version, name: name) }

    /// The line a migration carries when binaries built before it keep working once it is applied
    /// (it adds tables, nullable or defaulted columns, indexes, views or functions, and changes
    /// nothing an older binary reads or writes): `-- compatibility: additive`.
    public static let additiveMarker = "-- compatibility: additive"

    /// Whether binaries one migration (or more) behind may keep running against it.
    public var isAdditive: Bool {
        sql.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == Self.additiveMarker }
    }
}
