//! Where the core learns the time, so tests can move it.

use chrono::{DateTime, Utc};

/// The current time.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
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
