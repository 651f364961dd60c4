import Foundation

/// One kind of job: its name, queue, arguments and uniqueness, defined once. Enqueueing (in Swift or in
/// a statement's SQL) and the worker's handler both read the definition, so a kind's name, queue and
/// argument shape cannot drift apart.
public protocol JobKind: Sendable {
    /// The arguments, stored as the job's `args` JSON object (snake_case keys).
    associatedtype Arguments: Codable, Sendable, Hashable
    /// `jobs.kind`.
    static var name: String { get }
    /// The queue workers claim it from.
    static var queue: String { get }
    /// Lower runs first; 100 unless a kind says otherwise.
    static var priority: Int { get }
    static var maxAttempts: Int { get }
    /// At most one pending job per key; nil for none.
    static func uniqueKey(_ arguments: Arguments) -> String?
}

extension JobKind {
    public static var priority: Int { 100 }
    public static var maxAttempts: Int { 20 }
    public static func uniqueKey(_ arguments: Arguments) -> String? { nil }

    /// The job's `args` text.
    public static func encode(_ arguments: Arguments) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Arguments are plain values (ids, strings): encoding them cannot fail.
        return (try? encoder.encode(arguments)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// A stored job's arguments, or the reason they are not this kind's.
    public static func decode(_ args: String) throws(JobArgumentsMismatch) -> Arguments {
        do {
            return try JSONDecoder().decode(Arguments.self, from: Data(args.utf8))
        } catch {
            throw JobArgumentsMismatch(kind: name, args: args, reason: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            (context.codingPath.last.map { $0.stringValue + ": " } ?? "") + context.debugDescription
        default: "\(error)"
        }
    }
}

/// A job whose `args` do not decode as its kind's arguments. The job fails (and is discarded once its
/// attempts are spent) instead of running with a guessed value.
public struct JobArgumentsMismatch: Error, Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var args: String
    public var reason: String

    public var description: String {
        "a \(kind) job's args are not what the kind needs (\(reason)): \(args.prefix(200))"
    }
}

/// A job kind that acts on one order: if it fails for good, the order is held (`fulfillment_failed`).
public protocol OrderFulfillmentJob: JobKind where Arguments: OrderJobArguments {}

/// Arguments that name the order a job acts on.
public protocol OrderJobArguments: Codable, Sendable, Hashable {
    var orderID: Int64 { get }
}

extension OrderFulfillmentJob {
    static func orderID(_ args: String) -> Int64? { try? decode(args).orderID }
}

/// The job kinds Orderly itself enqueues and runs, by the step they carry out.
public enum Jobs {
    /// Every kind Orderly defines.
    public static let all: [any JobKind.Type] = [
        Pick.self, PickBatch.self, Pack.self, Label.self, Capture.self, Ship.self, Reroute.self, CarrierNews.self,
        VoidPayment.self, RefundPayment.self, ReturnFraud.self, PaymentVerdictArrived.self, Notify.self, LowStock.self,
        PromiseAtRisk.self,
        RetryBackorders.self, ExpireReservations.self, WatchPromises.self, PruneJobs.self, PublishStock.self,
        Noop.self,
    ]

    /// The kinds that stop their order when they fail for good (it is held, `fulfillment_failed`).
    public static let orderFulfillment: [any OrderFulfillmentJob.Type] = [
        Pick.self, Pack.self, Label.self, Ship.self, Reroute.self,
    ]

    /// The order a job acts on, when its kind is one of `orderFulfillment` and its args are the kind's.
    public static func fulfillmentOrder(kind: String, args: String) -> Int64? {
        orderFulfillment.first { $0.name == kind }?.orderID(args)
    }

    /// An order and one of its shipments.
    public struct ShipmentArguments: OrderJobArguments {
        public var orderID: Int64
        public var shipmentID: Int64
        public init(orderID: Int64, shipmentID: Int64) {
            self.orderID = orderID
            self.shipmentID = shipmentID
        }
        enum CodingKeys: String, CodingKey {
            case orderID = "order_id"
            case shipmentID = "shipment_id"
        }
    }

