//! The waiting list's indicators over a period, computed from the requests
//! themselves (never from stored totals).
//!
//! - `waiting`: requests made on or before `to`, neither placed nor withdrawn by then;
//! - `placed`: requests placed between `from` and `to` (both included);
//! - waiting days: from the request to the placement, for those placed in the period;
//!   median and 90th percentile by nearest rank;
//! - share placed of a group: placed ÷ (placed + still waiting), `null` when the
//!   group is empty;
//! - each figure by group (a request counts in every group its flags name, `others`
//!   when none) and by commune.

use std::collections::BTreeMap;

use time::Date;

use super::{Fragility, Group};

/// One request as the indicators see it: no identity, no text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub commune: String,
    pub fragility: Fragility,
    pub requested_on: Date,
    pub placed_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub waiting: i64,
    pub placed: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Indicators {
    pub total: Counts,
    /// Every group, in `Group::ALL` order.
    pub by_group: Vec<(Group, Counts)>,
    pub median_waiting_days: Option<i64>,
    pub p90_waiting_days: Option<i64>,
    pub share_ald_placed: Option<f64>,
    pub share_70_plus_placed: Option<f64>,
    /// By commune code, in code order.
    pub by_commune: Vec<(String, Counts)>,
}

/// The value at percentile `p` (0–100) of `sorted`, nearest rank.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

pub fn compute(rows: &[Row], from: Date, to: Date) -> Indicators {
    let mut total = Counts::default();
    let mut groups: BTreeMap<Group, Counts> =
        Group::ALL.iter().map(|g| (*g, Counts::default())).collect();
    let mut communes: BTreeMap<String, Counts> = BTreeMap::new();
    let mut days = Vec::new();
    for r in rows {
        let placed_in = r.placed_on.is_some_and(|p| p >= from && p <= to);
        let closed_by_to =
            r.placed_on.is_some_and(|p| p <= to) || r.withdrawn_on.is_some_and(|w| w <= to);
        let waiting = r.requested_on <= to && !closed_by_to;
        if !placed_in && !waiting {
            continue;
        }
        let bump = |c: &mut Counts| {
            c.waiting += i64::from(waiting);
            c.placed += i64::from(placed_in);
        };
        bump(&mut total);
        for g in r.fragility.groups() {
            if let Some(c) = groups.get_mut(&g) {
                bump(c);
            }
        }
        bump(communes.entry(r.commune.clone()).or_default());
        if let (true, Some(p)) = (placed_in, r.placed_on) {
            days.push((p - r.requested_on).whole_days().max(0));
        }
    }
    days.sort_unstable();
    let share = |g: Group| {
        groups.get(&g).and_then(|c| {
            let all = c.placed + c.waiting;
            (all > 0).then(|| c.placed as f64 / all as f64)
        })
    };
    Indicators {
        share_ald_placed: share(Group::Ald),
        share_70_plus_placed: share(Group::Age70Plus),
        total,
        median_waiting_days: percentile(&days, 50),
        p90_waiting_days: percentile(&days, 90),
        by_group: groups.into_iter().collect(),
        by_commune: communes.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waiting_list::{Precarity, parse_day};

    fn d(s: &str) -> Date {
        parse_day(s).unwrap()
    }

    fn row(
        commune: &str,
        f: Fragility,
        requested: &str,
        placed: Option<&str>,
        withdrawn: Option<&str>,
    ) -> Row {
        Row {
            commune: commune.into(),
            fragility: f,
            requested_on: d(requested),
            placed_on: placed.map(d),
            withdrawn_on: withdrawn.map(d),
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let cases: [(&[i64], u32, Option<i64>); 6] = [
            (&[], 50, None),
            (&[7], 50, Some(7)),
            (&[1, 2, 3, 4], 50, Some(2)),
            (&[1, 2, 3, 4, 5], 50, Some(3)),
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, Some(9)),
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, Some(10)),
        ];
        for (v, p, expected) in cases {
            assert_eq!(percentile(v, p), expected, "{v:?} p{p}");
        }
    }

    #[test]
    fn indicators_table() {
        let none = Fragility::default();
        let ald = Fragility { ald: true, ..none };
        let old_poor = Fragility {
            age_70_plus: true,
            precarity: Some(Precarity::Css),
            ..none
        };
        let rows = vec![
            // placed in the period after 10 days (ALD)
            row("59350", ald, "2026-01-01", Some("2026-01-11"), None),
            // still waiting (ALD)
            row("59350", ald, "2026-01-05", None, None),
            // placed in the period after 30 days (70+, CSS)
            row("59009", old_poor, "2026-01-01", Some("2026-01-31"), None),
            // placed after the period: waiting at `to`
            row("59009", none, "2026-01-10", Some("2026-03-01"), None),
            // withdrawn in the period: neither
            row("59009", none, "2026-01-10", None, Some("2026-01-20")),
            // requested after the period: neither
            row("59350", none, "2026-02-10", None, None),
            // placed before the period: neither
            row("59350", none, "2025-12-01", Some("2025-12-20"), None),
        ];
        let i = compute(&rows, d("2026-01-01"), d("2026-01-31"));
        assert_eq!(
            i.total,
            Counts {
                waiting: 2,
                placed: 2
            }
        );
        let group = |g: Group| i.by_group.iter().find(|(x, _)| *x == g).unwrap().1.clone();
        assert_eq!(
            group(Group::Ald),
            Counts {
                waiting: 1,
                placed: 1
            }
        );
        assert_eq!(
            group(Group::Age70Plus),
            Counts {
                waiting: 0,
                placed: 1
            }
        );
        assert_eq!(
            group(Group::CssAme),
            Counts {
                waiting: 0,
                placed: 1
            }
        );
        assert_eq!(
            group(Group::Others),
            Counts {
                waiting: 1,
                placed: 0
            }
        );
        assert_eq!(i.median_waiting_days, Some(10));
        assert_eq!(i.p90_waiting_days, Some(30));
        assert_eq!(i.share_ald_placed, Some(0.5));
        assert_eq!(i.share_70_plus_placed, Some(1.0));
        assert_eq!(
            i.by_commune,
            vec![
                (
                    "59009".to_string(),
                    Counts {
                        waiting: 1,
                        placed: 1
                    }
                ),
                (
                    "59350".to_string(),
                    Counts {
                        waiting: 1,
                        placed: 1
                    }
                ),
            ]
        );
        let empty = compute(&[], d("2026-01-01"), d("2026-01-31"));
        assert_eq!(empty.share_ald_placed, None);
        assert_eq!(empty.median_waiting_days, None);
    }
}
