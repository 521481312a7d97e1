//! Keeps freed tensor buffers in the process instead of handing them back to the kernel.
//!
//! A training step allocates and frees the same large buffers (activations, gradients) every
//! time. glibc's defaults return big blocks to the kernel at once (`mmap` above 128 KiB,
//! heap trimming), so the next step page-faults and zero-fills them again: measured as about a
//! fifth of a CNN step on Flex. Raising both thresholds lets malloc reuse them.

/// Raises glibc's mmap and trim thresholds (no-op elsewhere). Call once at start-up.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before heavy allocation.
    unsafe {
        // 32 MiB is glibc's upper limit for the mmap threshold on 64-bit.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