    /// Turns an order's reservations at a warehouse into a shipment on pick lists.
    public enum Pick: OrderFulfillmentJob {
        public struct Arguments: OrderJobArguments {
            public var orderID: Int64
            public var warehouseID: Int64
            /// The routing decision whose reservations these are (several picks per order over time).
            public var decisionID: Int64?
            public init(orderID: Int64, warehouseID: Int64, decisionID: Int64?) {
                self.orderID = orderID
                self.warehouseID = warehouseID
                self.decisionID = decisionID
            }
            enum CodingKeys: String, CodingKey {
                case orderID = "order_id"
                case warehouseID = "warehouse_id"
                case decisionID = "decision_id"
            }
        }
        public static let name = "pick"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? {
            "pick:order:\(a.orderID):decision:\(a.decisionID.map(String.init) ?? "none"):warehouse:\(a.warehouseID)"
        }
    }

    /// Walks a batch warehouse's gathered pick list once its window closes.
    public enum PickBatch: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var pickListID: Int64
            public var warehouseID: Int64
            public init(pickListID: Int64, warehouseID: Int64) {
                self.pickListID = pickListID
                self.warehouseID = warehouseID
            }
            enum CodingKeys: String, CodingKey {
                case pickListID = "pick_list_id"
                case warehouseID = "warehouse_id"
            }
        }
        public static let name = "pick_batch"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? { "pick_batch:list:\(a.pickListID)" }
    }

    public enum Pack: OrderFulfillmentJob {
        public typealias Arguments = ShipmentArguments
        public static let name = "pack"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? { "pack:shipment:\(a.shipmentID)" }
    }

    public enum Label: OrderFulfillmentJob {
        public typealias Arguments = ShipmentArguments
        public static let name = "label"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? { "label:shipment:\(a.shipmentID)" }
    }

    public enum Ship: OrderFulfillmentJob {
        public typealias Arguments = ShipmentArguments
        public static let name = "ship"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? { "ship:shipment:\(a.shipmentID)" }
    }

    /// Captures a labelled parcel's share of the order through the payment gateway, then enqueues its
    /// `ship`. Fails (to be retried with backoff) while the provider declines or does not answer; when
    /// it fails for good the order is held `payment_failed` and operations are alerted. Not one of
    /// `orderFulfillment`: its failure is about money, not the warehouse.
    public enum Capture: JobKind {
        public typealias Arguments = ShipmentArguments
        public static let name = "capture"
        public static let queue = "payments"
        public static let maxAttempts = 5
        public static func uniqueKey(_ a: Arguments) -> String? { "capture:shipment:\(a.shipmentID)" }
    }

    /// Voids what an authorization still covers of a cancelled order.
    public enum VoidPayment: JobKind {
        public struct Arguments: OrderJobArguments {
            public var orderID: Int64
            public init(orderID: Int64) { self.orderID = orderID }
            enum CodingKeys: String, CodingKey { case orderID = "order_id" }
        }
        public static let name = "void_payment"
        public static let queue = "payments"
        public static func uniqueKey(_ a: Arguments) -> String? { "void:order:\(a.orderID)" }
    }

    /// Returns money an order collected beyond what it now owes (units cancelled after the payment was
    /// captured), through the refund primitive. The amount is fixed when the cause commits, and the
    /// key is the cause's, so a rerun asks the provider again with the same key and never twice.
    public enum RefundPayment: JobKind {
        public struct Arguments: OrderJobArguments {
            public var orderID: Int64
            public var amountMinor: Int64
            public var key: String
            public var reason: String
            public init(orderID: Int64, amountMinor: Int64, key: String, reason: String) {
                self.orderID = orderID
                self.amountMinor = amountMinor
                self.key = key
                self.reason = reason
            }
            enum CodingKeys: String, CodingKey {
                case orderID = "order_id"
                case amountMinor = "amount_minor"
                case key, reason
            }
        }
        public static let name = "refund_payment"
        public static let queue = "payments"
        public static func uniqueKey(_ a: Arguments) -> String? { "refund:order:\(a.orderID):\(a.key)" }
    }

    /// Operations alerted: a return's serials did not match what left (the return is in fraud review).
    public enum ReturnFraud: JobKind {
        public struct Arguments: OrderJobArguments {
            public var orderID: Int64
            public var returnID: Int64
            public init(orderID: Int64, returnID: Int64) {
                self.orderID = orderID
                self.returnID = returnID
            }
            enum CodingKeys: String, CodingKey {
                case orderID = "order_id"
                case returnID = "return_id"
            }
        }
        public static let name = "return_fraud"
        public static let queue = "alerts"
        public static func uniqueKey(_ a: Arguments) -> String? { "return_fraud:return:\(a.returnID)" }
    }

    /// A payment provider's webhook, as the ingest that received it enqueues it: the verdict recorded
    /// as `PAYMENT RECORD` would (idempotent on provider + reference + status, so a webhook delivered
    /// twice changes nothing).
    public enum PaymentVerdictArrived: JobKind {
        public struct Arguments: OrderJobArguments {
            public var orderID: Int64
            public var status: String
            public var provider: String
            public var reference: String
            public var amountMinor: Int64?
            public var note: String?
            public init(
                orderID: Int64,
                status: String,
                provider: String,
                reference: String,
                amountMinor: Int64? = nil,
                note: String? = nil
            ) {
                self.orderID = orderID
                self.status = status
                self.provider = provider
                self.reference = reference
                self.amountMinor = amountMinor
                self.note = note
            }
            enum CodingKeys: String, CodingKey {
                case orderID = "order_id"
                case status, provider, reference
                case amountMinor = "amount_minor"
                case note
            }
        }
        public static let name = "payment_verdict"
        public static let queue = "payments"
        public static func uniqueKey(_ a: Arguments) -> String? {
            "payment_verdict:\(a.provider):\(a.reference):\(a.status)"
        }
    }

    /// Units short at packing go back to routing: reserved elsewhere or backordered.
    public enum Reroute: OrderFulfillmentJob {
        public typealias Arguments = ShipmentArguments
        public static let name = "reroute"
        public static let queue = "fulfillment"
        public static func uniqueKey(_ a: Arguments) -> String? { "reroute:order:\(a.orderID)" }
    }

    /// A carrier's news about a shipped parcel, as a webhook enqueues it.
    public enum CarrierNews: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var shipmentID: Int64
            public var event: CarrierEvent
            public var note: String?
            public init(shipmentID: Int64, event: CarrierEvent, note: String?) {
                self.shipmentID = shipmentID
                self.event = event
                self.note = note
            }
            enum CodingKeys: String, CodingKey {
                case shipmentID = "shipment_id"
                case event, note
            }
        }
        public static let name = "carrier_event"
        public static let queue = "fulfillment"
    }

    /// Sends one outbox notification.
    public enum Notify: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var notificationID: Int64
            /// Its order, when it has one (the order's timeline lists the job).
            public var orderID: Int64?
            public init(notificationID: Int64, orderID: Int64?) {
                self.notificationID = notificationID
                self.orderID = orderID
            }
            enum CodingKeys: String, CodingKey {
                case notificationID = "notification_id"
                case orderID = "order_id"
            }
        }
        public static let name = "notify"
        public static let queue = "notifications"
        public static let maxAttempts = 10
        public static func uniqueKey(_ a: Arguments) -> String? { "notify:\(a.notificationID)" }
    }

    /// An inventory row fell to its reorder point: operations are told.
    public enum LowStock: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var warehouseID: Int64
            public var skuID: Int64
            public init(warehouseID: Int64, skuID: Int64) {
                self.warehouseID = warehouseID
                self.skuID = skuID
            }
            enum CodingKeys: String, CodingKey {
                case warehouseID = "warehouse_id"
                case skuID = "sku_id"
            }
        }
        public static let name = "low_stock"
        public static let queue = "alerts"
        public static func uniqueKey(_ a: Arguments) -> String? { "low_stock:\(a.warehouseID):\(a.skuID)" }
    }

    /// A parcel was not picked by its promised ship-by: operations are alerted (once per order and
    /// warehouse; the sweep that marks the promise enqueues it).
    public enum PromiseAtRisk: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var orderID: Int64
            public var warehouseID: Int64
            public init(orderID: Int64, warehouseID: Int64) {
                self.orderID = orderID
                self.warehouseID = warehouseID
            }
            enum CodingKeys: String, CodingKey {
                case orderID = "order_id"
                case warehouseID = "warehouse_id"
            }
        }
        public static let name = "promise_at_risk"
        public static let queue = "alerts"
        public static func uniqueKey(_ a: Arguments) -> String? {
            "promise_at_risk:order:\(a.orderID):warehouse:\(a.warehouseID)"
        }
    }

    /// Sweep: promises whose ship-by passed with the parcel not picked are marked at risk, each once,
    /// with a `promise_at_risk` alert.
    public enum WatchPromises: JobKind {
        public typealias Arguments = None
        public static let name = "watch_promises"
        public static let queue = "maintenance"
        public static let priority = 200
        public static let maxAttempts = 3
        public static func uniqueKey(_ a: None) -> String? { "sweep:\(name)" }
    }

    /// Sweep: every connected channel's stock feed, where its availability moved enough to tell it.
    public enum PublishStock: JobKind {
        public typealias Arguments = None
        public static let name = "publish_stock"
        public static let queue = "maintenance"
        public static let priority = 200
        public static let maxAttempts = 3
        public static func uniqueKey(_ a: None) -> String? { "sweep:\(name)" }
    }

    /// Stock arrived for a SKU (or, as a sweep, for any): backordered units are reserved, oldest order first.
    public enum RetryBackorders: JobKind {
        public struct Arguments: Codable, Sendable, Hashable {
            public var skuID: Int64?
            public init(skuID: Int64?) { self.skuID = skuID }
            enum CodingKeys: String, CodingKey { case skuID = "sku_id" }
        }
        public static let name = "retry_backorders"
        public static let queue = "fulfillment"
        /// One pending per SKU; the sweep (no SKU) is unique as a sweep.
        public static func uniqueKey(_ a: Arguments) -> String? { a.skuID.map { "retry_backorders:sku:\($0)" } }
    }

    /// No arguments.
    public struct None: Codable, Sendable, Hashable {
        public init() {}
    }

    /// Sweep: unpaid reservations past their time are released.
    public enum ExpireReservations: JobKind {
        public typealias Arguments = None
        public static let name = "expire_reservations"
        public static let queue = "maintenance"
        public static let priority = 200
        public static let maxAttempts = 3
        public static func uniqueKey(_ a: None) -> String? { "sweep:\(name)" }
    }

    /// Sweep: finished jobs past their retention are deleted.
    public enum PruneJobs: JobKind {
        public typealias Arguments = None
        public static let name = "prune_jobs"
        public static let queue = "maintenance"
        public static let priority = 200
        public static let maxAttempts = 3
        public static func uniqueKey(_ a: None) -> String? { "sweep:\(name)" }
    }

    /// Sweep: the analytics schema's materialized views refreshed, each concurrently, once the
    /// stalest is older than the worker's `--analytics-refresh-seconds`.
    public enum RefreshAnalytics: JobKind {
        public typealias Arguments = None
        public static let name = "refresh_analytics"
        public static let queue = "maintenance"
        public static let priority = 200
        public static let maxAttempts = 3
        public static func uniqueKey(_ a: None) -> String? { "sweep:\(name)" }
    }

    /// Does nothing: what `orderly bench jobs` drains.
    public enum Noop: JobKind {
        public typealias Arguments = None
        public static let name = "noop"
        public static let queue = "bench"
    }
}
