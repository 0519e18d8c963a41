//! The schemas of the values the API checks, written once and referenced from the
//! DTOs with `#[schema(value_type = …)]`: the closed lists (read from the domain's
//! types), and the patterns the domain's parsers accept, spelled so that a value the
//! document allows is a value the API accepts and the other way round.
//!
//! Patterns are ECMA-262 (what JSON Schema means) and stay within what the Python and
//! Rust engines of clients and of schemathesis read the same way: explicit classes
//! rather than `\s` or `\d`, whose meaning differs between engines.

use cordee_pathway::account::ProfessionGroup as DomainProfessionGroup;
use cordee_pathway::care_team::TeamRole as DomainTeamRole;
use cordee_pathway::patient::INS_OIDS;
use cordee_pathway::policy::Category as DomainCategory;
use serde::Serialize;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat,
    Type,
};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// One character Rust's `str::trim` removes (Unicode `White_Space`).
pub const WS: &str = r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// One character `str::trim` keeps.
pub const NOT_WS: &str = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// One character that is not a control character (`char::is_control`).
const PRINTABLE: &str = r"[^\u0000-\u001f\u007f-\u009f]";

/// Text whose trimmed length is `min..=max` characters (`min` ≥ 1); surrounding
/// whitespace is allowed and ignored, as the API trims.
pub fn trimmed_pattern(min: usize, max: usize) -> String {
    let inner = if min <= 1 {
        format!("(?:[\\s\\S]{{0,{}}}{NOT_WS})?", max.saturating_sub(2))
    } else {
        format!(
            "[\\s\\S]{{{},{}}}{NOT_WS}",
            min.saturating_sub(2),
            max.saturating_sub(2)
        )
    };
    format!("^{WS}*{NOT_WS}{inner}{WS}*$")
}

/// A string schema with a pattern and a description. Never nullable itself: a field
/// that may be null says `Option<…>`, which utoipa turns into `oneOf [this, null]`
/// (a nullable `this` would make null match both, which `oneOf` refuses).
fn text(pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

/// The words of a closed list declared with `text_enum!`.
fn names(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The words of a closed list, as the API writes them (its serde names).
fn words<T: Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => Some(s),
            _ => None,
        })
        .collect()
}

fn one_of_words(words: Vec<String>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(words))
        .description(Some(description))
}

/// The variants of a domain enum without a list of its own, checked complete by the
/// compiler (the `match` stops compiling when a variant is added). The domain is
/// moving its enums onto `text_enum!`; these become `T::NAMES` then.
macro_rules! every {
    ($ty:path { $($variant:ident),+ $(,)? }) => {{
        use $ty as T;
        #[allow(dead_code)]
        fn complete(v: T) {
            match v { $(T::$variant)|+ => {} }
        }
        vec![$(T::$variant),+]
    }};
}

/// Declares a named schema (a component of the document).
macro_rules! named {
    ($(#[$meta:meta])* $name:ident => $schema:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let schema: Schema = $schema.into();
                RefOr::T(schema)
            }
        }

        impl ToSchema for $name {}
    };
}

pub fn identity_statuses() -> Vec<cordee_pathway::patient::IdentityStatus> {
    cordee_pathway::patient::IdentityStatus::ALL.to_vec()
}

named!(
    /// How far a patient's identity has been checked.
    IdentityStatus => one_of_words(
        words(&identity_statuses()),
        "How far the identity has been checked (référentiel national d'identitovigilance). \
         `recuperee` and `qualifiee` come from the INS teleservice and need the INS.",
    )
);

named!(
    Sex => one_of_words(
        names(cordee_pathway::patient::Sex::NAMES),
        "`M`, `F`, or `I` (indéterminé).",
    )
);

named!(
    /// Every category of the coordination file.
    Category => one_of_words(
        names(DomainCategory::NAMES),
        "A category of the coordination file; the access matrix decides who reads and writes each.",
    )
);

named!(
    /// The `category` filter of a list: a category, or empty for all.
    CategoryFilter => AnyOfBuilder::new()
        .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Category")))
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .description(Some("A category, or empty for every category you may read."))
);

