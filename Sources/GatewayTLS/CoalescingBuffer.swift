internal import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Scratch buffers per thread: one to gather several writes into one `SSL_write`, and
/// `RecycledBuffer`s for the plaintext of a read, the ciphertext of a write and a serialized
/// HTTP message (`MessageBuffers`).
///
/// One per thread (that is, per event loop) rather than per connection, so that idle keep-alive
/// connections hold no copy of their last request or response. The gather buffer is only used
/// synchronously, with no callouts while it is borrowed, so connections on the same loop never
/// see each other's bytes; the plaintext buffer is taken out while in use and relies on
/// copy-on-write once it was passed on.
enum CoalescingBuffer {
    /// Larger buffers are released after use rather than kept for the thread's lifetime.
    private static let maximumRetainedCapacity = 256 * 1024

    /// Exclusivity is not checked at run time: one thread, and no access is held across a call
    /// that could use the box again (`withBuffer` bodies must not re-enter).
    final class Box {
        @exclusivity(unchecked) var buffer = ByteBuffer()
        /// The plaintext buffer of the last read, reused when nobody above kept it. A buffer
        /// passed up the pipeline may be held there (a partial HTTP request): keep its
        /// capacity near what one read needs.
        @exclusivity(unchecked) var plaintext = RecycledBuffer(maximumCapacity: 16 * 1024)
        /// The ciphertext buffer of the last write, reused once the socket wrote it all.
        @exclusivity(unchecked) var ciphertext = RecycledBuffer(maximumCapacity: 64 * 1024)
        /// The last serialized HTTP message (`MessageBuffers`).
        @exclusivity(unchecked) var response = RecycledBuffer(maximumCapacity: 64 * 1024)
        /// Connections of this thread's event loop that keep OpenSSL's record buffers.
        @exclusivity(unchecked) var connectionsKeepingRecordBuffers = 0
    }

    /// This thread's scratch buffers.
    @inline(__always)
    static var current: Box {
        if let pointer = pthread_getspecific(Self.key) {
            return Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue()
        }
        return Self.makeBox()
    }

    @inline(never)
    private static func makeBox() -> Box {
        let box = Box()
        pthread_setspecific(Self.key, Unmanaged.passRetained(box).toOpaque())
        return box
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if canImport(Glibc)
            let result = pthread_key_create(&key) { pointer in
                if let pointer {
                    Unmanaged<Box>.fromOpaque(pointer).release()
                }
            }
        #else
            let result = pthread_key_create(&key) { pointer in
                Unmanaged<Box>.fromOpaque(pointer).release()
            }
        #endif
        precondition(result == 0, "pthread_key_create failed: \(result)")
        return key
    }()

    /// Calls `body` with this thread's empty scratch buffer. `body` must not re-enter.
    static func withBuffer<Result>(_ body: (inout ByteBuffer) -> Result) -> Result {
        let box = Self.current
        box.buffer.clear()
        let result = body(&box.buffer)
        if box.buffer.capacity > Self.maximumRetainedCapacity {
            box.buffer = ByteBuffer()
        } else {
            box.buffer.clear()
        }
        return result
    }
}
