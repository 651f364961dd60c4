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

    public init(conninfo: String = "", applicationName: String = "orderly", connectTimeout: Int? = 10) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
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
        return parameters
    }

    /// The conninfo with any password replaced, for logs and error messages.
    public var redacted: String {
        guard !conninfo.isEmpty else { return "(libpq environment)" }
        let text = conninfo.replacingOccurrences(
            of: #"(://[^/:@]*):[^/@]*@"#,
            with: "$1:***@",
            options: .regularExpression
        )
        return text.replacingOccurrences(
            of: #"password\s*=\s*('[^']*'|\S+)"#,
            with: "password=***",
            options: .regularExpression
        )
    }
}
