import ArgumentParser
import Foundation
import OrderlyDevCluster

/// `orderly dev`: the private PostgreSQL cluster under .orderly/.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Manage the private PostgreSQL cluster under .orderly/ (used when no database is configured).",
        discussion: """
            The cluster listens on 127.0.0.1 and a unix socket only, on a free port. As root, the \
            server runs as the postgres user.

            Example:
              orderly dev start
              orderly dev psql -c 'SELECT count(*) FROM orders'
              orderly dev stop
            """,
        subcommands: [Start.self, Stop.self, Status.self, Psql.self, URL.self, Destroy.self]
    )

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Initialize (first time) and start the cluster.",
            discussion: "Example:\n  orderly dev start"
        )
        func run() throws {
            let info = try LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev")).start()
            print("running: \(info.displayURL) (orderly dev url prints it with its password)")
            print("socket:  \(info.conninfo)")
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the cluster (fast shutdown; nothing committed is lost).",
            discussion: "Example:\n  orderly dev stop"
        )
        func run() throws {
            let cluster = LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev"))
            try cluster.stop()
            print("stopped")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the cluster is running; exit 3 when it is not.",
            discussion: "Example:\n  orderly dev status"
        )
        func run() throws {
            let cluster = LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev"))
            switch try cluster.status() {
            case .notInitialized:
                print("not initialized (orderly dev start creates it)")
                throw ExitCode(3)
            case .stopped:
                print("stopped")
                throw ExitCode(3)
            case .running(let pid):
                print("running (pid \(pid)): \(cluster.info()?.displayURL ?? "")")
            }
        }
    }

    struct Psql: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open psql on the cluster (starting it if needed); extra arguments go to psql.",
            discussion: "Example:\n  orderly dev psql -c 'SELECT version()'"
        )
        @Argument(parsing: .captureForPassthrough, help: "Arguments passed to psql.")
        var psqlArguments: [String] = []

        func run() throws {
            let info = try LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev")).start()
            let arguments = ["psql", info.conninfo] + psqlArguments
            var cArguments = arguments.map { strdup($0) } + [nil]
            execvp("psql", &cArguments)
            throw ValidationError("cannot run psql (errno \(errno)); is postgresql-client installed?")
        }
    }

    struct URL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url",
            abstract: "Print the cluster's connection URL (starting it if needed), for DATABASE_URL.",
            discussion: "Example:\n  export DATABASE_URL=$(orderly dev url)"
        )
        func run() throws {
            print(try LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev")).start().url)
        }
    }

    struct Destroy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the cluster and delete all of its data.",
            discussion: "Example:\n  orderly dev destroy --yes"
        )
        @Flag(help: "Confirm that every row in the private cluster may be deleted.")
        var yes = false

        func validate() throws {
            guard yes else { throw ValidationError("this deletes the private cluster's data; pass --yes to confirm") }
        }

        func run() throws {
            try LocalCluster.forCurrentDirectory(logger: CommandLogging.logger("orderly.dev")).destroy()
            print("destroyed")
        }
    }
}
