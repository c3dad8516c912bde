//! Business dates come from a clock the services are given, so tests and demos
//! can move time; entry timestamps always come from the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};

/// Today's business date, UTC.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Days added to the system date (0 in production).
    offset_days: Arc<AtomicI64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            offset_days: Arc::new(AtomicI64::new(0)),
        }
    }
}

impl Clock {
    /// The system date.
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock that reads `today` now (tests and demos).
    pub fn fixed_at(today: NaiveDate) -> Self {
        let clock = Clock::default();
        clock.set(today);
        clock
    }

    /// Today's date.
    pub fn today(&self) -> NaiveDate {
        Utc::now().date_naive() + Duration::days(self.offset_days.load(Ordering::Relaxed))
    }

    /// Moves the clock so that today reads `today`.
    pub fn set(&self, today: NaiveDate) {
        let offset = (today - Utc::now().date_naive()).num_days();
        self.offset_days.store(offset, Ordering::Relaxed);
    }
}
