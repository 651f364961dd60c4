import Foundation
public import Logging
public import Orderly
public import OrderlyCore

/// A job kind whose effects are committed by the work itself, in as many transactions as it needs
/// (sweeps over many orders, a reservation with its own retries). The job is completed afterwards, so
/// a crash in between runs it again: it must be idempotent (every Orderly service it calls is: it
/// acts on what is still open).
public protocol IdempotentJobHandler: Sendable {
    var kind: String { get }
    func perform(_ job: ClaimedJob) async throws
}

/// The transactional handler of a job kind, handed the job's decoded arguments. Arguments that do
/// not decode as the kind's fail the job (`JobArgumentsMismatch`), to be retried and then discarded.
public struct TransactionalJob: JobHandler {
    public let kind: String
    public let batchable: Bool
    let body: @Sendable (ClaimedJob, Transaction) throws -> Void

    public init<Kind: JobKind>(
        _ kind: Kind.Type,
        batchable: Bool = false,
        _ body: @escaping @Sendable (Kind.Arguments, ClaimedJob, Transaction) throws -> Void
    ) {
        self.kind = Kind.name
        self.batchable = batchable
        self.body = { job, tx in try body(try Kind.decode(job.args), job, tx) }
    }

    public func perform(_ job: ClaimedJob, in transaction: Transaction) throws {
        try body(job, transaction)
    }
}

/// The idempotent handler of a job kind, handed the job's decoded arguments.
public struct IdempotentJob: IdempotentJobHandler {
    public let kind: String
    let body: @Sendable (ClaimedJob) async throws -> Void

    public init<Kind: JobKind>(
        _ kind: Kind.Type,
        _ body: @escaping @Sendable (Kind.Arguments, ClaimedJob) async throws -> Void
    ) {
        self.kind = Kind.name
        self.body = { job in try await body(try Kind.decode(job.args), job) }
    }

    public func perform(_ job: ClaimedJob) async throws { try await body(job) }
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
    /// Holds the order of a fulfillment job discarded for good (`fulfillment_failed`), so it is seen
    /// (ORDER LIST status=on_hold, ORDER SHOW's waiting_for) instead of stuck mid-fulfillment; a
    /// parcel's capture discarded holds it `payment_failed`, its intent failed, and alerts operations.
    public static func onDiscard(orders: OrderService, alerts: AlertRoute = AlertRoute()) -> DiscardHook {
        let payments = PaymentService(database: orders.database, actor: orders.actor, components: orders.components)
        return { job, error, tx in
            if job.kind == Jobs.Capture.name, let args = try? Jobs.Capture.decode(job.args) {
                try payments.captureFailedForGood(
                    tx,
                    orderID: args.orderID,
                    shipmentID: args.shipmentID,
                    error: "\(error) (after \(job.attempt) attempts)",
                    alert: (alerts.recipient, alerts.channel)
                )
                return
            }
            guard let orderID = Jobs.fulfillmentOrder(kind: job.kind, args: job.args) else { return }
            try orders.holdForFailedFulfillment(
                tx,
                orderID: orderID,
                note: "\(job.kind) job \(job.id) failed \(job.attempt) times: \(error)"
            )
        }
    }
}

