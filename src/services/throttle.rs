//! Rate limits on report submission: the JSON API's `POST /api/incidents`
//! and Open311's `POST /open311/v2/requests.json`, which citizen apps and
//! hotline integrations call, so a runaway client (or a stolen key) cannot
//! flood the dispatchers' desks or the store.
//!
//! Two limits, both from governor's keyed GCRA limiters (a steady rate
//! with a burst of the same size): per reporting account, and per client
//! address at four times that (a governance centre's dispatchers share
//! one address). A refused report says how long until another is taken;
//! nothing of it is stored. Keys idle longer than a window are dropped
//! now and then, so the memory follows the clients that are active.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Reports per minute one account may submit unless configured.
pub const DEFAULT_REPORTS_PER_MINUTE: u32 = 60;

/// How many checks of a report (`dry_run=true`, which the web map's form
/// sends as the dispatcher fills it in) an account may make per report it
/// may send: they cost a duplicate search each, so they are limited too,
/// on their own budget, so that checking never uses up reporting.
pub const CHECKS_PER_REPORT: u32 = 10;

/// How many addresses' worth of accounts one address may carry.
const PER_ADDRESS_FACTOR: u32 = 4;

/// Every this many checks, keys idle for a full window are dropped.
const SWEEP_EVERY: u64 = 4096;

/// The report limiters.
pub struct ReportRate {
    per_minute: NonZeroU32,
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl ReportRate {
    /// Limits of `per_minute` reports per account (at least one).
    pub fn new(per_minute: u32) -> ReportRate {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let per_address = per_minute
            .saturating_mul(NonZeroU32::new(PER_ADDRESS_FACTOR).unwrap_or(NonZeroU32::MIN));
        ReportRate {
            per_minute,
            by_account: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            by_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_address)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Limits for checking reports when `reports_per_minute` may be sent:
    /// [`CHECKS_PER_REPORT`] times as many.
    pub fn checks_for(reports_per_minute: u32) -> ReportRate {
        ReportRate::new(reports_per_minute.saturating_mul(CHECKS_PER_REPORT))
    }

    /// The configured reports per minute per account.
    pub fn per_minute(&self) -> u32 {
        self.per_minute.get()
    }

    /// Take one report from `account` at `address` (empty when unknown:
    /// then only the account counts), or say how long until one would be
    /// taken.
    pub fn take(&self, account: &str, address: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.by_account.retain_recent();
            self.by_address.retain_recent();
            self.by_account.shrink_to_fit();
            self.by_address.shrink_to_fit();
        }
        let now = self.clock.now();
        // The account first: one past its own rate is refused before it can
        // spend its address's share, which would lock out everyone else
        // behind the same address.
        self.by_account
            .check_key(&account.to_owned())
            .map_err(|not_until| not_until.wait_time_from(now))?;
        if address.is_empty() {
            return Ok(());
        }
        self.by_address
            .check_key(&address.to_owned())
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// How many accounts and addresses are being tracked.
    pub fn tracked(&self) -> (usize, usize) {
        (self.by_account.len(), self.by_address.len())
    }
}

impl Default for ReportRate {
    fn default() -> Self {
        ReportRate::new(DEFAULT_REPORTS_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_past_its_rate_waits_and_others_go_on() {
        let rate = ReportRate::new(3);
        for _ in 0..3 {
            assert_eq!(rate.take("app-1", "10.0.0.1"), Ok(()));
        }
        let wait = rate
            .take("app-1", "10.0.0.1")
            .expect_err("the fourth waits");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(rate.take("app-2", "10.0.0.1"), Ok(()));
    }

    #[test]
    fn one_address_carries_four_accounts_worth() {
        let rate = ReportRate::new(2);
        let mut taken = 0;
        for account in 0..10 {
            for _ in 0..2 {
                if rate.take(&format!("user-{account}"), "10.0.0.9").is_ok() {
                    taken += 1;
                }
            }
        }
        assert_eq!(taken, 8);
        assert_eq!(rate.take("user-99", "10.0.0.10"), Ok(()));
    }

    #[test]
    fn an_account_hammering_past_its_rate_does_not_use_up_its_address() {
        let rate = ReportRate::new(2);
        for _ in 0..1_000 {
            let _ = rate.take("greedy", "10.0.0.5");
        }
        // The address carried the greedy account's two, and has six left.
        for colleague in 0..6 {
            assert_eq!(
                rate.take(&format!("dispatcher-{colleague}"), "10.0.0.5"),
                Ok(())
            );
        }
    }
}
