import Glibc

/// Writes straight to a file descriptor (Glibc's `stderr` global is not usable under strict concurrency).
enum FileDescriptorOutput {
    static func write(_ string: String, to descriptor: Int32) {
        var bytes = Array(string.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
