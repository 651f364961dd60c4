import LibPQ
public import OrderlyCore
import OrderlyStore

/// The outbox: customer messages and operations alerts, sent by the `notify` job.
public struct NotificationService: Sendable {
    public let database: OrderlyDatabase

    public init(database: OrderlyDatabase) {
        self.database = database
    }

    /// The notify job's work, in its transaction: the message, locked, is handed to `send` when it is
    /// still pending, and marked sent. When `send` fails on the job's last attempt (`attempt` of
    /// `maxAttempts`) the message is marked failed (visible, re-sendable) and `onGivingUp` hears why;
    /// earlier failures are thrown, for the job to retry. Returns whether it was sent.
    @discardableResult
    public func deliver(
        _ transaction: Transaction,
        notificationID id: Int64,
        attempt: Int,
        of maxAttempts: Int,
        send: (OutboxEntry) throws -> Void,
        onGivingUp: (any Error) -> Void = { _ in }
    ) throws -> Bool {
        let tx = transaction.connection
        guard let message = try OutboxStore.lock(tx, id: id), message.status == .pending else { return false }
        do {
            try send(message)
            try OutboxStore.markSent(tx, id: id)
            return true
        } catch  where attempt >= maxAttempts {
            onGivingUp(error)
            try OutboxStore.markFailed(tx, id: id, attempts: attempt, error: "\(error)")
            return false
        }
    }

    /// A low-stock alert to operations, once per (warehouse, SKU) and day, while the row is at or
    /// below its reorder point. Returns whether one was queued.
    @discardableResult
    public func alertLowStock(
        _ transaction: Transaction,
        warehouseID: Int64,
        skuID: Int64,
        recipient: String,
        channel: String
    ) throws -> Bool {
        try transaction.connection.execute(
            OutboxStore.lowStockAlert(warehouseID: warehouseID, skuID: skuID, recipient: recipient, channel: channel)
        ) == 1
    }

    /// The operations alert that an order's parcel from a warehouse missed its promised ship-by;
    /// false when it was written before or the parcel is picked by now.
    @discardableResult
    public func alertPromiseAtRisk(
        _ transaction: Transaction,
        orderID: Int64,
        warehouseID: Int64,
        recipient: String,
        channel: String
    ) throws -> Bool {
        try transaction.connection.execute(
            PromiseStore.atRiskAlert(orderID: orderID, warehouseID: warehouseID, recipient: recipient, channel: channel)
        ) == 1
    }

    /// Sends a failed notification again: pending, with a new notify job. Returns its status.
    public func resend(_ id: Int64, alongside: CommitAlongside<String>? = nil) async throws -> String {
        try await database.write(alongside: alongside) { try AdminQueries.resendNotification($0, id: id) }
    }
}
