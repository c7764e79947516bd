import ArgumentParser

/// `refit resume`: undoes `refit pause`; waiting windows are evaluated again at the next pass.
struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a paused pipeline start attempts again.")

    @OptionGroup var definitions: SchedulesOption
    @OptionGroup var database: StoreOption
    @Argument(help: "The pipeline.") var pipeline: String
    @OptionGroup var operatorOptions: OperatorOptions

    func run() throws {
        try PauseControl.set(paused: false, pipeline: pipeline, definitions: definitions, database: database, options: operatorOptions)
    }
}
