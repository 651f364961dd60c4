import CLibPQ
import Foundation

/// Where and how to connect, in libpq's own terms.
///
/// `conninfo` is anything `PQconnectdb` accepts: a `postgresql://` URL or `key=value` pairs. Left
/// empty, libpq reads its `PG*` environment variables and service files, exactly as `psql` does.
public struct PostgresConfiguration: Sendable, Hashable {
    public var conninfo: String
    /// Sent as `application_name` unless the conninfo or `PGAPPNAME` names one already.
    public var applicationName: String
    /// Seconds to wait for a new connection before failing; nil defers to the conninfo/`PGCONNECT_TIMEOUT`.
    public var connectTimeout: Int?
    /// Connects to this database instead of the one the conninfo names (same server and credentials).
    public var database: String?
    /// Server settings applied to every session right after it connects (`set_config(name, value, false)`),
    /// e.g. `plan_cache_mode`. Applied in name order.
    public var settings: [String: String]

    public init(
        conninfo: String = "",
        applicationName: String = "orderly",
        connectTimeout: Int? = 10,
        database: String? = nil,
        settings: [String: String] = [:]
    ) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.database = database
        self.settings = settings
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> PostgresConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    /// Keyword/value pairs for `PQconnectdbParams`. Ours come first: `expand_dbname` lets anything in the
    /// conninfo override them.
    var connectParameters: [(String, String)] {
        var parameters: [(String, String)] = []
        if ProcessInfo.processInfo.environment["PGAPPNAME"] == nil {
            parameters.append(("application_name", applicationName))
        }
        if let connectTimeout, ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil {
            parameters.append(("connect_timeout", String(connectTimeout)))
        }
        if !conninfo.isEmpty {
            parameters.append(("dbname", conninfo))
        }
        // libpq expands only the first dbname; a later one is a plain database name that overrides it.
        if let database {
            parameters.append(("dbname", database))
        }
        return parameters
    }

    /// The conninfo with any password replaced, for logs and error messages.
    public var redacted: String {
        guard !conninfo.isEmpty else { return "(libpq environment)" + (database.map { " dbname=\($0)" } ?? "") }
        let text = conninfo.replacingOccurrences(
            of: #"(://[^/:@]*):[^/@]*@"#,
            with: "$1:***@",
            options: .regularExpression
        )
        return text.replacingOccurrences(
            of: #"password\s*=\s*('[^']*'|\S+)"#,
            with: "password=***",
            options: .regularExpression
        ) + (database.map { " dbname=\($0)" } ?? "")
    }
}

extension PostgresConfiguration {
    /// The configuration as one keyword=value conninfo with `database` applied, for tools that take a
    /// single connection string (pgbench, psql). URLs are expanded by libpq's own parser.
    public func keywordConninfo() throws -> String {
        var pairs: [(String, String)] = []
        if !conninfo.isEmpty {
            var errorMessage: UnsafeMutablePointer<CChar>?
            guard let options = PQconninfoParse(conninfo, &errorMessage) else {
                let message = errorMessage.map { String(cString: $0) } ?? "out of memory"
                errorMessage.map { PQfreemem($0) }
                throw PostgresError(code: .misuse, message: "bad conninfo: \(message)")
            }
            defer { PQconninfoFree(options) }
            var option = options
            while let keyword = option.pointee.keyword {
                if let value = option.pointee.val { pairs.append((String(cString: keyword), String(cString: value))) }
                option += 1
            }
        }
        if let database {
            pairs.removeAll { $0.0 == "dbname" }
            pairs.append(("dbname", database))
        }
        return pairs.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }
}
