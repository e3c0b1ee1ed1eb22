internal import COpenSSL

/// The configured API keys, kept as SHA-256 digests, looked up in constant time.
///
/// A presented key is hashed once, then its digest is compared with every
/// configured digest by `CRYPTO_memcmp`, without stopping at a match, and the
/// match is picked with a mask rather than a branch. So the time taken depends
/// on the number of keys, not on which key (if any) matched or on how many
/// leading bytes agreed. Comparing digests also makes the lengths equal, so a
/// key's length does not leak either. The cost is one SHA-256 plus 32 bytes
/// compared per configured key.
///
/// Immutable after construction; safe from any thread.
public struct APIKeyTable: Sendable {
    /// Key names in configuration order; an index is a key's identity.
    public let names: [String]
    /// 32 bytes per key, in the order of `names`.
    private let digests: [UInt8]

    /// `keys`: name and key bytes. Names must be unique, and so must keys (the
    /// caller reports a repeated key; `duplicate(of:)` finds one).
    public init(keys: [(name: String, key: [UInt8])]) {
        self.names = keys.map(\.name)
        var digests = [UInt8](repeating: 0, count: keys.count * 32)
        digests.withUnsafeMutableBytes { output in
            for (index, entry) in keys.enumerated() {
                entry.key.withUnsafeBytes { key in
                    OpenSSLAlgorithms.sha256(
                        key, into: UnsafeMutableRawBufferPointer(rebasing: output[(index * 32)..<(index * 32 + 32)]))
                }
            }
        }
        self.digests = digests
    }

    /// For each key whose bytes equal an earlier key's: (its index, the earlier index).
    public var duplicates: [(index: Int, earlier: Int)] {
        var result: [(Int, Int)] = []
        for index in self.names.indices {
            for earlier in 0..<index where self.digest(index) == self.digest(earlier) {
                result.append((index, earlier))
                break
            }
        }
        return result
    }

    private func digest(_ index: Int) -> ArraySlice<UInt8> { self.digests[(index * 32)..<(index * 32 + 32)] }

    /// The index of the key equal to `presented`, or nil.
    public func identify(_ presented: Substring) -> Int? {
        if let found = presented.utf8.withContiguousStorageIfAvailable({
            self.identify(bytes: UnsafeRawBufferPointer($0))
        }) {
            return found
        }
        return Array(presented.utf8).withUnsafeBytes { self.identify(bytes: $0) }
    }

    public func identify(bytes presented: UnsafeRawBufferPointer) -> Int? {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { digest in
            OpenSSLAlgorithms.sha256(presented, into: digest)
            // found = index + 1 of the matching key, 0 if none; every key is compared.
            var found: UInt = 0
            self.digests.withUnsafeBytes { all in
                for index in 0..<self.names.count {
                    let difference = UInt(
                        bitPattern: Int(CRYPTO_memcmp(digest.baseAddress, all.baseAddress! + index * 32, 32)))
                    // All ones when difference == 0, else zero.
                    let equal = ((difference | (0 &- difference)) >> (UInt.bitWidth - 1)) &- 1
                    found = (found & ~equal) | (UInt(index + 1) & equal)
                }
            }
            return found == 0 ? nil : Int(found - 1)
        }
    }
}
