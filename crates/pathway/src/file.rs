//! The coordination file: entries (notes, observations, documents, photos) in the
//! categories of the matrix, with their versions.

use serde::Serialize;

use crate::ids::{AccountId, AttachmentId, EntryId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

text_enum! {
    pub enum EntryKind {
        Note = "note",
        Observation = "observation",
        Document = "document",
        Photo = "photo",
    }
}

text_enum! {
    pub enum EntryStatus {
        Active = "active",
        EnteredInError = "entered_in_error",
    }
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const MAX_ATTACHMENTS: usize = 20;

/// The content of one version, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryContent {
    pub title: String,
    pub body: String,
    pub attachments: Vec<AttachmentId>,
}

impl EntryContent {
    pub fn new(title: &str, body: &str, attachments: Vec<AttachmentId>) -> Result<EntryContent> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(Error::invalid(
                "entry.invalid_title",
                format!("title must be 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(Error::invalid(
                "entry.body_too_long",
                format!("body must be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::invalid(
                "entry.too_many_attachments",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut unique = attachments.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != attachments.len() {
            return Err(Error::invalid(
                "entry.duplicate_attachment",
                "an attachment is listed twice",
            ));
        }
        Ok(EntryContent {
            title: title.to_string(),
            body: body.to_string(),
            attachments,
        })
    }

    /// Words a search can find: normalised by the blind index, at least 3
    /// characters, at most 256 distinct per version.
    pub fn search_words(&self) -> Vec<String> {
        search_words(&format!("{} {}", self.title, self.body))
    }
}

pub fn search_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| w.to_lowercase())
        .collect();
    words.sort();
    words.dedup();
    words.truncate(256);
    words
}

/// Blind index purpose of search terms; the patient id is part of the value so that
/// the same word in two patients' files gives unrelated terms.
pub const BI_TERM: &str = "entry.term";

pub fn term_key(patient: PatientId, word: &str) -> String {
    format!("{}|{word}", patient.as_text())
}

/// An entry as a reader sees it (current version).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: EntryId,
    pub patient_id: PatientId,
    pub category: Category,
    pub kind: EntryKind,
    pub title: String,
    pub body: String,
    pub attachments: Vec<AttachmentId>,
    pub author_id: AccountId,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: i64,
    pub status: EntryStatus,
    pub masked: bool,
}

/// A past version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryVersion {
    pub version: i64,
    pub title: String,
    pub body: String,
    pub attachments: Vec<AttachmentId>,
    pub author_id: AccountId,
    pub created_at: Millis,
}

/// Filters of `GET /v1/patients/{id}/entries`.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub category: Option<Category>,
    /// One word; found through its blind index.
    pub word: Option<String>,
    pub include_entered_in_error: bool,
    /// Return entries with ids strictly below this one (ids grow with time).
    pub before: Option<EntryId>,
    pub limit: i64,
}

impl EntryFilter {
    /// The page size actually served: 1 to 200.
    pub fn page_size(&self) -> i64 {
        self.limit.clamp(1, 200)
    }

    /// The cursor as compared in SQL: ids are text that sorts by time, and `~` sorts
    /// after every id.
    pub fn before_key(&self) -> String {
        self.before
            .map(|b| b.as_text())
            .unwrap_or_else(|| "~".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_rules() {
        assert!(EntryContent::new("  ", "b", vec![]).is_err());
        assert!(EntryContent::new("t", &"x".repeat(MAX_BODY_BYTES + 1), vec![]).is_err());
        let a = AttachmentId::new();
        assert!(EntryContent::new("t", "b", vec![a, a]).is_err());
        let c =
            EntryContent::new(" Plaie talon ", "Pansement refait, plaie propre.", vec![]).unwrap();
        assert_eq!(c.title, "Plaie talon");
        assert_eq!(
            c.search_words(),
            vec!["pansement", "plaie", "propre", "refait", "talon"]
        );
    }
}
