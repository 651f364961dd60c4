import Orderly
import OrderlyAdminProtocol
import OrderlyStore

/// NOTIFICATION, JOBS and CHECK: the outbox, the queue and the invariants.
extension AdminCommandRegistry {
    mutating func registerOperationsCommands() {
        read("NOTIFICATION LIST") { c throws(AdminError) in
            let (order, status, limit) = (
                try c.int(optional: "order"), try c.text(optional: "status"), Int(try c.int(optional: "limit") ?? 100)
            )
            return {
                AdminReplies.rows(try AdminQueries.notifications($0, order: order, status: status, limit: limit))
            }
        }
        call("NOTIFICATION RESEND") { call in
            let id = try call.command.int(required: "id")
            return try await call.write(
                reply: { .ok(AdminField("id", id), AdminField("status", $0)) },
                body: { try AdminQueries.resendNotification($0, id: id) }
            )
        }
        read("JOBS STATS") { _ in { AdminReplies.rows(try AdminQueries.jobStats($0)) } }
        read("JOBS LIST") { c throws(AdminError) in
            let (state, kind, limit) = (
                try c.text(optional: "state"), try c.text(optional: "kind"), try c.int(optional: "limit") ?? 100
            )
            return { AdminReplies.rows(try AdminQueries.jobs($0, state: state, kind: kind, limit: limit)) }
        }
        call("JOBS RETRY") { call in
            let id = try call.command.int(required: "id")
            return try await call.write(
                reply: { .ok(AdminField("id", id), AdminField("state", $0)) },
                body: { try AdminQueries.retryJob($0, id: id) }
            )
        }
        call("JOBS DISCARD") { call in
            let id = try call.command.int(required: "id")
            return try await call.write(
                reply: { .ok(AdminField("id", id), AdminField("state", $0)) },
                body: { try AdminQueries.discardJob($0, id: id) }
            )
        }
        call("CHECK") { call in
            AdminReplies.check(try await InvariantChecker(database: call.database).run())
        }
    }
}
