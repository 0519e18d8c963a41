//! Prevention campaigns (the CPTS's third mission): the coordinator launches a
//! campaign (flu vaccination, colorectal screening kits, TROD angine…), structures
//! of the territory join it, and each records how many actions of each kind it did
//! per day. Counts only: no patient is ever named, so nothing here is health data
//! about a person and nothing is sealed.
//!
//! Submodules: `day` (the calendar day in France, from `now`), `indicators` (the
//! figures computed from the recorded counts).

pub mod day;
pub mod indicators;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::account::{Actor, CptsRole};
use crate::ids::{AccountId, ConversationId, OrganisationId};
use crate::organisation::OrganisationKind;
use crate::{Error, Millis, Result};

pub use day::{format_day, paris_day, parse_day};

text_enum! {
    /// What a campaign is about (API.md).
    pub enum Theme {
        Grippe = "grippe",
        Covid = "covid",
        Hpv = "hpv",
        TrodAngine = "trod_angine",
        TrodCystite = "trod_cystite",
        DepistageColorectal = "depistage_colorectal",
        MoisSansTabac = "mois_sans_tabac",
        Canicule = "canicule",
        Autre = "autre",
    }
}

pub const TITLE_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 4000;
pub const KINDS_MAX: usize = 20;
pub const CODE_MAX: usize = 40;
pub const LABEL_MAX: usize = 120;
/// A count or a target above this is a typing error, not a pharmacy's day.
pub const COUNT_MAX: i64 = 1_000_000;
pub const TARGET_MAX: i64 = 100_000_000;
/// The longest campaign: a little over a year (a flu season, a heat-wave plan).
pub const PERIOD_MAX_DAYS: i64 = 400;

/// One kind of action a campaign counts: `kits_remis`, "Kits remis".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionKind {
    pub code: String,
    pub label: String,
}

/// A campaign as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Campaign {
    pub id: crate::ids::CampaignId,
    pub theme: Theme,
    pub title: String,
    pub description: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub action_kinds: Vec<ActionKind>,
    /// Per action code, the number the CPTS aims at over the whole campaign.
    pub targets: BTreeMap<String, i64>,
    /// The group conversation of the campaign's participants.
    pub conversation_id: ConversationId,
    pub created_by: AccountId,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Campaign {
    pub fn kind(&self, code: &str) -> Option<&ActionKind> {
        self.action_kinds.iter().find(|k| k.code == code)
    }
}

/// What a coordinator writes, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignDraft {
    pub theme: Theme,
    pub title: String,
    pub description: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub action_kinds: Vec<ActionKind>,
    pub targets: BTreeMap<String, i64>,
}

/// The raw fields of a campaign, before checks.
#[derive(Clone, Debug, Default)]
pub struct CampaignInput {
    pub theme: String,
    pub title: String,
    pub description: String,
    pub starts_on: String,
    pub ends_on: String,
    pub action_kinds: Vec<ActionKind>,
    pub targets: BTreeMap<String, i64>,
}

