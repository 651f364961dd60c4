public import ArgumentParser
import Foundation
import Orderly
import OrderlyChannels
public import OrderlyCore

/// `orderly import`: a file of platform documents, one per line, through the same importers and
/// capture as `POST /channels/{name}/orders` (no signature: whoever can run this can reach the
/// database).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a channel's order documents, one JSON document per line (docs/channels.md).",
        discussion: """
            Each line is one document of the platform (for Amazon's Orders v0, a JSON array of the order
            and its items). Documents seen before are replayed (their changes applied), documents that
            cannot be mapped without a guess are held (unmapped_sku, missing_address), documents that do
            not map are refused with the field's path. Exits 1 if any was refused.

            Example:
              orderly import --channel shop orders.jsonl
              jq -c '.orders[]' export.json | orderly import --channel shop --platform shopify -
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The channel the orders were sold on ([a-z][a-z0-9_]*, at most 32).")
    var channel: SalesChannel

    @Option(help: "shopify, magento, sfcc, amazon or ebay; default: the channel's connection's.")
    var platform: String?

    @Argument(help: "A file of documents, one per line; - for standard input.")
    var file: String

    func validate() throws {
        if let platform, ChannelImporters.all[platform] == nil {
            throw ValidationError(
                "--platform must be one of \(ChannelImporters.all.keys.sorted().joined(separator: ", "))"
            )
        }
    }

    func run() async throws {
        let logger = CommandLogging.logger("orderly.import")
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let read = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            data = read
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        let orderly = try await OrderlyDatabase.open(url: try database.resolve(logger: logger).url, logger: logger)
        let ingest = ChannelIngest(database: orderly, actor: "import")
        var tally = ImportTally()
        do {
            var known = platform
            if known == nil { known = try await ingest.connection(channel)?.platform }
            guard let platform = known else {
                throw ValidationError(
                    "\(channel) is not connected to a platform: give --platform (or orderly channel connect)"
                )
            }
            let progress = ProgressBar(total: lines.count, unit: "documents", command: "import")
            for (done, (index, line)) in lines.enumerated() {
                do {
                    tally.count(try await ingest.ingest(Array(line), channel: channel, platform: platform))
                } catch let refusal as ChannelIngestRefusal {
                    tally.refused += 1
                    JSONLogHandler.standardError("\nline \(index + 1): refused: \(refusal)\n")
                } catch let error as OrderlyError {
                    tally.refused += 1
                    JSONLogHandler.standardError("\nline \(index + 1): refused: \(error.message)\n")
                }
                progress.update(done: done + 1)
            }
            progress.finish()
        } catch {
            await orderly.close()
            throw error
        }
        await orderly.close()
        print(tally.summary)
        if tally.refused > 0 { throw ExitCode.failure }
    }
}

/// What an import came to.
struct ImportTally: Hashable {
    var created = 0
    var replayed = 0
    var held: [String: Int] = [:]
    var cancelled = 0
    var refused = 0

    mutating func count(_ result: ChannelIngestResult) {
        switch result.outcome {
        case .created: created += 1
        case .replayed: replayed += 1
        case .held(let holds, _): for hold in holds { held[hold.rawValue, default: 0] += 1 }
        case .cancelledBeforeCapture: cancelled += 1
        }
    }

    var summary: String {
        let holds = held.keys.sorted().map { "\($0) \(held[$0] ?? 0)" }.joined(separator: ", ")
        let heldTotal = held.isEmpty ? "0" : "(\(holds))"
        return "created \(created), replayed \(replayed), held \(heldTotal), cancelled before capture \(cancelled), "
            + "refused \(refused)"
    }
}

/// A channel's name on the command line, checked as it is parsed (a name `SalesChannel` refuses is a
/// usage error).
extension SalesChannel: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}

/// The database and the channel a `channel` subcommand acts on.
struct ChannelTarget: ParsableArguments {
    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The channel ([a-z][a-z0-9_]*, at most 32; CHANNEL SET creates one).")
    var channel: SalesChannel

    /// Runs `body` on the database, closed afterwards; a refusal (`OrderlyError`) is a usage error.
    func run<T>(_ body: (OrderlyDatabase) async throws -> T) async throws -> T {
        let logger = CommandLogging.logger("orderly.channel")
        let orderly = try await OrderlyDatabase.open(url: try database.resolve(logger: logger).url, logger: logger)
        do {
            let value = try await body(orderly)
            await orderly.close()
            return value
        } catch let error as OrderlyError {
            await orderly.close()
            throw ValidationError(error.message)
        } catch {
            await orderly.close()
            throw error
        }
    }
}

/// `orderly channel connect` and `orderly channel alias`: what a channel's documents are and what its
/// identifiers mean. Secrets come from files (never the command line, which `ps` shows).
struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Connect a channel to its platform; map its identifiers to SKUs.",
        subcommands: [Connect.self, Alias.self, Resync.self]
    )

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a channel to the platform its order documents come from.",
            discussion: """
                Shopify signs its webhooks with the app's secret (--secret-file); the other platforms'
                connectors send a bearer token (--token-file), of which only its SHA-256 is stored. The
                channel's documents are then POSTed to /channels/CHANNEL/orders on serve's --http-port.
                --webhook-url receives the channel's order updates (shipped, delivered, cancelled,
                refunded), signed by the worker's --webhook-secret-file.

                Example:
                  orderly channel connect shop --platform shopify --secret-file shopify.secret
                  orderly channel connect amazon --platform amazon --token-file amazon.token \\
                      --webhook-url https://connector.example/orderly
                """
        )

        @OptionGroup var target: ChannelTarget

        @Option(help: "shopify, magento, sfcc, amazon or ebay.")
        var platform: String

        @Option(help: "A file holding Shopify's app secret (mode 0600).")
        var secretFile: String?

        @Option(help: "A file holding the bearer token the connector sends (mode 0600).")
        var tokenFile: String?

        @Option(help: "Where the channel's order updates and stock feed are POSTed.")
        var webhookURL: String?

        @Option(help: "Units of each SKU the channel is never offered (the stock feed's buffer).")
        var stockBuffer = 0

        @Option(help: "The feed publishes a SKU whenever its availability crosses this (and at 0).")
        var stockThreshold = 5

        @Option(help: "Otherwise it publishes a SKU when its availability moved by at least this.")
        var stockMinChange = 10

        func run() async throws {
            // The file's last line break is not part of the secret.
            let secret = try secretFile.map { try PrivateFile.read($0).trimmingCharacters(in: .newlines) }
            let token = try tokenFile.map { try PrivateFile.read($0).trimmingCharacters(in: .newlines) }
            try await target.run { orderly in
                try await ChannelIngest(database: orderly, actor: "cli").connect(
                    target.channel,
                    platform: platform,
                    secret: secret,
                    token: token,
                    webhookURL: webhookURL,
                    stockFeed: StockFeed(buffer: stockBuffer, threshold: stockThreshold, minimumChange: stockMinChange)
                )
            }
            print("connected \(target.channel) to \(platform)" + (webhookURL.map { ", updates to \($0)" } ?? ""))
        }
    }

    struct Resync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish every SKU's availability to a channel's webhook now (a full stock resync).",
            discussion: """
                The worker's publish_stock sweep sends what changed enough; this sends everything, for a
                channel that lost track (a new connection, a restore on its side).

                Example:
                  orderly channel resync amazon
                """
        )

        @OptionGroup var target: ChannelTarget

        func run() async throws {
            let published = try await target.run { orderly in
                try await ChannelIngest(database: orderly, actor: "cli").publishStock(target.channel, full: true)
            }
            print(
                "\(target.channel): \(published.skus) SKUs in \(published.messages) stock.updated webhooks, queued for the worker"
            )
        }
    }

    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Map a channel's identifier (its SKU, an ASIN, a legacyItemId) to an Orderly SKU.",
            discussion: """
                The channel's documents held for an unmapped SKU are imported again.

                Example:
                  orderly channel alias amazon B00EXAMPLE TSHIRT-RED-M
                """
        )

        @OptionGroup var target: ChannelTarget

        @Argument(help: "The channel's identifier.")
        var alias: String

        @Argument(help: "The Orderly SKU code it stands for.")
        var sku: String

        func run() async throws {
            let results = try await target.run { orderly in
                try await ChannelIngest(database: orderly, actor: "cli").alias(target.channel, alias: alias, sku: sku)
            }
            var tally = ImportTally()
            results.forEach { tally.count($0) }
            print("\(target.channel): \(alias) is \(sku); held documents imported again: \(tally.summary)")
        }
    }
}
