//! Small helpers shared by the route modules: times, enums as strings, pages.

use cordee_pathway::Millis;
use serde::Deserialize;

use crate::error::ApiError;

/// RFC 3339 in UTC.
pub fn ts(m: Millis) -> String {
    m.to_rfc3339()
}

pub fn ts_opt(m: Option<Millis>) -> Option<String> {
    m.map(ts)
}

pub fn parse_ts(field: &'static str, text: &str) -> Result<Millis, ApiError> {
    Millis::parse_rfc3339(text).ok_or_else(|| {
        ApiError::unprocessable(
            "request.invalid_time",
            format!("{field} must be an RFC 3339 time, e.g. 2026-11-23T09:30:00Z"),
        )
        .with_extra(serde_json::json!({ "field": field }))
    })
}

/// Parses a closed list of words, naming the field and the accepted values.
pub fn parse_enum<T>(
    field: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    accepted: &[&str],
) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "request.invalid_field",
            format!("{field} must be one of: {}", accepted.join(", ")),
        )
        .with_extra(serde_json::json!({ "field": field }))
    })
}

/// A JSON number without a fraction (`-3` or `-3.0`) as an `i64`: page sizes in
/// request bodies, brought within bounds afterwards.
pub fn whole(number: &serde_json::Number) -> Result<i64, ApiError> {
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                // `i64::MAX as f64` is 2^63, one past the largest i64; beyond -2^63, f64
                // rounds onto it, so both bounds are strict.
                .filter(|f| f.fract() == 0.0 && *f > i64::MIN as f64 && *f < i64::MAX as f64)
                .map(|f| f as i64)
        })
        .ok_or_else(|| {
            ApiError::unprocessable("request.invalid_field", "limit must be an integer")
                .with_extra(serde_json::json!({ "field": "limit" }))
        })
}

/// An integer as JSON Schema means one: `3` or `3.0` (a number without a fraction),
/// where serde alone refuses `3.0`.
pub fn integral<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::{Error, Unexpected};
    let number = serde_json::Number::deserialize(deserializer)?;
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| D::Error::invalid_value(Unexpected::Other("number"), &"an integer in range"))
}

/// `?cursor=…&limit=…` as API.md promises for every list.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<crate::openapi::schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 200)
    }
}

/// `?cursor=…&limit=…` of a list whose cursor is a position other than an id: the
/// route says which in its own annotation (`ActivityCursor`, `MatrixCursor`,
/// `SeqCursor`).
macro_rules! page_query {
    ($name:ident, $cursor:ty) => {
        #[derive(serde::Deserialize, Default, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// The `next_cursor` of the previous page.
            #[param(value_type = Option<$cursor>)]
            pub cursor: Option<String>,
            /// Page size, 1 to 200 (default 50); values outside are brought within.
            pub limit: Option<i64>,
        }

        impl $name {
            pub fn page(self) -> PageQuery {
                PageQuery {
                    cursor: self.cursor,
                    limit: self.limit,
                }
            }
        }
    };
}

page_query!(ActivityPage, crate::openapi::schemas::ActivityCursor);
page_query!(MatrixPage, crate::openapi::schemas::MatrixCursor);
page_query!(SeqPage, crate::openapi::schemas::SeqCursor);

/// One page of a list, from the `limit + 1` rows the store was asked for: the extra
/// row only tells that more exist. So `next_cursor` is set exactly when another item
/// follows, and never leads to an empty page.
pub fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(cursor);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// A malformed cursor is treated as "from the start" would leak nothing, but a
/// client bug deserves a clear answer.
pub fn parse_cursor<T>(
    cursor: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) => parse(c).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_cursor",
                "cursor is not one this API returned",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_only_when_more_items_follow() {
        let ids = |n: i64| (1..=n).collect::<Vec<i64>>();
        let cases = [
            // (rows returned for limit + 1, limit, items on the page, next cursor)
            (0, 2, 0, None),
            (2, 2, 2, None),
            (3, 2, 2, Some("2")),
            (1, 1, 1, None),
        ];
        for (rows, limit, len, next) in cases {
            let (items, cursor) = page_of(ids(rows), limit, |i| i.to_string());
            assert_eq!(items.len(), len, "{rows} rows, limit {limit}");
            assert_eq!(cursor.as_deref(), next, "{rows} rows, limit {limit}");
        }
    }
}
