//! One error type for the domain and the store, each variant with a stable code
//! that the gateway turns into problem+json. Database errors are translated here, at
//! the store boundary: nothing of the driver reaches the callers.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

text_enum! {
    /// The things that can be "not found" (or not visible to the caller).
    pub enum Noun {
        Patient = "patient",
        Entry = "entry",
        Attachment = "attachment",
        Account = "account",
        Member = "member",
        Session = "session",
        Conversation = "conversation",
        Message = "message",
        Notification = "notification",
        Grant = "grant",
        Objection = "objection",
        Record = "record",
        DataKey = "data_key",
        // Directory, organisations and the CPTS (issue 11)
        DirectoryEntry = "directory_entry",
        Invitation = "invitation",
        Organisation = "organisation",
        OrganisationMembership = "organisation_membership",
        CptsMembership = "membership",
        // Pathways, care plans and tasks (issue 12)
        Pathway = "pathway",
        CarePlan = "care_plan",
        Task = "task",
        // Case conferences (issue 13)
        CaseConference = "case_conference",
        CaseConferenceCase = "case_conference_case",
        CaseConferenceParticipant = "case_conference_participant",
        // Waiting list (issue 14)
        WaitingRequest = "waiting_request",
        Proposal = "proposal",
        // Campaigns and the ACI report (issue 15)
        Campaign = "campaign",
        CampaignParticipant = "campaign_participant",
    }
}

impl Noun {
    /// The stable code of "not found" for this noun.
    pub fn not_found_code(self) -> &'static str {
        match self {
            Noun::Patient => "patient.not_found",
            Noun::Entry => "entry.not_found",
            Noun::Attachment => "attachment.not_found",
            Noun::Account => "account.not_found",
            Noun::Member => "care_team.member_not_found",
            Noun::Session => "auth.session_not_found",
            Noun::Conversation => "conversation.not_found",
            Noun::Message => "message.not_found",
            Noun::Notification => "notification.not_found",
            Noun::Grant => "break_glass.grant_not_found",
            Noun::Objection => "consent.objection_not_found",
            Noun::Record | Noun::DataKey => "resource.not_found",
            Noun::DirectoryEntry => "directory.not_found",
            Noun::Invitation => "directory.invitation_not_found",
            Noun::Organisation => "organisation.not_found",
            Noun::OrganisationMembership => "organisation.not_member",
            Noun::CptsMembership => "cpts.not_member",
            // Campaigns (issue 15)
            Noun::Campaign => "campaign.not_found",
            Noun::CampaignParticipant => "campaign.participant_not_found",
            // Waiting list (issue 14)
            Noun::WaitingRequest => "waiting_list.not_found",
            Noun::Proposal => "waiting_list.proposal_not_found",
            // Pathways, care plans and tasks (issue 12)
            Noun::Pathway => "pathway.not_found",
            Noun::CarePlan => "care_plan.not_found",
            Noun::Task => "task.not_found",
            // Case conferences (issue 13)
            Noun::CaseConference => "case_conference.not_found",
            Noun::CaseConferenceCase => "case_conference.case_not_found",
            Noun::CaseConferenceParticipant => "case_conference.participant_not_found",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the actor may not know that it exists.
    #[error("{what} not found")]
    NotFound { what: Noun },
    /// A uniqueness or state rule refused the change.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Input that parses but breaks a domain rule.
    #[error("{detail}")]
    Invalid { code: &'static str, detail: String },
    /// The actor is known but not allowed to do this.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// The patient's data key was destroyed: their sealed data is gone for good.
    #[error("this record was erased")]
    Erased,
    /// Sealed data could not be opened: a key is missing or the bytes were altered.
    #[error("sealed data could not be opened")]
    Crypto(#[from] cordee_crypto::CryptoError),
    /// A dependency the request needs (the audit writer, the key file) is not
    /// available; nothing was returned or changed.
    #[error("{0}")]
    Unavailable(String),
    /// Every database connection is busy: retry in a moment.
    #[error("the database is busy")]
    Busy,
    #[error("database error")]
    Database(#[source] DatabaseError),
}

/// A database failure, opaque to callers (logged with its cause chain).
#[derive(Debug)]
pub struct DatabaseError(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Error {
    pub fn not_found(what: Noun) -> Self {
        Error::NotFound { what }
    }

    pub fn conflict(code: &'static str, detail: impl fmt::Display) -> Self {
        Error::Conflict {
            code,
            detail: detail.to_string(),
        }
    }

    pub fn invalid(code: &'static str, detail: impl fmt::Display) -> Self {
        Error::Invalid {
            code,
            detail: detail.to_string(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl fmt::Display) -> Self {
        Error::Forbidden {
            code,
            detail: detail.to_string(),
        }
    }

    /// The stable code of this error, as problem+json and the audit log show it.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { what } => what.not_found_code(),
            Error::Conflict { code, .. }
            | Error::Invalid { code, .. }
            | Error::Forbidden { code, .. } => code,
            Error::Erased => "patient.erased",
            Error::Crypto(_) => "internal.sealed_data",
            Error::Unavailable(_) => "internal.unavailable",
            Error::Busy => "internal.database_busy",
            Error::Database(_) => "internal.error",
        }
    }

    /// A refusal on someone's data (as opposed to bad input or a failure): what the
    /// audit log records as `denied`.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. } | Error::Forbidden { .. } | Error::Erased
        )
    }

    /// A stored value Cordée did not write (a row altered by hand, a newer version's).
    pub(crate) fn corrupt(what: String) -> Error {
        Error::Database(DatabaseError(what.into()))
    }

    pub(crate) fn database(err: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Database(DatabaseError(Box::new(err)))
    }
}

/// Database errors are translated here, at the store boundary, so that callers see
/// `NotFound`, `Conflict` and `Busy` instead of driver details.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound { what: Noun::Record },
            sqlx::Error::PoolTimedOut => Error::Busy,
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict {
                code: "conflict.duplicate",
                detail: "a record with the same identity already exists".into(),
            },
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::Invalid {
                code: "request.unknown_reference",
                detail: "the request refers to something that does not exist".into(),
            },
            _ => Error::database(err),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Error::database(err)
    }
}
