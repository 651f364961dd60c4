import LibPQ
import OrderlyTestSupport
import Testing

/// Statements written with interpolated values, and typed queries, pipelines and batches.
@Suite struct StatementInterpolationTests {
    @Test func valuesBecomeNumberedParameters() {
        let id: Int64 = 7
        let note: String? = nil
        let statement: PostgresStatement = "SELECT \(id)::int8, \(note)::text, \("it's")::text WHERE \(true)"
        #expect(statement.sql == "SELECT $1::int8, $2::text, $3::text WHERE $4")
        #expect(statement.bindings.count == 4)
        #expect(statement.cached)
    }

    @Test func unescapedTextIsInsertedAsItIs() {
        let statement: PostgresStatement = "SELECT * FROM \(unescaped: "\"orders\"") WHERE id = \(Int64(1))"
        #expect(statement.sql == "SELECT * FROM \"orders\" WHERE id = $1")
    }

    @Test func aSharedValueIsBoundOnce() {
        let (order, other): (Int64, Int32) = (7, 7)
        let statement: PostgresStatement =
            "SELECT \(same: order), \(Int64(1)), \(same: order), \(same: other), \(same: Int64(8)), \(same: order)"
        // One parameter per value and type, wherever it appears; a value of another type is its own.
        #expect(statement.sql == "SELECT $1, $2, $1, $3, $4, $1")
        #expect(statement.bindings.count == 4)
    }

    @Test func anIdentifierIsQuotedAndLeavesTheStatementUncached() {
        let statement: PostgresStatement = "SELECT * FROM \(identifier: "we\"ird") WHERE id = \(Int64(1))"
        #expect(statement.sql == "SELECT * FROM \"we\"\"ird\" WHERE id = $1")
        #expect(!statement.cached)
        // Its text changes with the name, and so does any statement it is a fragment of.
        let outer: PostgresStatement = "SELECT count(*) FROM (\(statement)) t WHERE \(true)"
        #expect(!outer.cached)
        let plain: PostgresStatement = "SELECT count(*) FROM (\(unescaped: "SELECT 1")) t WHERE \(true)"
        #expect(plain.cached)
    }

    @Test func aFragmentIsRenumberedAfterTheParametersBeforeIt() {
        let fragment: PostgresStatement = "b = \(Int64(2)) AND c = '$1' AND \"$2\" = \(Int64(3))"
        let statement: PostgresStatement = "SELECT 1 WHERE a = \(Int64(1)) AND \(fragment) AND d = \(Int64(4))"
        // Quoted text keeps its dollar signs; only parameters move.
        #expect(statement.sql == "SELECT 1 WHERE a = $1 AND b = $2 AND c = '$1' AND \"$2\" = $3 AND d = $4")
        #expect(statement.bindings.count == 4)
    }
}

@Suite(.database)
struct TypedQueryTests {
    @Test func queriesDecodeTheirOwnResultsInOnePipeline() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let two = PostgresQuery<Int64>.scalar("SELECT \(Int64(1)) + 1")
        let words = PostgresQuery<[String]>.rows("SELECT unnest(\(["a", "b"])::text[])") {
            try $0.decode(String.self, at: 0)
        }
        let pair = PostgresQuery<(Int64, String?)?>.first("SELECT \(Int64(5))::int8, NULL::text") {
            try $0.decode((Int64, String?).self)
        }
        let before = connection.roundTrips
        let (sum, letters, row) = try connection.pipeline(two, words, pair)
        #expect(connection.roundTrips == before + 1)
        #expect(sum == 2)
        #expect(letters == ["a", "b"])
        #expect(row?.0 == 5 && row?.1 == nil)
    }

    @Test func anInterpolatedLiteralGivenToQueryIsBoundNotPasted() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        // With a text overload that defaulted its bindings, this literal was Swift's interpolation:
        // the value pasted into the SQL (a syntax error here, an injection elsewhere).
        let hostile = "x'); SELECT ('y"
        #expect(try connection.query("SELECT \(hostile)::text AS v").scalar(String.self) == hostile)
        #expect(try connection.execute("SELECT \(hostile)::text") == 1)
    }

    @Test func aQueryOfSeveralStatementsReadsThemTogether() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let both = PostgresQuery<Int64>.scalar("SELECT 40::int8").and(PostgresQuery<Int64>.scalar("SELECT 2::int8")) {
            $0 + $1
        }
        #expect(both.statements.count == 2)
        #expect(try connection.run(both) == 42)
        let (answer, again) = try connection.pipeline(both, both.map { $0 * 2 })
        #expect(answer == 42 && again == 84)
    }

    @Test func aTupleOfTheWrongWidthIsADecodingError() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let rows = try connection.query("SELECT 1::int8, 2::int8")
        #expect(throws: PostgresError.self) { try rows[0].decode((Int64, Int64, Int64).self) }
        #expect(throws: PostgresError.self) { try rows[0].decode((Int64, String).self) }
    }

    @Test func aNameWithAQuoteIsOneIdentifier() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let table = "odd \"name\" \(UInt32.random(in: 0...UInt32.max))"
        try connection.execute("CREATE TABLE \(identifier: table) (id int8 PRIMARY KEY)")
        try connection.execute("INSERT INTO \(identifier: table) VALUES (\(Int64(7)))")
        #expect(try connection.query("SELECT id FROM \(identifier: table)").scalar(Int64.self) == 7)
        #expect(
            try connection.query("SELECT count(*) FROM pg_class WHERE relname = \(table)" as PostgresStatement)
                .scalar(Int64.self) == 1
        )
    }

    @Test func aBatchIsReadBySlot() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let table = "batch_\(UInt32.random(in: 0...UInt32.max))"
        try connection.execute("CREATE TABLE \(identifier: table) (id int8 PRIMARY KEY)")
        let result: (Int64, Int) = try connection.transaction { tx in
            var batch = PostgresBatch()
            batch.add("INSERT INTO \(unescaped: table) VALUES (1), (2)" as PostgresStatement)
            let count = batch.add(PostgresQuery<Int64>.scalar("SELECT count(*) FROM \(unescaped: table)"))
            let deleted = batch.add(
                PostgresQuery<Int>.command("DELETE FROM \(unescaped: table) WHERE id = \(Int64(1))")
            )
            let results = try tx.commit(after: batch)
            return (try results[count], try results[deleted])
        }
        #expect(result == (2, 1))
        #expect(try connection.query("SELECT count(*) FROM \(identifier: table)").scalar(Int64.self) == 1)
    }
}
