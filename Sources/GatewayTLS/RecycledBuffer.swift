internal import NIOCore

/// One buffer kept by a thread for reuse: taken, filled, handed on, and given back.
///
/// Taking it back costs nothing once whoever it was handed to let go of it (NIO after a
/// socket write, a handler after a read); if someone still holds it, `clear` copies on
/// write and a new buffer is allocated, so reuse is always safe. Buffers that grew past
/// `maximumCapacity` are not kept.
struct RecycledBuffer {
    private var buffer = ByteBuffer()
    let maximumCapacity: Int

    init(maximumCapacity: Int) {
        self.maximumCapacity = maximumCapacity
    }

    /// The kept buffer, emptied, with room for `minimumCapacity` bytes.
    @inline(__always)
    mutating func take(minimumCapacity: Int) -> ByteBuffer {
        var taken = ByteBuffer()
        swap(&taken, &self.buffer)
        taken.clear(minimumCapacity: minimumCapacity)
        return taken
    }

    /// Keeps `buffer` (already handed on) for the next `take`.
    @inline(__always)
    mutating func recycle(_ buffer: ByteBuffer) {
        if buffer.capacity <= self.maximumCapacity {
            self.buffer = buffer
        }
    }
}