named!(
    /// The attachments of an entry: distinct ids of your uploads.
    EntryAttachments => ArrayBuilder::new()
        .items(uuid())
        .max_items(Some(cordee_pathway::file::MAX_ATTACHMENTS))
        .unique_items(true)
        .description(Some(
            "Ids of your uploads from `POST /v1/attachments`, each once (422 \
             `entry.unknown_attachment` for an id that is not an upload of yours).",
        ))
);

named!(
    /// The categories written through the file API (`rcp` is written by case conferences).
    WritableCategory => one_of_words(
        words(
            &DomainCategory::ALL
                .iter()
                .filter(|c| !c.written_by_workflow_only())
                .collect::<Vec<_>>(),
        ),
        "A category entries can be written in (`rcp` is written by case conferences only).",
    )
);

named!(
    TeamRole => one_of_words(
        names(DomainTeamRole::NAMES),
        "A role on a care team; it must fit the member's profession.",
    )
);

named!(
    ProfessionGroup => one_of_words(
        names(DomainProfessionGroup::NAMES),
        "A column of the access matrix.",
    )
);

named!(
    AccessLevel => one_of_words(
        names(cordee_pathway::policy::Access::NAMES),
        "What a profession group may do in a category.",
    )
);

named!(
    EntryKind => one_of_words(
        names(cordee_pathway::file::EntryKind::NAMES),
        "What an entry is.",
    )
);

named!(
    EntryStatus => one_of_words(
        names(cordee_pathway::file::EntryStatus::NAMES),
        "`entered_in_error` entries stay in the history, flagged.",
    )
);

named!(
    ConversationKind => one_of_words(
        names(cordee_pathway::conversation::ConversationKind::NAMES),
        "A patient thread, a direct conversation between two people, or a group.",
    )
);

named!(
    AccountKind => one_of_words(
        names(cordee_pathway::account::AccountKind::NAMES),
        "A health professional (Pro Santé Connect) or CPTS staff.",
    )
);

named!(
    CptsRole => one_of_words(
        names(cordee_pathway::account::CptsRole::NAMES),
        "A role in the CPTS.",
    )
);

named!(
    SessionKind => one_of_words(
        names(cordee_pathway::session::SessionKind::NAMES),
        "A browser's cookie session or a bearer token.",
    )
);

named!(
    AuditPurpose => one_of_words(
        names(cordee_pathway::audit::Purpose::NAMES),
        "Under which grant the access happened.",
    )
);

named!(
    AuditOutcome => one_of_words(
        names(cordee_pathway::audit::Outcome::NAMES),
        "Whether the access was allowed.",
    )
);

named!(
    ProviderKind => one_of_words(
        words(&every!(crate::config::ProviderKind { Psc, Oidc })),
        "`psc` (Pro Santé Connect claims) or `oidc` (staff, role from a claim).",
    )
);

/// The two kinds of objection and what each names.
pub const OBJECTION_KINDS: [&str; 2] = ["professional", "category"];

named!(
    ObjectionKind => one_of_words(
        OBJECTION_KINDS.iter().map(|k| k.to_string()).collect(),
        "`professional` (with `account_id`) or `category` (with `category`).",
    )
);

/// `1.2.250.1.213.1.4.8` and its siblings, as a regular expression.
fn oids() -> String {
    INS_OIDS
        .iter()
        .map(|(oid, _)| oid.replace('.', r"\."))
        .collect::<Vec<_>>()
        .join("|")
}

/// The INS matricule without its key check: sex (1, 2, 3, 4, 7 or 8), year, month,
/// département (`2A`/`2B` for Corsica), commune, order, then the 2-digit key.
pub const MATRICULE: &str = "[1-478][0-9]{4}(?:[0-9]{2}|2[ABab])[0-9]{8}";

/// The custom format naming a matricule whose key is right (97 − number mod 97), for
/// generators that know it (scripts/schemathesis_hooks.py).
pub const MATRICULE_FORMAT: &str = "ins-matricule";

