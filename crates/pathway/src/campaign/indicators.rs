//! A campaign's indicators, computed from the recorded counts: totals per kind with
//! progress towards the targets, totals per structure, per ISO week, and the
//! participating structures by kind. Pure: the store hands over the sums.

use std::collections::BTreeMap;

use time::Date;

use super::day::iso_week;
use super::{Campaign, Participant};
use crate::ids::OrganisationId;
use crate::organisation::OrganisationKind;

/// One kind of action over the whole campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct KindTotal {
    pub code: String,
    pub label: String,
    pub count: i64,
    pub target: Option<i64>,
    /// `count / target` (1.0 = reached; may exceed it); `None` without a target
    /// or with a target of 0.
    pub achievement: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StructureTotal {
    pub organisation_id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    /// Whether it still takes part (a structure that left keeps its counts).
    pub participating: bool,
    /// Per action code, in the campaign's order of kinds (0 when none recorded).
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WeekTotal {
    /// `2026-W43`.
    pub week: String,
    pub starts_on: Date,
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Indicators {
    pub totals: Vec<KindTotal>,
    pub by_structure: Vec<StructureTotal>,
    pub by_week: Vec<WeekTotal>,
    /// Participating structures (those that have not left) by kind of structure.
    pub participants_by_kind: BTreeMap<OrganisationKind, i64>,
    pub participants: i64,
}

/// A sum the store computed: per structure and kind, or per day and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sum<K> {
    pub key: K,
    pub kind: String,
    pub count: i64,
}

/// The indicators of `campaign` from its participants and the store's sums.
/// Counts of structures that are no longer participants (they left) still count.
pub fn compute(
    campaign: &Campaign,
    participants: &[Participant],
    by_structure: &[Sum<OrganisationId>],
    by_day: &[Sum<Date>],
) -> Indicators {
    let zeroes: BTreeMap<String, i64> = campaign
        .action_kinds
        .iter()
        .map(|k| (k.code.clone(), 0))
        .collect();
    let mut kind_sums = zeroes.clone();
    for s in by_structure {
        if let Some(c) = kind_sums.get_mut(&s.kind) {
            *c = c.saturating_add(s.count);
        }
    }
    let totals = campaign
        .action_kinds
        .iter()
        .map(|k| {
            let count = kind_sums.get(&k.code).copied().unwrap_or(0);
            let target = campaign.targets.get(&k.code).copied();
            KindTotal {
                code: k.code.clone(),
                label: k.label.clone(),
                count,
                target,
                achievement: target.filter(|t| *t > 0).map(|t| count as f64 / t as f64),
            }
        })
        .collect();

    let mut structures: Vec<StructureTotal> = participants
        .iter()
        .map(|p| StructureTotal {
            organisation_id: p.organisation_id,
            name: p.name.clone(),
            kind: p.kind,
            participating: p.left_at.is_none(),
            counts: zeroes.clone(),
            total: 0,
        })
        .collect();
    for s in by_structure {
        if let Some(st) = structures.iter_mut().find(|st| st.organisation_id == s.key)
            && let Some(c) = st.counts.get_mut(&s.kind)
        {
            *c = c.saturating_add(s.count);
            st.total = st.total.saturating_add(s.count);
        }
    }
    structures.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));

    let mut weeks: BTreeMap<Date, WeekTotal> = BTreeMap::new();
    for s in by_day {
        let (week, monday) = iso_week(s.key);
        let w = weeks.entry(monday).or_insert_with(|| WeekTotal {
            week,
            starts_on: monday,
            counts: zeroes.clone(),
            total: 0,
        });
        if let Some(c) = w.counts.get_mut(&s.kind) {
            *c = c.saturating_add(s.count);
            w.total = w.total.saturating_add(s.count);
        }
    }

    let mut participants_by_kind: BTreeMap<OrganisationKind, i64> = BTreeMap::new();
    let mut active = 0;
    for p in participants.iter().filter(|p| p.left_at.is_none()) {
        *participants_by_kind.entry(p.kind).or_default() += 1;
        active += 1;
    }
    Indicators {
        totals,
        by_structure: structures,
        by_week: weeks.into_values().collect(),
        participants_by_kind,
        participants: active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Millis;
    use crate::campaign::{ActionKind, Theme, parse_day};
    use crate::ids::{AccountId, CampaignId, ConversationId};

    #[test]
    fn indicators_add_up_by_kind_structure_and_week() {
        let d = |s| parse_day(s).unwrap();
        let campaign = Campaign {
            id: CampaignId::new(),
            theme: Theme::Grippe,
            title: "Grippe".into(),
            description: String::new(),
            starts_on: d("2026-10-15"),
            ends_on: d("2027-01-31"),
            action_kinds: vec![
                ActionKind {
                    code: "doses".into(),
                    label: "Doses".into(),
                },
                ActionKind {
                    code: "pro".into(),
                    label: "Pros".into(),
                },
            ],
            targets: BTreeMap::from([("doses".to_string(), 100), ("pro".to_string(), 0)]),
            conversation_id: ConversationId::new(),
            created_by: AccountId::new(),
            created_at: Millis(0),
            updated_at: Millis(0),
        };
        let (a, b) = (OrganisationId::new(), OrganisationId::new());
        let participant = |id, name: &str, kind, left: bool| Participant {
            organisation_id: id,
            name: name.into(),
            kind,
            joined_by: AccountId::new(),
            joined_at: Millis(0),
            left_at: left.then_some(Millis(1)),
        };
        let participants = [
            participant(a, "Pharmacie A", OrganisationKind::Officine, false),
            participant(b, "Cabinet B", OrganisationKind::Cabinet, true),
        ];
        let by_structure = [
            Sum {
                key: a,
                kind: "doses".into(),
                count: 40,
            },
            Sum {
                key: a,
                kind: "pro".into(),
                count: 2,
            },
            Sum {
                key: b,
                kind: "doses".into(),
                count: 35,
            },
        ];
        let by_day = [
            // Thursday and Sunday of week 42, Monday of week 43.
            Sum {
                key: d("2026-10-15"),
                kind: "doses".into(),
                count: 30,
            },
            Sum {
                key: d("2026-10-18"),
                kind: "doses".into(),
                count: 25,
            },
            Sum {
                key: d("2026-10-18"),
                kind: "pro".into(),
                count: 2,
            },
            Sum {
                key: d("2026-10-19"),
                kind: "doses".into(),
                count: 20,
            },
        ];
        let ind = compute(&campaign, &participants, &by_structure, &by_day);
        assert_eq!(ind.totals[0].count, 75);
        assert_eq!(ind.totals[0].achievement, Some(0.75));
        assert_eq!(ind.totals[1].count, 2);
        assert_eq!(ind.totals[1].achievement, None);
        assert_eq!(ind.by_structure[0].name, "Pharmacie A");
        assert_eq!(ind.by_structure[0].total, 42);
        assert!(!ind.by_structure[1].participating);
        assert_eq!(ind.by_structure[1].total, 35);
        assert_eq!(ind.by_week.len(), 2);
        assert_eq!(ind.by_week[0].week, "2026-W42");
        assert_eq!(ind.by_week[0].total, 57);
        assert_eq!(ind.by_week[1].counts["doses"], 20);
        assert_eq!(ind.participants, 1);
        assert_eq!(
            ind.participants_by_kind.get(&OrganisationKind::Officine),
            Some(&1)
        );
        assert_eq!(
            ind.participants_by_kind.get(&OrganisationKind::Cabinet),
            None
        );
    }
}