fn printable(text: &str, allow_newlines: bool) -> bool {
    text.chars()
        .all(|c| !c.is_control() || (allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
}

/// An action code: lowercase letters, digits and `_`, starting with a letter.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= CODE_MAX
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl CampaignInput {
    /// Checks every field; each refusal has its own code.
    pub fn validate(self) -> Result<CampaignDraft> {
        let theme = Theme::parse(&self.theme).ok_or_else(|| {
            Error::invalid(
                "campaign.invalid_theme",
                format!("theme must be one of: {}", Theme::NAMES.join(", ")),
            )
        })?;
        let title = self.title.trim();
        if title.chars().count() < 2
            || title.chars().count() > TITLE_MAX
            // Control characters are refused anywhere, before trimming: a rule a
            // pattern can state.
            || !printable(&self.title, false)
        {
            return Err(Error::invalid(
                "campaign.invalid_title",
                format!("title must be 2 to {TITLE_MAX} printable characters"),
            ));
        }
        let description = self.description.trim();
        if self.description.chars().count() > DESCRIPTION_MAX || !printable(&self.description, true)
        {
            return Err(Error::invalid(
                "campaign.invalid_description",
                format!("description must be at most {DESCRIPTION_MAX} printable characters"),
            ));
        }
        let bad_date = |field: &str| {
            Error::invalid(
                "campaign.invalid_date",
                format!("{field} must be a date written YYYY-MM-DD"),
            )
        };
        let starts_on = parse_day(&self.starts_on).ok_or_else(|| bad_date("starts_on"))?;
        let ends_on = parse_day(&self.ends_on).ok_or_else(|| bad_date("ends_on"))?;
        if ends_on < starts_on {
            return Err(Error::invalid(
                "campaign.invalid_period",
                "ends_on must be on or after starts_on",
            ));
        }
        if (ends_on - starts_on).whole_days() >= PERIOD_MAX_DAYS {
            return Err(Error::invalid(
                "campaign.invalid_period",
                format!("a campaign lasts at most {PERIOD_MAX_DAYS} days"),
            ));
        }
        if self.action_kinds.is_empty() || self.action_kinds.len() > KINDS_MAX {
            return Err(Error::invalid(
                "campaign.invalid_action_kinds",
                format!("action_kinds lists 1 to {KINDS_MAX} kinds of action"),
            ));
        }
        let mut action_kinds: Vec<ActionKind> = Vec::with_capacity(self.action_kinds.len());
        for kind in self.action_kinds {
            let code = kind.code;
            if !printable(&kind.label, false) {
                return Err(Error::invalid(
                    "campaign.invalid_action_kinds",
                    format!("each action label is 1 to {LABEL_MAX} printable characters"),
                ));
            }
            let label = kind.label.trim().to_string();
            if !valid_code(&code) {
                return Err(Error::invalid(
                    "campaign.invalid_action_kinds",
                    format!(
                        "each action code is 1 to {CODE_MAX} lowercase letters, digits or _, starting with a letter"
                    ),
                ));
            }
            if label.is_empty() || label.chars().count() > LABEL_MAX || !printable(&label, false) {
                return Err(Error::invalid(
                    "campaign.invalid_action_kinds",
                    format!("each action label is 1 to {LABEL_MAX} printable characters"),
                ));
            }
            if action_kinds.iter().any(|k| k.code == code) {
                return Err(Error::invalid(
                    "campaign.invalid_action_kinds",
                    format!("the action code {code} is listed twice"),
                ));
            }
            action_kinds.push(ActionKind { code, label });
        }
        for (code, target) in &self.targets {
            if !action_kinds.iter().any(|k| &k.code == code) {
                return Err(Error::invalid(
                    "campaign.invalid_targets",
                    format!("targets names {code}, which is not one of the action codes"),
                ));
            }
            if !(0..=TARGET_MAX).contains(target) {
                return Err(Error::invalid(
                    "campaign.invalid_targets",
                    format!("each target is a whole number from 0 to {TARGET_MAX}"),
                ));
            }
        }
        Ok(CampaignDraft {
            theme,
            title: title.to_string(),
            description: description.to_string(),
            starts_on,
            ends_on,
            action_kinds,
            targets: self.targets,
        })
    }
}

/// Whether an edit may replace `old` kinds with `new` ones: a kind that has recorded
/// counts stays (its label may change), so that no count loses its meaning.
pub fn decide_kinds_edit(new: &[ActionKind], recorded_codes: &[String]) -> Result<()> {
    match recorded_codes
        .iter()
        .find(|code| !new.iter().any(|k| &k.code == *code))
    {
        Some(code) => Err(Error::conflict(
            "campaign.kind_in_use",
            format!("the action code {code} has recorded counts and cannot be removed"),
        )),
        None => Ok(()),
    }
}

/// Whether an edit may move the period: recorded days stay inside it.
pub fn decide_period_edit(
    starts_on: Date,
    ends_on: Date,
    first_recorded: Option<Date>,
    last_recorded: Option<Date>,
) -> Result<()> {
    let outside =
        first_recorded.is_some_and(|d| d < starts_on) || last_recorded.is_some_and(|d| d > ends_on);
    if outside {
        return Err(Error::conflict(
            "campaign.period_excludes_records",
            "counts are recorded outside the new period; keep the period around them",
        ));
    }
    Ok(())
}

/// A structure taking part in a campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    pub organisation_id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    pub joined_by: AccountId,
    pub joined_at: Millis,
    /// Set when it left; what it recorded stays.
    pub left_at: Option<Millis>,
}

/// One recorded count: a structure, a day, a kind of action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRecord {
    pub id: crate::ids::CampaignActionId,
    pub organisation_id: OrganisationId,
    pub kind: String,
    pub on: Date,
    pub count: i64,
    /// 1 for the first record, one more for each correction.
    pub version: i64,
    pub recorded_by: AccountId,
    pub recorded_at: Millis,
    /// Earlier versions, oldest first (empty when never corrected).
    pub history: Vec<Revision>,
}

