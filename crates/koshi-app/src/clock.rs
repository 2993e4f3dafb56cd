//! "Today", injected: use cases that depend on the date (as-of defaults, release dates, the
//! 12-month rules to come) ask the application's clock, so that a test can fix the day.

use koshi_core::Date;

pub trait Clock: Send + Sync {
    /// Today's date (UTC).
    fn today(&self) -> Date;

    /// Now, as `YYYY-MM-DDThh:mm:ss` (UTC): when a message is prepared. A fixed clock says
    /// the start of its day.
    fn now_utc(&self) -> String {
        format!("{}T00:00:00", self.today())
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> Date {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Date::from_days_since_epoch(secs.div_euclid(86_400))
    }

    fn now_utc(&self) -> String {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let day = Date::from_days_since_epoch(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        format!("{day}T{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
    }
}

/// A clock that always says the same day.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Date);

impl Clock for FixedClock {
    fn today(&self) -> Date {
        self.0
    }
}