const MATRICULE_DOC: &str = "Matricule INS: 15 characters, the last two a key (97 − the 13-digit number mod 97, \
     `2A`/`2B` counting as 19/18) that the API checks (422 `patient.invalid_ins` otherwise). \
     A blank or null value means none.";

named!(
    /// An INS matricule, or blank/null for none.
    InsMatricule => text(&format!("^{WS}*$|^{MATRICULE}$"), MATRICULE_DOC)
        .format(Some(SchemaFormat::Custom(MATRICULE_FORMAT.into())))
);

named!(
    /// The OID of an INS matricule, or blank/null for none.
    InsOid => text(
        &format!("^{WS}*(?:{})?{WS}*$", oids()),
        "OID of the matricule: `1.2.250.1.213.1.4.8` (NIR), `.9` (NIA), `.10` (NIR de test), \
         `.11` (NIR de démonstration); required with `ins_matricule`, refused without it. \
         A blank or null value means none.",
    )
);

/// 1 to 100 letters, spaces, hyphens and apostrophes once trimmed; a space only
/// between the others.
fn name_pattern() -> String {
    let l = r"\p{L}";
    format!("{WS}*[{l}'-](?:[{l} '-]{{0,98}}[{l}'-])?{WS}*")
}

named!(
    PersonName => text(
        &format!("^{}$", name_pattern()),
        "1 to 100 letters (Unicode category L), spaces, hyphens or apostrophes; surrounding \
         whitespace is ignored.",
    )
);

named!(
    OptionalPersonName => text(
        &format!("^{WS}*$|^{}$", name_pattern()),
        "1 to 100 letters, spaces, hyphens or apostrophes; blank or null for none.",
    )
);

