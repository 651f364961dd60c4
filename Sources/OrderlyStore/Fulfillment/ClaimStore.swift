public import LibPQ
public import OrderlyCore

/// The SQL of claims on parcels that went wrong (sql/migrations/0017). A claim is read and changed
/// under its order's lock, taken first as everywhere.
extension FulfillmentStore {
    /// Opens the parcel's claim, or, if one is open (a delayed parcel now lost), makes it this kind.
    /// Row: the claim's id.
    public func openClaim(orderID: Int64, shipmentID: Int64, kind: ClaimKind, note: String?) -> PostgresQuery<Int64> {
        .scalar(
            """
            INSERT INTO claims (order_id, shipment_id, kind, note, opened_by)
            VALUES (\(orderID), \(shipmentID), \(kind), \(note), \(actor))
            ON CONFLICT (shipment_id) WHERE status = 'open' DO UPDATE SET kind = EXCLUDED.kind
            RETURNING id
            """
        )
    }

    /// The order a claim belongs to; nil when there is no such claim.
    public func claimOrder(_ claimID: Int64) -> PostgresQuery<Int64?> {
        .first("SELECT order_id FROM claims WHERE id = \(claimID)") { try $0.decode(Int64.self, at: 0) }
    }

    /// The claim, locked (take its order's lock first).
    public func claim(_ claimID: Int64) -> PostgresQuery<ClaimRecord?> {
        .first("SELECT id, order_id, shipment_id, kind, status FROM claims WHERE id = \(claimID) FOR UPDATE") { row in
            ClaimRecord(
                id: try row.decode(Int64.self, at: 0),
                orderID: try row.decode(Int64.self, at: 1),
                shipmentID: try row.decode(Int64.self, at: 2),
                kind: try row.decode(ClaimKind.self, at: 3),
                status: try row.decode(ClaimStatus.self, at: 4)
            )
        }
    }

    /// The open claim on a parcel, if any (its order locked).
    public func openClaim(shipmentID: Int64) -> PostgresQuery<Int64?> {
        .first("SELECT id FROM claims WHERE shipment_id = \(shipmentID) AND status = 'open'") {
            try $0.decode(Int64.self, at: 0)
        }
    }

    /// Open claims of the order other than `except`.
    public func otherOpenClaims(orderID: Int64, except claimID: Int64) -> PostgresQuery<Int64> {
        .scalar("SELECT count(*) FROM claims WHERE order_id = \(orderID) AND status = 'open' AND id <> \(claimID)")
    }

    /// A claim resolved: how, how many units, what it refunds, by whom.
    public func resolveClaim(
        _ claimID: Int64,
        _ resolution: ClaimResolution,
        units: Int64,
        refundMinor: Int64,
        note: String?
    ) -> PostgresStatement {
        """
        UPDATE claims SET status = 'resolved', resolution = \(resolution), units = \(units)::int4,
            refund_minor = \(refundMinor), note = coalesce(\(note), note), resolved_by = \(actor), resolved_at = orderly_now()
        WHERE id = \(claimID) AND status = 'open'
        """
    }

    /// The parcel's units leave the order's shipped count: sent again (open once more, for routing)
    /// or refunded (cancelled too, with the order's released share of the total). The parcel is given
    /// up if it was only delayed.
    public func takeBack(
        orderID: Int64,
        shipmentID: Int64,
        units: [(orderLineID: Int64, units: Int64)],
        cancel: Bool,
        cancelledMinor: Int64
    ) -> PostgresStatement {
        """
        WITH line AS (
            UPDATE order_lines l SET quantity_shipped = l.quantity_shipped - u.units,
                quantity_cancelled = l.quantity_cancelled + CASE WHEN \(same: cancel)::bool THEN u.units ELSE 0 END
            FROM unnest(\(units.map(\.orderLineID))::int8[], \(units.map(\.units))::int8[]) AS u(id, units)
            WHERE l.id = u.id AND l.order_id = \(same: orderID)
        ), ord AS (
            UPDATE orders SET cancelled_minor = \(cancelledMinor), updated_at = orderly_now() WHERE id = \(same: orderID)
        )
        UPDATE shipments SET status = 'lost', updated_at = orderly_now() WHERE id = \(shipmentID) AND status = 'delayed'
        """
    }

    /// Statuses of the order's parcels other than `except`, not cancelled.
    public func parcelStatuses(orderID: Int64, except shipmentID: Int64) -> PostgresQuery<[ShipmentStatus]> {
        .rows(
            """
            SELECT status FROM shipments WHERE order_id = \(orderID) AND id <> \(shipmentID) AND status <> 'cancelled'
            ORDER BY id
            """
        ) { try $0.decode(ShipmentStatus.self, at: 0) }
    }

    /// The same, for the parcel a claim is on.
    public func parcelStatusesOfOthers(claimID: Int64) -> PostgresQuery<[ShipmentStatus]> {
        .rows(
            """
            SELECT s.status FROM shipments s JOIN claims c ON c.order_id = s.order_id AND s.id <> c.shipment_id
            WHERE c.id = \(claimID) AND s.status <> 'cancelled' ORDER BY s.id
            """
        ) { try $0.decode(ShipmentStatus.self, at: 0) }
    }

    /// A shipment's status now.
    public func shipmentStatus(_ shipmentID: Int64) -> PostgresQuery<String> {
        .scalar("SELECT status FROM shipments WHERE id = \(shipmentID)")
    }
}
