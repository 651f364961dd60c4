import ArgumentParser
import Foundation
import Testing

@testable import OrderlyCommands

struct EnvironmentFallbackTests {
    static func parse(_ arguments: [String], _ environment: [String: String]) throws -> any ParsableCommand {
        try OrderlyCommand.parseAsRoot(
            EnvironmentFallback.arguments(arguments, root: OrderlyCommand.self, environment: environment)
        )
    }

    @Test func variablesFillInWhatTheCommandLineLeavesOut() throws {
        let command = try Self.parse(
            ["serve"],
            ["ORDERLY_PORT": "7511", "ORDERLY_MAX_CLIENTS": "3", "ORDERLY_DATABASE_URL": "dbname=shop"]
        )
        let serve = try #require(command as? ServeCommand)
        #expect(serve.port == 7511)
        #expect(serve.maxClients == 3)
        #expect(serve.database.databaseURL == "dbname=shop")
        #expect(serve.host == "127.0.0.1")
    }

    @Test func theCommandLineWinsInBothSpellings() throws {
        let environment = ["ORDERLY_PORT": "7511", "ORDERLY_HOST": "0.0.0.0"]
        let serve = try #require(
            try Self.parse(["serve", "--port", "7600", "--host=127.0.0.2"], environment) as? ServeCommand
        )
        #expect(serve.port == 7600)
        #expect(serve.host == "127.0.0.2")
    }

    @Test func serveTakesItsTLSPairFromTheEnvironmentAndRefusesHalfAPairOrAContradiction() throws {
        let serve = try #require(
            try Self.parse(
                ["serve"],
                ["ORDERLY_TLS_CERT": "/etc/orderly/cert.pem", "ORDERLY_TLS_KEY": "/etc/orderly/key.pem"]
            ) as? ServeCommand
        )
        #expect(serve.tlsCert == "/etc/orderly/cert.pem")
        #expect(serve.tlsKey == "/etc/orderly/key.pem")
        #expect {
            try Self.parse(["serve", "--tls-cert", "/etc/orderly/cert.pem"], [:])
        } throws: { error in
            OrderlyCommand.message(for: error).contains("--tls-cert and --tls-key go together")
        }
        #expect {
            try Self.parse(["serve", "--tls-cert", "c.pem", "--tls-key", "k.pem"], ["ORDERLY_INSECURE_PLAINTEXT": "1"])
        } throws: { error in
            OrderlyCommand.message(for: error).contains("--insecure-plaintext contradicts --tls-cert")
        }
        let admin = try #require(
            try Self.parse(["admin", "PING"], ["ORDERLY_TLS_CA": "/etc/orderly/ca.pem"]) as? AdminCommand
        )
        #expect(admin.tlsCa == "/etc/orderly/ca.pem")
    }

    @Test func flagsTakeTrueOrFalseAndNothingElse() throws {
        let on = try #require(try Self.parse(["migrate"], ["ORDERLY_STATUS": "yes"]) as? MigrateCommand)
        #expect(on.status)
        let off = try #require(try Self.parse(["migrate"], ["ORDERLY_STATUS": "0"]) as? MigrateCommand)
        #expect(!off.status)
        #expect {
            try EnvironmentFallback.arguments(
                ["migrate"],
                root: OrderlyCommand.self,
                environment: ["ORDERLY_STATUS": "maybe"]
            )
        } throws: { error in
            "\(error)".contains("ORDERLY_STATUS must be true or false") && "\(error)".contains("'maybe'")
        }
    }

    @Test func poolSizesAreBoundedFromTheCommandLineOrTheEnvironment() throws {
        let serve = try #require(try Self.parse(["serve"], ["ORDERLY_POOL_SIZE": "3"]) as? ServeCommand)
        #expect(serve.poolSize == 3)
        let worker = try #require(try Self.parse(["worker", "--pool-size", "5"], [:]) as? WorkerCommand)
        #expect(worker.poolSize == 5)
        #expect(throws: (any Error).self) { try Self.parse(["serve"], ["ORDERLY_POOL_SIZE": "0"]) }
        #expect(throws: (any Error).self) { try Self.parse(["worker", "--pool-size", "1"], [:]) }
    }

    @Test func aBadValueIsRefusedAsABadFlagWouldBe() throws {
        #expect(throws: (any Error).self) { try Self.parse(["serve"], ["ORDERLY_PORT": "seventy"]) }
    }

    @Test func passthroughArgumentsAreLeftAlone() throws {
        let arguments = try EnvironmentFallback.arguments(
            ["admin", "ORDER", "SHOW", "--port", "1"],
            root: OrderlyCommand.self,
            environment: ["ORDERLY_PORT": "7511"]
        )
        #expect(arguments == ["admin", "ORDER", "SHOW", "--port", "1"])
        let after = try EnvironmentFallback.arguments(
            ["worker", "--", "--concurrency"],
            root: OrderlyCommand.self,
            environment: ["ORDERLY_CONCURRENCY": "2"]
        )
        #expect(after == ["worker", "--concurrency=2", "--", "--concurrency"])
    }

    /// Every option of every command, as ArgumentParser itself names them (its help dump), has a
    /// variable: the reflection misses none and invents none.
    @Test func everyOptionOfEveryCommandHasAVariable() throws {
        let tree = try Self.helpDump()
        var leaves = 0
        func walk(_ command: any ParsableCommand.Type, _ dumped: [String: Any], _ path: String) throws {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty {
                leaves += 1
                let reflected = Set(EnvironmentFallback.options(of: command).map(\.name))
                let named = Self.longNames(dumped)
                #expect(reflected == named, "\(path): \(reflected) against \(named)")
            }
            let dumpedSubcommands = dumped["subcommands"] as? [[String: Any]] ?? []
            for sub in subcommands {
                let entry = try #require(dumpedSubcommands.first { $0["commandName"] as? String == sub._commandName })
                try walk(sub, entry, path + " " + sub._commandName)
            }
        }
        try walk(OrderlyCommand.self, tree, "orderly")
        #expect(leaves > 10)
    }

    /// `orderly --experimental-dump-help`: the whole command tree.
    static func helpDump() throws -> [String: Any] {
        var message = ""
        do {
            _ = try OrderlyCommand.parseAsRoot(["--experimental-dump-help"])
        } catch {
            message = OrderlyCommand.fullMessage(for: error)
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any])
        return try #require(json["command"] as? [String: Any])
    }

    /// A dumped command's long option and flag names, without the ones every command has.
    static func longNames(_ command: [String: Any]) -> Set<String> {
        var names = Set<String>()
        for argument in command["arguments"] as? [[String: Any]] ?? []
        where (argument["kind"] as? String) != "positional" {
            for name in argument["names"] as? [[String: Any]] ?? [] where (name["kind"] as? String) == "long" {
                if let long = name["name"] as? String, !["help", "version", "experimental-dump-help"].contains(long) {
                    names.insert(long)
                }
            }
        }
        return names
    }
}

