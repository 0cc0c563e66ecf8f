//! The CPU time of the calling thread, to the nanosecond: `CLOCK_THREAD_CPUTIME_ID`, which
//! counts the running slice too (`/proc/.../schedstat` moves at scheduler ticks, 4 ms apart
//! on many kernels, too coarse for one stream).

// `clock_gettime` is reached through libc.
#![allow(unsafe_code)]

use std::time::Duration;

/// The calling thread's CPU time so far (zero if the clock cannot be read).
pub fn thread() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`; the call writes only it.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(now.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}
