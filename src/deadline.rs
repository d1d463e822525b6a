//! Deadlines from settings (TEMPLATE_TIMEOUT, RETRY_BUDGET) and servers
//! (Retry-After), which may ask for more time than an `Instant` holds: a
//! deadline past that is far in the future, never an overflow panic.

use std::time::{Duration, Instant};

/// A century: later than any run lasts.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `at + duration`, or far in the future when that does not fit.
#[must_use]
pub fn later(at: Instant, duration: Duration) -> Instant {
    at.checked_add(duration).or_else(|| at.checked_add(FAR)).unwrap_or(at)
}

/// `duration` from now.
#[must_use]
pub fn from_now(duration: Duration) -> Instant {
    later(Instant::now(), duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_duration_overflows() {
        let now = Instant::now();
        assert_eq!(later(now, Duration::from_secs(1)), now + Duration::from_secs(1));
        assert!(later(now, Duration::MAX) > now + Duration::from_secs(3600));
    }
}
