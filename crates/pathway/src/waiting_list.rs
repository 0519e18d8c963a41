//! The waiting list of patients without a médecin traitant (the first CPTS mission):
//! requests with their fragility flags, the priority they get, GP capacity
//! declarations, proposals to GPs and their answers. Pure types and decisions; the
//! store persists them (`store/waiting_list.rs`). Suggestions and indicators live in
//! their own submodules.

pub mod indicators;
pub mod suggest;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use time::macros::format_description;

use crate::account::{Actor, CptsRole};
use crate::directory::CommuneCode;
use crate::profile::Profile;
use crate::{Error, Millis, Result};

text_enum! {
    /// Where a request came from.
    pub enum Source {
        Patient = "patient",
        Professional = "professional",
        Cpam = "cpam",
        Mairie = "mairie",
        Autre = "autre",
    }
}

text_enum! {
    /// Precarity recognised by a health-cost cover (complémentaire santé solidaire, aide
    /// médicale de l'État).
    pub enum Precarity {
        Css = "css",
        Ame = "ame",
    }
}

text_enum! {
    pub enum RequestStatus {
        Waiting = "waiting",
        Proposed = "proposed",
        Placed = "placed",
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    pub enum ProposalStatus {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
        Lapsed = "lapsed",
    }
}

text_enum! {
    /// The groups the Assurance Maladie reads the indicators by. A request is in every
    /// group its flags name, and in `others` when it is in none.
    pub enum Group {
        Ald = "ald",
        Age70Plus = "70_plus",
        CssAme = "css_ame",
        Others = "others",
    }
}

/// At most this many GPs are proposed for one request at a time.
pub const MAX_PROPOSALS: usize = 3;
/// Free-text limits (contact fields, notes, decline reasons).
pub const CONTACT_MAX: usize = 200;
pub const NOTES_MAX: usize = 2000;
pub const REASON_MAX: usize = 500;
/// A GP declares at most this many new patients a month, in at most this many communes.
pub const PER_MONTH_MAX: i64 = 100;
pub const COMMUNES_MAX: usize = 50;

const DAY_MS: i64 = 86_400_000;

/// The fragility flags of a request. `age_70_plus` is computed from the birth date,
/// never typed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragility {
    pub ald: bool,
    pub age_70_plus: bool,
    pub precarity: Option<Precarity>,
    pub complex_situation: bool,
    pub lost_gp: bool,
    pub needs_home_visits: bool,
}

fn bad_flag(detail: impl std::fmt::Display) -> Error {
    Error::invalid("waiting_list.invalid_flag", detail)
}

impl Fragility {
    /// The flags a client sent, as a JSON object: booleans, `precarity` one of
    /// `css`, `ame` or null. A flag of another type, or an unknown flag, is refused
    /// (`waiting_list.invalid_flag`); `age_70_plus` is accepted as a boolean and
    /// replaced by `age_70_plus` (computed from the birth date).
    pub fn parse(value: &Value, age_70_plus: bool) -> Result<Fragility> {
        let Value::Object(map) = value else {
            return Err(bad_flag("fragility must be an object of flags"));
        };
        let mut out = Fragility {
            age_70_plus,
            ..Fragility::default()
        };
        for (name, v) in map {
            // A flag left null is a flag not set.
            let flag = |v: &Value| match v {
                Value::Null => Ok(false),
                _ => v
                    .as_bool()
                    .ok_or_else(|| bad_flag(format!("fragility.{name} must be true or false"))),
            };
            match name.as_str() {
                "ald" => out.ald = flag(v)?,
                "complex_situation" => out.complex_situation = flag(v)?,
                "lost_gp" => out.lost_gp = flag(v)?,
                "needs_home_visits" => out.needs_home_visits = flag(v)?,
                "age_70_plus" => {
                    flag(v)?;
                }
                "precarity" => {
                    out.precarity = match v {
                        Value::Null => None,
                        Value::String(s) => Some(Precarity::parse(s).ok_or_else(|| {
                            bad_flag("fragility.precarity must be css, ame or null")
                        })?),
                        _ => return Err(bad_flag("fragility.precarity must be css, ame or null")),
                    }
                }
                _ => return Err(bad_flag(format!("fragility has no flag {name}"))),
            }
        }
        Ok(out)
    }

