internal import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Scratch buffers per thread: one to gather several writes into one `SSL_write`, one that
/// plaintext is read into.
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
        /// The plaintext buffer of the last read, recycled when nobody above kept it.
        @exclusivity(unchecked) var plaintext = ByteBuffer()
        /// The ciphertext buffer of the last write, reused once the socket wrote it.
        @exclusivity(unchecked) var ciphertext = ByteBuffer()
        /// The last serialized response (`ResponseBuffers`).
        @exclusivity(unchecked) var response = ByteBuffer()
        /// Connections of this thread's event loop that keep OpenSSL's record buffers.
        @exclusivity(unchecked) var connectionsKeepingRecordBuffers = 0

        /// This thread's plaintext buffer, emptied, with room for `minimumCapacity` bytes. It
        /// is a new allocation only when a handler above still holds the last one.
        @inline(__always)
        func takePlaintextBuffer(minimumCapacity: Int) -> ByteBuffer {
            var buffer = ByteBuffer()
            swap(&buffer, &self.plaintext)
            buffer.clear(minimumCapacity: minimumCapacity)
            return buffer
        }

        /// Keeps `buffer` for the next read once it was passed on (copy-on-write makes reuse
        /// safe if a handler above kept it: the next take then allocates).
        @inline(__always)
        func recyclePlaintextBuffer(_ buffer: ByteBuffer) {
            if buffer.capacity <= CoalescingBuffer.maximumRecycledPlaintextCapacity {
                self.plaintext = buffer
            }
        }
    }

    /// This thread's ciphertext buffer, emptied, with room for `minimumCapacity` bytes. NIO
    /// lets go of a written buffer when the socket took it all, so usually this allocates
    /// nothing; a buffer still queued behind a full socket is left alone (copy-on-write) and a
    /// new one allocated.
    @inline(__always)
    static func takeCiphertextBuffer(minimumCapacity: Int) -> ByteBuffer {
        let box = Self.current
        var buffer = ByteBuffer()
        swap(&buffer, &box.ciphertext)
        buffer.clear(minimumCapacity: minimumCapacity)
        return buffer
    }

    /// Keeps `buffer` (just handed to the channel) for the next write.
    @inline(__always)
    static func recycleCiphertextBuffer(_ buffer: ByteBuffer) {
        if buffer.capacity <= Self.maximumRecycledCiphertextCapacity {
            Self.current.ciphertext = buffer
        }
    }

    static let maximumRecycledCiphertextCapacity = 64 * 1024

    /// A buffer passed up the pipeline may be held there (a partial HTTP request): keep its
    /// capacity near what one read needs.
    static let maximumRecycledPlaintextCapacity = 16 * 1024

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
