extension RoutingInput {
    /// The part of the order that eligible warehouses can fill at all: each line cut down to the
    /// units they hold in total (lines with none dropped), and what is missing per SKU. Routing the
    /// fillable input reserves what there is; the shortage is backordered or rejected.
    public func fillable() -> (input: RoutingInput, shortage: [Int64: Int64]) {
        let eligible = eligibleWarehouses
        var shortage: [Int64: Int64] = [:]
        var fillable: [RoutingLine] = []
        for line in self.lines {
            let held = eligible.reduce(Int64(0)) { total, warehouse in
                let (sum, overflow) = total.addingReportingOverflow(available(warehouse.id, line.skuID))
                return overflow ? Int64.max : sum
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
}
