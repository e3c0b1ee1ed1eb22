// Host syntax shared by listener addresses, route hosts and certificate server
// names. Checked by hand: a few lines, no regex, same on Linux and macOS.

enum HostSyntax {
    /// Dotted-quad IPv4, e.g. `10.0.0.1`. Leading zeros are refused because some
    /// resolvers read them as octal.
    static func isIPv4Literal(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit) else { return false }
            guard part.count == 1 || part.first != "0" else { return false }
            return Int(part)! <= 255
        }
    }

    /// An IPv6 literal without brackets or zone, e.g. `::1`, `2001:db8::2`, `::ffff:10.0.0.1`.
    static func isIPv6Literal(_ text: Substring) -> Bool {
        var head = text
        var maximumGroups = 8
        // An embedded IPv4 tail counts as two groups.
        if text.contains(".") {
            guard let lastColon = text.lastIndex(of: ":") else { return false }
            guard isIPv4Literal(text[text.index(after: lastColon)...]) else { return false }
            head = text[...lastColon]
            if !head.hasSuffix("::") {
                head = head.dropLast()
            }
            maximumGroups = 6
        }
        guard let doubleColon = head.firstRange(of: "::") else {
            let groups = head.split(separator: ":", omittingEmptySubsequences: false)
            return groups.count == maximumGroups && groups.allSatisfy(isHexGroup)
        }
        let left = head[..<doubleColon.lowerBound]
        let right = head[doubleColon.upperBound...]
        guard !right.contains("::") else { return false }
        let leftGroups = left.isEmpty ? [] : left.split(separator: ":", omittingEmptySubsequences: false)
        let rightGroups = right.isEmpty ? [] : right.split(separator: ":", omittingEmptySubsequences: false)
        guard leftGroups.allSatisfy(isHexGroup), rightGroups.allSatisfy(isHexGroup) else { return false }
        return leftGroups.count + rightGroups.count <= maximumGroups - 1
    }

    private static func isHexGroup(_ group: Substring) -> Bool {
        (1...4).contains(group.count) && group.allSatisfy(\.isHexDigit) && group.allSatisfy(\.isASCII)
    }

    /// An RFC 1123 host name: dot-separated labels of letters, digits and hyphens,
    /// 1–63 characters each, no hyphen at either end, 253 characters at most.
    /// Something that looks like an IPv4 address but is not one is refused.
    static func isHostName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let labelsAreValid = labels.allSatisfy { label in
            guard (1...63).contains(label.utf8.count) else { return false }
            guard label.first != "-", label.last != "-" else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard labelsAreValid else { return false }
        if labels.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }) {
            return isIPv4Literal(text)
        }
        return true
    }

    /// A host name as routes and SNI use it: a name, an IP literal, or `*.` followed by a name.
    static func isHostPattern(_ text: Substring) -> Bool {
        if text.hasPrefix("*.") {
            return isHostName(text.dropFirst(2))
        }
        return isHostName(text) || isIPv6Literal(text)
    }
}

extension Character {
    var isASCIIDigit: Bool {
        isASCII && isNumber
    }
}