    /// The groups of the indicators this request counts in.
    pub fn groups(&self) -> Vec<Group> {
        let mut out = Vec::new();
        if self.ald {
            out.push(Group::Ald);
        }
        if self.age_70_plus {
            out.push(Group::Age70Plus);
        }
        if self.precarity.is_some() {
            out.push(Group::CssAme);
        }
        if out.is_empty() {
            out.push(Group::Others);
        }
        out
    }
}

/// Points each flag adds to the priority (documented in `docs/waiting_list.md` and
/// the OpenAPI description).
pub const POINTS_ALD: i64 = 3;
pub const POINTS_AGE_70_PLUS: i64 = 2;
pub const POINTS_PRECARITY: i64 = 2;
pub const POINTS_COMPLEX: i64 = 3;
pub const POINTS_LOST_GP: i64 = 1;
pub const POINTS_HOME_VISITS: i64 = 2;
/// One point per full 30 days of waiting, at most 12 (a year).
pub const WAIT_DAYS_PER_POINT: i64 = 30;
pub const WAIT_POINTS_MAX: i64 = 12;

/// The part of the priority that comes from the flags.
pub fn fragility_points(f: &Fragility) -> i64 {
    let on = |b: bool, p: i64| if b { p } else { 0 };
    on(f.ald, POINTS_ALD)
        + on(f.age_70_plus, POINTS_AGE_70_PLUS)
        + on(f.precarity.is_some(), POINTS_PRECARITY)
        + on(f.complex_situation, POINTS_COMPLEX)
        + on(f.lost_gp, POINTS_LOST_GP)
        + on(f.needs_home_visits, POINTS_HOME_VISITS)
}

/// The part of the priority that comes from waiting: one point per full 30 days
/// since the request, at most 12.
pub fn waiting_points(requested_at: Millis, now: Millis) -> i64 {
    let days = (now.0 - requested_at.0).max(0) / DAY_MS;
    (days / WAIT_DAYS_PER_POINT).min(WAIT_POINTS_MAX)
}

/// The priority of a request at `now`: the flags' points plus the waiting points.
/// Higher comes first; ties go to the older request.
pub fn priority(f: &Fragility, requested_at: Millis, now: Millis) -> i64 {
    fragility_points(f) + waiting_points(requested_at, now)
}

/// The UTC day of an instant.
pub fn day_of(at: Millis) -> Date {
    let secs = at.0.div_euclid(1000);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    day.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

pub fn parse_day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// The month a placement uses capacity of, `YYYY-MM`.
pub fn month_of(at: Millis) -> String {
    let d = day_of(at);
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// Whether someone born on `birth_date` is 70 or older on `day` (a birthday on
/// 29 February counts on 1 March in other years).
pub fn is_70_or_older(birth_date: &str, day: Date) -> bool {
    let Some(born) = parse_day(birth_date) else {
        return false;
    };
    let mut years = day.year() - born.year();
    if (u8::from(day.month()), day.day()) < (u8::from(born.month()), born.day()) {
        years -= 1;
    }
    years >= 70
}

pub fn parse_commune(text: &str) -> Result<CommuneCode> {
    CommuneCode::parse(text).ok_or_else(|| {
        Error::invalid(
            "waiting_list.invalid_commune",
            "commune_code must be an INSEE commune code (5 characters, e.g. 59350 or 2A004)",
        )
    })
}

/// How to reach the patient (sealed at rest; for the coordinator and the GP).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

impl Contact {
    /// Each field: blank (spaces, tabs, line breaks only) is none; otherwise at most
    /// 200 characters without control characters, stored trimmed. A phone has only
    /// digits, spaces, `+`, `.`, `-` and brackets, and at least 6 digits; an email has
    /// an `@`. (The OpenAPI patterns say the same.)
    pub fn validate(self) -> Result<Contact> {
        let bad = |detail: &str| Error::invalid("waiting_list.invalid_contact", detail);
        let field = |v: Option<String>, name: &str| -> Result<Option<String>> {
            let Some(s) = v else { return Ok(None) };
            if s.chars().count() > CONTACT_MAX {
                return Err(bad(&format!(
                    "contact.{name} must be at most {CONTACT_MAX} characters"
                )));
            }
            if is_blank(&s) {
                return Ok(None);
            }
            if s.chars().any(char::is_control) {
                return Err(bad(&format!(
                    "contact.{name} must have no control characters"
                )));
            }
            Ok(Some(s.trim().to_string()))
        };
        let phone = field(self.phone, "phone")?;
        if let Some(p) = &phone {
            let ok = p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '.' | '-' | '(' | ')'))
                && p.chars().filter(char::is_ascii_digit).count() >= 6;
            if !ok {
                return Err(bad(
                    "contact.phone must be a phone number (at least 6 digits)",
                ));
            }
        }
        let email = field(self.email, "email")?;
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(bad("contact.email must be an email address"));
        }
        Ok(Contact {
            phone,
            email,
            address: field(self.address, "address")?,
        })
    }
}

