//! One error type for the domain and the store, each variant with a stable code
//! that the gateway turns into problem+json.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or the actor may not know that it exists.
    #[error("{what} not found")]
    NotFound { what: &'static str },
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
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration error")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Error {
    pub fn not_found(what: &'static str) -> Self {
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
}

/// Database errors are translated here, at the store boundary, so that callers see
/// `NotFound` and `Conflict` instead of driver details.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound { what: "record" },
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict {
                code: "conflict.duplicate",
                detail: "a record with the same identity already exists".into(),
            },
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::Invalid {
                code: "request.unknown_reference",
                detail: "the request refers to something that does not exist".into(),
            },
            _ => Error::Database(err),
        }
    }
}