/// The handlers `orderly worker` runs: fulfillment (pick, pick_batch, pack, label, ship,
/// carrier_event, reroute), payments (capture, void_payment, payment_verdict), the outbox (notify), alerts
/// (low_stock, promise_at_risk), sweeps (expire_reservations, retry_backorders, watch_promises, prune_jobs) and
/// `noop` (benchmarks).
public enum StandardJobs {
    public static func handlers(
        orders: OrderService,
        fulfillment: FulfillmentService,
        notifier: any Notifier,
        alerts: AlertRoute = AlertRoute(),
        retention: JobRetention = JobRetention(),
        analyticsRefreshSeconds: Double = 900,
        sweepLimit: Int = 200,
        logger: Logger
    ) -> (transactional: [any JobHandler], idempotent: [any IdempotentJobHandler]) {
        let notifications = NotificationService(database: fulfillment.database)
        let returns = ReturnService(
            database: fulfillment.database,
            actor: fulfillment.actor,
            components: fulfillment.components
        )
        let payments = PaymentService(
            database: fulfillment.database,
            actor: fulfillment.actor,
            components: fulfillment.components
        )
        let jobs = JobService(database: fulfillment.database)
        let channels = ChannelIngest(
            database: fulfillment.database,
            actor: fulfillment.actor,
            components: fulfillment.components
        )
        let analytics = AnalyticsService(database: fulfillment.database)
        let transactional: [any JobHandler] = [
            TransactionalJob(Jobs.Pick.self) { args, _, tx in
                try fulfillment.pick(tx, orderID: args.orderID, warehouseID: args.warehouseID)
            },
            TransactionalJob(Jobs.PickBatch.self) { args, _, tx in
                try fulfillment.walkBatch(tx, listID: args.pickListID)
            },
            TransactionalJob(Jobs.Pack.self) { args, _, tx in
                try fulfillment.pack(tx, orderID: args.orderID, shipmentID: args.shipmentID)
            },
            TransactionalJob(Jobs.Label.self) { args, _, tx in
                try fulfillment.label(tx, orderID: args.orderID, shipmentID: args.shipmentID)
            },
            TransactionalJob(Jobs.Ship.self) { args, _, tx in
                try fulfillment.ship(tx, orderID: args.orderID, shipmentID: args.shipmentID)
            },
            TransactionalJob(Jobs.CarrierNews.self) { args, _, tx in
                try fulfillment.carrierEvent(tx, shipmentID: args.shipmentID, event: args.event, note: args.note)
            },
            TransactionalJob(Jobs.Notify.self) { args, job, tx in
                let id = args.notificationID
                // On the last attempt a failure marks the message failed (visible, re-sendable by an admin).
                try notifications.deliver(
                    tx,
                    notificationID: id,
                    attempt: job.attempt,
                    of: job.maxAttempts,
                    send: notifier.send
                ) { error in
                    logger.warning(
                        "notification failed for good",
                        metadata: ["notification": "\(id)", "error": "\(error)"]
                    )
                }
            },
            TransactionalJob(Jobs.LowStock.self) { args, _, tx in
                try notifications.alertLowStock(
                    tx,
                    warehouseID: args.warehouseID,
                    skuID: args.skuID,
                    recipient: alerts.recipient,
                    channel: alerts.channel
                )
            },
            TransactionalJob(Jobs.PromiseAtRisk.self) { args, _, tx in
                try notifications.alertPromiseAtRisk(
                    tx,
                    orderID: args.orderID,
                    warehouseID: args.warehouseID,
                    recipient: alerts.recipient,
                    channel: alerts.channel
                )
            },
            TransactionalJob(Jobs.ReturnFraud.self) { args, _, tx in
                try returns.alertFraud(
                    tx,
                    returnID: args.returnID,
                    recipient: alerts.recipient,
                    channel: alerts.channel
                )
            },
            TransactionalJob(Jobs.Noop.self, batchable: true) { _, _, _ in },
        ]
        let idempotent: [any IdempotentJobHandler] = [
            IdempotentJob(Jobs.Capture.self) { args, job in
                try await payments.captureParcel(
                    orderID: args.orderID,
                    shipmentID: args.shipmentID,
                    attempt: job.attempt
                )
            },
            IdempotentJob(Jobs.VoidPayment.self) { args, job in
                try await payments.voidRemainder(orderID: args.orderID, attempt: job.attempt)
            },
            IdempotentJob(Jobs.RefundPayment.self) { args, job in
                try await payments.refund(
                    args.orderID,
                    amountMinor: args.amountMinor,
                    key: args.key,
                    reason: args.reason,
                    attempt: job.attempt
                )
            },
            IdempotentJob(Jobs.PaymentVerdictArrived.self) { args, _ in
                guard let status = PaymentStatus(rawValue: args.status), PaymentStatus.stated.contains(status) else {
                    throw OrderlyError(
                        .badArgument,
                        "a webhook's payment status '\(args.status)' is not one a provider states"
                    )
                }
                try await payments.record(
                    args.orderID,
                    verdict: PaymentVerdict(status: status, provider: args.provider, reference: args.reference),
                    amountMinor: args.amountMinor,
                    note: args.note
                )
            },
            IdempotentJob(Jobs.Reroute.self) { args, _ in
                do {
                    _ = try await orders.reserve(orderID: args.orderID)
                } catch is IllegalTransition {
                    // Cancelled, held or delivered meanwhile: nothing to route.
                }
            },
            IdempotentJob(Jobs.RetryBackorders.self) { args, _ in
                try await retryBackorders(
                    orders: orders,
                    fulfillment: fulfillment,
                    skuID: args.skuID,
                    limit: sweepLimit,
                    logger: logger
                )
            },
            IdempotentJob(Jobs.ExpireReservations.self) { _, _ in
                _ = try await orders.expireUnpaidReservations(limit: sweepLimit)
            },
            IdempotentJob(Jobs.WatchPromises.self) { _, _ in
                _ = try await orders.watchPromises(limit: sweepLimit)
            },
            IdempotentJob(Jobs.PublishStock.self) { _, _ in
                try await channels.publishStock()
            },
            IdempotentJob(Jobs.RefreshAnalytics.self) { _, _ in
                // Zero turns refreshing off; the views then hold what the last refresh saw.
                guard analyticsRefreshSeconds > 0 else { return }
                _ = try await analytics.refreshIfDue(maxAgeSeconds: analyticsRefreshSeconds)
            },
            IdempotentJob(Jobs.PruneJobs.self) { _, _ in
                // In slices of 10,000, each its own statement, so no long transaction holds the table.
                while try await jobs.prune(
                    completedSeconds: retention.completedSeconds,
                    discardedSeconds: retention.discardedSeconds
                ) == 10_000 {}
                // Workers stopped or dead for a day are history no one reads.
                try await jobs.pruneWorkers(olderThanSeconds: 86_400)
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

    /// The sweeps every worker schedules, on the `maintenance` queue (one pending job each across all
    /// workers: the unique key `sweep:<kind>`).
    public static let sweeps: [NewJob] = [
        NewJob(Jobs.ExpireReservations.self, .init()).asSweep,
        NewJob(Jobs.RetryBackorders.self, .init(skuID: nil)).asSweep,
        NewJob(Jobs.WatchPromises.self, .init()).asSweep,
        NewJob(Jobs.PublishStock.self, .init()).asSweep,
        NewJob(Jobs.PruneJobs.self, .init()).asSweep,
        NewJob(Jobs.RefreshAnalytics.self, .init()).asSweep,
    ]
}

extension NewJob {
    /// The job as a sweep: on `maintenance`, after other work (priority 200), at most one pending
    /// across workers (`sweep:<kind>`), 3 attempts (the next sweep comes anyway).
    var asSweep: NewJob {
        var sweep = self
        sweep.queue = "maintenance"
        sweep.priority = 200
        sweep.uniqueKey = "sweep:\(kind)"
        sweep.maxAttempts = 3
        return sweep
    }
}
