import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so fault injection can drop a connection
/// without answering.
public struct MLSimRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Bodies of the ML routes (BES, RRS, management) may exceed Hummingbird's 2 MiB default; blob uploads are
    /// bounded by `BlobService.maxUploadBytes` instead.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
