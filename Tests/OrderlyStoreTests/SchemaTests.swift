import LibPQ
import OrderlyCore
import OrderlyTestSupport
import Testing

/// The schema's own guarantees, which hold whatever the Swift code does.
@Suite(.migratedDatabase)
struct SchemaTests {
    func connect() throws -> PostgresConnection { try TestDatabase.require().connect() }

    /// A warehouse and a SKU with an inventory row of `onHand` units, codes unique to the caller.
    func stockRow(_ connection: PostgresConnection, onHand: Int) throws -> (warehouse: Int, sku: Int) {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36).uppercased()
        let warehouse = try connection.query(
            """
            INSERT INTO warehouses (code, name, latitude, longitude, address_line1, city, country)
            VALUES ($1, 'Test', 52.5, 13.4, 'Street 1', 'Berlin', 'DE') RETURNING id
            """,
            ["W" + tag]
        ).scalar(Int.self)
        let sku = try connection.query(
            """
            INSERT INTO skus (code, name, weight_grams, length_mm, width_mm, height_mm)
            VALUES ($1, 'Thing', 100, 10, 10, 10) RETURNING id
            """,
            ["S" + tag]
        ).scalar(Int.self)
        try connection.execute(
            "INSERT INTO inventory (warehouse_id, sku_id, on_hand) VALUES ($1, $2, $3)",
            [warehouse, sku, onHand]
        )
        return (warehouse, sku)
    }

    @Test func reservedCanNeverExceedOnHand() throws {
        let connection = try connect()
        defer { connection.close() }
        let row = try stockRow(connection, onHand: 5)
        try connection.execute(
            "UPDATE inventory SET reserved = 5 WHERE warehouse_id = $1 AND sku_id = $2",
            [row.warehouse, row.sku]
        )
        let error = try #require(throws: PostgresError.self) {
            try connection.execute(
                "UPDATE inventory SET reserved = reserved + 1 WHERE warehouse_id = $1 AND sku_id = $2",
                [row.warehouse, row.sku]
            )
        }
        #expect(error.code == .checkViolation)
        #expect(error.constraint == "inventory_reserved_within_on_hand")
        let negative = try #require(throws: PostgresError.self) {
            try connection.execute(
                "UPDATE inventory SET reserved = -1 WHERE warehouse_id = $1 AND sku_id = $2",
                [row.warehouse, row.sku]
            )
        }
        #expect(negative.constraint == "inventory_reserved_within_on_hand")
    }

    @Test func theLedgerIsAppendOnly() throws {
        let connection = try connect()
        defer { connection.close() }
        let row = try stockRow(connection, onHand: 5)
        let id = try connection.query(
            """
            INSERT INTO inventory_ledger (warehouse_id, sku_id, on_hand_delta, reason, actor)
            VALUES ($1, $2, 5, 'receive', 'test') RETURNING id
            """,
            [row.warehouse, row.sku]
        ).scalar(Int.self)
        for statement in [
            "UPDATE inventory_ledger SET on_hand_delta = 50 WHERE id = $1",
            "DELETE FROM inventory_ledger WHERE id = $1",
        ] {
            let error = try #require(throws: PostgresError.self) { try connection.execute(statement, [id]) }
            #expect(error.sqlState == "23001", "\(statement)")
            #expect(error.message.contains("append-only"))
        }
    }

    @Test func ordersAreIdempotentPerChannelAndNeverDeleted() throws {
        let connection = try connect()
        defer { connection.close() }
        let external = "ext-\(UInt32.random(in: 0...UInt32.max))"
        let insert = """
            INSERT INTO orders (channel, external_id, currency, ship_name, ship_line1, ship_city, ship_country)
            VALUES ($1, $2, 'EUR', 'Ada', 'Street 1', 'Berlin', 'DE') RETURNING id
            """
        let id = try connection.query(insert, ["web", external]).scalar(Int.self)
        let duplicate = try #require(throws: PostgresError.self) { try connection.query(insert, ["web", external]) }
        #expect(duplicate.code == .uniqueViolation)
        #expect(duplicate.constraint == "orders_channel_external_id")
        // The same external id on another channel is another order.
        _ = try connection.query(insert, ["pos", external])
        let delete = try #require(throws: PostgresError.self) {
            try connection.execute("DELETE FROM orders WHERE id = $1", [id])
        }
        #expect(delete.sqlState == "23001")
    }

    @Test func channelsAreNamesAndAChannelIsNeverDeleted() throws {
        let connection = try connect()
        defer { connection.close() }
        let insert = """
            INSERT INTO orders (channel, external_id, currency, ship_name, ship_line1, ship_city, ship_country)
            VALUES ($1, $2, 'EUR', 'Ada', 'Street 1', 'Berlin', 'DE')
            """
        let error = try #require(throws: PostgresError.self) { try connection.execute(insert, ["Fax Orders", "x"]) }
        #expect(error.constraint == "orders_channel")
        // Seeded: a channel per kind, and two marketplaces of their own.
        let seeded = try connection.query("SELECT name, kind FROM channel_policies ORDER BY name").map {
            "\(try $0.decode(String.self, at: 0)):\(try $0.decode(String.self, at: 1))"
        }
        for expected in ChannelKind.allCases.map({ "\($0.rawValue):\($0.rawValue)" }) + [
            "amazon:marketplace", "ebay:marketplace",
        ] {
            #expect(seeded.contains(expected), "\(expected) in \(seeded)")
        }
        let refused = try #require(throws: PostgresError.self) {
            try connection.execute("DELETE FROM channel_policies WHERE name = 'ebay'")
        }
        #expect(refused.sqlState == "23001", "\(refused)")
        let badLifetime = try #require(throws: PostgresError.self) {
            try connection.execute("UPDATE channel_policies SET unpaid_reservation_seconds = -1 WHERE name = 'ebay'")
        }
        #expect(badLifetime.constraint == "channel_policies_unpaid_reservation")
    }

    @Test func aHeldOrderAlwaysHasAReason() throws {
        let connection = try connect()
        defer { connection.close() }
        let error = try #require(throws: PostgresError.self) {
            try connection.execute(
                """
                INSERT INTO orders (channel, external_id, status, currency, ship_name, ship_line1, ship_city, ship_country)
                VALUES ('web', $1, 'on_hold', 'EUR', 'Ada', 'Street 1', 'Berlin', 'DE')
                """,
                ["h-\(UInt32.random(in: 0...UInt32.max))"]
            )
        }
        #expect(error.constraint == "orders_hold_reason_when_held")
    }

    @Test func aUniqueJobExistsOnceUntilItFinishes() throws {
        let connection = try connect()
        defer { connection.close() }
        let key = "low_stock:\(UInt32.random(in: 0...UInt32.max))"
        let insert = "INSERT INTO jobs (kind, unique_key) VALUES ('low_stock', $1) RETURNING id"
        let id = try connection.query(insert, [key]).scalar(Int.self)
        let error = try #require(throws: PostgresError.self) { try connection.query(insert, [key]) }
        #expect(error.code == .uniqueViolation)
        try connection.execute("UPDATE jobs SET state = 'completed', completed_at = now() WHERE id = $1", [id])
        _ = try connection.query(insert, [key])
    }
}