/// One earlier version of a count: who wrote it, when, and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    pub version: i64,
    pub count: i64,
    pub recorded_by: AccountId,
    pub recorded_at: Millis,
}

/// A count as the caller sends it, before checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionInput {
    pub organisation_id: OrganisationId,
    pub kind: String,
    pub count: i64,
    /// `YYYY-MM-DD`.
    pub on: String,
}

impl ActionInput {
    pub fn new(organisation_id: OrganisationId, kind: &str, count: i64, on: &str) -> ActionInput {
        ActionInput {
            organisation_id,
            kind: kind.to_string(),
            count,
            on: on.to_string(),
        }
    }
}

/// A count to record, checked against the campaign and the day in France.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAction {
    pub organisation_id: OrganisationId,
    pub kind: String,
    pub count: i64,
    pub on: Date,
}

impl NewAction {
    /// `today` is the calendar day in France (`paris_day(now)`).
    pub fn check(
        campaign: &Campaign,
        organisation_id: OrganisationId,
        kind: &str,
        count: i64,
        on: &str,
        today: Date,
    ) -> Result<NewAction> {
        if campaign.kind(kind).is_none() {
            return Err(Error::invalid(
                "campaign.unknown_kind",
                "kind is not one of the campaign's action codes",
            ));
        }
        if !(0..=COUNT_MAX).contains(&count) {
            return Err(Error::invalid(
                "campaign.invalid_count",
                format!("count is a whole number from 0 to {COUNT_MAX}"),
            ));
        }
        let on = parse_day(on).ok_or_else(|| {
            Error::invalid(
                "campaign.invalid_date",
                "on must be a date written YYYY-MM-DD",
            )
        })?;
        if on < campaign.starts_on || on > campaign.ends_on {
            return Err(Error::invalid(
                "campaign.outside_period",
                "on must be within the campaign's period",
            ));
        }
        if on > today {
            return Err(Error::invalid(
                "campaign.future_day",
                "counts are recorded for today or earlier days",
            ));
        }
        Ok(NewAction {
            organisation_id,
            kind: kind.to_string(),
            count,
            on,
        })
    }
}

/// What people do with campaigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Create and edit campaigns, enrol any structure, broadcast, see every count.
    Manage,
    /// Join or leave for a structure.
    Participate { member_of_organisation: bool },
    /// Record a count for a structure.
    Record {
        member_of_organisation: bool,
        participating: bool,
    },
}

pub fn is_coordinator(actor: &Actor) -> bool {
    actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin)
}

