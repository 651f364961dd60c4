import LibPQ
import OrderlyAdminProtocol
import OrderlyTestSupport
import Testing

@testable import OrderlyAdminServer

/// The command path's pieces, without a socket: the registry, typed arguments, stored replies.
@Suite struct CommandRegistryTests {
    @Test func everyCommandOfTheTableIsServedOnce() {
        let registry = AdminCommandRegistry.standard
        #expect(registry.unserved == [])
        for name in AdminCommandRegistry.connectionCommands {
            #expect(registry.handler(name) == nil, "\(name) is the connection's own")
        }
        #expect(
            registry.handlers.count + AdminCommandRegistry.connectionCommands.count
                == CommandTable.standard.commands.count
        )
    }

    func bind(_ line: String) throws -> BoundCommand {
        try CommandTable.standard.bind(try #require(try AdminRequest.parse(Array(line.utf8))))
    }

    @Test func argumentsAreReadAsTheTableDeclaresThemOrNotAtAll() throws {
        let show = try bind("ORDER SHOW 42")
        #expect(try show.int(required: "id") == 42)
        // A handler out of step with the table: INTERNAL naming the argument, never a default.
        #expect(throws: AdminError.self) { try show.int(required: "order") }
        #expect(throws: AdminError.self) { try show.int(optional: "id") }
        #expect(throws: AdminError.self) { try show.text(required: "id") }
        do {
            _ = try show.text(required: "id")
        } catch {
            #expect(error.code == .internal)
            #expect(error.message.contains("'id'"))
        }
        let list = try bind("ORDER LIST")
        #expect(try list.int(optional: "limit") == nil)
        let stock = try bind("STOCK SHOW SKU-1 warehouse=4")
        #expect(try stock.value(required: "sku") == .text("SKU-1"))
        #expect(try stock.value(optional: "warehouse") == .int(4))
    }

    @Test func storedRepliesKeepFieldOrderAndTypes() throws {
        let replies: [AdminReply] = [
            .ok(
                AdminField("id", 7),
                AdminField("code", "B-1"),
                AdminField("replayed", true),
                AdminField("note", .null)
            ),
            .rows([[AdminField("z", "last"), AdminField("a", 1)], [AdminField("z", "x"), AdminField("a", -2)]]),
            .rows([]),
            .error(AdminError(.conflict, "already \"done\"\n")),
        ]
        for reply in replies {
            let text = try StoredReply(reply).encoded()
            #expect(try StoredReply.decode(text).reply == reply)
        }
        #expect(throws: AdminError.self) { try StoredReply.decode(#"{"ok":true,"fields":{"id":1}}"#) }
    }
}

/// Migration 0008's rewrite of the replies earlier servers stored in their JSON wire form.
@Suite(.migratedDatabase)
struct StoredReplyMigrationTests {
    @Test func wireFormRepliesBecomeTheSameRepliesInVersionTwo() throws {
        let connection = try TestDatabase.require().connect()
        defer { connection.close() }
        let replies: [AdminReply] = [
            .ok(
                AdminField("id", 7),
                AdminField("code", "B-1"),
                AdminField("replayed", true),
                AdminField("note", .null)
            ),
            .ok([]),
            .rows([[AdminField("z", "last"), AdminField("a", 1)], [AdminField("z", "ä \"q\""), AdminField("a", -2)]]),
            .rows([]),
            .error(AdminError(.idempotencyConflict, "used for a different request")),
        ]
        for reply in replies {
            let wire = reply.encoded(.json, tag: nil)
            let converted = try connection.query("SELECT orderly_stored_reply_v2($1)", [wire]).scalar(String.self)
            #expect(try StoredReply.decode(converted).reply == reply, "\(wire)")
        }
    }
}