named!(
    BirthDate => text(
        "^(?:189[0-9]|19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$",
        "`YYYY-MM-DD`, from 1890, not in the future (422 `patient.invalid_birth_date`).",
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
);

named!(
    BirthPlaceCode => text(
        &format!("^{WS}*(?:[0-9ABab]{{5}})?{WS}*$"),
        "INSEE code of the birth place (5 characters, `2A`/`2B` for Corsica); blank or null for none.",
    )
);

/// `YYYY-MM-DD` or `DD/MM/YYYY` naming a real day of the Gregorian calendar.
/// A leap year, and `YYYY-MM-DD` of every day but 29 February.
const LEAP_YEAR: &str =
    "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)";
const YMD: &str = "[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))";

fn calendar_date() -> String {
    let (leap_year, ymd) = (LEAP_YEAR, YMD);
    let dmy = "(?:(?:0[1-9]|[12][0-9]|3[01])/(?:0[13578]|1[02])|(?:0[1-9]|[12][0-9]|30)/(?:0[469]|11)|(?:0[1-9]|1[0-9]|2[0-8])/02)/[0-9]{4}";
    format!("(?:{ymd}|{leap_year}-02-29|{dmy}|29/02/{leap_year})")
}

/// What `PatientQuery::parse` reads: an INS matricule, or anything followed by a
/// space and a date.
fn patient_lookup() -> AnyOfBuilder {
    AnyOfBuilder::new()
        .item(
            text(&format!("^{WS}*{MATRICULE}{WS}*$"), "An INS matricule (key checked).")
                .format(Some(SchemaFormat::Custom(MATRICULE_FORMAT.into()))),
        )
        .item(text(
            &format!("^{WS}*{NOT_WS}[\\s\\S]* {}{WS}*$", calendar_date()),
            "A birth name, a space and the birth date (`DUPONT 1950-03-12` or `DUPONT 12/03/1950`).",
        ))
}

named!(
    /// `q` of the patient search: blank for no search.
    PatientQuery => patient_lookup()
        .item(text(&format!("^{WS}*$"), "Blank: no search."))
        .description(Some(
            "An INS matricule (key checked), or a birth name and a birth date \
             (`DUPONT 1950-03-12` or `DUPONT 12/03/1950`); blank for every patient you may see.",
        ))
);

named!(
    /// The patient named in an emergency access by identity.
    PatientLookup => patient_lookup().description(Some(
        "The patient's INS matricule (key checked), or birth name and birth date \
         (`LEFEVRE 02/05/1941`), exactly as for `GET /v1/patients?q=`.",
    ))
);

named!(
    EntryTitle => text(&trimmed_pattern(1, 200), "1 to 200 characters once trimmed.")
);

named!(
    BreakGlassReason => text(
        &trimmed_pattern(10, 2000),
        "Why you need the file now: 10 to 2000 characters once trimmed (sealed, shown to the care team).",
    )
);

named!(
    CareTeamReason => text(
        &trimmed_pattern(3, 2000),
        "Why this professional joins the team: 3 to 2000 characters once trimmed (sealed at rest).",
    )
);

named!(
    ConversationTitle => text(
        &format!("^{WS}*$|{}", trimmed_pattern(1, 200)),
        "At most 200 characters once trimmed; blank or null for none (a group needs one).",
    )
);

named!(
    ClientId => text(
        &format!("^{WS}*[!-~]{{1,64}}{WS}*$"),
        "Your id for this message, 1 to 64 printable ASCII characters: a retry with the \
         same `client_id` never creates a second message.",
    )
);

named!(
    /// A page cursor that is an id.
    IdCursor => AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .description(Some(
            "The `next_cursor` of the previous page; empty or absent for the first page \
             (400 `request.invalid_cursor` for anything else).",
        ))
);

named!(
    /// A page cursor that is a position in the audit chain.
    SeqCursor => text(
        "^(?:[+-]?[0-9]{1,18})?$",
        "The `next_cursor` of the previous page; empty or absent for the first page \
         (400 `request.invalid_cursor` for anything else).",
    )
);

named!(
    /// A conversation list's cursor: the last activity (unix ms) and id of the last
    /// conversation of the previous page.
    ActivityCursor => text(
        "^(?:-?[0-9]{1,18}\\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        "The `next_cursor` of the previous page; empty or absent for the first page \
         (400 `request.invalid_cursor` for anything else).",
    )
);

named!(
    /// The access matrix's cursor: the last cell of the previous page.
    MatrixCursor => text(
        &format!(
            "^(?:(?:{})/(?:{}))?$",
            cordee_pathway::account::ProfessionGroup::NAMES.join("|"),
            DomainCategory::NAMES.join("|")
        ),
        "The `next_cursor` of the previous page (`group/category`); empty or absent for the \
         first page (400 `request.invalid_cursor` for anything else).",
    )
);

named!(
    LoginHint => text(
        &format!("^{PRINTABLE}{{0,256}}$"),
        "Passed to the provider (OIDC `login_hint`); in the sandbox, a persona name. \
         At most 256 characters, no control characters.",
    )
);

named!(
    LocalPath => text(
        r"^/(?:[^\u0000-\u001f\u007f-\u009f\\/][^\u0000-\u001f\u007f-\u009f\\]{0,1022})?$",
        "Where to land after login: a path on this site, starting with a single `/`, at most \
         1024 characters. Default `/`.",
    )
);

named!(
    /// The bytes of a file.
    FileBytes => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
);

named!(
    /// A message body or an attachment: at least one.
    NonBlank => text(
        NOT_WS,
        "Text with at least one character that is not whitespace.",
    )
);

named!(
    /// A correction to a validated case-conference record (issue 13).
    AddendumText => text(
        &trimmed_pattern(1, cordee_pathway::case_conference::addendum::ADDENDUM_MAX),
        "1 to 3,000 characters once trimmed (sealed; 422 `case_conference.invalid_addendum` otherwise).",
    )
);

/// Every named schema above, for the components of the document: parameters refer
/// to them too, and utoipa collects only what bodies refer to.
pub fn all() -> Vec<(String, RefOr<Schema>)> {
    macro_rules! each {
        ($($name:ident),+ $(,)?) => {
            vec![$(($name::name().into_owned(), $name::schema())),+]
        };
    }
    each!(
        IdentityStatus,
        Sex,
        Category,
        CategoryFilter,
        EntryAttachments,
        WritableCategory,
        TeamRole,
        ProfessionGroup,
        AccessLevel,
        EntryKind,
        EntryStatus,
        ConversationKind,
        AccountKind,
        CptsRole,
        SessionKind,
        AuditPurpose,
        AuditOutcome,
        ProviderKind,
        ObjectionKind,
        InsMatricule,
        InsOid,
        PersonName,
        OptionalPersonName,
        BirthDate,
        BirthPlaceCode,
        PatientQuery,
        PatientLookup,
        EntryTitle,
        BreakGlassReason,
        CareTeamReason,
        ConversationTitle,
        ClientId,
        IdCursor,
        SeqCursor,
        ActivityCursor,
        MatrixCursor,
        LoginHint,
        LocalPath,
        FileBytes,
        NonBlank,
        IsoDate,
        CommuneCode,
        Finess,
        Siret,
        OrganisationName,
        ProfessionFilter,
        CommuneFilter,
        OrganisationFilter,
        DirectoryCursor,
        OrganisationCursor,
        FinessInput,
        SiretInput,
        CommuneInput,
        DateInput,
        CptsName,
        AddendumText
    )
}

/// `allOf` of a derived schema and the rules between its fields that its properties
/// cannot say.
pub fn with_rules<T: ToSchema>(rules: AnyOfBuilder) -> AllOfBuilder {
    AllOfBuilder::new()
        .item(RefOr::Ref(
            utoipa::openapi::Ref::from_schema_name(T::name()),
        ))
        .item(rules)
}

/// Declares a named schema made of a derived one and the rules between its fields
/// (`request_body = TheRuledOne`).
#[macro_export]
macro_rules! ruled {
    ($(#[$meta:meta])* $name:ident: $fields:ty => $rules:expr) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let schema: utoipa::openapi::schema::Schema =
                    $crate::openapi::schemas::with_rules::<$fields>($rules).into();
                utoipa::openapi::RefOr::T(schema)
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                schemas.push((
                    <$fields as utoipa::ToSchema>::name().into_owned(),
                    <$fields as utoipa::PartialSchema>::schema(),
                ));
                <$fields as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}

/// The INS traits come together (matricule with its OID), and `recuperee` and
/// `qualifiee` identities have them.
pub fn ins_rules() -> AnyOfBuilder {
    let without_ins: Vec<String> = words(
        &identity_statuses()
            .into_iter()
            .filter(|s| !s.needs_ins())
            .collect::<Vec<_>>(),
    );
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .description(Some(
                    "Without INS: neither trait, a status that needs none.",
                ))
                .property("ins_matricule", blank_or_null())
                .property("ins_oid", blank_or_null())
                .property(
                    "identity_status",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(without_ins)),
                ),
        )
        .item(
            ObjectBuilder::new()
                .description(Some("With the INS: the matricule and its OID, any status."))
                .property(
                    "ins_matricule",
                    text(&format!("^{MATRICULE}$"), "The matricule (key checked).")
                        .format(Some(SchemaFormat::Custom(MATRICULE_FORMAT.into()))),
                )
                .property(
                    "ins_oid",
                    text(&format!("^{WS}*(?:{}){WS}*$", oids()), "Its OID."),
                )
                .required("ins_matricule")
                .required("ins_oid"),
        )
}

/// A property that must be present with one of these words.
pub fn word(word: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([word]))
}

