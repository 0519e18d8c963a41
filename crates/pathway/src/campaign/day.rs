//! Calendar days. A count is recorded "for today at the counter": today is the day
//! in metropolitan France (Europe/Paris: UTC+1, UTC+2 from the last Sunday of March
//! 01:00 UTC to the last Sunday of October 01:00 UTC), computed from the gateway's
//! `now` — the domain never reads the clock.

use time::macros::format_description;
use time::{Date, Weekday};

use crate::Millis;

/// `YYYY-MM-DD`, strictly.
pub fn parse_day(text: &str) -> Option<Date> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

pub fn format_day(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// The day it is in France at `now` (the rule lives in `calendar::Day`).
pub fn paris_day(now: Millis) -> Date {
    crate::calendar::Day::today_in_paris(now).date()
}

/// The ISO week of a day, as `2026-W43`, with the Monday it starts on.
pub fn iso_week(day: Date) -> (String, Date) {
    let (year, week, _) = day.to_iso_week_date();
    let monday = Date::from_iso_week_date(year, week, Weekday::Monday).unwrap_or(day);
    (format!("{year}-W{week:02}"), monday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        Millis::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn the_day_is_the_day_in_france() {
        let cases = [
            // Winter: UTC+1.
            ("2026-12-31T22:59:59Z", "2026-12-31"),
            ("2026-12-31T23:00:00Z", "2027-01-01"),
            // Summer: UTC+2.
            ("2027-07-14T21:59:59Z", "2027-07-14"),
            ("2027-07-14T22:00:00Z", "2027-07-15"),
            // 2027's changes: 28 March and 31 October, at 01:00 UTC.
            ("2027-03-28T00:59:59Z", "2027-03-28"),
            ("2027-03-27T22:30:00Z", "2027-03-27"),
            ("2027-03-28T22:30:00Z", "2027-03-29"),
            ("2027-10-30T22:30:00Z", "2027-10-31"),
            ("2027-10-31T22:30:00Z", "2027-10-31"),
        ];
        for (now, day) in cases {
            assert_eq!(format_day(paris_day(at(now))), day, "{now}");
        }
    }

    #[test]
    fn days_are_strict_and_weeks_iso() {
        assert!(parse_day("2027-02-29").is_none());
        assert!(parse_day("2027-2-1").is_none());
        assert_eq!(format_day(parse_day("2028-02-29").unwrap()), "2028-02-29");
        let (week, monday) = iso_week(parse_day("2027-01-01").unwrap());
        assert_eq!(week, "2026-W53");
        assert_eq!(format_day(monday), "2026-12-28");
        let (week, _) = iso_week(parse_day("2026-11-29").unwrap());
        assert_eq!(week, "2026-W48");
    }
}
