import Foundation
import LibPQ
public import OrderlyCore
import OrderlyStore

/// Stock operations: receive, adjust, cycle count, transfer, thresholds, availability.
///
/// Each call is one transaction (retried on 40001/40P01) in which the inventory rows, their ledger
/// rows and any low-stock job are written together. Bad input is refused before anything is written.
public struct InventoryService: Sendable {
    public let database: OrderlyDatabase
    /// Who the ledger says made the changes (an admin principal, `worker`, ...).
    public let actor: String

    /// The largest quantity one call may move: far above any real stock movement, far below overflow.
    public static let maximumQuantity: Int64 = 1_000_000_000

    public init(database: OrderlyDatabase, actor: String) {
        self.database = database
        self.actor = actor
    }

    /// Adds received units to on_hand (creating the row on first receipt).
    @discardableResult
    public func receive(
        warehouse: Int64,
        sku: Int64,
        quantity: Int64,
        note: String? = nil,
        alongside: CommitAlongside<InventoryRow>? = nil
    ) async throws
        -> InventoryRow
    {
        try Self.checkQuantity(quantity, "quantity")
        return try await withLockedRow(warehouse: warehouse, sku: sku, alongside: alongside) { connection, store, row in
            try store.moveOnHand(connection, row: row, delta: quantity, reason: .receive, note: note)
        }
    }

    /// `STOCK EXPECT`: `quantity` units still expected at the row on `date` under `reference` (a
    /// purchase order's, or '' for none); 0 closes the expectation. Receipts fill expectations
    /// earliest first. A date before the database's today is BAD_ARG, closing what was never expected
    /// NOT_FOUND; nothing changes either way.
    @discardableResult
    public func expect(
        warehouse: Int64,
        sku: Int64,
        quantity: Int64,
        date: LocalDate,
        reference: String = "",
        alongside: CommitAlongside<StockExpectation>? = nil
    ) async throws -> StockExpectation {
        guard quantity >= 0, quantity <= Self.maximumQuantity else {
            throw OrderlyError(.badArgument, "quantity must be 0...\(Self.maximumQuantity), got \(quantity)")
        }
        guard reference.count <= 100 else {
            throw OrderlyError(.badArgument, "reference is longer than 100 characters")
        }
        let store = InventoryStore(actor: actor)
        return try await database.pool.transaction { connection in
            let row = try store.lockRow(connection, warehouse: warehouse, sku: sku)
            guard
                let expectation = try store.expect(
                    connection,
                    row: row,
                    reference: reference,
                    units: quantity,
                    date: date
                )
            else {
                let today = try connection.query("SELECT orderly_now()::date::text" as PostgresStatement).scalar(
                    String.self
                )
                if date.description < today {
                    throw OrderlyError(.badArgument, "date \(date) is before today (\(today))")
                }
                throw OrderlyError(.notFound, "nothing is expected under reference '\(reference)' to close")
            }
            return try connection.finish(expectation, alongside: alongside)
        }
    }

    /// Changes on_hand by `delta` (negative to remove) for a reason such as damaged or lost.
    /// Removing units that are reserved is refused with INSUFFICIENT_STOCK.
    @discardableResult
    public func adjust(
        warehouse: Int64,
        sku: Int64,
        delta: Int64,
        reason: StockReason,
        note: String? = nil,
        alongside: CommitAlongside<InventoryRow>? = nil
    )
        async throws -> InventoryRow
    {
        guard delta != 0, delta.magnitude <= UInt64(Self.maximumQuantity) else {
            throw OrderlyError(.badArgument, "delta must be non-zero and at most \(Self.maximumQuantity) either way")
        }
        guard [.adjust, .damaged, .lost, .found, .correction].contains(reason) else {
            throw OrderlyError(.badArgument, "reason \(reason.rawValue) is not an adjustment reason")
        }
        return try await withLockedRow(warehouse: warehouse, sku: sku, alongside: alongside) { connection, store, row in
            try store.moveOnHand(connection, row: row, delta: delta, reason: reason, note: note)
        }
    }

