public import LibPQ
public import OrderlyCore

extension ChannelDocumentState: PostgresTextEnum {}

/// `channel_connections`, `sku_aliases` and `channel_documents` (sql/migrations/0027): which platform
/// a channel imports from, what its identifiers are in Orderly's catalog, and every document it sent.
public enum ChannelIngestStore {
    /// The channel's connection, or nil when it has none.
    public static func connection(_ channel: SalesChannel) -> PostgresQuery<ChannelConnectionRecord?> {
        .first(
            """
            SELECT channel, platform, signing_secret, token_sha256, webhook_url, stock_buffer, stock_threshold,
                   stock_min_change
            FROM channel_connections WHERE channel = \(channel)
            """
        ) { row in
            ChannelConnectionRecord(
                channel: try row.decode(SalesChannel.self, at: 0),
                platform: try row.decode(String.self, at: 1),
                signingSecret: try row.decode(String?.self, at: 2),
                tokenSHA256: try row.decode(String?.self, at: 3),
                webhookURL: try row.decode(String?.self, at: 4),
                stockFeed: StockFeed(
                    buffer: Int(try row.decode(Int32.self, at: 5)),
                    threshold: Int(try row.decode(Int32.self, at: 6)),
                    minimumChange: Int(try row.decode(Int32.self, at: 7))
                )
            )
        }
    }

    /// Connects the channel (or replaces its connection). Row: 1, or 0 when there is no such channel.
    public static func connect(_ record: ChannelConnectionRecord, actor: String) -> PostgresQuery<Int> {
        .command(
            """
            INSERT INTO channel_connections (channel, platform, signing_secret, token_sha256, webhook_url, stock_buffer,
                                             stock_threshold, stock_min_change, updated_by)
            SELECT name, \(record.platform), \(record.signingSecret), \(record.tokenSHA256), \(record.webhookURL),
                   \(Int32(record.stockFeed.buffer)), \(Int32(record.stockFeed.threshold)),
                   \(Int32(record.stockFeed.minimumChange)), \(actor)
            FROM channel_policies WHERE name = \(record.channel)
            ON CONFLICT (channel) DO UPDATE
            SET platform = EXCLUDED.platform, signing_secret = EXCLUDED.signing_secret,
                token_sha256 = EXCLUDED.token_sha256, webhook_url = EXCLUDED.webhook_url,
                stock_buffer = EXCLUDED.stock_buffer, stock_threshold = EXCLUDED.stock_threshold,
                stock_min_change = EXCLUDED.stock_min_change,
                updated_by = EXCLUDED.updated_by, updated_at = now()
            """
        )
    }

    /// The SKU codes the channel's identifiers stand for: `aliases` through `sku_aliases` (the
    /// channel's own names win), `codes` as Orderly's SKU codes. Identifier -> SKU code.
    public static func resolve(
        _ channel: SalesChannel,
        aliases: [String],
        codes: [String]
    ) -> PostgresQuery<(aliases: [String: String], codes: Set<String>)> {
        PostgresQuery(
            """
            SELECT 'alias', a.alias, s.code FROM sku_aliases a JOIN skus s ON s.id = a.sku_id
            WHERE a.channel = \(channel) AND a.alias = ANY(\(aliases)::text[])
            UNION ALL
            SELECT 'code', code, code FROM skus WHERE code = ANY(\(codes)::text[])
            """
        ) { rows in
            var found: (aliases: [String: String], codes: Set<String>) = ([:], [])
            for row in rows {
                let (kind, key, code) = (
                    try row.decode(String.self, at: 0), try row.decode(String.self, at: 1),
                    try row.decode(String.self, at: 2)
                )
                if kind == "alias" { found.aliases[key] = code } else { found.codes.insert(code) }
            }
            return found
        }
    }

    /// The order of the document the channel sent with this external id, if it was captured.
    public static func capturedOrder(_ channel: SalesChannel, externalID: String) -> PostgresQuery<Int64?> {
        .first(
            """
            SELECT order_id FROM channel_documents
            WHERE channel = \(channel) AND external_id = \(externalID) AND state = 'captured'
            """
        ) { try $0.decode(Int64.self, at: 0) }
    }

