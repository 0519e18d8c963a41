//! OpenAPI schemas for values the domain defines: closed lists of words come from the
//! domain's own lists (`NAMES`), so the document cannot drift from what is accepted;
//! codes carry the pattern their `parse` checks.

use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Type};

/// A string among `words`.
pub fn words(words: &'static [&'static str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(words.iter().copied()))
        .description(Some(description))
        .build()
}

/// A string matching `pattern`.
pub fn pattern(pattern: &str, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .build()
}

/// An array of distinct strings among `words`.
pub fn list_of_words(
    words: &'static [&'static str],
    description: &str,
) -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words.iter().copied())),
        )
        .unique_items(true)
        .description(Some(description))
        .build()
}

/// An array of strings matching `pattern`.
pub fn list_of(
    pattern: &str,
    max_items: usize,
    description: &str,
) -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        )
        .max_items(Some(max_items))
        .description(Some(description))
        .build()
}

/// INSEE commune code.
pub const COMMUNE: &str = "^([0-9]{5}|2[ABab][0-9]{3})$";
/// National id of a health professional ("8" + RPPS, "0" + ADELI, …).
pub const NATIONAL_ID: &str = "^[0-9][0-9A-Za-z/]{1,39}$";
/// FINESS number.
pub const FINESS: &str = "^([0-9]{2}|2[ABab])[0-9]{7}$";
/// SIRET number (spaces allowed; the Luhn key is checked too).
pub const SIRET: &str = "^[0-9 ]{14,20}$";
/// TRE_G15 profession code.
pub const PROFESSION: &str = "^[0-9A-Za-z]{1,8}$";
/// UUID.
pub const UUID: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// `YYYY-MM-DD`.
pub const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

// Waiting list (issue 14)
/// A string matching `pattern`, or null.
pub fn nullable_pattern(pattern: &str, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .pattern(Some(pattern))
        .description(Some(description))
        .build()
}

/// A string among `words`, or null.
pub fn nullable_words(words: &'static [&'static str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .enum_values(Some(
            words.iter().map(|w| Some(*w)).chain(std::iter::once(None)),
        ))
        .description(Some(description))
        .build()
}
