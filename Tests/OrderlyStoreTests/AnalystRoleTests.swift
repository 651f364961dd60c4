import Foundation
import LibPQ
import OrderlyTestSupport
import Testing

/// `orderly_analyst`: reads the analytics schema and nothing else, writes nothing, and its members'
/// queries stop at their statement_timeout. Roles are the cluster's, so each test makes its own
/// member, as docs/analytics.md says to, and drops it.
@Suite(.migratedDatabase)
struct AnalystRoleTests {
    /// A login role in orderly_analyst, set up the documented way, and a connection as it.
    func analyst(_ owner: PostgresConnection) throws -> (name: String, connection: PostgresConnection) {
        let database = try TestDatabase.require()
        let name = "analyst_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let password = "pw-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        try owner.executeScript(
            """
            CREATE ROLE \(name) LOGIN PASSWORD '\(password)' IN ROLE orderly_analyst;
            ALTER ROLE \(name) SET statement_timeout = '30s';
            ALTER ROLE \(name) SET default_transaction_read_only = on;
            """
        )
        var configuration = database.configuration.with(database: database.name)
        if var url = URLComponents(string: configuration.conninfo), url.scheme?.hasPrefix("postgres") == true {
            url.user = name
            url.password = password
            configuration.conninfo = url.string ?? configuration.conninfo
        } else {
            configuration.conninfo += " user=\(name) password=\(password)"
        }
        return (name, try PostgresConnection(configuration: configuration))
    }

    /// The views, materialized views and tables of the analytics schema, by name.
    func analyticsRelations(_ owner: PostgresConnection) throws -> [String] {
        try owner.query(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm', 'r') ORDER BY 1
            """,
            []
        ).map { try $0.decode(String.self, at: 0) }
    }

    func drop(_ owner: PostgresConnection, _ name: String) {
        _ = try? owner.execute("DROP ROLE IF EXISTS \(name)", [])
    }

    @Test func readsEveryAnalyticsViewAndNothingElse() throws {
        let owner = try TestDatabase.require().connect()
        defer { owner.close() }
        let (name, connection) = try analyst(owner)
        defer {
            connection.close()
            drop(owner, name)
        }
        #expect(try connection.query("SELECT current_user", []).scalar(String.self) == name)
        #expect(try connection.query("SHOW statement_timeout", []).scalar(String.self) == "30s")

        let relations = try analyticsRelations(owner)
        #expect(relations.count >= 20)
        for relation in relations {
            _ = try connection.query("SELECT * FROM analytics.\(relation) LIMIT 1", [])
        }

        // Outside the read-only default, so that only the privileges refuse what follows.
        _ = try connection.execute("SET default_transaction_read_only = off", [])
        for statement in [
            "SELECT * FROM orders LIMIT 1",
            "SELECT email FROM customers LIMIT 1",
            "SELECT * FROM customer_addresses LIMIT 1",
            "SELECT * FROM inventory_ledger LIMIT 1",
            "INSERT INTO analytics.refresh_log (view_name, started_at, duration_ms, row_count) VALUES ('x', now(), 0, 0)",
            "DELETE FROM analytics.refresh_log",
            "UPDATE inventory SET on_hand = 0",
            "SELECT analytics.refresh()",
            "REFRESH MATERIALIZED VIEW analytics.order_facts",
        ] {
            let error = try #require(throws: PostgresError.self, "\(statement)") {
                try connection.execute(statement, [])
            }
            #expect(error.sqlState == "42501", "\(statement): \(error.sqlState ?? "") \(error.message)")
        }
    }

    @Test func theViewsShowNoCustomerData() throws {
        let owner = try TestDatabase.require().connect()
        defer { owner.close() }
        let columns = try owner.query(
            """
            SELECT c.relname || '.' || a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'analytics' AND a.attnum > 0 AND NOT a.attisdropped
              AND (a.attname ~ '(email|phone|line1|line2|city|region|latitude|longitude|customer|recipient|ship_name|postal_code$)')
            """,
            []
        )
        let exposed = try (0..<columns.count).map { try columns[$0].decode(String.self, at: 0) }
        #expect(exposed.isEmpty, "\(exposed)")
    }

    @Test func everyViewAndColumnIsDescribed() throws {
        let owner = try TestDatabase.require().connect()
        defer { owner.close() }
        let undescribed = try owner.query(
            """
            SELECT c.relname || coalesce('.' || a.attname, '') FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm', 'r')
              AND (obj_description(c.oid, 'pg_class') IS NULL
                   OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
              AND NOT (c.relname = 'refresh_log' AND a.attname = 'id')
            """,
            []
        )
        let missing = try (0..<undescribed.count).map { try undescribed[$0].decode(String.self, at: 0) }
        #expect(missing.isEmpty, "\(missing)")
    }

    @Test func aRunawayReportIsStopped() throws {
        let owner = try TestDatabase.require().connect()
        defer { owner.close() }
        let (name, connection) = try analyst(owner)
        defer {
            connection.close()
            drop(owner, name)
        }
        // The member's own timeout, lowered for the test, stops a statement that would never end.
        _ = try connection.execute("SET statement_timeout = '50ms'", [])
        let error = try #require(throws: PostgresError.self) {
            try connection.query("SELECT count(*) FROM analytics.job_queue_health, generate_series(1, 1e12)", [])
        }
        #expect(error.sqlState == "57014")
    }

    /// docs/analytics.md: every view has its section, and every sample query runs as an analyst.
    @Test func theDocumentedQueriesRunAsAnAnalyst() throws {
        let owner = try TestDatabase.require().connect()
        defer { owner.close() }
        let page = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/analytics.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        let relations = try analyticsRelations(owner)
        for relation in relations {
            #expect(text.contains("### `analytics.\(relation)`"), "docs/analytics.md has no section for \(relation)")
        }
        let samples = text.components(separatedBy: "```sql\n").dropFirst()
            .map { $0.components(separatedBy: "\n```").first ?? "" }
            .filter { !$0.hasPrefix("CREATE ROLE") }
        #expect(samples.count >= relations.count)
        let (name, connection) = try analyst(owner)
        defer {
            connection.close()
            drop(owner, name)
        }
        for sample in samples {
            #expect(throws: Never.self, "\(sample)") { _ = try connection.query(sample, []) }
        }
    }
}