pub fn uuid() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// Blank (whitespace only) or null: what the API reads as "none".
pub fn blank_or_null() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(format!("^{WS}*$")))
}

pub fn non_empty_array() -> ArrayBuilder {
    ArrayBuilder::new().min_items(Some(1))
}

// The directory, organisations and the CPTS profile. Fields that may be null say
// `Option<…>` at the DTO, query filters accept blank as "no filter" (the API trims),
// and cursors are spelled as the API writes them.

fn iso_date() -> String {
    format!("(?:{YMD}|{LEAP_YEAR}-02-29)")
}

/// Blank, or `inner` with whitespace around (a query filter the API trims).
fn filter(inner: &str, description: &str) -> ObjectBuilder {
    text(&format!("^{WS}*(?:{inner}{WS}*)?$"), description)
}

const UUID_RE: &str = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

named!(
    /// A calendar date.
    IsoDate => text(&format!("^{}$", iso_date()), "`YYYY-MM-DD`, a real calendar date")
);

named!(
    CommuneCode => text("^(?:[0-9]{5}|2[ABab][0-9]{3})$", "INSEE commune code, e.g. 59350 (Lille)")
);

named!(
    Finess => text("^(?:[0-9]{2}|2[ABab])[0-9]{7}$", "FINESS number (9 characters)")
);

