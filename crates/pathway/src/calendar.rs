//! Calendar days as people in Paris count them: due dates and review dates are days,
//! not instants, and "today" is the day on the wall clock in Paris (CET/CEST), not
//! the UTC day — at 00:30 in Paris in summer it is still yesterday in UTC.

use std::fmt;

use time::{Date, Month, OffsetDateTime, Weekday};

use crate::Millis;

/// A day written `YYYY-MM-DD` (text order is date order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

impl Day {
    /// Reads `YYYY-MM-DD` (a real day: no 30 February).
    pub fn parse(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            s.chars()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        Date::from_calendar_date(year, month, day).ok().map(Day)
    }

    /// The day it is in Paris at `now`.
    pub fn today_in_paris(now: Millis) -> Day {
        let utc = OffsetDateTime::from_unix_timestamp(now.0.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let offset_hours = if summer_time(utc) { 2 } else { 1 };
        Day((utc + time::Duration::hours(offset_hours)).date())
    }

    /// The calendar date.
    pub fn date(self) -> Date {
        self.0
    }

    /// `n` days later (earlier when negative); saturates at the calendar's ends.
    pub fn plus_days(self, n: i64) -> Day {
        Day(self
            .0
            .checked_add(time::Duration::days(n))
            .unwrap_or(self.0))
    }

    pub fn as_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let days = month.length(year);
    let last = Date::from_calendar_date(year, month, days).ok()?;
    let back = last.weekday().number_days_from_sunday();
    last.checked_sub(time::Duration::days(i64::from(back)))
}

/// EU summer time: from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
/// last Sunday of October.
/// `23/11/2026 à 10h30`: a moment as a clock in Paris shows it (printed records).
pub fn paris_clock(at: Millis) -> String {
    let utc = OffsetDateTime::from_unix_timestamp(at.0.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let offset_hours = if summer_time(utc) { 2 } else { 1 };
    let local = utc + time::Duration::hours(offset_hours);
    format!(
        "{:02}/{:02}/{} à {:02}h{:02}",
        local.day(),
        u8::from(local.month()),
        local.year(),
        local.hour(),
        local.minute()
    )
}

fn summer_time(utc: OffsetDateTime) -> bool {
    let year = utc.year();
    let (Some(start), Some(end)) = (
        last_sunday(year, Month::March),
        last_sunday(year, Month::October),
    ) else {
        return false;
    };
    debug_assert_eq!(start.weekday(), Weekday::Sunday);
    let at_one = |d: Date| d.with_hms(1, 0, 0).map(|t| t.assume_utc()).ok();
    match (at_one(start), at_one(end)) {
        (Some(s), Some(e)) => utc >= s && utc < e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        Millis::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn a_paris_clock_follows_summer_time() {
        assert_eq!(
            paris_clock(at("2026-11-23T09:30:00Z")),
            "23/11/2026 à 10h30"
        );
        assert_eq!(
            paris_clock(at("2026-07-01T22:05:00Z")),
            "02/07/2026 à 00h05"
        );
    }

    #[test]
    fn parses_real_days_only() {
        assert_eq!(Day::parse("2026-02-28").unwrap().to_string(), "2026-02-28");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "2026/01/01",
            "",
            "２０２６-01-01",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert!(Day::parse("2024-02-29").is_some());
    }

    #[test]
    fn today_is_the_day_on_the_wall_in_paris() {
        let cases = [
            // (instant, day in Paris)
            ("2026-07-14T22:30:00Z", "2026-07-15"), // CEST: 00:30
            ("2026-07-14T21:59:59Z", "2026-07-14"),
            ("2026-01-10T22:59:59Z", "2026-01-10"), // CET: 23:59
            ("2026-01-10T23:00:00Z", "2026-01-11"),
            ("2026-03-29T00:59:59Z", "2026-03-29"), // the change to summer time
            ("2026-03-28T23:30:00Z", "2026-03-29"),
            ("2026-10-24T22:30:00Z", "2026-10-25"), // still summer time
            ("2026-10-25T22:30:00Z", "2026-10-25"), // winter time again: 23:30
            ("2026-12-31T23:00:00Z", "2027-01-01"),
        ];
        for (instant, day) in cases {
            assert_eq!(
                Day::today_in_paris(at(instant)).to_string(),
                day,
                "{instant}"
            );
        }
    }

    #[test]
    fn adds_days_across_months() {
        let d = Day::parse("2026-01-30").unwrap();
        assert_eq!(d.plus_days(2).to_string(), "2026-02-01");
        assert_eq!(d.plus_days(-30).to_string(), "2025-12-31");
        assert!(d.plus_days(1) > d);
    }
}
