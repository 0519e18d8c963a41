//! The ACI indicators measured from the modules' own tables, for one year. Counts
//! only: no patient, no health data leaves these queries. An indicator whose module
//! keeps no data yet is absent from the result (the report says "not measured").

use super::Store;
use crate::Result;
use crate::aci::IndicatorCode;

/// The year in France: 1 January 00:00 in Paris is 31 December 23:00 UTC (winter
/// time, always, on that date). `[start, end)` in unix milliseconds.
pub fn year_bounds(year: i32) -> (i64, i64) {
    (paris_new_year(year), paris_new_year(year + 1))
}

fn paris_new_year(year: i32) -> i64 {
    let days = days_from_civil(year, 1, 1);
    (days * 86_400 - 3_600) * 1_000
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Store {
    /// Every indicator Cordée can measure for `year`.
    pub async fn aci_values(&self, year: i32) -> Result<Vec<(IndicatorCode, i64)>> {
        let (_start, end) = year_bounds(year);
        let mut values = Vec::new();
        // Members at the end of the year, and their professions.
        let (members, professions): (i64, i64) = sqlx::query_as(
            "select count(*), count(distinct profession_code) from cpts_memberships \
             where joined_at < $1 and (left_at is null or left_at >= $1)",
        )
        .bind(end)
        .fetch_one(self.db.reader())
        .await?;
        values.push((IndicatorCode::Members, members));
        values.push((IndicatorCode::MemberProfessions, professions));
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_starts_at_midnight_in_paris() {
        // 2025-01-01T00:00+01:00 = 2024-12-31T23:00Z = 1735686000.
        assert_eq!(year_bounds(2025).0, 1_735_686_000_000);
        // 2026-01-01T00:00+01:00 = 1767222000.
        assert_eq!(year_bounds(2025).1, 1_767_222_000_000);
        assert_eq!(year_bounds(2024).1, year_bounds(2025).0);
    }
}
