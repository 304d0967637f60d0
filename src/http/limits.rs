//! Rate limits as GitHub and GitLab say them, and GitHub's documented pace for writes.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::api_message;

/// The least wait after a secondary rate limit without `Retry-After`.
const SECONDARY_WAIT: Duration = Duration::from_secs(60);

/// Paces writes: at most `limit` in any `period` (a sliding window).
#[derive(Debug)]
pub struct Pacer {
    limit: usize,
    period: Duration,
    sent: std::collections::VecDeque<tokio::time::Instant>,
}

impl Pacer {
    pub fn new(limit: usize, period: Duration) -> Self {
        Self {
            limit,
            period,
            sent: std::collections::VecDeque::new(),
        }
    }

    /// Waits until one more request fits in the window, and counts it.
    pub async fn turn(&mut self) {
        loop {
            let now = tokio::time::Instant::now();
            while self
                .sent
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.period)
            {
                self.sent.pop_front();
            }
            match self.sent.front() {
                Some(oldest) if self.sent.len() >= self.limit => {
                    tokio::time::sleep_until(*oldest + self.period).await;
                }
                _ => break,
            }
        }
        self.sent.push_back(tokio::time::Instant::now());
    }
}

/// How long a rate-limited answer asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RateLimit {
    /// Until this time (`Retry-After`, or the primary limit's reset).
    Until(SystemTime),
    /// A secondary limit with no time given: at least a minute, doubling.
    Secondary,
}

/// Whether an answer is a rate limit, and which; `None` when it is not one.
pub(super) fn rate_limit(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    secondary_limits: bool,
) -> Option<RateLimit> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(after) = text("retry-after") {
        if let Ok(secs) = after.parse::<u64>() {
            return Some(RateLimit::Until(
                SystemTime::now() + Duration::from_secs(secs),
            ));
        }
        if let Ok(date) = httpdate::parse_http_date(after) {
            return Some(RateLimit::Until(date));
        }
    }
    // GitHub says `x-ratelimit-*`, GitLab `ratelimit-*`.
    let remaining = text("x-ratelimit-remaining").or_else(|| text("ratelimit-remaining"));
    if remaining == Some("0") {
        let reset = text("x-ratelimit-reset")
            .or_else(|| text("ratelimit-reset"))
            .and_then(|r| r.parse::<u64>().ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        return Some(RateLimit::Until(
            reset.unwrap_or_else(|| SystemTime::now() + SECONDARY_WAIT),
        ));
    }
    // Requests remain: a 429 is a secondary limit, and so is a 403 that says it is (a plain
    // 403 is a permission problem).
    let message = api_message(body).to_ascii_lowercase();
    let says_so = message.contains("secondary rate limit") || message.contains("abuse");
    if !secondary_limits {
        // Without a stated wait, a 429 is waited out like a secondary limit all the same.
        return (status == StatusCode::TOO_MANY_REQUESTS).then_some(RateLimit::Secondary);
    }
    (status == StatusCode::TOO_MANY_REQUESTS || says_so).then_some(RateLimit::Secondary)
}

/// The wait after secondary limit number `attempt` (1-based): a minute, then doubling.
pub(super) fn secondary_wait(attempt: u32) -> Duration {
    SECONDARY_WAIT.saturating_mul(1 << attempt.saturating_sub(1).min(6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn recognises_rate_limits() {
        let mut headers = HeaderMap::new();
        let forbidden = |headers: &HeaderMap, body: &str| {
            rate_limit(StatusCode::FORBIDDEN, headers, body, true)
        };
        assert_eq!(
            forbidden(
                &headers,
                r#"{"message": "Resource not accessible by integration"}"#
            ),
            None,
            "a plain 403 is not a rate limit"
        );
        assert_eq!(
            forbidden(
                &headers,
                r#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#
            ),
            Some(RateLimit::Secondary)
        );
        assert_eq!(
            rate_limit(StatusCode::TOO_MANY_REQUESTS, &headers, "", true),
            Some(RateLimit::Secondary)
        );
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("4102444800"));
        assert_eq!(
            forbidden(&headers, ""),
            Some(RateLimit::Until(
                SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800)
            ))
        );
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert!(matches!(
            rate_limit(StatusCode::TOO_MANY_REQUESTS, &headers, "", true),
            Some(RateLimit::Until(_))
        ));
        assert_eq!(rate_limit(StatusCode::OK, &headers, "", true), None);
    }

    #[test]
    fn secondary_limits_wait_a_minute_then_double() {
        assert_eq!(secondary_wait(1), Duration::from_secs(60));
        assert_eq!(secondary_wait(2), Duration::from_secs(120));
        assert_eq!(secondary_wait(3), Duration::from_secs(240));
    }

    #[tokio::test(start_paused = true)]
    async fn writes_are_paced_to_eighty_a_minute() {
        const WRITES_PER_MINUTE: usize = 80;
        let mut pacer = Pacer::new(WRITES_PER_MINUTE, Duration::from_secs(60));
        let start = tokio::time::Instant::now();
        for _ in 0..WRITES_PER_MINUTE {
            pacer.turn().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "a burst of 80 goes at once"
        );
        pacer.turn().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(60),
            "the 81st waits a minute"
        );
        for _ in 0..WRITES_PER_MINUTE - 1 {
            pacer.turn().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        pacer.turn().await;
        assert_eq!(start.elapsed(), Duration::from_secs(120));
    }
}
