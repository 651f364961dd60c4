/// Why a customer sends units back (`returns.reason`).
public enum ReturnReason: String, CaseIterable, Sendable, Hashable {
    case damaged, defective, other
    case wrongItem = "wrong_item"
    case notAsDescribed = "not_as_described"
    case noLongerNeeded = "no_longer_needed"
    case sizeFit = "size_fit"
}

/// Where a return stands (`returns.status`): opened (label bought), received at a warehouse,
/// inspected (units restocked or scrapped), refunded; or cancelled.
public enum ReturnStatus: String, CaseIterable, Sendable, Hashable {
    case open, received, inspected, refunded, exchanged, credited, cancelled
    /// Its serials did not match what left: nothing restocked or refunded, operations alerted.
    case fraudReview = "fraud_review"
}

/// What an inspected unit is, and so what becomes of it.
public enum ReturnCondition: String, CaseIterable, Sendable, Hashable {
    case sellable, damaged, defective, missing
    /// Something else came back: recorded, neither restocked as the SKU nor refunded.
    case wrongItem = "wrong_item"
    /// Refund without return: the customer keeps it (by the channel's policy).
    case kept
    /// A person decides (held, `RETURN DECIDE` restocks or scraps it); also the decision's row.
    case review

    /// Sellable units go back on the shelf, damaged and defective ones are scrapped, missing ones
    /// never arrived.
    public var disposition: ReturnDisposition {
        switch self {
        case .sellable: .restock
        case .damaged, .defective: .scrap
        case .missing, .wrongItem, .kept: .none
        case .review: .hold
        }
    }
}

public enum ReturnDisposition: String, CaseIterable, Sendable, Hashable {
    case restock, scrap, hold, none
}

/// The money a return gives back: its goods' share of the order's total, as parcels and
/// cancellations share it (`floor(total × goods / subtotal)`), without the shipping unless the
/// channel refunds it, less the restocking fee (`floor(goods × percent / 100)`); never below zero.
public enum ReturnRefund {
    public static func amounts(
        total: Int64,
        subtotal: Int64,
        shipping: Int64,
        refundShipping: Bool,
        goods: Int64,
        feePercent: Int
    ) -> (refund: Int64, fee: Int64) {
        let base = refundShipping ? total : max(total - shipping, 0)
        let share = ParcelShare.due(total: base, subtotal: subtotal, shippedValue: goods, everythingShipped: false)
        // floor(goods × percent / 100) without overflow.
        let percent = Int64(feePercent)
        let fee = goods / 100 * percent + goods % 100 * percent / 100
        return (max(share - fee, 0), min(fee, share))
    }
}
