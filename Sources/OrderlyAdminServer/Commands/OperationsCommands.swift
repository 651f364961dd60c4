import Orderly
import OrderlyAdminProtocol

/// NOTIFICATION, JOBS and CHECK: the outbox, the queue and the invariants.
extension AdminCommandRegistry {
    mutating func registerOperationsCommands() {
        read("NOTIFICATION LIST") { c throws(AdminError) in
            let (order, status, limit) = (
                try c.int(optional: "order"), try c.text(optional: "status"), Int(try c.int(optional: "limit") ?? 100)
            )
            return AdminReads.notifications(order: order, status: status, limit: limit).map(AdminReplies.rows)
        }
        call("NOTIFICATION RESEND") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("status", $0)) }
            return reply(try await call.notifications.resend(id, alongside: call.storing(reply)))
        }
        read("JOBS STATS") { _ in AdminReads.jobStats().map(AdminReplies.rows) }
        read("WORKER LIST") { _ in AdminReads.workers().map(AdminReplies.rows) }
        read("JOBS LIST") { c throws(AdminError) in
            let (state, kind, limit) = (
                try c.text(optional: "state"), try c.text(optional: "kind"), try c.int(optional: "limit") ?? 100
            )
            return AdminReads.jobs(state: state, kind: kind, limit: limit).map(AdminReplies.rows)
        }
        call("JOBS RETRY") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("state", $0)) }
            return reply(try await call.jobs.retry(id, alongside: call.storing(reply)))
        }
        call("JOBS DISCARD") { call in
            let id = try call.command.int(required: "id")
            let reply: @Sendable (String) -> AdminReply = { .ok(AdminField("id", id), AdminField("state", $0)) }
            return reply(try await call.jobs.discard(id, alongside: call.storing(reply)))
        }
        call("CHECK") { call in
            AdminReplies.check(try await InvariantChecker(database: call.database).run())
        }
    }
}
