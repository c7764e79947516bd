import Foundation
import RefitHTTP
import Testing

@Suite("SigV4 helpers")
struct SigV4Tests {
    /// Cases in the style of the AWS SigV4 test suite (get-vanilla-query-*) plus S3 list parameters.
    @Test("canonical query strings", arguments: [
        // get-vanilla-query-order-key-case
        ([("Param2", "value2"), ("Param1", "value1")], "Param1=value1&Param2=value2"),
        // get-vanilla-query-order-value
        ([("Param1", "value2"), ("Param1", "Value1")], "Param1=Value1&Param1=value2"),
        // get-vanilla-query-order-key
        ([("b", "foo"), ("a", "foo")], "a=foo&b=foo"),
        // get-vanilla-query-unreserved
        ([("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
           "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")],
         "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
        // get-vanilla-utf8-query
        ([("ሴ", "bar")], "%E1%88%B4=bar"),
        // Upper case sorts before lower case (byte order), and empty values keep their "=".
        ([("b", "1"), ("B", "2"), ("acl", "")], "B=2&acl=&b=1"),
        // S3 ListObjectsV2: "/" in a prefix must be %2F, space %20, "+" %2B, "=" %3D.
        ([("prefix", "data/2024/01 a+b=c"), ("list-type", "2"), ("continuation-token", "1/x==")],
         "continuation-token=1%2Fx%3D%3D&list-type=2&prefix=data%2F2024%2F01%20a%2Bb%3Dc"),
        // Sorting uses the encoded names: "%" (0x25) sorts before "-" (0x2D).
        ([("a-b", "1"), ("a b", "2")], "a%20b=2&a-b=1"),
        ([], ""),
    ] as [([(String, String)], String)])
    func canonicalQuery(items: [(String, String)], expected: String) {
        #expect(SigV4.canonicalQuery(items) == expected)
    }

    @Test("path encoding keeps slashes and encodes everything else")
    func pathEncoding() {
        #expect(SigV4.encodePath("/bucket/data/2024/01 file+x~.csv") == "/bucket/data/2024/01%20file%2Bx~.csv")
        #expect(SigV4.encode("a/b") == "a%2Fb")
        #expect(SigV4.encode("ü") == "%C3%BC")
    }

    @Test("payload hashes match SHA-256 test vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func payloadHash(input: String, expected: String) {
        #expect(SigV4.payloadHash(Data(input.utf8)) == expected)
    }

    @Test("payload hash of one million 'a'")
    func payloadHashMillion() {
        #expect(SigV4.payloadHash(Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("credentials never print the secret")
    func credentialsDescription() {
        let credentials = SigV4Credentials(region: "us-east-1", accessKeyId: "AKID", secretAccessKey: "SUPERSECRET",
                                           sessionToken: "TOKEN")
        #expect(!"\(credentials)".contains("SUPERSECRET"))
        #expect(!"\(credentials)".contains("TOKEN"))
    }
}