    /// The channel's documents (in `state`, or all), newest first, as listing rows.
    public static func documents(
        _ channel: SalesChannel,
        state: ChannelDocumentState?,
        limit: Int64
    ) -> PostgresQuery<[ReportRow]> {
        PostgresQuery(
            """
            SELECT external_id, state, array_to_string(holds, ',') AS holds, array_to_string(unmapped, ',') AS unmapped,
                   order_id, deliveries, received_at::text, updated_at::text
            FROM channel_documents
            WHERE channel = \(channel) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY received_at DESC, external_id LIMIT \(limit)
            """,
            decode: AdminQueries.rows
        )
    }

    /// The channel's held documents, oldest first.
    public static func held(_ channel: SalesChannel, limit: Int64) -> PostgresQuery<[ChannelDocumentRecord]> {
        .rows(
            """
            SELECT \(unescaped: documentColumns) FROM channel_documents
            WHERE channel = \(channel) AND state = 'held' ORDER BY received_at, external_id LIMIT \(limit)
            """,
            decodeDocument
        )
    }

    static let documentColumns = "channel, external_id, platform, state, holds, unmapped, order_id, body, deliveries"

    static func decodeDocument(_ row: PostgresRow) throws -> ChannelDocumentRecord {
        ChannelDocumentRecord(
            channel: try row.decode(SalesChannel.self, at: 0),
            externalID: try row.decode(String.self, at: 1),
            platform: try row.decode(String.self, at: 2),
            state: try row.decode(ChannelDocumentState.self, at: 3),
            holds: try row.decode([String].self, at: 4),
            unmapped: try row.decode([String].self, at: 5),
            orderID: try row.decode(Int64?.self, at: 6),
            body: try row.decode(String.self, at: 7),
            deliveries: Int(try row.decode(Int32.self, at: 8))
        )
    }

    /// Records a delivery of a document: a new row, or the latest body and one more delivery on the
    /// row there is. A captured document stays captured (its order id kept): a held or cancelled one
    /// takes the state given. `redelivery` false (a re-import of the stored body) counts no delivery.
    public static func record(
        _ channel: SalesChannel,
        externalID: String,
        platform: String,
        body: String,
        state: ChannelDocumentState,
        holds: [String] = [],
        unmapped: [String] = [],
        orderID: Int64? = nil,
        channelTotalMinor: Int64? = nil,
        redelivery: Bool = true
    ) -> PostgresStatement {
        let more: Int32 = redelivery ? 1 : 0
        return """
            INSERT INTO channel_documents (channel, external_id, platform, body, state, holds, unmapped, order_id,
                                           channel_total_minor)
            VALUES (\(channel), \(externalID), \(platform), \(body), \(state.rawValue), \(holds)::text[],
                    \(unmapped)::text[], \(orderID), \(channelTotalMinor))
            ON CONFLICT (channel, external_id) DO UPDATE
            SET body = EXCLUDED.body, deliveries = channel_documents.deliveries + \(more), updated_at = now(),
                state = CASE WHEN channel_documents.state = 'captured' THEN 'captured' ELSE EXCLUDED.state END,
                holds = CASE WHEN channel_documents.state = 'captured' THEN '{}' ELSE EXCLUDED.holds END,
                unmapped = CASE WHEN channel_documents.state = 'captured' THEN '{}' ELSE EXCLUDED.unmapped END,
                order_id = coalesce(channel_documents.order_id, EXCLUDED.order_id),
                channel_total_minor = coalesce(EXCLUDED.channel_total_minor, channel_documents.channel_total_minor)
            """
    }

