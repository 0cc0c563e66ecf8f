//! Single-flight: many callers, one piece of work.
//!
//! Used for the app token, the player token and the login/consent interaction. Callers that
//! arrive while a run is in flight wait for it and share its result, success or failure, so N
//! concurrent cold calls cause exactly one mint, and a failed mint fails them all (fail closed)
//! instead of being retried N times. A run whose future is dropped leaves nothing behind: the
//! next waiter starts its own.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::Error;
use crate::transport::Deadline;

/// The result of one run, shared by everyone who waited for it.
pub(crate) type Shared<T> = Result<T, Arc<Error>>;

/// What a run's work did with the slot.
pub(crate) enum Outcome<T> {
    /// A new result: stored, for everyone waiting, under the next generation.
    Stored(Result<T, Error>),
    /// A result for this caller only; the slot stays as it was (work abandoned when its
    /// caller ran out of time, or a value the work put back with [`Flight::keep`]).
    Own(Result<T, Error>),
}

pub(crate) struct Flight<T> {
    /// Read on every call, written once per run: concurrent callers never wait for each other
    /// to read a cached value.
    slot: RwLock<Slot<T>>,
    gate: tokio::sync::Mutex<()>,
}

struct Slot<T> {
    /// Bumped by every finished run; lets a waiter tell whether a run finished while it waited.
    generation: u64,
    result: Option<Shared<T>>,
}

impl<T: Clone> Flight<T> {
    pub(crate) fn new() -> Self {
        Self {
            slot: RwLock::new(Slot {
                generation: 0,
                result: None,
            }),
            gate: tokio::sync::Mutex::const_new(()),
        }
    }

    fn slot(&self) -> RwLockWriteGuard<'_, Slot<T>> {
        // The slot holds plain data and no code runs under the lock, so a poisoned lock still
        // holds a consistent value.
        self.slot
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, Slot<T>> {
        self.slot
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The generation of the last finished run (0 before any).
    pub(crate) fn generation(&self) -> u64 {
        self.read().generation
    }

    /// What `take` reads from the value of the last run if `usable` accepts that value, with
    /// that run's generation; otherwise the generation.
    pub(crate) fn current<R>(
        &self,
        usable: impl Fn(&T) -> bool,
        take: impl FnOnce(&T) -> R,
    ) -> Result<(R, u64), u64> {
        let slot = self.read();
        match &slot.result {
            Some(Ok(value)) if usable(value) => Ok((take(value), slot.generation)),
            _ => Err(slot.generation),
        }
    }

    /// Runs `work`, unless the result of another run can be shared: an error from a run that
    /// finished after the caller saw generation `seen`, or a value `usable` accepts (its second
    /// argument says whether that value's run finished after `seen`).
    ///
    /// With a `deadline`, waiting for another run gives up when it passes ([`Error::Timeout`]);
    /// bounding `work` itself is `work`'s business, so that it can fall back on something
    /// when it runs out of time, and say ([`Outcome::Own`]) that what it gives up with is its
    /// caller's alone: a run abandoned for one caller's deadline must not fail the others.
    pub(crate) async fn run<F, Fut>(
        &self,
        seen: u64,
        usable: impl Fn(&T, bool) -> bool,
        deadline: Option<&Deadline>,
        work: F,
    ) -> (Shared<T>, u64)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T>>,
    {
        let _gate = match deadline {
            None => self.gate.lock().await,
            Some(deadline) => match deadline.bound(async { Ok(self.gate.lock().await) }).await {
                Ok(gate) => gate,
                Err(timeout) => return (Err(Arc::new(timeout)), seen),
            },
        };
        {
            let slot = self.read();
            let newer = slot.generation != seen;
            match &slot.result {
                Some(Ok(value)) if usable(value, newer) => {
                    return (Ok(value.clone()), slot.generation);
                }
                Some(Err(error)) if newer => {
                    return (Err(Arc::clone(error)), slot.generation);
                }
                _ => {}
            }
        }
        match work().await {
            Outcome::Stored(result) => {
                let result = result.map_err(Arc::new);
                let mut slot = self.slot();
                slot.generation += 1;
                slot.result = Some(result.clone());
                (result, slot.generation)
            }
            Outcome::Own(result) => (result.map_err(Arc::new), self.generation()),
        }
    }

    /// Whether a run is in flight.
    pub(crate) fn busy(&self) -> bool {
        self.gate.try_lock().is_err()
    }

    /// Replaces the value of run `generation` with `change` of it, keeping the generation (so
    /// that a caller holding that value can still [`invalidate`](Self::invalidate) it), if it
    /// is still there: not invalidated, not replaced by a newer run.
    pub(crate) fn keep(&self, generation: u64, change: impl FnOnce(&T) -> T) -> Option<T> {
        let mut slot = self.slot();
        if slot.generation != generation {
            return None;
        }
        let Some(Ok(value)) = &slot.result else {
            return None;
        };
        let kept = change(value);
        slot.result = Some(Ok(kept.clone()));
        Some(kept)
    }

    /// Forgets the value of run `generation` (a server rejected it); a later run replaces it.
    /// Does nothing if a newer run has already replaced it.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut slot = self.slot();
        if slot.generation == generation {
            slot.result = None;
        }
    }

    /// Forgets whatever is cached.
    pub(crate) fn clear(&self) {
        self.slot().result = None;
    }
}
