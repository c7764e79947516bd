import RefitCore

/// Readiness, the pure half: which slices a window reads, from the definitions. The store keeps
/// the other half — how many of those slices are not Ready yet — up to date as slices change.
struct InputResolver {
    let factory: Factory

    /// The input slices of `record`'s window; nil when they cannot be resolved with these
    /// definitions (the activity or an input dataset is no longer defined, or the dependency
    /// period is invalid), so the window is not runnable.
    func inputs(of record: WindowRecord) -> WindowInputs {
        guard let pipeline = factory.pipelines[record.key.pipeline],
              let activity = pipeline.activity(named: record.key.activity) else {
            return WindowInputs(windowID: record.id, inputs: nil)
        }
        var slices: [InputSlice] = []
        for input in activity.inputs {
            guard let dataset = factory.datasets[input.name],
                  let range = try? DependencyResolver.inputSlices(for: record.window, input: input, dataset: dataset)
            else { return WindowInputs(windowID: record.id, inputs: nil) }
            for slice in range {
                let check = dataset.external
                    ? ExternalSliceCheck(slice: slice, policy: dataset.externalData, validation: dataset.validation) : nil
                slices.append(InputSlice(dataset: dataset.name, slice: slice, external: check))
            }
        }
        return WindowInputs(windowID: record.id, inputs: slices)
    }
}