    /// Maps the channel's identifier to the SKU `skuCode` (or re-points it). Row: the SKU's id, nil
    /// when there is no such SKU (or no such channel).
    public static func alias(
        _ channel: SalesChannel,
        alias: String,
        skuCode: String,
        actor: String
    ) -> PostgresQuery<Int64?> {
        .first(
            """
            INSERT INTO sku_aliases (channel, alias, sku_id, created_by)
            SELECT c.name, \(alias), s.id, \(actor) FROM channel_policies c, skus s
            WHERE c.name = \(channel) AND s.code = \(skuCode)
            ON CONFLICT (channel, alias) DO UPDATE SET sku_id = EXCLUDED.sku_id, created_by = EXCLUDED.created_by,
                created_at = now()
            RETURNING sku_id
            """
        ) { try $0.decode(Int64.self, at: 0) }
    }

    /// The stock feed of `channel` (or of every channel with a webhook): each SKU's availability for
    /// the channel (what active warehouses have on hand and not reserved, less the channel's buffer,
    /// never below 0) compared with what the channel was last told, and where it crossed the
    /// threshold, reached 0 or moved by the minimum change (every SKU when `full`), a `stock.updated`
    /// webhook notification of up to 1,000 SKUs each, with the channel's aliases for them, and the
    /// published values remembered, in one statement. The connection rows are locked: one publisher
    /// per channel at a time. Rows: (notifications written, SKUs in them).
    public static func publishStock(_ channel: SalesChannel?, full: Bool) -> PostgresQuery<(Int, Int)> {
        PostgresQuery(
            """
            WITH c AS (
                SELECT channel, webhook_url, stock_buffer, stock_threshold, stock_min_change
                FROM channel_connections
                WHERE webhook_url IS NOT NULL AND (\(channel)::text IS NULL OR channel = \(channel))
                ORDER BY channel FOR UPDATE
            ), stock AS (
                SELECT i.sku_id, sum(i.on_hand - i.reserved) AS available
                FROM inventory i JOIN warehouses w ON w.id = i.warehouse_id AND w.active
                GROUP BY i.sku_id
            ), current AS (
                SELECT c.channel, s.id AS sku_id, s.code,
                       greatest(0, coalesce(stock.available, 0) - c.stock_buffer) AS available, p.available AS last,
                       c.stock_threshold, c.stock_min_change
                FROM c CROSS JOIN skus s
                LEFT JOIN stock ON stock.sku_id = s.id
                LEFT JOIN channel_stock_published p ON p.channel = c.channel AND p.sku_id = s.id
            ), due AS (
                SELECT * FROM current
                WHERE \(full) OR last IS NULL OR (available <> last AND (
                    abs(available - last) >= stock_min_change
                    OR (available > stock_threshold) <> (last > stock_threshold)
                    OR available = 0))
            ), saved AS (
                INSERT INTO channel_stock_published (channel, sku_id, available)
                SELECT channel, sku_id, available FROM due
                ON CONFLICT (channel, sku_id) DO UPDATE SET available = EXCLUDED.available, published_at = now()
            ), batches AS (
                SELECT d.channel, (row_number() OVER (PARTITION BY d.channel ORDER BY d.code) - 1) / 1000 AS batch,
                       jsonb_build_object(
                           'sku', d.code, 'available', d.available,
                           'aliases', (SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb)
                                       FROM sku_aliases a WHERE a.channel = d.channel AND a.sku_id = d.sku_id)
                       ) AS item, d.code
                FROM due d
            ), written AS (
                INSERT INTO notifications (kind, channel, recipient, subject, body, dedupe_key)
                SELECT 'stock_update', 'webhook', c.webhook_url, 'stock.updated',
                       jsonb_build_object(
                           'topic', 'stock.updated', 'channel', c.channel, 'full', \(full), 'at', now(),
                           'items', jsonb_agg(b.item ORDER BY b.code)
                       )::text,
                       'stock_update:' || c.channel || ':' || txid_current() || ':' || b.batch
                FROM batches b JOIN c ON c.channel = b.channel
                GROUP BY c.channel, c.webhook_url, b.batch
                RETURNING id, jsonb_array_length(body::jsonb -> 'items') AS items
            )
            SELECT count(*), coalesce(sum(items), 0)::int8 FROM written
            """
        ) { rows in
            guard let row = rows.first else { return (0, 0) }
            return (Int(try row.decode(Int64.self, at: 0)), Int(try row.decode(Int64.self, at: 1)))
        }
    }
}
