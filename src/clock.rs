//! Where the core learns the time, so tests can move it.

use chrono::{DateTime, Utc};

/// The current time.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// The platform clock, `Date.now()`.
#[cfg(target_arch = "wasm32")]
pub struct JsClock;

#[cfg(target_arch = "wasm32")]
impl Clock for JsClock {
    fn now(&self) -> DateTime<Utc> {
        // Date.now() is always in chrono's range; were it not, a far-future "now" makes
        // every session expired: failing closed. (Year ~255,000: far enough to expire
        // everything, near enough that adding a timeout cannot overflow.)
        const FAR_FUTURE_MS: i64 = 8_000_000_000_000_000;
        let now = js_sys::Date::now() as i64;
        DateTime::from_timestamp_millis(now)
            .or_else(|| DateTime::from_timestamp_millis(FAR_FUTURE_MS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

#[cfg(test)]
pub mod fake {
    use std::cell::Cell;

    use chrono::{DateTime, TimeDelta, Utc};

    /// A clock that moves only when told.
    pub struct FakeClock(Cell<DateTime<Utc>>);

    impl FakeClock {
        pub fn at_millis(ms: i64) -> Self {
            FakeClock(Cell::new(
                DateTime::from_timestamp_millis(ms).expect("test time in range"),
            ))
        }

        pub fn advance(&self, by: TimeDelta) {
            self.0.set(self.0.get() + by);
        }
    }

    impl super::Clock for &FakeClock {
        fn now(&self) -> DateTime<Utc> {
            self.0.get()
        }
    }
}
