import ArgumentParser
import Foundation
import Logging
import RefitMLSim

/// `refit-mlsim`: a local Azure ML Studio (classic) emulator for the retrain → update → score loop.
@main
struct RefitMLSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refit-mlsim",
        abstract: "Emulates Azure ML Studio (classic): BES jobs, endpoint management, RRS scoring and Azure Blob storage.",
        discussion: """
            The first stdout line is one JSON object describing the instance (URLs, keys, ids); its
            storage.connectionString works with the Azure Storage SDKs, storage.sasToken (an account SAS)
            with plain HTTP clients such as curl.
            Fault syntax: OP:ITEM[:ITEM...] with OP in submit, start, status, delete, patch, score, blob, list,
            management and ITEMs 500|503|429 (403 on blob), count=N, rate=R, retry-after=S, latency=MS, hold=MS, drop, malformed;
            or jobs:fail=N[:details=TEXT]. Example: --fault submit:503:count=2:retry-after=1
            """)

    @Option(help: "Interface to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (printed in the JSON line).")
    var port = 0

    @Option(name: .customLong("state"), help: "Folder that keeps blobs, models, jobs, keys and the operations log across restarts.")
    var stateDirectory: String?

    @Option(help: "Seconds a started job stays Running before training runs.")
    var jobDuration: Double = 1

    @Option(help: "Seconds between an accepted PATCH and the endpoint scoring with the new model.")
    var propagationDelay: Double = 0

    @Option(help: "Inject a fault (repeatable); see the syntax above.")
    var fault: [String] = []

    @Option(help: "Seed for ids, keys and rate-based faults (repeatable runs).")
    var seed: UInt64?

    @Flag(help: "Exit when standard input reaches its end: a parent that holds a pipe to it stops the emulator just by exiting, however it ends.")
    var exitOnStdinEOF = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard jobDuration >= 0, jobDuration.isFinite else { throw ValidationError("--job-duration must be zero or more seconds.") }
        guard propagationDelay >= 0, propagationDelay.isFinite else {
            throw ValidationError("--propagation-delay must be zero or more seconds.")
        }
        var settings = FaultSettings()
        for spec in fault {
            do { try settings.add(spec: spec) } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var faults = FaultSettings()
        for spec in fault { try faults.add(spec: spec) }
        let configuration = MLSimConfiguration(
            host: host, port: port,
            stateDirectory: stateDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            jobDuration: .milliseconds(Int64((jobDuration * 1000).rounded())),
            propagationDelay: .milliseconds(Int64((propagationDelay * 1000).rounded())),
            faults: faults, seed: seed)
        if exitOnStdinEOF {
            // A blocking read on a thread of its own: EOF (or an error) means the parent is gone.
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 512)
                while read(STDIN_FILENO, &buffer, buffer.count) > 0 {}
                Foundation.exit(0)
            }
        }
        try await MLSimServer.run(configuration: configuration, handleSignals: true) { info in
            FileHandle.standardOutput.write(Data((info.jsonLine() + "\n").utf8))
        }
    }
}