    /// Records a cycle count; a variance becomes a ledger row with `reason` (lost, damaged, found, correction).
    @discardableResult
    public func count(
        warehouse: Int64,
        sku: Int64,
        counted: Int64,
        reason: StockReason = .correction,
        alongside: CommitAlongside<InventoryRow>? = nil
    ) async throws
        -> InventoryRow
    {
        guard counted >= 0, counted <= Self.maximumQuantity else {
            throw OrderlyError(.badArgument, "counted must be 0...\(Self.maximumQuantity)")
        }
        guard [.lost, .damaged, .found, .correction].contains(reason) else {
            throw OrderlyError(.badArgument, "reason \(reason.rawValue) is not a count variance reason")
        }
        return try await withLockedRow(warehouse: warehouse, sku: sku, alongside: alongside) { connection, store, row in
            try store.recordCount(connection, row: row, counted: counted, reason: reason)
        }
    }

    /// Moves unreserved units between warehouses: two rows, locked in (warehouse, sku) order, and two
    /// ledger rows sharing a transfer id.
    public func transfer(
        sku: Int64,
        from source: Int64,
        to destination: Int64,
        quantity: Int64,
        alongside: CommitAlongside<(from: InventoryRow, to: InventoryRow)>? = nil
    ) async throws
        -> (from: InventoryRow, to: InventoryRow)
    {
        try Self.checkQuantity(quantity, "quantity")
        guard source != destination else { throw OrderlyError(.badArgument, "from and to are the same warehouse") }
        let store = InventoryStore(actor: actor)
        let transferID = UUID().uuidString
        return try await database.pool.transaction { connection in
            // Lock in warehouse order, whichever way the units go.
            let first = try store.lockRow(connection, warehouse: min(source, destination), sku: sku)
            let second = try store.lockRow(connection, warehouse: max(source, destination), sku: sku)
            let (sourceRow, destinationRow) = source < destination ? (first, second) : (second, first)
            let note = "transfer \(source) -> \(destination)"
            let out = try store.moveOnHand(
                connection,
                row: sourceRow,
                delta: -quantity,
                reason: .transferOut,
                note: note,
                transferID: transferID
            )
            let into = try store.moveOnHand(
                connection,
                row: destinationRow,
                delta: quantity,
                reason: .transferIn,
                note: note,
                transferID: transferID
            )
            return try connection.finish((from: out, to: into), alongside: alongside)
        }
    }

    /// Sets the reorder point and safety stock of a row.
    @discardableResult
    public func setThresholds(
        warehouse: Int64,
        sku: Int64,
        reorderPoint: Int64,
        safetyStock: Int64
    ) async throws
        -> InventoryRow
    {
        guard (0...Int64(Int32.max)).contains(reorderPoint), (0...Int64(Int32.max)).contains(safetyStock) else {
            throw OrderlyError(.badArgument, "reorder point and safety stock must be 0...\(Int32.max)")
        }
        return try await withLockedRow(warehouse: warehouse, sku: sku) { connection, store, row in
            try store.setThresholds(connection, row: row, reorderPoint: reorderPoint, safetyStock: safetyStock)
        }
    }

    /// Available to promise for `sku`: per warehouse, and the total across warehouses.
    public func availability(sku: Int64) async throws -> (perWarehouse: [InventoryRow], total: Int64) {
        let store = InventoryStore(actor: actor)
        let rows = try await database.pool.withConnection { try store.rows($0, sku: sku) }
        return (rows, rows.reduce(0) { $0 + $1.availableToPromise })
    }

    /// One transaction that locks the (warehouse, SKU) row and hands it to `change`.
    private func withLockedRow(
        warehouse: Int64,
        sku: Int64,
        alongside: CommitAlongside<InventoryRow>? = nil,
        _ change: @escaping @Sendable (PostgresConnection, InventoryStore, InventoryRow) throws -> InventoryRow
    ) async throws -> InventoryRow {
        let store = InventoryStore(actor: actor)
        return try await database.pool.transaction { connection in
            let row = try change(connection, store, try store.lockRow(connection, warehouse: warehouse, sku: sku))
            return try connection.finish(row, alongside: alongside)
        }
    }

    static func checkQuantity(_ value: Int64, _ name: String) throws {
        guard value > 0, value <= maximumQuantity else {
            throw OrderlyError(.badArgument, "\(name) must be 1...\(maximumQuantity), got \(value)")
        }
    }
}
