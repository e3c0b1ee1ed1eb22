import CompressNIO
import GatewayConfig
import NIOCore
import NIOHTTP1

/// A route's `request_decompression`, compiled: the caps a gzip request body
/// is inflated within.
struct RouteDecompression: Sendable {
    /// The most bytes a body may inflate to.
    let maxBytes: Int
    /// The most inflated bytes per compressed byte, once past `ratioFloor`.
    let maxRatio: Int
    let ratioFloor: Int

    init(_ configuration: RequestDecompressionConfiguration, routeBodyLimit: Int) {
        self.maxBytes = configuration.maxBytes ?? routeBodyLimit
        self.maxRatio = configuration.maxRatio
        self.ratioFloor = RequestDecompressionConfiguration.ratioFloorBytes
    }

    /// What a request's `Content-Encoding` asks of the gateway (RFC 9110 §8.4).
    enum Coding: Equatable {
        /// No field, or only `identity`: the body is as sent.
        case identity
        /// One `gzip` (or `x-gzip`) coding: inflate.
        case gzip
        /// Anything else (`deflate`, `br`, gzip applied twice, …): 415.
        case unsupported
    }

    static func coding(of headers: HTTPHeaders) -> Coding {
        var gzip = 0
        for element in headers[canonicalForm: "content-encoding"] {
            var coding = element
            while let first = coding.first, first == " " || first == "\t" { coding.removeFirst() }
            while let last = coding.last, last == " " || last == "\t" { coding.removeLast() }
            if coding.isEmpty { continue }
            switch coding.lowercased() {
            case "identity": continue
            case "gzip", "x-gzip": gzip += 1
            default: return .unsupported
            }
        }
        switch gzip {
        case 0: return .identity
        case 1: return .gzip
        default: return .unsupported
        }
    }

    func makeInflater() throws -> GzipRequestInflater {
        try GzipRequestInflater(maxBytes: self.maxBytes, maxRatio: self.maxRatio, ratioFloor: self.ratioFloor)
    }
}

/// Why a gzip request body could not be inflated.
enum RequestInflateError: Error, Equatable {
    /// More than `max_bytes` inflated.
    case tooLarge(limit: Int)
    /// More than `max_ratio` inflated bytes per compressed byte.
    case expandsTooMuch(ratio: Int)
    /// Not gzip, a bad checksum, or cut short.
    case corrupt
    /// zlib could not get memory.
    case failed
}

/// Inflates one request body as its pieces arrive, through a small fixed
/// window, so that what it holds never passes the caps by more than one
/// window: the caps are checked before any inflated byte is kept. Gzip
/// members sent one after another (RFC 1952 §2.2) are inflated in turn.
/// One per compressed request; lives on the connection's event loop.
final class GzipRequestInflater {
    /// zlib writes at most this much between two checks of the caps.
    static let windowSize = 16 * 1024

    private let decompressor: ZlibDecompressor
    private var window: ByteBuffer
    private let maxBytes: Int
    private let maxRatio: Int
    private let ratioFloor: Int
    /// Compressed bytes zlib consumed, and inflated bytes it produced.
    private(set) var consumed = 0
    private(set) var produced = 0

    init(maxBytes: Int, maxRatio: Int, ratioFloor: Int) throws {
        self.decompressor = try ZlibDecompressor(algorithm: .gzip)
        self.window = ByteBufferAllocator().buffer(capacity: Self.windowSize)
        self.maxBytes = maxBytes
        self.maxRatio = maxRatio
        self.ratioFloor = ratioFloor
    }

    /// Inflates `chunk`, appending what it yields to `body`.
    func inflate(_ chunk: ByteBuffer, into body: inout ByteBuffer) throws(RequestInflateError) {
        var input = chunk
        var idleRounds = 0
        while true {
            self.window.clear()
            let before = input.readableBytes
            var outputFull = false
            var needsInput = false
            do {
                try self.decompressor.inflate(from: &input, to: &self.window)
            } catch let error as CompressNIOError {
                switch error {
                case .bufferOverflow: outputFull = true
                case .inputBufferOverflow: needsInput = true
                case .corruptData: throw .corrupt
                default: throw .failed
                }
            } catch {
                throw .failed
            }
            let read = before - input.readableBytes
            let written = self.window.readableBytes
            self.consumed += read
            self.produced += written
            try self.checkCaps()
            if written > 0 { body.writeBuffer(&self.window) }
            // Neither read nor wrote: zlib is at the end of a member and waits to be reset.
            idleRounds = read == 0 && written == 0 ? idleRounds + 1 : 0
            if outputFull { continue }
            if needsInput || input.readableBytes == 0 { return }
            // The member ended with input left over: the next member starts there.
            guard idleRounds < 2 else { throw .corrupt }
            do { try self.decompressor.reset() } catch { throw .failed }
        }
    }

    /// The body's end: the last member must have ended (a cut-short stream is corrupt).
    func finish() throws(RequestInflateError) {
        guard self.consumed > 0 else { return }  // an empty body stays empty
        var empty = ByteBufferAllocator().buffer(capacity: 16)
        self.window.clear()
        do {
            try self.decompressor.inflate(from: &empty, to: &self.window)
        } catch let error as CompressNIOError {
            // Waiting for input that will not come, or a trailer that does not match.
            throw error == .noMoreMemory ? .failed : .corrupt
        } catch {
            throw .failed
        }
        guard self.window.readableBytes == 0 else { throw .corrupt }
    }

    private func checkCaps() throws(RequestInflateError) {
        if self.produced > self.maxBytes { throw .tooLarge(limit: self.maxBytes) }
        guard self.produced > self.ratioFloor else { return }
        let (allowed, overflow) = self.maxRatio.multipliedReportingOverflow(by: self.consumed)
        if !overflow, self.produced > allowed { throw .expandsTooMuch(ratio: self.maxRatio) }
    }
}