/// Names the SIRET's Luhn key, which no pattern can say (scripts/schemathesis_hooks.py
/// draws valid ones).
pub const SIRET_FORMAT: &str = "siret";

named!(
    Siret => text("^ *(?:[0-9] *){14}$", "SIRET number: 14 digits (spaces allowed) whose Luhn key is right")
        .format(Some(SchemaFormat::Custom(SIRET_FORMAT.into())))
);

/// One character that is neither a control character nor whitespace.
const VISIBLE: &str =
    r"[^\u0000-\u001f\u007f-\u009f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

named!(
    /// A date in a body: blank means none.
    DateInput => text(
        &format!("^{WS}*(?:{}{WS}*)?$", iso_date()),
        "`YYYY-MM-DD`, a real calendar date; blank or null: none",
    )
);

named!(
    /// The CPTS's name: 1 to 200 characters once trimmed, no control character.
    CptsName => text(
        &format!("^{WS}*(?:{VISIBLE}|{VISIBLE}{PRINTABLE}{{0,198}}{VISIBLE}){WS}*$"),
        "1 to 200 characters (surrounding whitespace ignored), no control character",
    )
);

named!(
    /// A FINESS number in a body: blank means none.
    FinessInput => text(
        &format!("^{WS}*(?:(?:[0-9]{{2}}|2[ABab])[0-9]{{7}}{WS}*)?$"),
        "FINESS number (9 characters); blank or null: none",
    )
);

named!(
    /// A SIRET in a body: blank means none; spaces anywhere are ignored.
    SiretInput => text(
        &format!("^{WS}*(?:(?:[0-9]{WS}*){{14}})?$"),
        "SIRET number: 14 digits whose Luhn key is right (spaces ignored); blank or null: none",
    )
    .format(Some(SchemaFormat::Custom(SIRET_FORMAT.into())))
);

named!(
    /// A commune code in a body: blank means none.
    CommuneInput => text(
        &format!("^{WS}*(?:(?:[0-9]{{5}}|2[ABab][0-9]{{3}}){WS}*)?$"),
        "INSEE commune code, e.g. 59350 (Lille); blank or null: none",
    )
);

named!(
    /// What `OrganisationInput::parse` accepts as a name: 2 to 200 characters once
    /// trimmed, no control character.
    OrganisationName => text(
        &format!("^{WS}*{VISIBLE}{PRINTABLE}{{0,198}}{VISIBLE}{WS}*$"),
        "2 to 200 characters (surrounding whitespace ignored), no control character",
    )
);

named!(
    ProfessionFilter => filter("[0-9A-Za-z]{1,8}", "TRE_G15 profession code, e.g. 60 (infirmier); blank: any")
);

named!(
    CommuneFilter => filter("(?:[0-9]{5}|2[ABab][0-9]{3})", "INSEE commune code, e.g. 59350; blank: any")
);

named!(
    OrganisationFilter => filter(UUID_RE, "An organisation id; blank: any")
);

named!(
    /// The directory's cursor: the national id and the name key of the last entry.
    DirectoryCursor => text(
        "^(?:[0-9][0-9A-Za-z/]{1,39}~(?:[0-9a-fA-F]{2}){0,512})?$",
        "The `next_cursor` of the previous page; empty or absent for the first page \
         (400 `request.invalid_cursor` for anything else).",
    )
);

named!(
    /// The organisations' cursor: the id and the name key of the last one.
    OrganisationCursor => text(
        &format!("^(?:{UUID_RE}~(?:[0-9a-fA-F]{{2}}){{0,1024}})?$"),
        "The `next_cursor` of the previous page; empty or absent for the first page \
         (400 `request.invalid_cursor` for anything else).",
    )
);