struct DatabaseConfigurationTests {
    static var nothingConfigured: Bool {
        guard let options = try? DatabaseOptions.parse([]) else { return false }
        return options.configured(environment: ProcessInfo.processInfo.environment) == nil
    }

    @Test func withNothingConfiguredADeploymentProcessSaysSoInsteadOfStartingAPrivateCluster() throws {
        let logger = CommandLogging.logger("test")
        let error = #expect(throws: NoDatabaseConfigured.self) {
            try DatabaseOptions.parse([]).resolve(logger: logger, environment: [:])
        }
        #expect(error?.description.contains("--database-url") == true)
        #expect(error?.description.contains("--dev") == true)
    }

    @Test func theDatabaseComesFromTheFlagThenDatabaseURLThenLibpqVariables() throws {
        let logger = CommandLogging.logger("test")
        let flagged = try DatabaseOptions.parse(["--database-url", "dbname=a"])
        #expect(try flagged.resolve(logger: logger, environment: ["DATABASE_URL": "dbname=b"]).url == "dbname=a")
        let fromURL = try DatabaseOptions.parse([]).resolve(logger: logger, environment: ["DATABASE_URL": "dbname=b"])
        #expect(fromURL.url == "dbname=b" && fromURL.source == .explicit)
        let fromLibpq = try DatabaseOptions.parse([]).resolve(logger: logger, environment: ["PGHOST": "db.internal"])
        #expect(fromLibpq.url == "" && fromLibpq.source == .libpqEnvironment)
    }

    @Test(.enabled(if: nothingConfigured, "this process's environment names a database"))
    func serveWorkerMigrateCheckAndAdminUserRefuseWithoutADatabase() async throws {
        for arguments in [
            ["migrate"], ["serve", "--port", "0"], ["worker"], ["check"],
            ["admin-user", "add", "alice", "--role", "admin"],
        ] {
            await #expect(throws: NoDatabaseConfigured.self, "\(arguments)") { try await runOrderly(arguments) }
        }
    }
}
