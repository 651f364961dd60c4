import LibPQ
public import OrderlyCore
import OrderlyStore

/// The reads behind the admin protocol's listings and SHOW commands, each one piece of work on one
/// connection (`DatabaseRead`), which the admin server runs from its event loop without a task.
/// Listings come back as rows of (column, cell) pairs in the order their query names them.
public enum AdminReads {
    public static func warehouses() -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.warehouses($0) }
    }

    public static func skus(prefix: String, limit: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.skus($0, prefix: prefix, limit: limit) }
    }

    public static func rates(country: String?) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.rates($0, country: country) }
    }

    /// Orders newest first, keyset-paged by id.
    /// `atRisk`: true, only orders with a promise marked at risk (and not finished); false, only those without.
    public static func orders(
        status: String?,
        channel: String?,
        atRisk: Bool? = nil,
        before: Int64?,
        limit: Int64
    ) -> DatabaseRead<[ReportRow]> {
        DatabaseRead {
            try AdminQueries.orders($0, status: status, channel: channel, atRisk: atRisk, before: before, limit: limit)
        }
    }

    /// Every channel's policy, by name.
    public static func channels() -> DatabaseRead<[ChannelRecord]> {
        DatabaseRead { try $0.run(ChannelStore.list()) }
    }

    /// The order documents `channel` sent (in `state`, or all), newest first.
    public static func channelDocuments(
        _ channel: SalesChannel,
        state: ChannelDocumentState?,
        limit: Int64
    ) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try $0.run(ChannelIngestStore.documents(channel, state: state, limit: limit)) }
    }

    /// A channel's policy and its last `changes` changes, newest first; NOT_FOUND when there is none.
    public static func channel(
        _ channel: SalesChannel,
        changes: Int64
    ) -> DatabaseRead<(record: ChannelRecord, changes: [ReportRow])> {
        DatabaseRead { connection in
            let (record, history) = try connection.run(ChannelStore.show(channel, changes: changes))
            guard let record else { throw OrderlyError(.notFound, "there is no channel '\(channel)' (CHANNEL LIST)") }
            return (record, history)
        }
    }

    /// The order with its lines, its payment balance, its delivery promises and what it waits for, in
    /// one round trip; NOT_FOUND when there is none.
    public static func order(
        _ id: Int64
    ) -> DatabaseRead<
        (order: OrderRecord, balance: PaymentBalance?, promises: [PromiseRecord], waits: OrderWaitFacts?)
    > {
        let store = OrderStore(actor: "admin")
        return DatabaseRead { connection in
            let (order, balance, promises, facts) = try connection.pipeline(
                store.order(id, lock: false),
                PaymentStore.balance(orderID: id),
                PromiseStore.promises(orderID: id),
                store.waitFacts(orderID: id)
            )
            guard let order else { throw OrderlyError(.notFound, "order \(id) does not exist") }
            return (order, balance, promises, facts)
        }
    }

    /// `PAYMENT LIST order=…`: the balance, then the ledger and the intents not settled.
    public static func payments(orderID: Int64) -> DatabaseRead<(balance: PaymentBalance, entries: [ReportRow])> {
        DatabaseRead { connection in
            let (balance, entries) = try connection.pipeline(
                PaymentStore.balance(orderID: orderID),
                PaymentStore.ledger(orderID: orderID)
            )
            guard let balance else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            return (balance, entries)
        }
    }

    /// The order's history (events, shipments, notifications, jobs) in time order, and what it waits
    /// for, in one round trip; NOT_FOUND when there is no such order.
    public static func timeline(orderID: Int64) -> DatabaseRead<(history: [ReportRow], waits: OrderWaitFacts)> {
        let store = OrderStore(actor: "admin")
        return DatabaseRead { connection in
            let (history, facts) = try connection.pipeline(
                AdminQueries.timeline(orderID: orderID),
                store.waitFacts(orderID: orderID)
            )
            guard let facts else { throw OrderlyError(.notFound, "order \(orderID) does not exist") }
            return (history, facts)
        }
    }

    public static func shipments(order: Int64?, status: String?, limit: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.shipments($0, order: order, status: status, limit: limit) }
    }

    public static func shipment(_ id: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.shipment($0, id: id) }
    }

    /// Pick lists, of one warehouse if given (NOT_FOUND when it does not exist).
    public static func pickLists(
        warehouse: CatalogReference?,
        status: String?,
        limit: Int
    ) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { connection in
            let warehouseID = try warehouse.map { try CatalogStore.warehouseID(connection, $0) }
            return try AdminQueries.pickLists(connection, warehouse: warehouseID, status: status, limit: limit)
        }
    }

    public static func putBacks(
        warehouse: CatalogReference?,
        order: Int64?,
        status: String?,
        limit: Int
    ) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { connection in
            let warehouseID = try warehouse.map { try CatalogStore.warehouseID(connection, $0) }
            return try AdminQueries.putBacks(
                connection,
                warehouse: warehouseID,
                order: order,
                status: status,
                limit: limit
            )
        }
    }

    public static func claims(order: Int64?, status: String?, limit: Int) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.claims($0, order: order, status: status, limit: limit) }
    }

    public static func returns(order: Int64?, status: String?, limit: Int) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.returns($0, order: order, status: status, id: nil, limit: limit) }
    }

    /// A return, then its lines, then its inspections.
    public static func returned(_ id: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.returned($0, id: id) }
    }

    public static func pickList(_ id: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.pickList($0, id: id) }
    }

    /// A SKU's inventory rows, of one warehouse if given; a SKU or warehouse that does not exist is
    /// NOT_FOUND, not an empty list.
    public static func stock(sku: CatalogReference, warehouse: CatalogReference?) -> DatabaseRead<[InventoryRow]> {
        DatabaseRead { connection in
            let skuID = try CatalogStore.skuID(connection, sku)
            let warehouseID = try warehouse.map { try CatalogStore.warehouseID(connection, $0) }
            return try InventoryStore(actor: "admin").rows(connection, sku: skuID).filter {
                warehouseID == nil || $0.warehouseID == warehouseID
            }
        }
    }

    public static func notifications(order: Int64?, status: String?, limit: Int) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.notifications($0, order: order, status: status, limit: limit) }
    }

    public static func jobStats() -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.jobStats($0) }
    }

    public static func workers() -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.workers($0) }
    }

    public static func jobs(state: String?, kind: String?, limit: Int64) -> DatabaseRead<[ReportRow]> {
        DatabaseRead { try AdminQueries.jobs($0, state: state, kind: kind, limit: limit) }
    }
}
