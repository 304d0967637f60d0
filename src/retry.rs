//! The one retry policy, shared by HTTP requests and git connections: a bounded number of
//! attempts with exponential backoff and a little jitter.

use std::time::{Duration, SystemTime};

/// How often and how patiently a transient failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (at least 1).
    pub attempts: u32,
    /// The delay before the second attempt; doubled for each one after.
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt number `attempt` (1-based), with up to 25% jitter so
    /// that parallel retries spread out.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let base = self
            .first_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(6));
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter() {
        let policy = RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(100),
        };
        for (attempt, base) in [(1, 100), (2, 200), (3, 400)] {
            let delay = policy.delay_after(attempt).as_millis();
            assert!(
                (base..=base * 5 / 4).contains(&delay),
                "attempt {attempt}: {delay} ms"
            );
        }
    }
}
