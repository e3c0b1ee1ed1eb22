import NIOCore
import NIOHTTP1

@testable import GatewayHTTP1

/// What a parse produced, comparable across parsers: heads (as text), bodies (adjacent
/// pieces joined, since parsers may split them differently), ends, or the error.
enum ParsedEvent: Equatable, CustomStringConvertible {
    case head(String)
    case body(String)
    case end
    case failed(HTTPParseError)

    var description: String {
        switch self {
        case .head(let text): return "head \(text)"
        case .body(let text): return "body \(text.debugDescription)"
        case .end: return "end"
        case .failed(let error): return "failed \(error)"
        }
    }

    /// "GET /uri HTTP/1.1 [name: value, …]"
    static func request(_ part: HTTPServerRequestPart) -> ParsedEvent {
        switch part {
        case .head(let head): return .head("\(head.method.rawValue) \(head.uri) \(head.version) \(fields(head.headers))")
        case .body(let buffer): return .body(String(buffer: buffer))
        case .end: return .end
        }
    }

    /// "200 HTTP/1.1 [name: value, …]"
    static func response(_ part: HTTPClientResponsePart) -> ParsedEvent {
        switch part {
        case .head(let head): return .head("\(head.status.code) \(head.version) \(fields(head.headers))")
        case .body(let buffer): return .body(String(buffer: buffer))
        case .end: return .end
        }
    }

    private static func fields(_ headers: HTTPHeaders) -> [String] {
        headers.map { "\($0.name): \($0.value)" }
    }
}

extension Array where Element == ParsedEvent {
    /// Appends `event`, joining a body piece to the body before it.
    mutating func record(_ event: ParsedEvent) {
        if case .body(let more) = event, case .body(let text)? = self.last {
            self[self.count - 1] = .body(text + more)
        } else {
            self.append(event)
        }
    }
}
