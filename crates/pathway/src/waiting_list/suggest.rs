//! Which médecins généralistes to suggest for a request, best first.
//!
//! A GP fits when their declaration holds today, they have places left this month,
//! they take ALD patients if the request is ALD, they do home visits if the patient
//! needs them, and they take patients from the request's commune (a declaration
//! without communes takes the whole territory). Among those that fit:
//! 1. a GP who named the commune comes before one who takes the whole territory;
//! 2. then the GP with the larger share of their month still free (load spread: the
//!    same GP is not asked every time), compared as remaining ÷ per month;
//! 3. then fewer pending proposals (asked less already);
//! 4. then more places left, then the account id (a stable order).

use std::cmp::Ordering;

use time::Date;

use super::{Capacity, Fragility, remaining};
use crate::directory::CommuneCode;
use crate::ids::AccountId;

/// What a request needs of a GP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub commune: CommuneCode,
    pub ald: bool,
    pub home_visits: bool,
}

impl Need {
    pub fn of(commune: CommuneCode, f: &Fragility) -> Need {
        Need {
            commune,
            ald: f.ald,
            home_visits: f.needs_home_visits,
        }
    }
}

/// A GP and what the store knows of their load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub account_id: AccountId,
    pub display_name: String,
    pub capacity: Capacity,
    /// Places used this month.
    pub used: i64,
    /// Proposals waiting for this GP's answer (any request).
    pub pending: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub account_id: AccountId,
    pub display_name: String,
    pub remaining: i64,
    pub new_patients_per_month: i64,
    /// The GP named the request's commune (otherwise they take the whole territory).
    pub commune_match: bool,
    pub pending: i64,
    pub accepts_ald: bool,
    pub home_visits: bool,
}

/// Whether `c` fits `need` on `today`.
pub fn fits(need: &Need, c: &Candidate, today: Date) -> bool {
    let cap = &c.capacity;
    cap.open_on(today)
        && remaining(cap.new_patients_per_month, c.used) > 0
        && (!need.ald || cap.accepts_ald)
        && (!need.home_visits || cap.home_visits)
        && (cap.communes.is_empty() || cap.communes.contains(&need.commune))
}

/// The fitting GPs, best first, at most `limit`.
pub fn suggest(
    need: &Need,
    candidates: &[Candidate],
    today: Date,
    limit: usize,
) -> Vec<Suggestion> {
    let mut fitting: Vec<Suggestion> = candidates
        .iter()
        .filter(|c| fits(need, c, today))
        .map(|c| Suggestion {
            account_id: c.account_id,
            display_name: c.display_name.clone(),
            remaining: remaining(c.capacity.new_patients_per_month, c.used),
            new_patients_per_month: c.capacity.new_patients_per_month,
            commune_match: c.capacity.communes.contains(&need.commune),
            pending: c.pending,
            accepts_ald: c.capacity.accepts_ald,
            home_visits: c.capacity.home_visits,
        })
        .collect();
    fitting.sort_by(rank);
    fitting.truncate(limit);
    fitting
}

fn rank(a: &Suggestion, b: &Suggestion) -> Ordering {
    // Free share, compared without division: a.rem / a.per vs b.rem / b.per.
    let share = |x: &Suggestion, y: &Suggestion| {
        (x.remaining * y.new_patients_per_month.max(1))
            .cmp(&(y.remaining * x.new_patients_per_month.max(1)))
    };
    b.commune_match
        .cmp(&a.commune_match)
        .then_with(|| share(b, a))
        .then_with(|| a.pending.cmp(&b.pending))
        .then_with(|| b.remaining.cmp(&a.remaining))
        .then_with(|| a.account_id.cmp(&b.account_id))
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::waiting_list::parse_day;

    fn id(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn commune(c: &str) -> CommuneCode {
        CommuneCode::parse(c).unwrap()
    }

    fn gp(
        n: u128,
        per: i64,
        used: i64,
        communes: &[&str],
        ald: bool,
        home: bool,
        pending: i64,
    ) -> Candidate {
        Candidate {
            account_id: id(n),
            display_name: format!("Dr {n}"),
            capacity: Capacity {
                accepting: true,
                new_patients_per_month: per,
                communes: communes.iter().map(|c| commune(c)).collect(),
                accepts_ald: ald,
                home_visits: home,
                until: None,
            },
            used,
            pending,
        }
    }

    #[test]
    fn ranking_table() {
        let today = parse_day("2026-06-10").unwrap();
        let lille = Need {
            commune: commune("59350"),
            ald: false,
            home_visits: false,
        };
        let lille_ald_home = Need {
            ald: true,
            home_visits: true,
            ..lille.clone()
        };
        let mut closed = gp(9, 5, 0, &[], true, true, 0);
        closed.capacity.accepting = false;
        let mut expired = gp(10, 5, 0, &[], true, true, 0);
        expired.capacity.until = Some("2026-06-09".into());
        let candidates = vec![
            gp(1, 4, 0, &["59350"], false, false, 0), // named Lille, all free
            gp(2, 4, 2, &["59350"], true, true, 0),   // named Lille, half free
            gp(3, 10, 0, &[], true, true, 0),         // whole territory
            gp(4, 4, 4, &["59350"], true, true, 0),   // full this month
            gp(5, 4, 0, &["59009"], true, true, 0),   // another commune
            gp(6, 4, 0, &["59350"], true, false, 2),  // named Lille, asked twice already
            gp(7, 2, 0, &["59350"], true, true, 0),   // named Lille, all free, fewer places
            closed,
            expired,
        ];
        let order = |need: &Need| -> Vec<u128> {
            suggest(need, &candidates, today, 10)
                .iter()
                .map(|s| s.account_id.0.as_u128())
                .collect()
        };
        let cases: [(&Need, Vec<u128>); 2] = [
            (&lille, vec![1, 7, 6, 2, 3]),
            (&lille_ald_home, vec![7, 2, 3]),
        ];
        for (need, expected) in cases {
            assert_eq!(order(need), expected, "{need:?}");
        }
        assert_eq!(suggest(&lille, &candidates, today, 2).len(), 2);
        let s = &suggest(&lille_ald_home, &candidates, today, 1)[0];
        assert_eq!((s.remaining, s.commune_match), (2, true));
    }

    #[test]
    fn load_spreads_across_gps() {
        let today = parse_day("2026-06-10").unwrap();
        let need = Need {
            commune: commune("59350"),
            ald: false,
            home_visits: false,
        };
        // Two GPs with the same offer: whoever has placed fewer this month comes first.
        let a = gp(1, 5, 3, &["59350"], true, true, 0);
        let b = gp(2, 5, 1, &["59350"], true, true, 0);
        let first = suggest(&need, &[a.clone(), b.clone()], today, 1);
        assert_eq!(first[0].account_id, id(2));
        // Same load: the one asked less often comes first.
        let c = gp(3, 5, 1, &["59350"], true, true, 1);
        let first = suggest(&need, &[c, b], today, 1);
        assert_eq!(first[0].account_id, id(2));
    }
}
