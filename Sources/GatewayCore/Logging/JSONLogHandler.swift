import Glibc
public import Logging

/// A swift-log handler that writes one JSON object per line to standard output:
/// `{"time":"…","level":"info","logger":"…","message":"…", …metadata}`, which
/// log shippers (Vector, Fluent Bit, Loki) ingest without parsing rules.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let levels: LogLevelControl

    /// The shared `LogLevelControl` level, so a reload changes every logger at once;
    /// the access log always passes (`access_log.enabled` switches it). Setting it
    /// sets the shared level.
    public var logLevel: Logger.Level {
        get { self.label == AccessLog.label ? .info : self.levels.current }
        set { self.levels.set(newValue) }
    }

    public init(label: String, levels: LogLevelControl = LogLevelControl()) {
        self.label = label
        self.levels = levels
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = JSONLine()
        line.field("time", Self.timestamp())
        line.field("level", event.level.rawValue)
        line.field("logger", self.label)
        line.field("message", event.message.description)
        for (key, value) in self.metadata where event.metadata?[key] == nil {
            line.field(key, value)
        }
        if let metadata = event.metadata {
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
                line.field(key, value)
            }
        }
        line.finish()
        line.bytes.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
            + "\(pad(now.tv_nsec / 1_000_000, 3))Z"
    }
}

/// Builds one JSON object as bytes.
struct JSONLine {
    var bytes: [UInt8] = [UInt8(ascii: "{")]

    mutating func field(_ key: String, _ value: String) {
        self.key(key)
        self.string(value)
    }

    mutating func field(_ key: String, _ value: Logger.MetadataValue) {
        self.key(key)
        self.value(value)
    }

    private mutating func key(_ key: String) {
        if self.bytes.count > 1 { self.bytes.append(UInt8(ascii: ",")) }
        self.string(key)
        self.bytes.append(UInt8(ascii: ":"))
    }

    private mutating func value(_ value: Logger.MetadataValue) {
        switch value {
        case .string(let string):
            self.string(string)
        case .stringConvertible(let convertible):
            // Numbers and booleans stay JSON numbers and booleans.
            if convertible is any BinaryInteger || convertible is Double || convertible is Bool {
                self.bytes.append(contentsOf: convertible.description.utf8)
            } else {
                self.string(convertible.description)
            }
        case .array(let values):
            self.bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            self.bytes.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            var nested = JSONLine()
            for (key, element) in dictionary.sorted(by: { $0.key < $1.key }) {
                nested.field(key, element)
            }
            nested.bytes.append(UInt8(ascii: "}"))
            self.bytes.append(contentsOf: nested.bytes)
        }
    }

    private mutating func string(_ string: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): self.bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): self.bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): self.bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): self.bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    mutating func finish() {
        self.bytes.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
    }
}