#[cfg(test)]
mod tests {
    use super::*;
    use cordee_pathway::Millis;
    use cordee_pathway::patient::{IdentityInput, InsMatricule as Matricule, PatientQuery as Q};
    use cordee_pathway::patient::{IdentityStatus as Status, Sex as DomainSex};

    fn pattern_of<T: PartialSchema>() -> String {
        let json = serde_json::to_value(T::schema()).unwrap();
        json["pattern"].as_str().unwrap().to_string()
    }

    /// The validator schemathesis uses reads patterns with Rust's regex engine too.
    fn regex(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap()
    }

    fn key_for(body: &str) -> String {
        let numeric = body.replace("2A", "19").replace("2B", "18");
        let n: u64 = numeric.parse().unwrap();
        format!("{}{:02}", body, 97 - n % 97)
    }

    #[test]
    fn closed_lists_are_the_words_the_domain_parses() {
        for s in identity_statuses() {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        let sexes: Vec<String> =
            words(&[DomainSex::Male, DomainSex::Female, DomainSex::Undetermined]);
        assert_eq!(sexes, ["M", "F", "I"]);
        for c in DomainCategory::ALL {
            assert_eq!(words(&[c]), [c.as_str()]);
        }
        for r in DomainTeamRole::ALL {
            assert_eq!(words(&[r]), [r.as_str()]);
        }
    }

    #[test]
    fn trimmed_lengths_are_counted_like_the_api() {
        let p = regex(&trimmed_pattern(10, 20));
        assert!(p.is_match("0123456789"));
        assert!(p.is_match("  0123456789\u{3000}"));
        assert!(!p.is_match("  012345678  "));
        assert!(p.is_match(&"é".repeat(20)));
        assert!(!p.is_match(&"é".repeat(21)));
        let one = regex(&trimmed_pattern(1, 3));
        assert!(one.is_match(" x "));
        assert!(one.is_match("xyz"));
        assert!(!one.is_match("   "));
        assert!(!one.is_match("wxyz"));
    }

    #[test]
    fn matricules_the_pattern_allows_are_the_shapes_the_domain_reads() {
        let p = regex(&pattern_of::<InsMatricule>());
        for body in ["2550819004001", "255082A004001", "1991299123456"] {
            let good = key_for(body);
            assert!(p.is_match(&good), "{good}");
            assert!(Matricule::parse(&good).is_ok(), "{good}");
        }
        assert!(p.is_match("") && p.is_match("   "));
        for bad in ["5550819004001", "25508190040", "2550819004001AB"] {
            assert!(!p.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn names_dates_and_queries_match_the_domain() {
        let name = regex(&pattern_of::<PersonName>());
        for ok in ["Dupont", " Lefèvre-Dupont ", "N'Diaye", "Marie Claire"] {
            assert!(name.is_match(ok), "{ok}");
        }
        for bad in ["", "   ", "R2D2", "a  \tb", &"a".repeat(101)] {
            assert!(!name.is_match(bad), "{bad}");
        }
        let input = |birth_name: &str| IdentityInput {
            ins_matricule: None,
            ins_oid: None,
            birth_name: birth_name.into(),
            first_names: "Marie".into(),
            used_name: None,
            birth_date: "1950-03-12".into(),
            sex: DomainSex::Female,
            birth_place_code: None,
        };
        assert!(
            input(&"a".repeat(100))
                .validate(Status::Provisoire, Millis(1_795_000_000_000))
                .is_ok()
        );
        let date = regex(&format!("^{}$", calendar_date()));
        for ok in [
            "1950-03-12",
            "12/03/1950",
            "2000-02-29",
            "29/02/2024",
            "1900-02-28",
        ] {
            assert!(date.is_match(ok), "{ok}");
            assert!(Q::parse(&format!("X {ok}")).is_ok(), "{ok}");
        }
        for bad in [
            "1900-02-29",
            "2021-02-29",
            "1950-04-31",
            "31/04/1950",
            "1950-13-01",
            "1950-3-12",
        ] {
            assert!(!date.is_match(bad), "{bad}");
            assert!(Q::parse(&format!("X {bad}")).is_err(), "{bad}");
        }
    }
}
