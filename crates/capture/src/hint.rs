//! The one CPU hint the flow table and the pcap reader use: [`prefetch`], asking for a cache
//! line before it is needed. Unsafe only because the intrinsic is; a prefetch never faults,
//! whatever the address, and changes nothing a program can observe but timing.
#![expect(
    unsafe_code,
    reason = "the prefetch intrinsic is an unsafe function (see the module docs)"
)]

/// Asks the CPU to bring the cache line holding address `addr` in, without waiting for it.
/// Any address will do (a stale one only wastes the hint); does nothing where there is no
/// such instruction.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: PREFETCHT0 never faults, even on an unmapped address, and has no effect a
        // program can see besides timing; the pointer is never dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::without_provenance::<i8>(addr)) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
