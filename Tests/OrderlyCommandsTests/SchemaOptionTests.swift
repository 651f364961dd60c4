import ArgumentParser
import LibPQ
import Orderly
import OrderlyCommands
import OrderlyStore
import OrderlyTestSupport
import Testing

/// `--schema`: Orderly beside an application that already has tables of the same names.
@Suite
struct SchemaOptionTests {
    func run(_ arguments: [String]) async throws { try await runOrderly(arguments) }

    @Test func orderlyMigratesAndRunsBesideAnApplicationsOwnOrdersTable() async throws {
        let database = try await TestDatabase.create(label: "cli_schema", migrated: false)
        defer { try? database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        // The application's own tables, with Orderly's names and other columns.
        try connection.executeScript(
            """
            CREATE TABLE public.orders (id serial PRIMARY KEY, note text NOT NULL);
            CREATE TABLE public.customers (id serial PRIMARY KEY, nickname text);
            INSERT INTO public.orders (note) VALUES ('the application''s own order');
            """
        )
        let url = database.conninfo
        try await run(["migrate", "--schema", "shop_oms", "--database-url", url])
        // Twice: the schema exists now, and every migration is applied.
        try await run(["migrate", "--schema", "shop_oms", "--database-url", url])
        try await run(["migrate", "--status", "--schema", "shop_oms", "--database-url", url])
        try await run(["seed", "--orders", "40", "--days", "2", "--schema", "shop_oms", "--database-url", url])
        try await run(["check", "--schema", "shop_oms", "--database-url", url])

        func count(_ sql: String) throws -> Int { try connection.query(sql, []).scalar(Int.self) }
        #expect(try count("SELECT count(*)::int FROM shop_oms.orders") >= 40)
        #expect(try count("SELECT count(*)::int FROM public.orders") == 1)
        #expect(try count("SELECT count(*)::int FROM public.customers") == 0)
        #expect(
            try count(
                "SELECT count(*)::int FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders'"
            ) == 2
        )
        #expect(try count("SELECT count(*)::int FROM shop_oms.orderly_schema_migrations") == Migration.all.count)
        // Nothing of Orderly's in public but what was there.
        #expect(
            try count("SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public'") == 2
        )
        // The analytics views read Orderly's tables, not the application's.
        #expect(try count("SELECT coalesce(sum(captured), 0)::int FROM analytics.order_funnel") >= 40)
        // Without --schema, the schema's tables are not there to be found: a clear refusal.
        await #expect(throws: (any Error).self) { try await run(["check", "--database-url", url]) }
    }

    @Test func aSchemaNameOrderlyDoesNotAcceptIsRefusedBeforeAnythingRuns() throws {
        for name in ["Shop", "pg_shop", "analytics", "1shop", "shop-oms", "shop;drop", ""] {
            #expect(throws: (any Error).self, "\(name)") {
                try OrderlyCommand.parseAsRoot(["migrate", "--schema", name, "--database-url", "dbname=x"])
            }
        }
        #expect(throws: SchemaNameInvalid.self) {
            try Schema.scoped("dbname=x options='-c work_mem=64MB'", to: "shop")
        }
        #expect(try Schema.scoped("postgresql://u@h:5/db", to: "shop").hasSuffix("options='-c search_path=shop'"))
    }
}