/// Who may do what (API.md, DESIGN.md): coordinators and admins organise; a member
/// of a structure joins and leaves for it and records its counts while it takes
/// part; a coordinator may enrol or withdraw any structure.
pub fn decide(actor: &Actor, act: Act) -> Result<()> {
    let coordinator = is_coordinator(actor);
    match act {
        Act::Manage if coordinator => Ok(()),
        Act::Manage => Err(Error::forbidden(
            "campaign.coordinators_only",
            "only CPTS coordinators and administrators manage campaigns",
        )),
        Act::Participate {
            member_of_organisation,
        } if coordinator || member_of_organisation => Ok(()),
        Act::Participate { .. } => Err(Error::forbidden(
            "campaign.not_member_of_organisation",
            "you join or leave a campaign only for a structure you belong to",
        )),
        Act::Record {
            member_of_organisation: false,
            ..
        } => Err(Error::forbidden(
            "campaign.not_member_of_organisation",
            "you record counts only for a structure you belong to",
        )),
        Act::Record {
            participating: false,
            ..
        } => Err(Error::conflict(
            "campaign.not_participating",
            "this structure does not take part in the campaign; join it first",
        )),
        Act::Record { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountKind;

    fn input() -> CampaignInput {
        CampaignInput {
            theme: "depistage_colorectal".into(),
            title: " Mars bleu ".into(),
            description: "Kits de dépistage\nen officine".into(),
            starts_on: "2027-03-01".into(),
            ends_on: "2027-03-31".into(),
            action_kinds: vec![
                ActionKind {
                    code: "kits_remis".into(),
                    label: "Kits remis".into(),
                },
                ActionKind {
                    code: "tests_realises".into(),
                    label: "Tests réalisés".into(),
                },
            ],
            targets: BTreeMap::from([("kits_remis".to_string(), 500)]),
        }
    }

    fn code_of(input: CampaignInput) -> &'static str {
        match input.validate() {
            Err(Error::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_campaign_is_trimmed() {
        let draft = input().validate().unwrap();
        assert_eq!(draft.title, "Mars bleu");
        assert_eq!(draft.theme, Theme::DepistageColorectal);
        assert_eq!(draft.action_kinds.len(), 2);
    }

    #[test]
    fn every_bad_field_has_its_code() {
        type Change = fn(&mut CampaignInput);
        let cases: Vec<(Change, &str)> = vec![
            (|i| i.theme = "rougeole".into(), "campaign.invalid_theme"),
            (|i| i.title = "x".into(), "campaign.invalid_title"),
            (|i| i.title = "a\u{7}b".into(), "campaign.invalid_title"),
            (
                |i| i.description = "é".repeat(DESCRIPTION_MAX + 1),
                "campaign.invalid_description",
            ),
            (
                |i| i.starts_on = "2027-02-30".into(),
                "campaign.invalid_date",
            ),
            (|i| i.ends_on = "31/03/2027".into(), "campaign.invalid_date"),
            (
                |i| i.ends_on = "2027-02-28".into(),
                "campaign.invalid_period",
            ),
            (
                |i| i.ends_on = "2028-12-31".into(),
                "campaign.invalid_period",
            ),
            (|i| i.action_kinds.clear(), "campaign.invalid_action_kinds"),
            (
                |i| i.action_kinds[0].code = "Kits".into(),
                "campaign.invalid_action_kinds",
            ),
            (
                |i| i.action_kinds[1].code = "kits_remis".into(),
                "campaign.invalid_action_kinds",
            ),
            (
                |i| i.action_kinds[0].label = " ".into(),
                "campaign.invalid_action_kinds",
            ),
            (
                |i| {
                    i.targets.insert("autre".into(), 3);
                },
                "campaign.invalid_targets",
            ),
            (
                |i| {
                    i.targets.insert("kits_remis".into(), -1);
                },
                "campaign.invalid_targets",
            ),
        ];
        for (change, code) in cases {
            let mut i = input();
            change(&mut i);
            assert_eq!(code_of(i), code);
        }
    }

    fn campaign() -> Campaign {
        let d = input().validate().unwrap();
        Campaign {
            id: crate::ids::CampaignId::new(),
            theme: d.theme,
            title: d.title,
            description: d.description,
            starts_on: d.starts_on,
            ends_on: d.ends_on,
            action_kinds: d.action_kinds,
            targets: d.targets,
            conversation_id: ConversationId::new(),
            created_by: AccountId::new(),
            created_at: Millis(0),
            updated_at: Millis(0),
        }
    }

    #[test]
    fn a_count_is_for_a_known_kind_within_the_period_and_not_in_the_future() {
        let c = campaign();
        let org = OrganisationId::new();
        let today = parse_day("2027-03-10").unwrap();
        assert!(NewAction::check(&c, org, "kits_remis", 12, "2027-03-10", today).is_ok());
        assert!(NewAction::check(&c, org, "kits_remis", 0, "2027-03-01", today).is_ok());
        let cases = [
            ("autre", 1, "2027-03-05", "campaign.unknown_kind"),
            ("kits_remis", -1, "2027-03-05", "campaign.invalid_count"),
            (
                "kits_remis",
                COUNT_MAX + 1,
                "2027-03-05",
                "campaign.invalid_count",
            ),
            ("kits_remis", 1, "2027-3-5", "campaign.invalid_date"),
            ("kits_remis", 1, "2027-02-28", "campaign.outside_period"),
            ("kits_remis", 1, "2027-04-01", "campaign.outside_period"),
            ("kits_remis", 1, "2027-03-11", "campaign.future_day"),
        ];
        for (kind, count, on, code) in cases {
            match NewAction::check(&c, org, kind, count, on, today) {
                Err(Error::Invalid { code: c, .. }) => assert_eq!(c, code, "{kind} {count} {on}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn edits_keep_recorded_kinds_and_days() {
        let kinds = input().validate().unwrap().action_kinds;
        assert!(decide_kinds_edit(&kinds, &["kits_remis".into()]).is_ok());
        assert!(decide_kinds_edit(&kinds[1..], &["kits_remis".into()]).is_err());
        let d = |s| parse_day(s).unwrap();
        assert!(
            decide_period_edit(
                d("2027-03-01"),
                d("2027-03-31"),
                Some(d("2027-03-01")),
                None
            )
            .is_ok()
        );
        assert!(
            decide_period_edit(
                d("2027-03-02"),
                d("2027-03-31"),
                Some(d("2027-03-01")),
                None
            )
            .is_err()
        );
        assert!(
            decide_period_edit(
                d("2027-03-01"),
                d("2027-03-30"),
                None,
                Some(d("2027-03-31"))
            )
            .is_err()
        );
    }

    fn actor(kind: AccountKind, roles: &[CptsRole]) -> Actor {
        Actor {
            account_id: AccountId::new(),
            kind,
            profession: None,
            roles: roles.to_vec(),
            session_id: None,
        }
    }

    #[test]
    fn who_may_do_what() {
        use AccountKind::{HealthProfessional as Hp, Staff};
        let pharmacist = actor(Hp, &[CptsRole::Member]);
        let coordinator = actor(Staff, &[CptsRole::Coordinator]);
        let admin = actor(Staff, &[CptsRole::Admin]);
        // (act, pharmacist, coordinator, admin)
        let table = [
            (Act::Manage, false, true, true),
            (
                Act::Participate {
                    member_of_organisation: true,
                },
                true,
                true,
                true,
            ),
            (
                Act::Participate {
                    member_of_organisation: false,
                },
                false,
                true,
                true,
            ),
            (
                Act::Record {
                    member_of_organisation: true,
                    participating: true,
                },
                true,
                true,
                true,
            ),
            (
                Act::Record {
                    member_of_organisation: false,
                    participating: true,
                },
                false,
                false,
                false,
            ),
            (
                Act::Record {
                    member_of_organisation: true,
                    participating: false,
                },
                false,
                false,
                false,
            ),
        ];
        for (act, p, c, a) in table {
            for (who, allowed) in [(&pharmacist, p), (&coordinator, c), (&admin, a)] {
                assert_eq!(decide(who, act).is_ok(), allowed, "{act:?} {who:?}");
            }
        }
    }
}