@Suite(.migratedDatabase)
struct SchemaMatchesCoreTests {
    /// The values a CHECK constraint allows, read back from the catalog.
    func allowedValues(_ constraint: String) throws -> Set<String> {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let definition = try connection.query(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1",
            [constraint]
        ).scalar(String.self)
        // e.g. CHECK ((status = ANY (ARRAY['received'::text, 'on_hold'::text, ...])))
        var values = Set<String>()
        var rest = Substring(definition)
        while let open = rest.firstIndex(of: "'") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "'") else { break }
            values.insert(String(after[..<close]))
            rest = after[after.index(after: close)...]
        }
        return values
    }

    @Test func orderStatusesMatchTheStateMachine() throws {
        #expect(try allowedValues("orders_status") == Set(OrderStatus.allCases.map(\.rawValue)))
    }

    @Test func holdReasonsMatch() throws {
        #expect(try allowedValues("orders_hold_reason") == Set(HoldReason.allCases.map(\.rawValue)))
    }

    @Test func channelPolicyValuesMatch() throws {
        #expect(try allowedValues("channel_policies_kind") == Set(ChannelKind.allCases.map(\.rawValue)))
        #expect(try allowedValues("channel_policies_on_shortage") == Set(ShortagePolicy.allCases.map(\.rawValue)))
        #expect(try allowedValues("channel_policies_carrier_rule") == Set(CarrierRule.allCases.map(\.rawValue)))
        #expect(
            try allowedValues("channel_policies_payment_states")
                == Set(ChannelPolicy.capturablePaymentStates.map(\.rawValue))
        )
    }

    @Test func paymentStatusesMatch() throws {
        #expect(try allowedValues("orders_payment_status") == Set(PaymentStatus.allCases.map(\.rawValue)))
    }

    @Test func shipmentStatusesMatchTheirStateMachine() throws {
        #expect(try allowedValues("shipments_status") == Set(ShipmentStatus.allCases.map(\.rawValue)))
    }

    @Test func pickListStatusesAndMethodsMatch() throws {
        #expect(try allowedValues("pick_lists_status") == Set(PickListStatus.allCases.map(\.rawValue)))
        #expect(try allowedValues("pick_lists_method_check") == Set(PickMethod.allCases.map(\.rawValue)))
    }

    @Test func notificationStatusesAndKindsMatch() throws {
        #expect(try allowedValues("notifications_status_check") == Set(NotificationStatus.allCases.map(\.rawValue)))
        #expect(try allowedValues("notifications_kind_check") == Set(NotificationKind.allCases.map(\.rawValue)))
    }

    @Test func jobStatesMatch() throws {
        #expect(try allowedValues("jobs_state") == Set(JobState.allCases.map(\.rawValue)))
        // The unique-key index and the claim index name the same sets as JobState's.
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        func indexValues(_ name: String) throws -> Set<String> {
            let definition = try connection.query(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = $1::regclass",
                [name]
            ).scalar(String.self)
            return Set(
                definition.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            )
        }
        #expect(try indexValues("jobs_unique_key") == Set(JobState.pending.map(\.rawValue)))
        #expect(try indexValues("jobs_claimable") == Set(JobState.claimable.map(\.rawValue)))
        #expect(try indexValues("jobs_finished") == Set(JobState.finished.map(\.rawValue)))
    }
}
