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

    /// Now, in seconds since 1970-01-01 UTC (session expiry, the audit log). A fixed clock says
    /// the start of its day.
    fn unix_seconds(&self) -> i64 {
        self.today().days_since_epoch() * 86_400
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

    fn unix_seconds(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
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

/// A clock a test moves by hand (sessions that expire, permits that lapse).
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock at the start of `day`.
    pub fn at(day: Date) -> Self {
        ManualClock(std::sync::atomic::AtomicI64::new(day.days_since_epoch() * 86_400))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn today(&self) -> Date {
        Date::from_days_since_epoch(self.unix_seconds().div_euclid(86_400))
    }

    fn unix_seconds(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
