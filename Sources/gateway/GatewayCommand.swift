import ArgumentParser
import GatewayConfig
import GatewayCore
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A TLS-terminating HTTP API gateway.",
        version: GatewayVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

enum GatewayVersion {
    static let current = "0.1.0"
}

/// `gateway run [--config PATH]`: serve with a configuration until SIGTERM/SIGINT;
/// SIGHUP reloads it.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Serve traffic with a configuration file (the default command).")

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "gateway.json"

    func run() async throws {
        // Trap SIGHUP first: its default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfigurationLoader.load(contentsOf: self.config)
        } catch {
            printProblems(error)
            throw ExitCode(1)
        }

        // One level for every log handler, set from `log.level` and changed by reloads.
        let logLevels = LogLevelControl()
        logLevels.set(configuration.log.level)
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, levels: logLevels) }
        let logger = Logger(label: "gateway")
        let metrics = GatewayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

        let server: GatewayServer
        do {
            server = try GatewayServer(
                configuration: configuration, configurationFile: self.config, logger: logger, metrics: metrics,
                logLevels: logLevels)
        } catch {
            logger.critical("cannot start", metadata: ["error": .string("\(error)")])
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse order: stop reloading first, then drain the server.
                services: [
                    .init(service: GatewayService(server: server)),
                    .init(service: ConfigurationWatcher(server: server)),
                    .init(service: ReloadOnHangup(server: server, hangups: hangups)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            ))
        do {
            try await group.run()
        } catch {
            logger.critical("stopped", metadata: ["error": .string("\(error)")])
            throw ExitCode(1)
        }
        logger.info("stopped")
    }
}

/// `gateway check --config PATH`: validate like `nginx -t`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a configuration file and print every problem with its JSON path.")

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "gateway.json"

    func run() throws {
        do {
            let configuration = try GatewayConfigurationLoader.load(contentsOf: self.config)
            _ = try GatewayState(configuration: configuration)
            let certificateProblems = CertificateCheck.problems(in: configuration)
            guard certificateProblems.isEmpty else {
                printProblems(certificateProblems.joined(separator: "\n"))
                throw ExitCode(1)
            }
            print("\(self.config): configuration is valid (\(configuration.routes.count) routes, \(configuration.listeners.count) listeners)")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printProblems(error)
            throw ExitCode(1)
        }
    }
}

func printProblems(_ problems: Any) {
    var standardError = StandardError()
    print("\(problems)", to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileDescriptorOutput.write(string, to: 2)
    }
}
