extension CommandTable {
    /// The protocol's commands (docs/admin-protocol.md, "Commands").
    public static let standard = CommandTable([
        CommandSpec("PING", role: nil, "answers OK pong"),
        CommandSpec("QUIT", role: nil, "closes the connection after the reply"),
        CommandSpec(
            "HELLO",
            role: nil,
            "protocol version, and switches the reply format",
            [.optional("format", .oneOf(AdminFormat.allCases.map(\.rawValue)), "text (default) or json")]
        ),
        CommandSpec(
            "AUTH",
            role: nil,
            "authenticates the connection",
            [
                .required("user", .text(maximumLength: 64), positional: true, "principal name"),
                .required("secret", .text(maximumLength: 256), positional: true, "its secret"),
            ]
        ),
        CommandSpec(
            "HELP",
            role: nil,
            "lists the commands, or shows one",
            [
                .optional("verb", .text(maximumLength: 32), positional: true, "a command"),
                .optional("sub", .text(maximumLength: 32), positional: true, "its subcommand"),
            ]
        ),

        CommandSpec(
            "WAREHOUSE",
            "ADD",
            role: .admin,
            mutating: true,
            "adds a warehouse",
            [
                .required("code", .code, "upper-case code, e.g. BER-1"),
                .required("name", .text, "display name"),
                .required("lat", .decimal(-90...90), "latitude"),
                .required("lon", .decimal(-180...180), "longitude"),
                .required("line1", .text, "street address"),
                .required("city", .text(maximumLength: 100), "city"),
                .required("country", .country, "ISO 3166 alpha-2"),
                .optional("priority", .int(0...1_000_000), "rank for the priority strategy (lower first)"),
                .optional("ships_to", .text(maximumLength: 800), "comma-separated countries; empty: anywhere"),
                .optional("pick_method", .oneOf(["single", "batch", "zone"]), "how its pick lists are made"),
            ]
        ),
        CommandSpec("WAREHOUSE", "LIST", role: .readonly, "lists warehouses"),
        CommandSpec(
            "WAREHOUSE",
            "CALENDAR",
            role: .admin,
            mutating: true,
            "changes when a warehouse ships (delivery promises follow); replies with the calendar",
            [
                .required("warehouse", .reference, "warehouse id or code"),
                .optional(
                    "time_zone",
                    .text(maximumLength: 64),
                    "IANA zone of its cut-off and holidays, e.g. Europe/Berlin"
                ),
                .optional("cutoff", .text(maximumLength: 5), "HH:MM local: ready by then, it leaves that day"),
                .optional("working_days", .text(maximumLength: 27), "days it ships: mon,tue,wed,thu,fri,sat,sun"),
                .optional("lead_time_min", .int(0...10_080), "minutes to pick and pack an order"),
                .optional("holidays", .text(maximumLength: 2_200), "days it does not ship, added: YYYY-MM-DD,..."),
                .optional("not_holidays", .text(maximumLength: 2_200), "holidays removed: YYYY-MM-DD,..."),
            ]
        ),
        CommandSpec(
            "SKU",
            "ADD",
            role: .admin,
            mutating: true,
            "adds a SKU",
            [
                .required("code", .code, "SKU code"),
                .required("name", .text(maximumLength: 300), "display name"),
                .required("weight_g", .int(1...1_000_000_000), "grams per unit"),
                .required("length_mm", .int(1...100_000), "millimetres"),
                .required("width_mm", .int(1...100_000), "millimetres"),
                .required("height_mm", .int(1...100_000), "millimetres"),
            ]
        ),
        CommandSpec(
            "SKU",
            "LIST",
            role: .readonly,
            "lists SKUs by code",
            [
                .optional("prefix", .text(maximumLength: 64), "codes starting with this (plain text, no pattern)"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "RECEIVE",
            role: .operator,
            mutating: true,
            "adds received units",
            [
                .required("warehouse", .reference, "warehouse id or code"),
                .required("sku", .reference, "SKU id or code"),
                .required("qty", .quantity, "units"), .optional("note", .text, "free text"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "EXPECT",
            role: .operator,
            mutating: true,
            "records units on their way (a purchase order's arrival); backorders are told when",
            [
                .required("warehouse", .reference, "warehouse id or code"),
                .required("sku", .reference, "SKU id or code"),
                .required("qty", .int(0...1_000_000_000), "units still expected (0 closes it)"),
                .required("date", .text(maximumLength: 10), "expected arrival, YYYY-MM-DD"),
                .optional("reference", .text(maximumLength: 100), "purchase order (one expectation each)"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "ADJUST",
            role: .operator,
            mutating: true,
            "changes on hand for a reason",
            [
                .required("warehouse", .reference, "warehouse id or code"),
                .required("sku", .reference, "SKU id or code"),
                .required("delta", .int(-1_000_000_000...1_000_000_000), "units, negative to remove"),
                .required("reason", .oneOf(["adjust", "damaged", "lost", "found", "correction"]), "why"),
                .optional("note", .text, "free text"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "COUNT",
            role: .operator,
            mutating: true,
            "records a cycle count; the variance is booked with the reason",
            [
                .required("warehouse", .reference, "warehouse id or code"),
                .required("sku", .reference, "SKU id or code"),
                .required("counted", .int(0...1_000_000_000), "units counted"),
                .optional("reason", .oneOf(["lost", "damaged", "found", "correction"]), "variance reason"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "TRANSFER",
            role: .operator,
            mutating: true,
            "moves unreserved units between warehouses",
            [
                .required("sku", .reference, "SKU id or code"),
                .required("from", .reference, "source warehouse id or code"),
                .required("to", .reference, "destination warehouse id or code"), .required("qty", .quantity, "units"),
            ]
        ),
        CommandSpec(
            "STOCK",
            "SHOW",
            role: .readonly,
            "available to promise per warehouse",
            [
                .required("sku", .reference, positional: true, "SKU id or code"),
                .optional("warehouse", .reference, "one warehouse (id or code)"),
            ]
        ),
        CommandSpec(
            "RATE",
            "ADD",
            role: .admin,
            mutating: true,
            "adds a shipping rate (a weight bracket [min_g, max_g))",
            [
                .required("carrier", .code, "carrier code"), .required("service", .code, "service"),
                .required("country", .country, "destination country"),
                .required("min_g", .int(0...1_000_000_000), "bracket start"),
                .required("max_g", .int(1...1_000_000_000), "bracket end (exclusive)"),
                .required("price", .money, "minor units"), .required("currency", .text(maximumLength: 3), "ISO 4217"),
                .required("days", .int(0...90), "transit days"),
                .optional("origin", .reference, "warehouse id or code; default any"),
                .optional("zone", .text(maximumLength: 32), "zone"),
            ]
        ),
        CommandSpec(
            "RATE",
            "LIST",
            role: .readonly,
            "lists shipping rates",
            [.optional("country", .country, "destination country")]
        ),
        CommandSpec(
            "ORDER",
            "CREATE",
            role: .operator,
            mutating: true,
            "captures an order and routes and reserves it (or holds it)",
            [
                .required("channel", .name, "sales channel (CHANNEL LIST)"),
                .required("external_id", .text(maximumLength: 128), "the channel's order id (idempotent)"),
                .required("currency", .text(maximumLength: 3), "ISO 4217"),
                .required("lines", .lines, "SKU:QTY:PRICE[,...]"),
                .required("name", .text, "ship-to name"), .required("line1", .text, "street"),
                .required("city", .text(maximumLength: 100), "city"), .required("country", .country, "country"),
                .optional("postal", .text(maximumLength: 32), "postal code"),
                .optional("region", .text(maximumLength: 100), "region or zone"),
                .optional("lat", .decimal(-90...90), "latitude"), .optional("lon", .decimal(-180...180), "longitude"),
                .optional("email", .text(maximumLength: 254), "customer e-mail"),
                .optional("shipping", .money, "minor units"), .optional("tax", .money, "minor units"),
                .optional("discount", .money, "minor units"),
                .optional("method", .text(maximumLength: 32), "payment method (asks the verifier)"),
                .optional("token", .text(maximumLength: 128), "payment token (asks the verifier)"),
                .optional(
                    "payment",
                    .oneOf(["authorized", "captured", "pending", "failed", "none"]),
                    "what the storefront already did with the payment"
                ),
                .optional("amount", .money, "the stated payment's amount, minor units (must be the total)"),
                .optional("provider", .text(maximumLength: 64), "the stated payment's provider"),
                .optional("reference", .text(maximumLength: 200), "the provider's reference (idempotent)"),
                .optional("billing_country", .country, "billing country"),
                .optional("risk", .int(0...100), "fraud score"), .optional("review", .bool, "hold for review"),
                .optional("service_level", .text(maximumLength: 32), "shipping service chosen, a rate's (express)"),
                .optional("priority", .oneOf(["urgent", "high", "normal", "low"]), "default: the channel's"),
            ]
        ),
        CommandSpec(
            "ORDER",
            "SHOW",
            role: .readonly,
            "an order with its lines",
            [.required("id", .id, positional: true, "order id")]
        ),
        CommandSpec(
            "ORDER",
            "LIST",
            role: .readonly,
            "orders, newest first",
            [
                .optional(
                    "status",
                    .oneOf([
                        "received", "on_hold", "backordered", "partially_reserved", "reserved", "picking", "packed",
                        "partially_shipped", "shipped", "delivered", "cancelled", "returned", "partially_returned",
                        "exception",
                    ]),
                    "status"
                ),
                .optional("channel", .name, "channel"),
                .optional("at_risk", .bool, "true: only orders with a parcel not picked by its promised ship-by"),
                .optional("before", .id, "ids below this (paging)"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "ORDER",
            "CANCEL",
            role: .operator,
            mutating: true,
            "cancels units of an order, or everything not shipped, releasing their stock",
            [
                .required("id", .id, positional: true, "order id"),
                .required("reason", .text(maximumLength: 500), "why"),
                .optional(
                    "lines",
                    .text(maximumLength: 4000),
                    "SKU:QTY[,...] to cancel (default: everything not shipped)"
                ),
            ]
        ),
        CommandSpec(
            "ORDER",
            "EDIT",
            role: .operator,
            mutating: true,
            "changes an order before any of it is picked: quantities, lines, ship-to, service level",
            [
                .required("id", .id, positional: true, "order id"),
                .required("reason", .text(maximumLength: 500), "why"),
                .optional(
                    "lines",
                    .text(maximumLength: 4000),
                    "SKU:QTY[:PRICE],... (0 removes a line; a price adds one)"
                ),
                .optional("name", .text, "ship-to name"), .optional("line1", .text, "street"),
                .optional("line2", .text, "more street (empty clears)"),
                .optional("city", .text(maximumLength: 100), "city"), .optional("country", .country, "country"),
                .optional("postal", .text(maximumLength: 32), "postal code (empty clears)"),
                .optional("region", .text(maximumLength: 100), "region or zone (empty clears)"),
                .optional("lat", .decimal(-90...90), "latitude"), .optional("lon", .decimal(-180...180), "longitude"),
                .optional("service_level", .text(maximumLength: 32), "a rate's service, or any"),
            ]
        ),
        CommandSpec(
            "ORDER",
            "HOLD",
            role: .operator,
            mutating: true,
            "holds an order for review",
            [.required("id", .id, positional: true, "order id"), .required("note", .text(maximumLength: 500), "why")]
        ),
        CommandSpec(
            "ORDER",
            "RELEASE",
            role: .operator,
            mutating: true,
            "releases a held order and reserves it",
            [.required("id", .id, positional: true, "order id"), .required("note", .text(maximumLength: 500), "why")]
        ),
        CommandSpec(
            "ORDER",
            "ROUTE",
            role: .readonly,
            "every strategy's plan for an order, nothing reserved",
            [
                .required("id", .id, positional: true, "order id"),
                .optional("strategy", .text(maximumLength: 100), "one strategy or chain, e.g. nearest>split"),
            ]
        ),
        CommandSpec(
            "SHIPMENT",
            "LIST",
            role: .readonly,
            "shipments, newest first (the worker builds them at pick time)",
            [
                .optional("order", .id, "one order's shipments"),
                .optional(
                    "status",
                    .oneOf([
                        "planned", "picking", "picked", "packed", "labelled", "shipped", "delivered", "delayed", "lost",
                        "damaged", "returned", "cancelled",
                    ]),
                    "status"
                ),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "SHIPMENT",
            "SHOW",
            role: .readonly,
            "a shipment with its lines",
            [.required("id", .id, positional: true, "shipment id")]
        ),
        CommandSpec(
            "SHIPMENT",
            "DELIVER",
            role: .operator,
            mutating: true,
            "records a shipped parcel as delivered (as a carrier's event would)",
            [
                .required("id", .id, positional: true, "shipment id"),
                .optional("note", .text(maximumLength: 500), "what the carrier said"),
            ]
        ),
        CommandSpec(
            "SHIPMENT",
            "HANDOVER",
            role: .operator,
            mutating: true,
            "the carrier took a labelled parcel: it ships (at once if its capture is done)",
            [.required("id", .id, positional: true, "shipment id")]
        ),
        CommandSpec(
            "SHIPMENT",
            "EXCEPTION",
            role: .operator,
            mutating: true,
            "records a shipped parcel as delayed, lost, damaged or returned; a claim opens, the order goes to exception",
            [
                .required("id", .id, positional: true, "shipment id"),
                .required("kind", .oneOf(["delayed", "lost", "damaged", "returned_to_sender"]), "what happened"),
                .optional("note", .text(maximumLength: 500), "what the carrier said"),
            ]
        ),
        CommandSpec(
            "CLAIM",
            "LIST",
            role: .readonly,
            "claims on parcels that went wrong, newest first",
            [
                .optional("order", .id, "one order's claims"),
                .optional("status", .oneOf(["open", "resolved"]), "status"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "CLAIM",
            "RESOLVE",
            role: .operator,
            mutating: true,
            "resolves a claim: its units sent again (reship) or refunded",
            [
                .required("id", .id, positional: true, "claim id"),
                .required("action", .oneOf(["reship", "refund"]), "what to do"),
                .optional("note", .text(maximumLength: 500), "why"),
            ]
        ),
        CommandSpec(
            "PICKLIST",
            "LIST",
            role: .readonly,
            "pick lists, newest first",
            [
                .optional("warehouse", .reference, "one warehouse's lists (id or code)"),
                .optional("status", .oneOf(["open", "in_progress", "completed", "cancelled"]), "status"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "PICKLIST",
            "SHOW",
            role: .readonly,
            "a pick list, then its lines in walk order",
            [.required("id", .id, positional: true, "pick list id")]
        ),
        CommandSpec(
            "PICKLIST",
            "CONFIRM",
            role: .operator,
            mutating: true,
            "a picker's counts for a list being walked; SKUs not named were picked in full",
            [
                .required("id", .id, positional: true, "pick list id"),
                .optional("picked", .text(maximumLength: 4000), "SKU:QTY[,...] for SKUs not picked in full"),
                .optional(
                    "serials",
                    .text(maximumLength: 8000),
                    "SKU:SERIAL[,...], one per picked unit of a serial-tracked SKU"
                ),
            ]
        ),
        CommandSpec(
            "RETURN",
            "OPEN",
            role: .operator,
            mutating: true,
            "opens a return of shipped units within the channel's window, with a return label",
            [
                .required("order", .id, "order id"),
                .required("lines", .text(maximumLength: 4000), "SKU:QTY[,...]"),
                .required(
                    "reason",
                    .oneOf([
                        "damaged", "defective", "wrong_item", "not_as_described", "no_longer_needed", "size_fit",
                        "other",
                    ]),
                    "why"
                ),
                .optional("note", .text(maximumLength: 500), "the customer's words"),
                .optional("warehouse", .reference, "where it goes back (default: where it left from)"),
                .optional("keep_item", .bool, "refund without return, for lines under the channel's keep_item_limit"),
            ]
        ),
        CommandSpec(
            "RETURN",
            "RECEIVE",
            role: .operator,
            mutating: true,
            "a return's parcel arrived at a warehouse",
            [.required("id", .id, positional: true, "return id"), .required("warehouse", .reference, "id or code")]
        ),
        CommandSpec(
            "RETURN",
            "INSPECT",
            role: .operator,
            mutating: true,
            "each unit's condition: sellable units restocked, damaged and defective scrapped, missing ones dropped",
            [
                .required("id", .id, positional: true, "return id"),
                .required(
                    "lines",
                    .text(maximumLength: 4000),
                    "SKU:QTY:CONDITION[:SERIAL][,...] (sellable, damaged, defective, missing, wrong_item, review)"
                ),
            ]
        ),
        CommandSpec(
            "RETURN",
            "REFUND",
            role: .operator,
            mutating: true,
            "refunds an inspected return: its goods' share less the restocking fee",
            [.required("id", .id, positional: true, "return id")]
        ),
        CommandSpec(
            "RETURN",
            "DECIDE",
            role: .operator,
            mutating: true,
            "restocks or scraps units an inspection held for review",
            [
                .required("id", .id, positional: true, "return id"),
                .required("lines", .text(maximumLength: 4000), "SKU:QTY:restock|scrap[,...]"),
            ]
        ),
        CommandSpec(
            "RETURN",
            "CREDIT",
            role: .operator,
            mutating: true,
            "resolves an inspected return with store credit (the refund's amount) for the customer's e-mail",
            [.required("id", .id, positional: true, "return id")]
        ),
        CommandSpec(
            "RETURN",
            "EXCHANGE",
            role: .operator,
            mutating: true,
            "resolves an inspected return with a new order for the replacement, priced at zero",
            [
                .required("id", .id, positional: true, "return id"),
                .required(
                    "lines",
                    .text(maximumLength: 4000),
                    "SKU:QTY[:PRICE][,...] to send instead; PRICE: the difference per unit to charge"
                ),
            ]
        ),
        CommandSpec(
            "RETURN",
            "LIST",
            role: .readonly,
            "returns, newest first",
            [
                .optional("order", .id, "one order's returns"),
                .optional(
                    "status",
                    .oneOf([
                        "open", "received", "inspected", "refunded", "exchanged", "credited", "fraud_review",
                        "cancelled",
                    ]),
                    "status"
                ),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "RETURN",
            "SHOW",
            role: .readonly,
            "a return, its lines and its inspections",
            [.required("id", .id, positional: true, "return id")]
        ),
        CommandSpec(
            "PUTBACK",
            "LIST",
            role: .readonly,
            "put-back tasks (units cancelled after they were picked or packed), newest first",
            [
                .optional("warehouse", .reference, "one warehouse's tasks (id or code)"),
                .optional("order", .id, "one order's tasks"),
                .optional("status", .oneOf(["open", "done"]), "status"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "PUTBACK",
            "DONE",
            role: .operator,
            mutating: true,
            "records a put-back task's units as back in their bin",
            [.required("id", .id, positional: true, "put-back id")]
        ),
        CommandSpec(
            "ORDER",
            "TIMELINE",
            role: .readonly,
            "an order's history: events, shipments, jobs and notifications, oldest first",
            [.required("id", .id, positional: true, "order id")]
        ),
        CommandSpec(
            "PAYMENT",
            "RECORD",
            role: .operator,
            mutating: true,
            "records a provider's verdict on an order's payment (idempotent on provider + reference + status)",
            [
                .required("order", .id, "order id"),
                .required(
                    "status",
                    .oneOf(["authorized", "captured", "pending", "failed", "voided", "refunded"]),
                    "what the provider says"
                ),
                .required("reference", .text(maximumLength: 200), "the provider's reference"),
                .optional("provider", .text(maximumLength: 64), "provider name (default manual)"),
                .optional("amount", .money, "minor units (default: the total, or what is left to capture)"),
                .optional("note", .text(maximumLength: 500), "why"),
            ]
        ),
        CommandSpec(
            "PAYMENT",
            "LIST",
            role: .readonly,
            "an order's balance, then its payment ledger and the requests still in flight",
            [.required("order", .id, "order id")]
        ),
        CommandSpec(
            "PAYMENT",
            "REFUND",
            role: .admin,
            mutating: true,
            "refunds captured money through the payment gateway (at most captured - refunded)",
            [
                .required("order", .id, "order id"),
                .required("amount", .money, "minor units"),
                .required("key", .text(maximumLength: 200), "the refund's own key: the same key is the same refund"),
                .required("reason", .text(maximumLength: 500), "why"),
            ]
        ),
        CommandSpec("CHANNEL", "LIST", role: .readonly, "every channel and its policy"),
        CommandSpec(
            "CHANNEL",
            "DOCUMENTS",
            role: .readonly,
            "the order documents a channel sent, newest first: held ones wait for an alias or an address",
            [
                .required("channel", .name, positional: true, "channel name"),
                .optional("state", .oneOf(["captured", "held", "cancelled"]), "state"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "CHANNEL",
            "SHOW",
            role: .readonly,
            "a channel's policy, then its last changes (who, when, what), newest first",
            [
                .required("channel", .name, positional: true, "channel name"),
                .optional("changes", .int(1...1000), "changes shown (default 20)"),
            ]
        ),
        CommandSpec(
            "CHANNEL",
            "SET",
            role: .admin,
            mutating: true,
            "changes a channel's policy (audited), or creates a channel given its kind; seen by every process at once",
            [
                .required("channel", .name, "channel name"),
                .optional(
                    "kind",
                    .oneOf(["web", "pos", "marketplace", "phone", "b2b"]),
                    "a new channel's kind: it starts as a copy of that kind's channel"
                ),
                .optional("active", .bool, "false: capture no new orders"),
                .optional("routing", .text(maximumLength: 200), "routing strategy or chain, e.g. nearest>split"),
                .optional("on_shortage", .oneOf(["backorder", "reject"]), "what a shortage does"),
                .optional(
                    "unpaid_reservation_s",
                    .int(0...31_536_000),
                    "how long an unpaid order keeps its stock; 0 holds unpaid orders (payment_pending)"
                ),
                .optional("carrier_rule", .oneOf(["cheapest", "fastest"]), "how the label step picks a quote"),
                .optional(
                    "high_value",
                    .text(maximumLength: 400),
                    "hold at or over, per currency: USD:1000000,EUR:900000 (minor units), or none"
                ),
                .optional("risk_limit", .int(0...101), "hold at a fraud score at or over it (101: never)"),
                .optional(
                    "payment_states",
                    .text(maximumLength: 100),
                    "payment states capture accepts: pending,authorized,captured,failed"
                ),
                .optional(
                    "priority",
                    .oneOf(["urgent", "high", "normal", "low"]),
                    "its orders' priority when capture names none"
                ),
                .optional(
                    "promise_inbound",
                    .bool,
                    "accept a short order as a backorder when what it lacks is expected"
                ),
                .optional(
                    "claim_action",
                    .oneOf(["none", "reship", "refund"]),
                    "what a lost, damaged or returned parcel's claim does by itself"
                ),
                .optional("return_window_days", .int(0...3650), "days after delivery a return may be opened"),
                .optional("restocking_fee_percent", .int(0...100), "kept of a return's refunded goods"),
                .optional("refund_shipping", .bool, "a return's refund includes the goods' share of shipping"),
                .optional(
                    "keep_item_limit",
                    .money,
                    "a return may keep lines worth at most this (minor units; 0 never)"
                ),
            ]
        ),
        CommandSpec(
            "NOTIFICATION",
            "LIST",
            role: .readonly,
            "customer and operations messages, newest first",
            [
                .optional("order", .id, "one order's messages"),
                .optional("status", .oneOf(["pending", "sent", "failed"]), "status"),
                .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "NOTIFICATION",
            "RESEND",
            role: .operator,
            mutating: true,
            "sends a failed message again",
            [.required("id", .id, positional: true, "notification id")]
        ),
        CommandSpec(
            "JOBS",
            "STATS",
            role: .readonly,
            "jobs per queue and state, with the live and dead workers draining each queue"
        ),
        CommandSpec(
            "WORKER",
            "LIST",
            role: .readonly,
            "worker processes: host, pid, queues, jobs running, running, dead or stopped"
        ),
        CommandSpec(
            "JOBS",
            "LIST",
            role: .readonly,
            "jobs, newest first",
            [
                .optional(
                    "state",
                    .oneOf(["available", "scheduled", "running", "retryable", "completed", "discarded", "cancelled"]),
                    "state"
                ),
                .optional("kind", .code, "job kind"), .optional("limit", .int(1...1000), "rows (default 100)"),
            ]
        ),
        CommandSpec(
            "JOBS",
            "RETRY",
            role: .operator,
            mutating: true,
            "makes a discarded or retryable job available now",
            [.required("id", .id, positional: true, "job id")]
        ),
        CommandSpec(
            "JOBS",
            "DISCARD",
            role: .operator,
            mutating: true,
            "discards a job that has not completed",
            [.required("id", .id, positional: true, "job id")]
        ),
        CommandSpec("CHECK", role: .readonly, "verifies the invariants; one row per violation"),
    ])

    /// `HELP` and `HELP verb [sub]`, from the table.
    public func help(verb: String?, sub: String?) throws(AdminError) -> AdminReply {
        guard let verb else {
            return .rows(
                commands.map {
                    [
                        AdminField("command", $0.name), AdminField("role", $0.role?.rawValue ?? "none"),
                        AdminField("summary", $0.summary),
                    ]
                }
            )
        }
        let name = sub.map { "\(verb) \($0)" } ?? verb
        guard let spec = command(name) else {
            let family = commands.filter { $0.verb == verb.uppercased() }
            guard !family.isEmpty, sub == nil else {
                throw AdminError(.unknownCommand, "no command \(ArgumentType.clipped(name.uppercased()))")
            }
            return .rows(family.map { [AdminField("command", $0.name), AdminField("usage", $0.usage)] })
        }
        return .rows(
            [
                [
                    AdminField("command", spec.name), AdminField("role", spec.role?.rawValue ?? "none"),
                    AdminField("usage", spec.usage), AdminField("summary", spec.summary),
                ]
            ]
                + spec.arguments.map {
                    [
                        AdminField("argument", $0.name), AdminField("type", $0.type.summary),
                        AdminField("required", $0.required), AdminField("help", $0.help),
                    ]
                }
        )
    }
}
