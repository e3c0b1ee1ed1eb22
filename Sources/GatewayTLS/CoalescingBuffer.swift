internal import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A scratch buffer per thread, used to gather several writes into one `SSL_write`.
///
/// One per thread (that is, per event loop) rather than per connection, so that idle keep-alive
/// connections hold no copy of their last response. Only used synchronously, with no callouts
/// while it is borrowed, so connections on the same loop never see each other's bytes.
enum CoalescingBuffer {
    /// Larger buffers are released after use rather than kept for the thread's lifetime.
    private static let maximumRetainedCapacity = 256 * 1024

    private final class Box {
        var buffer = ByteBuffer()
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
        let box: Box
        if let pointer = pthread_getspecific(Self.key) {
            box = Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue()
        } else {
            box = Box()
            pthread_setspecific(Self.key, Unmanaged.passRetained(box).toOpaque())
        }
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
