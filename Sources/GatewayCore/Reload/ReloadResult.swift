public import GatewayConfig
import NIOCore

/// What asked for a reload; it appears in the reload's log line.
public enum ReloadTrigger: String, Sendable {
    case signal = "SIGHUP"
    case admin = "POST /-/reload"
    case watch = "file watcher"
}

/// The outcome of one reload: the new configuration serves, or nothing changed.
public enum ReloadResult: Sendable, Equatable {
    /// The new configuration serves. `changes` says what changed, in the file's
    /// vocabulary (`routes: updated (3 routes)`); `restartRequired` lists the paths
    /// of settings that only a restart applies (the old value keeps serving).
    case ok(fingerprint: String, changes: [String], restartRequired: [String])
    /// Nothing changed; every problem with its JSON path.
    case failed(problems: [ConfigurationProblem])

    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }
}

extension ReloadResult {
    /// The admin endpoint's answer:
    /// `{"status":"ok","fingerprint":"…","changes":[…],"restart_required":[…]}` or
    /// `{"status":"failed","errors":[{"path":"routes[0].match.path","message":"expected a string"}]}`.
    func jsonBody(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        switch self {
        case .ok(let fingerprint, let changes, let restartRequired):
            buffer.writeString(#"{"status":"ok","fingerprint":"#)
            buffer.writeJSONString(fingerprint)
            buffer.writeString(#","changes":"#)
            buffer.writeJSONArray(changes)
            buffer.writeString(#","restart_required":"#)
            buffer.writeJSONArray(restartRequired)
            buffer.writeString("}")
        case .failed(let problems):
            buffer.writeString(#"{"status":"failed","errors":["#)
            for (index, problem) in problems.enumerated() {
                if index > 0 { buffer.writeString(",") }
                buffer.writeString(#"{"path":"#)
                buffer.writeJSONString(problem.path)
                buffer.writeString(#","message":"#)
                buffer.writeJSONString(problem.message)
                buffer.writeString("}")
            }
            buffer.writeString("]}")
        }
        return buffer
    }
}

extension ByteBuffer {
    fileprivate mutating func writeJSONArray(_ strings: [String]) {
        self.writeString("[")
        for (index, string) in strings.enumerated() {
            if index > 0 { self.writeString(",") }
            self.writeJSONString(string)
        }
        self.writeString("]")
    }
}
