extension RoutingInput {
    /// The part of the order that eligible warehouses can fill at all: each line cut down to the
    /// units they hold in total (lines with none dropped), and what is missing per SKU. Routing the
    /// fillable input reserves what there is; the shortage is backordered or rejected. Units other
    /// orders ahead wait for (`queued`) are not there for this one: it gets at most what the active
    /// warehouses hold beyond them.
    public func fillable() -> (input: RoutingInput, shortage: [Int64: Int64]) {
        let eligible = eligibleWarehouses
        var shortage: [Int64: Int64] = [:]
        var fillable: [RoutingLine] = []
        for line in self.lines {
            var held = total(line.skuID, in: eligible)
            if let waiting = queued[line.skuID], waiting > 0 {
                held = min(held, max(0, total(line.skuID, in: warehouses.filter(\.active)) - waiting))
            }
            let take = min(held, line.quantity)
            if take < line.quantity { shortage[line.skuID] = line.quantity - take }
            if take > 0 {
                var cut = line
                cut.quantity = take
                fillable.append(cut)
            }
        }
        var input = self
        input.lines = fillable
        return (input, shortage)
    }

    /// Units of `sku` available in `warehouses`, saturating.
    func total(_ sku: Int64, in warehouses: [RoutingWarehouse]) -> Int64 {
        warehouses.reduce(Int64(0)) { total, warehouse in
            let (sum, overflow) = total.addingReportingOverflow(available(warehouse.id, sku))
            return overflow ? Int64.max : sum
        }
    }
}
