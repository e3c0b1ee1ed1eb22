extension RequestTarget {
    /// The path with `%XX` escapes decoded, as the router and handlers see it
    /// (Starlette and nginx match on the decoded path too). Returns the path itself,
    /// without copying, when it has no escapes; invalid escapes are kept as they are.
    @inlinable
    public var decodedPath: Substring {
        guard self.path.utf8.contains(UInt8(ascii: "%")) else { return self.path }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.path.utf8.count)
        var iterator = self.path.utf8.makeIterator()
        var pending: [UInt8] = []
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            pending = [byte]
            guard let high = iterator.next() else { bytes += pending; break }
            pending.append(high)
            guard let low = iterator.next() else { bytes += pending; break }
            pending.append(low)
            if let h = hexValue(high), let l = hexValue(low) {
                bytes.append(h << 4 | l)
            } else {
                bytes += pending
            }
        }
        return Substring(String(decoding: bytes, as: UTF8.self))
    }
}

@inlinable
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
