import ArgumentParser

/// `refit resume`: undoes `refit pause`; waiting windows are evaluated again at the next pass.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a paused pipeline start attempts again.")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @OptionGroup var name: PipelineName
    @OptionGroup var operatorOptions: OperatorOptions

    func run() throws {
        try PauseControl.set(paused: false, pipeline: name.pipeline, definitions: definitions, database: database, options: operatorOptions)
    }
}

/// The pipeline `pause` and `resume` act on: an argument, or `--pipeline` as the other commands
/// take it (one of the two; both only if they agree).
struct PipelineName: ParsableArguments {
    @Argument(help: ArgumentHelp("The pipeline (or --pipeline).", valueName: "pipeline")) var positional: String?
    @Option(name: .customLong("pipeline"), help: ArgumentHelp("The pipeline, as `slices`, `rerun` or `backfill` take it.", valueName: "pipeline"))
    var option: String?

    var pipeline: String { option ?? positional ?? "" }

    func validate() throws {
        switch (positional, option) {
        case (nil, nil): throw ValidationError("Missing the pipeline: give it as an argument or with --pipeline.")
        case let (argument?, option?) where argument != option:
            throw ValidationError("Two pipelines given: '\(argument)' and --pipeline '\(option)'.")
        default: break
        }
    }
}
