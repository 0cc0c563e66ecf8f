//! The process's allocator, counting: between [`start`] and [`stop`], the peak of heap bytes
//! allocated and not yet freed, above what was live at the start. Outside a measurement it
//! costs one relaxed load per allocation.

// Implementing `GlobalAlloc` takes `unsafe`; every call goes to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The system allocator, counting while a measurement runs.
#[derive(Debug)]
pub struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since [`start`] (negative when older memory is freed).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The most [`LIVE`] has been since [`start`].
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn added(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
        let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

fn removed(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_sub(
            isize::try_from(bytes).unwrap_or(isize::MAX),
            Ordering::Relaxed,
        );
    }
}

// SAFETY: every call is passed on to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            added(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            added(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        removed(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`, and the caller upholds `realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            removed(layout.size());
            added(new_size);
        }
        moved
    }
}

/// Starts a measurement.
pub fn start() {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
}

/// Ends the measurement: the peak bytes it added.
pub fn stop() -> usize {
    COUNTING.store(false, Ordering::SeqCst);
    usize::try_from(PEAK.load(Ordering::SeqCst)).unwrap_or(0)
}
