public import NIOCore

/// One reusable buffer per event-loop thread for serialized HTTP messages: responses
/// to clients and request heads to upstreams.
///
/// A message buffer is handed down the pipeline, encrypted (or written) and
/// released, usually before the next message on the same loop is built. Taking
/// this thread's buffer back then allocates nothing; if something still holds
/// it (a response queued behind a full socket, pipelined responses awaiting one
/// flush), `clear` copies on write and a new buffer is allocated, as before.
/// Per thread, not per connection, so idle connections hold no message bytes.
public enum MessageBuffers {
    /// This thread's message buffer, emptied, with room for `minimumCapacity` bytes.
    @inline(__always)
    public static func take(minimumCapacity: Int) -> ByteBuffer {
        CoalescingBuffer.current.response.take(minimumCapacity: minimumCapacity)
    }

    /// Keeps `buffer` (already handed on) for the next message on this thread.
    @inline(__always)
    public static func recycle(_ buffer: ByteBuffer) {
        CoalescingBuffer.current.response.recycle(buffer)
    }
}
