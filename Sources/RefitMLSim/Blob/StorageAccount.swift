import Crypto
import Foundation

/// The emulated storage account: its name, its secret key, and where its Blob service listens.
/// The layout follows Azurite (path-style, `http://127.0.0.1:PORT/<account>`), so the official Azure SDKs
/// accept the connection string as they accept Azurite's.
public struct StorageAccount: Sendable, CustomStringConvertible {
    /// The account name, the first path segment of every Blob URL.
    public let name: String
    /// The account key, base64 as in a connection string. Secret: never log it.
    public let key: String
    /// The decoded key, the HMAC-SHA256 secret of Shared Key and SAS signatures.
    let keyBytes: Data
    /// Host and port of the listening server; set once the port is known (port 0 binds late).
    public var host: String
    public var port: Int

    /// - Parameters:
    ///   - name: account name (3–24 lowercase letters and digits, as Azure requires).
    ///   - key: base64 key; a fresh random 64-byte key when nil, so no two emulator runs share a secret.
    public init(name: String = "refitstore", key: String? = nil, host: String = "127.0.0.1", port: Int = 0) throws {
        guard (3...24).contains(name.count),
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }) else {
            throw BlobError(status: 400, code: "InvalidAccountName",
                            message: "The storage account name must be 3 to 24 lowercase letters and digits.")
        }
        let encoded: String
        if let key {
            encoded = key
        } else {
            encoded = Data(SymmetricKey(size: .init(bitCount: 512)).withUnsafeBytes { Array($0) }).base64EncodedString()
        }
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw BlobError(status: 400, code: "InvalidAccountKey", message: "The storage account key is not valid base64.")
        }
        self.name = name
        self.key = encoded
        self.keyBytes = bytes
        self.host = host
        self.port = port
    }

    /// `http://HOST:PORT/<account>`, the base URL of every container and blob.
    public var blobEndpoint: String { "http://\(host):\(port)/\(name)" }

    /// The connection string clients (the Azure SDKs, Refit's linked services) are given.
    public var connectionString: String {
        "DefaultEndpointsProtocol=http;AccountName=\(name);AccountKey=\(key);BlobEndpoint=\(blobEndpoint);"
    }

    /// base64(HMAC-SHA256(key, UTF-8 text)), the signature of both Shared Key and SAS.
    func sign(_ stringToSign: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8),
                                                        using: SymmetricKey(data: keyBytes))).base64EncodedString()
    }

    /// Constant-time check of a base64 signature against the string to sign.
    func verify(signature: String, of stringToSign: String) -> Bool {
        guard let mac = Data(base64Encoded: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(stringToSign.utf8),
                                                      using: SymmetricKey(data: keyBytes))
    }

    /// Keeps the key out of logs and interpolations.
    public var description: String { "StorageAccount(\(name), \(blobEndpoint))" }
}
