import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Orderly
import OrderlyChannels
import OrderlyCore

/// `POST /channels/{name}/orders`: one platform document for a connected channel.
///
/// In order: an unknown or unconnected channel and bad credentials are both 401 (a caller without
/// the channel's secret learns nothing of which channels exist; the log says which it was); a body
/// that is not `application/json` is 415, one longer than the limit 413 (by its Content-Length
/// before anything is read, else as it streams); the credentials are checked on the raw bytes
/// (Shopify's `X-Shopify-Hmac-Sha256`, in constant time; a bearer token for the others); then 400
/// for bytes that are not JSON, 422 with the field's path for a document that does not map, 201
/// with the order's id for a new order, 202 for a document held before capture (`unmapped_sku`,
/// `missing_address`), 200 for one seen before (with what it changed) or cancelled before capture.
/// Every answer is a JSON object.
struct ChannelRoute: Sendable {
    let ingest: ChannelIngest
    let maximumBodyBytes: Int
    let logger: Logger

    /// One answer for every 401, so it says nothing of which channels exist.
    static let unauthorized = "unknown channel or bad credentials"

    // A constant that is a valid header token; no input reaches this initializer.
    static let shopifyHMAC = HTTPField.Name("X-Shopify-Hmac-Sha256")!

    func respond(_ request: Request, channel name: String) async -> Response {
        var request = request
        guard let channel = SalesChannel(rawValue: name) else {
            return refuse(.unauthorized, Self.unauthorized, note: "not a channel name")
        }
        let connection: ChannelConnectionRecord
        do {
            guard let found = try await ingest.connection(channel) else {
                return refuse(.unauthorized, Self.unauthorized, note: "\(channel) is not connected")
            }
            connection = found
        } catch {
            return failed(error, channel: channel)
        }
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard type?.lowercased() == "application/json" else {
            return refuse(.unsupportedMediaType, "an order document is application/json, not \(type ?? "untyped")")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodyBytes {
            return tooLarge()
        }
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: maximumBodyBytes).readableBytesView)
        } catch {
            return tooLarge()
        }
        guard
            ChannelCredentials.authenticates(
                connection,
                body: body,
                shopifyHMAC: request.headers[Self.shopifyHMAC],
                authorization: request.headers[.authorization]
            )
        else {
            return refuse(.unauthorized, Self.unauthorized, note: "\(channel): credentials refused")
        }
        do {
            let result = try await ingest.ingest(body, channel: channel, platform: connection.platform)
            return answer(result)
        } catch let refusal as ChannelIngestRefusal {
            switch refusal {
            case .malformed:
                return Self.json(.badRequest, ["error": .string(refusal.description)])
            case .unmappable(let path, let problem):
                return Self.json(.unprocessableContent, ["error": .string(problem), "path": .string(path)])
            case .refused(let problem):
                return Self.json(.unprocessableContent, ["error": .string(problem)])
            }
        } catch let error as OrderlyError {
            return Self.json(
                .unprocessableContent,
                ["error": .string(error.message), "code": .string("\(error.code)")]
            )
        } catch {
            return failed(error, channel: channel)
        }
    }

    func answer(_ result: ChannelIngestResult) -> Response {
        let id = JSONValue.string(result.externalID)
        switch result.outcome {
        case .created(let orderID, let status):
            return Self.json(
                .created,
                ["order_id": .number("\(orderID)"), "external_id": id, "status": .string(status.rawValue)]
            )
        case .replayed(let orderID, let changes):
            return Self.json(
                .ok,
                [
                    "order_id": .number("\(orderID)"), "external_id": id, "replayed": .bool(true),
                    "changes": .array(changes.map(JSONValue.string)),
                ]
            )
        case .held(let holds, let unmapped):
            return Self.json(
                .accepted,
                [
                    "external_id": id, "state": .string("held"), "holds": .array(holds.map { .string($0.rawValue) }),
                    "unmapped": .array(unmapped.map(JSONValue.string)),
                ]
            )
        case .cancelledBeforeCapture:
            return Self.json(.ok, ["external_id": id, "state": .string("cancelled")])
        }
    }

    /// 413, and the connection closed after it: the rest of the body is never read.
    func tooLarge() -> Response {
        var response = Self.json(
            .contentTooLarge,
            ["error": .string("an order document is at most \(maximumBodyBytes) bytes")]
        )
        response.headers[.connection] = "close"
        return response
    }

    func refuse(_ status: HTTPResponse.Status, _ message: String, note: String? = nil) -> Response {
        if let note { logger.info("channel ingest refused", metadata: ["status": "\(status.code)", "why": "\(note)"]) }
        return Self.json(status, ["error": .string(message)])
    }

    /// The database could not be reached, or something unforeseen: nothing is known to be stored, so
    /// the platform should send it again (both are retried by Shopify and the connectors).
    func failed(_ error: any Error, channel: SalesChannel) -> Response {
        logger.error("channel ingest failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
        let unavailable = DatabaseFailure(error) != nil
        return Self.json(
            unavailable ? .serviceUnavailable : .internalServerError,
            [
                "error": .string(
                    unavailable ? "the database is unavailable; send it again" : "internal error; send it again"
                )
            ]
        )
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: JSONValue]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: JSONValue.object(object).serialized + "\n"))
        )
    }
}
