//! A calendar date without a time zone: enough for releases, vintages and code validity.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date in the form YYYY-MM-DD")]
pub struct DateError(pub String);

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        let d = Date { year, month, day };
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError(d.to_string()));
        }
        Ok(d)
    }

    /// The first day of a period such as `2024`, `2024-03` or `2024-03-15`: what a vintage
    /// given as a year means.
    pub fn parse_loose(text: &str) -> Result<Self, DateError> {
        let t = text.trim();
        let parts: Vec<&str> = t.split('-').collect();
        let num = |s: &str| s.parse::<i64>().map_err(|_| DateError(t.to_string()));
        match parts.as_slice() {
            [y] if y.len() == 4 => Date::new(num(y)? as i32, 1, 1),
            [y, m] if y.len() == 4 => Date::new(num(y)? as i32, num(m)? as u8, 1),
            [y, m, d] if y.len() == 4 => Date::new(num(y)? as i32, num(m)? as u8, num(d)? as u8),
            _ => Err(DateError(t.to_string())),
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for arithmetic.
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() != 10 {
            return Err(DateError(t.to_string()));
        }
        Date::parse_loose(t)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse_loose(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_round_trip() {
        for days in [-800_000, -1, 0, 1, 10_957, 20_000, 2_932_896] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(Date::new(2000, 1, 1).unwrap().days_since_epoch(), 10_957);
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!("2024-13-01".parse::<Date>().is_err());
        assert_eq!(Date::parse_loose("2017").unwrap().to_string(), "2017-01-01");
    }
}
