import Foundation
import LibPQ
import Logging
import Orderly
import OrderlyCore
import OrderlyStore

/// A job kind whose effects are committed by the work itself, in as many transactions as it needs
/// (sweeps over many orders, a reservation with its own retries). The job is completed afterwards, so
/// a crash in between runs it again: it must be idempotent (every Orderly service it calls is: it
/// acts on what is still open).
public protocol IdempotentJobHandler: Sendable {
    var kind: String { get }
    func perform(_ job: ClaimedJob) async throws
}

/// A transactional handler from a closure.
public struct TransactionalJob: JobHandler {
    public let kind: String
    public let batchable: Bool
    let body: @Sendable (ClaimedJob, JobArguments, PostgresConnection) throws -> Void

    public init(
        _ kind: String,
        batchable: Bool = false,
        _ body: @escaping @Sendable (ClaimedJob, JobArguments, PostgresConnection) throws -> Void
    ) {
        self.kind = kind
        self.batchable = batchable
        self.body = body
    }

    public func perform(_ job: ClaimedJob, in transaction: PostgresConnection) throws {
        try body(job, try JobArguments(job), transaction)
    }
}

/// An idempotent handler from a closure.
public struct IdempotentJob: IdempotentJobHandler {
    public let kind: String
    let body: @Sendable (ClaimedJob, JobArguments) async throws -> Void

    public init(_ kind: String, _ body: @escaping @Sendable (ClaimedJob, JobArguments) async throws -> Void) {
        self.kind = kind
        self.body = body
    }

    public func perform(_ job: ClaimedJob) async throws { try await body(job, try JobArguments(job)) }
}

/// The ids a job's `args` carry; `require` names a missing one.
public struct JobArguments: Decodable, Sendable {
    public var orderID: Int64?
    public var warehouseID: Int64?
    public var shipmentID: Int64?
    public var pickListID: Int64?
    public var notificationID: Int64?
    public var skuID: Int64?
    public var event: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case warehouseID = "warehouse_id"
        case shipmentID = "shipment_id"
        case pickListID = "pick_list_id"
        case notificationID = "notification_id"
        case skuID = "sku_id"
        case event, note
    }

    init(_ job: ClaimedJob) throws {
        do {
            self = try JSONDecoder().decode(JobArguments.self, from: Data(job.args.utf8))
        } catch {
            throw WorkerError(
                "job \(job.id) (\(job.kind)): its args are not what the kind needs: \(job.args.prefix(200))"
            )
        }
    }

    public func require(_ value: Int64?, _ name: String) throws -> Int64 {
        guard let value else { throw WorkerError("the job's args lack \(name)") }
        return value
    }
}

/// How long finished jobs are kept before the `prune_jobs` sweep deletes them.
public struct JobRetention: Sendable {
    public var completedSeconds: Double
    public var discardedSeconds: Double

    public init(completedSeconds: Double = 86_400, discardedSeconds: Double = 7 * 86_400) {
        self.completedSeconds = completedSeconds
        self.discardedSeconds = discardedSeconds
    }
}

/// Where operations alerts (low stock) go.
public struct AlertRoute: Sendable {
    public var recipient: String
    /// A `notifications.channel`: email, sms, webhook or log.
    public var channel: String

    public init(recipient: String = "operations", channel: String = "log") {
        self.recipient = recipient
        self.channel = channel
    }
}

extension StandardJobs {
    /// The fulfillment job kinds whose failure for good stops an order.
    public static let fulfillmentKinds: Set<String> = ["pick", "pack", "label", "ship", "reroute"]

    /// Holds the order of a fulfillment job discarded for good (`fulfillment_failed`), so it is seen
    /// (ORDER LIST status=on_hold, ORDER SHOW's waiting_for) instead of stuck mid-fulfillment.
    public static func onDiscard(orders: OrderService) -> DiscardHook {
        { job, error, tx in
            guard fulfillmentKinds.contains(job.kind), let orderID = try JobArguments(job).orderID else { return }
            try orders.holdForFailedFulfillment(
                tx,
                orderID: orderID,
                note: "\(job.kind) job \(job.id) failed \(job.attempt) times: \(error)"
            )
        }
    }
}

