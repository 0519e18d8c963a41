//! The ACI indicators measured from the modules' own tables, for one year. Counts
//! only: no patient, no health data leaves these queries (docs/aci.md says what each
//! counts).

use super::Store;
use crate::aci::IndicatorCode;
use crate::calendar::Day;
use crate::{Millis, Result};

/// The year in France: 1 January 00:00 in Paris is 31 December 23:00 UTC (winter
/// time, always, on that date). `[start, end)` in unix milliseconds.
pub fn year_bounds(year: i32) -> (i64, i64) {
    (paris_new_year(year), paris_new_year(year + 1))
}

fn paris_new_year(year: i32) -> i64 {
    let utc_midnight = time::Date::from_calendar_date(year, time::Month::January, 1)
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .unwrap_or(0);
    (utc_midnight - 3_600) * 1_000
}

impl Store {
    /// Every indicator Cordée measures for `year`.
    pub async fn aci_values(&self, year: i32) -> Result<Vec<(IndicatorCode, i64)>> {
        use IndicatorCode::*;
        let (start, end) = year_bounds(year);
        let (first_day, last_day) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
        let db = self.db.reader();
        let mut values = Vec::new();

        // Access to care: the waiting list's placements, and the GPs' declarations.
        let (placed, fragile): (i64, Option<i64>) = sqlx::query_as(
            "select count(*), cast(sum(case when ald <> 0 or age_70_plus <> 0 then 1 else 0 end) as bigint) \
             from waiting_requests where status = 'placed' and placed_at >= $1 and placed_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(db)
        .await?;
        values.push((PatientsPlaced, placed));
        values.push((PatientsPlacedFragile, fragile.unwrap_or(0)));
        let capacity: Option<i64> = sqlx::query_scalar(
            "select cast(sum(new_patients_per_month) as bigint) from gp_capacity \
             where accepting <> 0 and updated_at < $1 and (until is null or until >= $2)",
        )
        .bind(end)
        .bind(&last_day)
        .fetch_one(db)
        .await?;
        values.push((GpCapacity, capacity.unwrap_or(0)));

        // Pathways: plans that existed in the year and were active then (still active,
        // or changed during or after it), and reviews done by their due date.
        let plans: i64 = sqlx::query_scalar(
            "select count(*) from care_plans where created_at < $1 and (status = 'active' or updated_at >= $2)",
        )
        .bind(end)
        .bind(start)
        .fetch_one(db)
        .await?;
        values.push((CarePlansActive, plans));
        values.push((
            CarePlansReviewedOnTime,
            self.reviews_on_time(start, end).await?,
        ));

        // Case conferences validated in the year, and who attended the RCP.
        let (rcp, concertations): (Option<i64>, Option<i64>) = sqlx::query_as(
            "select cast(sum(case when kind = 'rcp' then 1 else 0 end) as bigint), cast(sum(case when kind = 'concertation' then 1 else 0 end) as bigint) \
             from case_conferences where status = 'validated' and validated_at >= $1 and validated_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_one(db)
        .await?;
        values.push((CaseConferences, rcp.unwrap_or(0)));
        values.push((Concertations, concertations.unwrap_or(0)));
        let professions: i64 = sqlx::query_scalar(
            "select count(distinct p.profession_code) from case_conference_participants p \
             join case_conferences c on c.id = p.conference_id \
             where c.status = 'validated' and c.kind = 'rcp' and c.validated_at >= $1 and c.validated_at < $2 \
             and p.attended = 1 and p.removed_at is null",
        )
        .bind(start)
        .bind(end)
        .fetch_one(db)
        .await?;
        values.push((ConferenceProfessions, professions));

        // Prevention: counts recorded for days of the year, the structures that
        // recorded them, and the crisis campaigns that ran in it.
        let (actions, structures): (Option<i64>, i64) = sqlx::query_as(
            "select cast(sum(count) as bigint), count(distinct case when count > 0 then organisation_id end) \
             from campaign_actions where on_day >= $1 and on_day <= $2",
        )
        .bind(&first_day)
        .bind(&last_day)
        .fetch_one(db)
        .await?;
        values.push((CampaignActions, actions.unwrap_or(0)));
        values.push((CampaignStructures, structures));
        let crisis: i64 = sqlx::query_scalar(
            "select count(*) from campaigns where theme in ('canicule', 'covid') and starts_on <= $1 and ends_on >= $2",
        )
        .bind(&last_day)
        .bind(&first_day)
        .fetch_one(db)
        .await?;
        values.push((CrisisCampaigns, crisis));

        // Support to professionals: members at the end of the year, and their professions.
        let (members, member_professions): (i64, i64) = sqlx::query_as(
            "select count(*), count(distinct profession_code) from cpts_memberships \
             where joined_at < $1 and (left_at is null or left_at >= $1)",
        )
        .bind(end)
        .fetch_one(db)
        .await?;
        values.push((Members, members));
        values.push((MemberProfessions, member_professions));
        Ok(values)
    }

    /// Reviews written in `[start, end)` on or before the review date the plan had
    /// just before them (the plan's versions keep each date).
    async fn reviews_on_time(&self, start: i64, end: i64) -> Result<i64> {
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "select r.created_at, (select v.review_on from care_plan_versions v \
               where v.plan_id = r.plan_id and v.created_at < r.created_at \
               order by v.created_at desc, v.version desc limit 1) \
             from care_plan_reviews r where r.created_at >= $1 and r.created_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .iter()
            .filter(|(at, due)| {
                due.as_deref()
                    .and_then(Day::parse)
                    .is_some_and(|due| Day::today_in_paris(Millis(*at)) <= due)
            })
            .count() as i64)
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
