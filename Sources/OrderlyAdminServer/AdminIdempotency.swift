import Crypto
import Foundation
import Orderly
import OrderlyAdminProtocol
import OrderlyCore

/// A mutating command's `idem=` key: who sent it, the key, and the request's hash.
struct IdempotencyRecord: Sendable {
    let principal: String
    let key: String
    let requestHash: String

    init(principal: String, key: String, command: BoundCommand) {
        self.principal = principal
        self.key = key
        self.requestHash = Self.requestHash(command)
    }

    /// The request without its key, in a canonical order, hashed.
    static func requestHash(_ command: BoundCommand) -> String {
        let arguments = command.arguments.filter { $0.key != "idem" }.sorted { $0.key < $1.key }
        let canonical = ([command.spec.name] + arguments.map { "\($0.key)=\(String(describing: $0.value))" })
            .joined(separator: "\n")
        // Two hex digits a byte, so no two digests print alike.
        return SHA256.hash(data: Array(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Stores the reply the command will send for its value, in the command's own transaction.
    func storing<V>(_ reply: @escaping @Sendable (V) -> AdminReply) -> CommitAlongside<V> {
        AdminAccess.storing(principal: principal, key: key, requestHash: requestHash) { value in
            try StoredReply(reply(value)).encoded()
        }
    }
}

/// A mutating command with `idem=KEY`. Its reply is stored in its own transaction
/// (`CommitAlongside`), so the key holds a reply exactly when the command committed: a replay
/// returns it; a refusal, a crash or a connection lost before COMMIT leaves the key free. Two
/// requests with one key at once: the second's insert waits for the first's commit, fails on the
/// key, rolls back, and returns the first's reply.
struct IdempotencyMiddleware: AdminMiddleware {
    func respond(
        to call: AdminCall,
        next: @Sendable (AdminCall) async throws -> AdminReply
    ) async throws -> AdminReply {
        guard call.command.spec.mutating, let key = try call.command.text(optional: "idem") else {
            return try await next(call)
        }
        let record = IdempotencyRecord(principal: call.principal?.name ?? "", key: key, command: call.command)
        var keyed = call
        keyed.idem = record
        let access = call.executor.access
        if let earlier = try await Self.lookUp(record, in: access) { return earlier }
        do {
            return try await next(keyed)
        } catch  where AdminAccess.isKeyTaken(error) {
            if let earlier = try await Self.lookUp(record, in: access) { return earlier }
            return .error(AdminError(.conflict, "idem=\(key) was taken and then freed; send the request again"))
        }
    }

    /// The reply the key already answers with, or nil when it is free.
    static func lookUp(_ record: IdempotencyRecord, in access: AdminAccess) async throws -> AdminReply? {
        let lookup = try await access.lookUp(
            principal: record.principal,
            key: record.key,
            requestHash: record.requestHash
        )
        switch lookup {
        case .free: return nil
        case .replay(let stored): return try StoredReply.decode(stored).reply
        case .mismatch:
            return .error(AdminError(.idempotencyConflict, "idem=\(record.key) was used for a different request"))
        case .unfinished:
            return .error(
                AdminError(
                    .conflict,
                    "idem=\(record.key): an older server claimed this key and stopped without a reply; "
                        + "its outcome is unknown (check the order or stock)"
                )
            )
        }
    }
}

/// A reply as the idempotency store keeps it: Codable, with field order and value types. Version 2;
/// migration 0008 rewrote the replies earlier servers stored (their JSON wire form) into it.
struct StoredReply: Codable, Hashable, Sendable {
    static let version = 2

    struct Field: Codable, Hashable, Sendable {
        var k: String
        var t: String?
        var i: Int64?
        var b: Bool?
    }

    var v: Int
    var ok: Bool
    /// `fields` (an OK reply: one row) or `rows`.
    var shape: String?
    var rows: [[Field]]?
    var code: String?
    var message: String?

    init(_ reply: AdminReply) {
        v = Self.version
        switch reply {
        case .ok(let fields):
            (ok, shape, rows) = (true, "fields", [fields.map(Self.field)])
        case .rows(let rows):
            (ok, shape, self.rows) = (true, "rows", rows.map { $0.map(Self.field) })
        case .error(let error):
            (ok, code, message) = (false, error.code.rawValue, error.message)
        }
    }

    static func field(_ field: AdminField) -> Field {
        switch field.value {
        case .text(let text): Field(k: field.key, t: text)
        case .int(let value): Field(k: field.key, i: value)
        case .bool(let value): Field(k: field.key, b: value)
        case .null: Field(k: field.key)
        }
    }

    func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> StoredReply {
        let stored: StoredReply
        do {
            stored = try JSONDecoder().decode(StoredReply.self, from: Data(text.utf8))
        } catch {
            throw AdminError(.internal, "a stored reply could not be read: \(error)")
        }
        guard stored.v == version else {
            throw AdminError(.internal, "a stored reply is version \(stored.v); this server reads \(version)")
        }
        return stored
    }

    var reply: AdminReply {
        get throws {
            guard ok else {
                guard let code, let message else { throw AdminError(.internal, "a stored error reply has no code") }
                return .error(AdminError(AdminError.Code(rawValue: code), message))
            }
            let decoded = try (rows ?? []).map { row in try row.map(Self.adminField) }
            switch shape {
            case "fields": return .ok(decoded.first ?? [])
            case "rows": return .rows(decoded)
            default: throw AdminError(.internal, "a stored reply has no shape")
            }
        }
    }

    static func adminField(_ field: Field) throws -> AdminField {
        switch (field.t, field.i, field.b) {
        case (let text?, nil, nil): AdminField(field.k, .text(text))
        case (nil, let value?, nil): AdminField(field.k, .int(value))
        case (nil, nil, let value?): AdminField(field.k, .bool(value))
        case (nil, nil, nil): AdminField(field.k, .null)
        default: throw AdminError(.internal, "a stored reply's field \(field.k) has two values")
        }
    }
}