/// The handlers `orderly worker` runs: fulfillment (pick, pick_batch, pack, label, ship,
/// carrier_event, reroute), the outbox (notify), alerts (low_stock), sweeps (expire_reservations,
/// retry_backorders, prune_jobs) and `noop` (benchmarks).
public enum StandardJobs {
    public static func handlers(
        orders: OrderService,
        fulfillment: FulfillmentService,
        notifier: any Notifier,
        alerts: AlertRoute = AlertRoute(),
        retention: JobRetention = JobRetention(),
        sweepLimit: Int = 200,
        logger: Logger
    ) -> (transactional: [any JobHandler], idempotent: [any IdempotentJobHandler]) {
        let transactional: [any JobHandler] = [
            TransactionalJob("pick") { _, args, tx in
                try fulfillment.pick(
                    tx,
                    orderID: try args.require(args.orderID, "order_id"),
                    warehouseID: try args.require(args.warehouseID, "warehouse_id")
                )
            },
            TransactionalJob("pick_batch") { _, args, tx in
                try fulfillment.walkBatch(tx, listID: try args.require(args.pickListID, "pick_list_id"))
            },
            TransactionalJob("pack") { _, args, tx in
                try fulfillment.pack(
                    tx,
                    orderID: try args.require(args.orderID, "order_id"),
                    shipmentID: try args.require(args.shipmentID, "shipment_id")
                )
            },
            TransactionalJob("label") { _, args, tx in
                try fulfillment.label(
                    tx,
                    orderID: try args.require(args.orderID, "order_id"),
                    shipmentID: try args.require(args.shipmentID, "shipment_id")
                )
            },
            TransactionalJob("ship") { _, args, tx in
                try fulfillment.ship(
                    tx,
                    orderID: try args.require(args.orderID, "order_id"),
                    shipmentID: try args.require(args.shipmentID, "shipment_id")
                )
            },
            TransactionalJob("carrier_event") { _, args, tx in
                guard let event = args.event.flatMap(CarrierEvent.init(rawValue:)) else {
                    throw WorkerError("carrier_event needs event delivered, delayed or lost")
                }
                try fulfillment.carrierEvent(
                    tx,
                    shipmentID: try args.require(args.shipmentID, "shipment_id"),
                    event: event,
                    note: args.note
                )
            },
            TransactionalJob("notify") { job, args, tx in
                let id = try args.require(args.notificationID, "notification_id")
                guard let message = try OutboxStore.lock(tx, id: id), message.status == .pending else { return }
                do {
                    try notifier.send(message)
                    try OutboxStore.markSent(tx, id: id)
                } catch  where job.attempt >= job.maxAttempts {
                    // The last attempt: the message is marked failed (visible, re-sendable by an admin).
                    logger.warning(
                        "notification failed for good",
                        metadata: ["notification": "\(id)", "error": "\(error)"]
                    )
                    try OutboxStore.markFailed(tx, id: id, attempts: job.attempt, error: "\(error)")
                }
            },
            TransactionalJob("low_stock") { _, args, tx in
                try tx.execute(
                    OutboxStore.lowStockAlert(
                        warehouseID: try args.require(args.warehouseID, "warehouse_id"),
                        skuID: try args.require(args.skuID, "sku_id"),
                        recipient: alerts.recipient,
                        channel: alerts.channel
                    )
                )
            },
            TransactionalJob("noop", batchable: true) { _, _, _ in },
        ]
        let idempotent: [any IdempotentJobHandler] = [
            IdempotentJob("reroute") { _, args in
                let orderID = try args.require(args.orderID, "order_id")
                do {
                    _ = try await orders.reserve(orderID: orderID)
                } catch is IllegalTransition {
                    // Cancelled, held or delivered meanwhile: nothing to route.
                }
            },
            IdempotentJob("retry_backorders") { _, args in
                try await retryBackorders(
                    orders: orders,
                    fulfillment: fulfillment,
                    skuID: args.skuID,
                    limit: sweepLimit,
                    logger: logger
                )
            },
            IdempotentJob("expire_reservations") { _, _ in
                _ = try await orders.expireUnpaidReservations(limit: sweepLimit)
            },
            IdempotentJob("prune_jobs") { _, _ in
                // In slices of 10,000, each its own statement, so no long transaction holds the table.
                while try await fulfillment.pruneJobs(retention.completedSeconds, retention.discardedSeconds) == 10_000
                {}
            },
        ]
        return (transactional, idempotent)
    }

    /// Reserves what arrived for backordered orders, oldest first. One order's failure is logged and
    /// does not stop the others.
    static func retryBackorders(
        orders: OrderService,
        fulfillment: FulfillmentService,
        skuID: Int64?,
        limit: Int,
        logger: Logger
    ) async throws {
        let waiting = try await fulfillment.fillableBackorders(skuID: skuID, limit: limit)
        for orderID in waiting {
            do {
                _ = try await orders.reserve(orderID: orderID)
            } catch is IllegalTransition {
            } catch {
                logger.warning("backorder retry failed", metadata: ["order": "\(orderID)", "error": "\(error)"])
            }
        }
    }

    /// The sweeps every worker schedules (one pending job each across all workers: the unique key).
    public static let sweeps: [(kind: String, queue: String)] = [
        ("expire_reservations", "maintenance"), ("retry_backorders", "maintenance"), ("prune_jobs", "maintenance"),
    ]
}