/// Spaces, tabs and line breaks only (what the OpenAPI patterns call blank).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// Free text (notes, reasons): at most `max` characters; blank is none; kept trimmed.
pub fn optional_text(
    text: Option<String>,
    max: usize,
    code: &'static str,
) -> Result<Option<String>> {
    let Some(t) = text else { return Ok(None) };
    if t.chars().count() > max {
        return Err(Error::invalid(code, format!("at most {max} characters")));
    }
    let t = t.trim();
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// Who may do what on the waiting list.
pub fn is_coordinator(actor: &Actor) -> bool {
    actor.has_role(CptsRole::Coordinator) || actor.has_role(CptsRole::Admin)
}

/// Coordinators and health professionals register requests.
pub fn may_request(actor: &Actor) -> Result<()> {
    if is_coordinator(actor) || actor.is_health_professional() && actor.group().is_some() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "waiting_list.request_forbidden",
            "only coordinators and health professionals register requests",
        ))
    }
}

pub fn coordinators_only(actor: &Actor) -> Result<()> {
    if is_coordinator(actor) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "waiting_list.coordinators_only",
            "only CPTS coordinators do this",
        ))
    }
}

/// General-practice specialties (TRE_R38): médecine générale, qualifié en MG.
pub const GP_SPECIALTIES: &[&str] = &["SM54", "SM26"];

/// A médecin généraliste: an exercice as médecin (10) in general practice.
pub fn is_general_practitioner(profile: &Profile) -> bool {
    profile.exercices.iter().any(|e| {
        e.profession.as_ref().is_some_and(|p| p.as_str() == "10")
            && e.specialty
                .as_ref()
                .is_some_and(|s| GP_SPECIALTIES.contains(&s.code.as_str()))
    })
}

/// What a GP declares they can take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capacity {
    pub accepting: bool,
    pub new_patients_per_month: i64,
    /// Empty: anywhere in the territory.
    pub communes: Vec<CommuneCode>,
    pub accepts_ald: bool,
    pub home_visits: bool,
    /// The last day the declaration holds (`YYYY-MM-DD`); none: until changed.
    pub until: Option<String>,
}

