import RefitCore
import RefitDefinitions

/// One libFuzzer input through every reader of untrusted definition text: the JSON and YAML
/// readers, the decoder and cross-file validator on whatever they read, ADF dependency
/// expressions and `$$` templates, and `partitionedBy` .NET date formats (validated, then
/// expanded for a slice when valid). A crash, a hang (`-timeout`) or runaway memory
/// (`-rss_limit_mb`) is a finding; diagnostics are the expected outcome.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for file in ["fuzz.json", "fuzz.yaml"] {
        let result = DefinitionLoader.parse(text, file: file)
        if let root = result.root ?? result.partialRoot {
            let document = DefinitionDocument(file: file, root: root, isPartial: result.root == nil)
            _ = DefinitionValidator.validate([document], options: ValidationOptions(environment: [:]))
        }
    }
    // Short inputs are also expressions and formats; long ones add nothing there but time.
    guard size <= 512 else { return 0 }
    if let expression = try? ADFExpression.parse(text) {
        let slice = Slice(start: Instant(year: 2026, month: 1, day: 31), end: Instant(year: 2026, month: 2, day: 1))
        _ = try? expression.evaluate(ExpressionContext(window: slice))
    }
    _ = try? ExpressionTemplate.parse("$$" + text)
    if (try? DotNetDateFormat.validate(text)) != nil {
        _ = try? DotNetDateFormat.format(Instant(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59), text)
        let token = PartitionToken(name: "T", date: .sliceStart, format: text)
        let slice = Slice(start: Instant(year: 2026, month: 12, day: 31), end: Instant(year: 2027, month: 1, day: 1))
        _ = try? PartitionedPath.expand("data/{T}/x", tokens: [token], slice: slice)
    }
    return 0
}
