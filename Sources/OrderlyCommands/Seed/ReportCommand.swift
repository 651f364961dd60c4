import ArgumentParser
import Foundation
import Logging
import Orderly
import OrderlyCore

/// `orderly report`: one self-contained HTML page drawn from the analytics views.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of charts drawn from the analytics views.",
        discussion: """
            Reads the analytics views (refreshing the materialized ones first unless --no-refresh) and \
            writes a page with inline CSS and SVG, no scripts and nothing fetched: orders per day by \
            channel, hours from capture to shipping per warehouse, promises kept, return reasons, \
            stock and days of cover of the fastest movers, the pick backlog by hour and the job queue. \
            Every bar carries its value (data-value) and a tooltip; the page prints on A4.

            Example:
              orderly report --out report.html
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Where to write the page.")
    var out = "report.html"

    @Flag(help: "Draw from the materialized views as they are, without refreshing them.")
    var noRefresh = false

    func run() async throws {
        let logger = CommandLogging.logger("orderly.report")
        let orderly = try await OrderlyDatabase.open(
            url: try database.resolve(logger: logger, fallback: .privateCluster).url,
            logger: logger
        )
        let analytics = AnalyticsService(database: orderly)
        var data = [AnalyticsReport: [ReportRow]]()
        do {
            if !noRefresh { try await analytics.refreshAll() }
            for report in AnalyticsReport.allCases { data[report] = try await analytics.report(report) }
        } catch {
            await orderly.close()
            throw error
        }
        await orderly.close()
        let page = ReportPage.html(data, generated: Date())
        try page.write(toFile: out, atomically: true, encoding: .utf8)
        print("wrote \(out) (\(page.utf8.count / 1024) KiB)")
    }
}

/// The page: pure, from the reports' rows to HTML.
enum ReportPage {
    static let palette = ["#2f6db5", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bbf", "#8c6d4f", "#d16ba5", "#7f8c8d"]

    static func html(_ data: [AnalyticsReport: [ReportRow]], generated: Date) -> String {
        let stamp = ISO8601DateFormatter().string(from: generated)
        let sections = [
            ordersPerDay(data[.ordersPerDay] ?? []),
            cycleTimes(data[.cycleTimeDistribution] ?? [], percentiles: data[.cycleTimes] ?? []),
            onTime(data[.onTime] ?? []),
            returnReasons(data[.returnReasons] ?? []),
            stockCover(data[.stockCover] ?? []),
            backlog(data[.backlog] ?? []),
            queue(data[.queue] ?? []),
        ]
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Orderly report</title>
            <style>
            body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
                   margin: 0 auto; max-width: 980px; padding: 24px; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 4px; }
            p.note { color: #666; margin: 0 0 8px; font-size: 12px; }
            section { break-inside: avoid; page-break-inside: avoid; }
            svg { width: 100%; height: auto; } svg text { font-size: 11px; fill: #444; }
            svg .axis { stroke: #999; stroke-width: 1; } svg .grid { stroke: #e5e5e5; stroke-width: 1; }
            .legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
            .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
            table { border-collapse: collapse; font-size: 12px; } td, th { padding: 3px 10px; text-align: right; }
            th { border-bottom: 1px solid #999; } td:first-child, th:first-child { text-align: left; }
            .empty { color: #999; font-style: italic; }
            @media print { body { padding: 0; max-width: none; } @page { size: A4; margin: 14mm; } }
            </style></head><body>
            <h1>Orderly report</h1>
            <p class="note">Drawn from the analytics views (docs/analytics.md) at \(stamp). Days are UTC.</p>
            \(sections.joined(separator: "\n"))
            </body></html>
            """
    }

    // MARK: Charts

    static func section(_ id: String, _ title: String, _ note: String, _ body: String) -> String {
        """
        <section id="\(id)"><h2>\(escape(title))</h2><p class="note">\(escape(note))</p>
        \(body)
        </section>
        """
    }

    static func empty(_ id: String, _ title: String, _ note: String) -> String {
        section(id, title, note, "<p class=\"empty\">Nothing to show yet.</p>")
    }

    static func legend(_ names: [String]) -> String {
        "<div class=\"legend\">"
            + names.enumerated().map {
                "<span><i style=\"background:\(palette[$0 % palette.count])\"></i>\(escape($1))</span>"
            }
            .joined() + "</div>"
    }

    /// A value axis: gridlines and labels from 0 to `maximum` at round steps.
    static func valueAxis(maximum: Double, left: Double, right: Double, top: Double, bottom: Double) -> (String, Double)
    {
        let step = niceStep(maximum / 4)
        let top4 = max(step, (maximum / step).rounded(.up) * step)
        var svg = ""
        var value = 0.0
        while value <= top4 + step / 2 {
            let y = bottom - (bottom - top) * value / top4
            svg += "<line class=\"grid\" x1=\"\(left)\" y1=\"\(y)\" x2=\"\(right)\" y2=\"\(y)\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(format(value))</text>"
            value += step
        }
        return (svg, top4)
    }

    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 2.5, 5, 10] where raw <= factor * magnitude { return factor * magnitude }
        return 10 * magnitude
    }

    /// Orders captured per day, stacked by channel, with the busiest day marked.
    static func ordersPerDay(_ rows: [ReportRow]) -> String {
        let (id, title) = ("orders-per-day", "Orders per day, by channel")
        let note = "analytics.order_funnel: orders captured each UTC day, stacked by channel."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let days = Array(Set(rows.compactMap { text($0, "day") })).sorted()
        let channels = channelOrder(rows)
        var perDay = [String: [String: Double]]()
        for row in rows {
            guard let day = text(row, "day"), let channel = text(row, "channel") else { continue }
            perDay[day, default: [:]][channel] = number(row, "captured")
        }
        let totals = days.map { day in perDay[day]?.values.reduce(0, +) ?? 0 }
        let (width, height, left, bottom, top) = (940.0, 300.0, 50.0, 260.0, 16.0)
        let (axis, maximum) = valueAxis(maximum: totals.max() ?? 1, left: left, right: width, top: top, bottom: bottom)
        let slot = (width - left) / Double(days.count)
        var bars = ""
        for (index, day) in days.enumerated() {
            var y = bottom
            for (c, channel) in channels.enumerated() {
                let value = perDay[day]?[channel] ?? 0
                guard value > 0 else { continue }
                let h = (bottom - top) * value / maximum
                y -= h
                bars +=
                    "<rect data-day=\"\(day)\" data-series=\"\(escape(channel))\" data-value=\"\(format(value))\" "
                    + "x=\"\(left + Double(index) * slot)\" y=\"\(y)\" width=\"\(max(0.6, slot * 0.9))\" height=\"\(h)\" "
                    + "fill=\"\(palette[c % palette.count])\"><title>\(day) \(escape(channel)): \(format(value))</title></rect>"
            }
        }
        var labels = ""
        let every = max(1, days.count / 12)
        for (index, day) in days.enumerated() where index % every == 0 {
            labels += "<text x=\"\(left + Double(index) * slot)\" y=\"\(bottom + 16)\">\(day.dropFirst(5))</text>"
        }
        if let peak = totals.indices.max(by: { totals[$0] < totals[$1] }) {
            let x = left + (Double(peak) + 0.5) * slot
            let y = bottom - (bottom - top) * totals[peak] / maximum
            labels +=
                "<text x=\"\(x)\" y=\"\(max(top + 10, y - 6))\" text-anchor=\"middle\" font-weight=\"bold\">"
                + "peak \(days[peak]): \(format(totals[peak]))</text>"
        }
        let svg = """
            <svg class="chart" data-chart="\(id)" viewBox="0 0 \(width) \(height)" role="img" aria-label="\(title)">
            \(axis)\(bars)<line class="axis" x1="\(left)" y1="\(bottom)" x2="\(width)" y2="\(bottom)"/>\(labels)
            <text x="12" y="\(top + 4)" transform="rotate(-90 12 \(top + 4))" text-anchor="end">orders</text></svg>
            """
        return section(id, title, note, legend(channels) + svg)
    }

    /// Parcels by hours from capture to shipping, a histogram per warehouse, with p50/p90.
    static func cycleTimes(_ rows: [ReportRow], percentiles: [ReportRow]) -> String {
        let (id, title) = ("cycle-times", "Hours from capture to shipping, per warehouse")
        let note = "analytics.shipment_facts: shipped parcels in six-hour buckets (the last holds 72 h and more)."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let warehouses = Array(Set(rows.compactMap { text($0, "warehouse") })).sorted()
        let buckets = stride(from: 0, through: 72, by: 6).map { Double($0) }
        let maximum = rows.map { number($0, "parcels") }.max() ?? 1
        let (panelWidth, panelHeight) = (300.0, 150.0)
        var svg = ""
        for (index, warehouse) in warehouses.enumerated() {
            let ox = Double(index % 3) * (panelWidth + 20)
            let oy = Double(index / 3) * (panelHeight + 40)
            let (left, bottom, top, right) = (ox + 40, oy + panelHeight - 20, oy + 20, ox + panelWidth)
            let slot = (right - left) / Double(buckets.count)
            svg += "<text x=\"\(left)\" y=\"\(oy + 12)\" font-weight=\"bold\">\(escape(warehouse))</text>"
            if let p = percentiles.first(where: { text($0, "warehouse") == warehouse }) {
                svg +=
                    "<text x=\"\(right)\" y=\"\(oy + 12)\" text-anchor=\"end\">p50 \(text(p, "ship_p50_h") ?? "–") h, "
                    + "p90 \(text(p, "ship_p90_h") ?? "–") h</text>"
            }
            for (b, bucket) in buckets.enumerated() {
                let value =
                    rows.first { text($0, "warehouse") == warehouse && number($0, "from_h") == bucket }
                    .map { number($0, "parcels") } ?? 0
                let h = (bottom - top) * value / maximum
                svg +=
                    "<rect data-series=\"\(escape(warehouse))\" data-bucket=\"\(format(bucket))\" data-value=\"\(format(value))\" "
                    + "x=\"\(left + Double(b) * slot)\" y=\"\(bottom - h)\" width=\"\(slot * 0.85)\" height=\"\(h)\" "
                    + "fill=\"\(palette[0])\"><title>\(escape(warehouse)) \(format(bucket))–\(format(bucket + 6)) h: "
                    + "\(format(value)) parcels</title></rect>"
                if b % 2 == 0 {
                    svg += "<text x=\"\(left + Double(b) * slot)\" y=\"\(bottom + 13)\">\(format(bucket))</text>"
                }
            }
            svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\"/>"
            svg += "<text x=\"\(left - 4)\" y=\"\(top + 4)\" text-anchor=\"end\">\(format(maximum))</text>"
            svg += "<text x=\"\(right)\" y=\"\(bottom + 26)\" text-anchor=\"end\">hours from capture</text>"
            svg += "<text x=\"\(left - 4)\" y=\"\(bottom)\" text-anchor=\"end\">0</text>"
        }
        let rowsCount = Double((warehouses.count + 2) / 3)
        let height = rowsCount * (panelHeight + 40)
        return section(
            id,
            title,
            note,
            "<svg class=\"chart\" data-chart=\"\(id)\" viewBox=\"0 0 940 \(height)\" role=\"img\" aria-label=\"\(title)\">\(svg)</svg>"
        )
    }

    /// Horizontal bars: one per row, `value` its length, `label` its name.
    static func horizontalBars(
        id: String,
        rows: [(label: String, values: [Double], tip: String)],
        series: [String],
        maximum fixed: Double? = nil,
        unit: String = ""
    ) -> String {
        let (left, right, rowHeight) = (170.0, 900.0, 22.0)
        let maximum = fixed ?? max(1, rows.flatMap(\.values).max() ?? 1)
        let barHeight = (rowHeight - 6) / Double(max(1, series.count))
        var svg = ""
        for (index, row) in rows.enumerated() {
            let y = 10 + Double(index) * rowHeight
            svg += "<text x=\"\(left - 8)\" y=\"\(y + rowHeight / 2)\" text-anchor=\"end\">\(escape(row.label))</text>"
            for (s, value) in row.values.enumerated() {
                let w = (right - left) * min(value, maximum) / maximum
                let by = y + 2 + Double(s) * barHeight
                svg +=
                    "<rect data-key=\"\(escape(row.label))\" data-series=\"\(escape(series[s]))\" data-value=\"\(format(value))\" "
                    + "x=\"\(left)\" y=\"\(by)\" width=\"\(max(0, w))\" height=\"\(barHeight - 1)\" "
                    + "fill=\"\(palette[s % palette.count])\"><title>\(escape(row.label)) \(escape(series[s])): "
                    + "\(format(value))\(unit) \(escape(row.tip))</title></rect>"
                svg += "<text x=\"\(left + max(0, w) + 4)\" y=\"\(by + barHeight - 3)\">\(format(value))\(unit)</text>"
            }
        }
        let height = 20 + Double(rows.count) * rowHeight
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"6\" x2=\"\(left)\" y2=\"\(height - 6)\"/>"
        return (series.count > 1 ? legend(series) : "")
            + "<svg class=\"chart\" data-chart=\"\(id)\" viewBox=\"0 0 940 \(height)\" role=\"img\">\(svg)</svg>"
    }

    static func onTime(_ rows: [ReportRow]) -> String {
        let (id, title) = ("on-time", "Promises kept, per warehouse")
        let note =
            "analytics.on_time: parcels shipped by their ship-by and delivered by their promised day, of those due."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let bars = rows.map { row in
            (
                label: text(row, "warehouse") ?? "?",
                values: [number(row, "shipped_on_time_pct"), number(row, "delivered_on_time_pct")],
                tip:
                    "(\(text(row, "ship_due") ?? "0") shipments due, \(text(row, "delivery_due") ?? "0") deliveries due)"
            )
        }
        return section(
            id,
            title,
            note,
            horizontalBars(
                id: id,
                rows: bars,
                series: ["shipped on time", "delivered on time"],
                maximum: 100,
                unit: " %"
            )
        )
    }

    static func returnReasons(_ rows: [ReportRow]) -> String {
        let (id, title) = ("return-reasons", "Returns by reason")
        let note = "analytics.returns_summary: returns opened (not cancelled), with the refunds they led to."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let bars = rows.map { row in
            (
                label: (text(row, "reason") ?? "?").replacingOccurrences(of: "_", with: " "),
                values: [number(row, "returns")],
                tip: "(\(text(row, "units") ?? "0") units, refunded \(text(row, "refund_minor") ?? "0") minor)"
            )
        }
        return section(id, title, note, horizontalBars(id: id, rows: bars, series: ["returns"]))
    }

    static func stockCover(_ rows: [ReportRow]) -> String {
        let (id, title) = ("stock-cover", "Days of cover, fastest-moving SKUs")
        let note =
            "analytics.inventory_position: units available over the last 28 days' shipping rate (capped at 60 days on the chart)."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let bars = rows.map { row in
            (
                label: text(row, "sku") ?? "?",
                values: [number(row, "days_of_cover")],
                tip:
                    "(\(text(row, "available") ?? "0") available, \(text(row, "inbound") ?? "0") inbound, \(text(row, "per_day") ?? "0") a day)"
            )
        }
        return section(
            id,
            title,
            note,
            horizontalBars(id: id, rows: bars, series: ["days of cover"], maximum: 60, unit: " d")
        )
    }

    static func backlog(_ rows: [ReportRow]) -> String {
        let (id, title) = ("backlog", "Pick backlog, by the hour the lists were made")
        let note =
            "analytics.pick_backlog: units on pick lists not yet confirmed, per warehouse and the hour the lists were made (the latest 24)."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let bars = rows.map { row in
            (
                label: "\(text(row, "hour") ?? "?") \(text(row, "warehouse") ?? "")",
                values: [number(row, "units")],
                tip: "(\(text(row, "pick_lists") ?? "0") lists)"
            )
        }
        return section(id, title, note, horizontalBars(id: id, rows: Array(bars.suffix(24)), series: ["units to pick"]))
    }

    static func queue(_ rows: [ReportRow]) -> String {
        let (id, title) = ("queue", "Job queue health")
        let note = "analytics.job_queue_health: jobs due, running, retrying and dead per queue, and the oldest wait."
        guard !rows.isEmpty else { return empty(id, title, note) }
        let columns = ["queue", "due", "running", "retrying", "dead", "completed_1h", "oldest_due_s"]
        let head = "<tr>" + columns.map { "<th>\($0.replacingOccurrences(of: "_", with: " "))</th>" }.joined() + "</tr>"
        let body = rows.map { row in
            "<tr>" + columns.map { "<td data-key=\"\($0)\">\(escape(text(row, $0) ?? ""))</td>" }.joined() + "</tr>"
        }.joined()
        return section(id, title, note, "<table class=\"chart\" data-chart=\"\(id)\">\(head)\(body)</table>")
    }

    // MARK: Cells

    static func text(_ row: ReportRow, _ column: String) -> String? {
        guard let cell = row.first(where: { $0.0 == column })?.1 else { return nil }
        return cell == .null ? nil : cell.text
    }

    static func number(_ row: ReportRow, _ column: String) -> Double { Double(text(row, column) ?? "") ?? 0 }

    static func channelOrder(_ rows: [ReportRow]) -> [String] {
        var totals = [String: Double]()
        for row in rows {
            if let channel = text(row, "channel") { totals[channel, default: 0] += number(row, "captured") }
        }
        return totals.sorted { $0.value > $1.value || $0.value == $1.value && $0.key < $1.key }.map(\.key)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.1f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