impl Capacity {
    pub fn validate(
        accepting: bool,
        new_patients_per_month: i64,
        communes: &[String],
        accepts_ald: bool,
        home_visits: bool,
        until: Option<&str>,
        today: Date,
    ) -> Result<Capacity> {
        if !(0..=PER_MONTH_MAX).contains(&new_patients_per_month) {
            return Err(Error::invalid(
                "gp_capacity.invalid_count",
                format!("new_patients_per_month must be 0 to {PER_MONTH_MAX}"),
            ));
        }
        if communes.len() > COMMUNES_MAX {
            return Err(Error::invalid(
                "gp_capacity.invalid_commune",
                format!("at most {COMMUNES_MAX} communes"),
            ));
        }
        let mut codes: Vec<CommuneCode> = Vec::with_capacity(communes.len());
        for c in communes {
            let code = CommuneCode::parse(c).ok_or_else(|| {
                Error::invalid(
                    "gp_capacity.invalid_commune",
                    "communes must be INSEE commune codes (5 characters, e.g. 59350)",
                )
            })?;
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let until = match until.map(str::trim) {
            None => None,
            Some(u) => {
                let d = parse_day(u).filter(|d| *d >= today).ok_or_else(|| {
                    Error::invalid(
                        "gp_capacity.invalid_until",
                        "until must be a date YYYY-MM-DD, today or later",
                    )
                })?;
                Some(format_day(d))
            }
        };
        Ok(Capacity {
            accepting,
            new_patients_per_month,
            communes: codes,
            accepts_ald,
            home_visits,
            until,
        })
    }

    /// Whether the declaration holds on `day` and offers places at all.
    pub fn open_on(&self, day: Date) -> bool {
        self.accepting
            && self.new_patients_per_month > 0
            && self
                .until
                .as_deref()
                .and_then(parse_day)
                .is_none_or(|u| u >= day)
    }
}

/// The places left this month: never below zero.
pub fn remaining(per_month: i64, used: i64) -> i64 {
    (per_month - used).max(0)
}

/// A proposal's answer: only a pending proposal moves, and only once.
pub fn transition(from: ProposalStatus, to: ProposalStatus) -> Result<ProposalStatus> {
    match (from, to) {
        (
            ProposalStatus::Pending,
            ProposalStatus::Accepted | ProposalStatus::Declined | ProposalStatus::Lapsed,
        ) => Ok(to),
        _ => Err(Error::conflict(
            "waiting_list.proposal_closed",
            format!("this proposal is already {from}"),
        )),
    }
}

/// Whether proposals may be made for a request in this state.
pub fn may_propose(status: RequestStatus) -> Result<()> {
    match status {
        RequestStatus::Waiting | RequestStatus::Proposed => Ok(()),
        _ => Err(Error::conflict(
            "waiting_list.closed",
            format!("this request is {status}"),
        )),
    }
}

/// The GPs of a proposal: 1 to 3 distinct, and no more than 3 pending at once.
pub fn check_proposal_count(new: usize, pending: usize) -> Result<()> {
    if new == 0 || new + pending > MAX_PROPOSALS {
        return Err(Error::invalid(
            "waiting_list.too_many_gps",
            format!("propose 1 to {MAX_PROPOSALS} GPs (pending proposals included)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at_day(d: &str) -> Millis {
        let day = parse_day(d).unwrap();
        Millis(day.midnight().assume_utc().unix_timestamp() * 1000)
    }

    #[test]
    fn priority_table() {
        let none = Fragility::default();
        let ald = Fragility { ald: true, ..none };
        let all = Fragility {
            ald: true,
            age_70_plus: true,
            precarity: Some(Precarity::Ame),
            complex_situation: true,
            lost_gp: true,
            needs_home_visits: true,
        };
        let old = Fragility {
            age_70_plus: true,
            precarity: Some(Precarity::Css),
            ..none
        };
        let cases = [
            // (flags, requested, now, priority)
            (none, "2026-01-01", "2026-01-01", 0),
            (none, "2026-01-01", "2026-01-30", 0),
            (none, "2026-01-01", "2026-01-31", 1),
            (ald, "2026-01-01", "2026-01-01", 3),
            (ald, "2026-01-01", "2026-03-02", 5),
            (old, "2026-01-01", "2026-01-02", 4),
            (all, "2026-01-01", "2026-01-01", 13),
            (all, "2024-01-01", "2026-01-01", 25),
            (none, "2020-01-01", "2026-01-01", 12),
            // A clock behind the request never makes the priority negative.
            (none, "2026-02-01", "2026-01-01", 0),
        ];
        for (flags, requested, now, expected) in cases {
            assert_eq!(
                priority(&flags, at_day(requested), at_day(now)),
                expected,
                "{flags:?} {requested} {now}"
            );
        }
    }

    #[test]
    fn age_is_computed_at_a_given_day() {
        let day = |d| parse_day(d).unwrap();
        let cases = [
            ("1956-03-12", "2026-03-11", false),
            ("1956-03-12", "2026-03-12", true),
            ("1950-01-01", "2026-01-01", true),
            ("1960-12-31", "2026-06-01", false),
            ("1956-02-29", "2026-02-28", false),
            ("1956-02-29", "2026-03-01", true),
            ("not a date", "2026-03-01", false),
        ];
        for (born, on, expected) in cases {
            assert_eq!(is_70_or_older(born, day(on)), expected, "{born} on {on}");
        }
    }

    #[test]
    fn flags_are_checked_by_type() {
        let ok = Fragility::parse(
            &json!({"ald": true, "precarity": "css", "needs_home_visits": false, "age_70_plus": false}),
            true,
        )
        .unwrap();
        assert!(ok.ald && ok.age_70_plus && ok.precarity == Some(Precarity::Css));
        let nulls = Fragility::parse(&json!({"ald": null, "precarity": null}), false).unwrap();
        assert_eq!(nulls, Fragility::default());
        let bad = [
            json!({"ald": "yes"}),
            json!({"ald": 1}),
            json!({"precarity": "rsa"}),
            json!({"precarity": true}),
            json!({"unknown": true}),
            json!({"age_70_plus": "no"}),
            json!({"ald": [true]}),
            json!([true]),
            json!(null),
        ];
        for b in bad {
            let err = Fragility::parse(&b, false).unwrap_err();
            assert_eq!(err.code(), "waiting_list.invalid_flag", "{b}");
        }
    }

    #[test]
    fn groups_of_flags() {
        let f = |ald, age, prec: Option<Precarity>| Fragility {
            ald,
            age_70_plus: age,
            precarity: prec,
            ..Fragility::default()
        };
        assert_eq!(f(false, false, None).groups(), vec![Group::Others]);
        assert_eq!(
            f(true, true, Some(Precarity::Ame)).groups(),
            vec![Group::Ald, Group::Age70Plus, Group::CssAme]
        );
        assert_eq!(f(false, true, None).groups(), vec![Group::Age70Plus]);
    }

    #[test]
    fn proposals_move_once() {
        use ProposalStatus::*;
        let cases = [
            (Pending, Accepted, true),
            (Pending, Declined, true),
            (Pending, Lapsed, true),
            (Pending, Pending, false),
            (Accepted, Declined, false),
            (Declined, Accepted, false),
            (Lapsed, Accepted, false),
            (Accepted, Lapsed, false),
        ];
        for (from, to, ok) in cases {
            assert_eq!(transition(from, to).is_ok(), ok, "{from} -> {to}");
        }
        assert!(may_propose(RequestStatus::Waiting).is_ok());
        assert!(may_propose(RequestStatus::Proposed).is_ok());
        assert!(may_propose(RequestStatus::Placed).is_err());
        assert!(may_propose(RequestStatus::Withdrawn).is_err());
        assert!(check_proposal_count(3, 0).is_ok());
        assert!(check_proposal_count(4, 0).is_err());
        assert!(check_proposal_count(2, 2).is_err());
        assert!(check_proposal_count(0, 0).is_err());
    }

    #[test]
    fn capacity_is_validated() {
        let today = parse_day("2026-06-01").unwrap();
        let ok = Capacity::validate(
            true,
            5,
            &["59350".into(), "59350".into()],
            true,
            false,
            Some("2026-12-31"),
            today,
        )
        .unwrap();
        assert_eq!(ok.communes.len(), 1);
        assert!(ok.open_on(today));
        assert!(!ok.open_on(parse_day("2027-01-01").unwrap()));
        let codes = [
            Capacity::validate(true, -1, &[], true, false, None, today),
            Capacity::validate(true, 101, &[], true, false, None, today),
            Capacity::validate(true, 5, &["5935".into()], true, false, None, today),
            Capacity::validate(true, 5, &[], true, false, Some("2026-05-31"), today),
            Capacity::validate(true, 5, &[], true, false, Some(""), today),
        ];
        let expected = [
            "gp_capacity.invalid_count",
            "gp_capacity.invalid_count",
            "gp_capacity.invalid_commune",
            "gp_capacity.invalid_until",
            "gp_capacity.invalid_until",
        ];
        for (c, e) in codes.into_iter().zip(expected) {
            assert_eq!(c.unwrap_err().code(), e);
        }
        assert_eq!(remaining(5, 7), 0);
        assert_eq!(remaining(5, 2), 3);
    }

    #[test]
    fn contact_and_commune() {
        assert!(
            Contact {
                phone: Some("06 12 34 56 78".into()),
                email: Some("a@b.fr".into()),
                address: None
            }
            .validate()
            .is_ok()
        );
        assert!(
            Contact {
                phone: Some("call me".into()),
                ..Contact::default()
            }
            .validate()
            .is_err()
        );
        assert_eq!(
            parse_commune("5935").unwrap_err().code(),
            "waiting_list.invalid_commune"
        );
        assert_eq!(parse_commune("2a004").unwrap().as_str(), "2A004");
        assert_eq!(month_of(at_day("2026-02-28")), "2026-02");
    }
}
