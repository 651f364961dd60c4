import Foundation
import OrderlyCore

/// The routing decision as stored in `routing_decisions`: candidates with their scores, and the plan.
enum DecisionJSON {
    static func candidates(_ plan: RoutingPlan?, input: RoutingInput) -> String {
        let candidates = plan?.candidates ?? input.candidates
        return encode(
            candidates.map { candidate -> [String: Any] in
                var object: [String: Any] = [
                    "warehouse_id": candidate.warehouseID,
                    "code": candidate.code,
                    "can_ship_whole": candidate.canShipWhole,
                    "distance_km": (candidate.distanceKilometers * 10).rounded() / 10,
                ]
                if let excluded = candidate.excludedBecause { object["excluded_because"] = excluded }
                if let cost = candidate.wholeOrderCostMinor { object["whole_order_cost_minor"] = cost }
                return object
            }
        )
    }

    static func plan(_ plan: RoutingPlan?, shortage: [Int64: Int64]) -> String {
        var object: [String: Any] = [
            "shipments": (plan?.shipments ?? []).map { shipment -> [String: Any] in
                var object: [String: Any] = [
                    "warehouse_id": shipment.warehouseID,
                    "units": Dictionary(uniqueKeysWithValues: shipment.units.map { (String($0.key), $0.value) }),
                    "weight_grams": shipment.weightGrams,
                    "distance_km": (shipment.distanceKilometers * 10).rounded() / 10,
                ]
                if let rate = shipment.rate {
                    object["carrier"] = rate.carrier
                    object["service"] = rate.service
                    object["cost_minor"] = rate.priceMinor
                }
                return object
            }
        ]
        if !shortage.isEmpty {
            object["shortage"] = Dictionary(uniqueKeysWithValues: shortage.map { (String($0.key), $0.value) })
        }
        return encode(object)
    }

    static func encode(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
