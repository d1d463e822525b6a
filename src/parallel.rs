//! Bounded parallelism for Connect requests and for reading many objects,
//! without an async runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many threads can run at once here (1 when it cannot be told).
#[must_use]
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Applies `f` to every item on at most `workers` threads and returns the
/// results in the order of `items`.
pub fn map<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                // A worker that panicked poisons the lock, not the results already in.
                done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((i, result));
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Below this many items a run stays on the calling thread: a thread costs
/// more than so little work.
const MIN_RUN: usize = 64;

/// Applies `f` to every item, the items cut into one run of neighbours per
/// worker (for many small pieces of work, where taking them one at a time
/// would cost more than the work), and returns the results in order.
pub fn chunked<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers.min(items.len().div_ceil(MIN_RUN));
    let size = items.len().div_ceil(workers.max(1)).max(1);
    let chunks: Vec<&[T]> = items.chunks(size).collect();
    map(&chunks, workers, |chunk| chunk.iter().map(&f).collect::<Vec<R>>()).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_order_and_bounds_concurrency() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<usize> = (0..40).collect();
        let out = map(&items, 4, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            running.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 4 && peak > 1, "peak {peak}");
    }

    #[test]
    fn chunked_keeps_order_whatever_the_workers() {
        for n in [3, 103, 1000] {
            let items: Vec<usize> = (0..n).collect();
            for workers in [0, 1, 2, 7, 200] {
                assert_eq!(
                    chunked(&items, workers, |i| i + 1),
                    (1..=n).collect::<Vec<_>>(),
                    "{n} items, {workers} workers"
                );
            }
        }
        assert!(chunked(&[] as &[usize], 2, |i| *i).is_empty());
    }
}
