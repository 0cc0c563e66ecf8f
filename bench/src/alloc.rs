//! The process's allocator, counting: between [`start`] and [`stop`], the peak of heap bytes
//! allocated and not yet freed by the thread that called [`start`] (the callers' thread: the
//! server's thread is not counted), above what was live at the start. Outside a measurement it
//! costs one relaxed load per allocation.

// Implementing `GlobalAlloc` takes `unsafe`; every call goes to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// The system allocator, counting while a measurement runs.
#[derive(Debug)]
pub struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since [`start`] (negative when older memory is freed).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The most [`LIVE`] has been since [`start`].
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// The least [`LIVE`] has been since [`start`].
static LEAST: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Whether this thread's allocations count (set on the thread that called [`start`]).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Whether an allocation made now counts.
fn counted() -> bool {
    COUNTING.load(Ordering::Relaxed) && COUNTED.try_with(Cell::get).unwrap_or(false)
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

fn added(bytes: usize) {
    if counted() {
        // Wrapping: an allocator must never panic.
        let live = LIVE
            .fetch_add(size(bytes), Ordering::Relaxed)
            .wrapping_add(size(bytes));
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

fn removed(bytes: usize) {
    if counted() {
        let live = LIVE
            .fetch_sub(size(bytes), Ordering::Relaxed)
            .wrapping_sub(size(bytes));
        LEAST.fetch_min(live, Ordering::Relaxed);
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
            // Counted as a move is: both blocks live at once, then the old one freed.
            added(new_size);
            removed(layout.size());
        }
        moved
    }
}

/// Starts a measurement of this thread's allocations.
pub fn start() {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    LEAST.store(0, Ordering::SeqCst);
    COUNTED.with(|counted| counted.set(true));
    COUNTING.store(true, Ordering::SeqCst);
}

/// Ends the measurement: the peak bytes it added, and the least the live count went (negative
/// when memory from before the start was freed during it, which would hide as much of a peak).
pub fn stop() -> (usize, isize) {
    COUNTING.store(false, Ordering::SeqCst);
    COUNTED.with(|counted| counted.set(false));
    let peak = usize::try_from(PEAK.load(Ordering::SeqCst)).unwrap_or(0);
    (peak, LEAST.load(Ordering::SeqCst))
}
