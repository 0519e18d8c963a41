//! Statements assembled from parts (the access rule's conditions, optional filters)
//! number their own placeholders: each value is bound where it is written, so no
//! caller keeps `$N` counts in its head, and a value used in several conditions
//! (the actor, `now`) is bound once under its name.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bytes(Vec<u8>),
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::OptInt(v)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Arg {
        Arg::Bytes(v)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
    named: Vec<(&'static str, String)>,
}

impl Sql {
    pub(crate) fn new(start: &str) -> Sql {
        Sql {
            text: start.to_string(),
            ..Sql::default()
        }
    }

    /// Appends SQL text (never a value: values go through [`Sql::bind`]).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Binds a value and returns its placeholder (`$n`), to be written where it is used.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Binds `value` once under `name` and returns its placeholder; later calls with the
    /// same name return the same placeholder (and ignore their value).
    pub(crate) fn shared(&mut self, name: &'static str, value: impl FnOnce() -> Arg) -> String {
        if let Some((_, p)) = self.named.iter().find(|(n, _)| *n == name) {
            return p.clone();
        }
        let p = self.bind(value());
        self.named.push((name, p.clone()));
        p
    }

    /// Appends a bound value in place.
    pub(crate) fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        let p = self.bind(value);
        self.push(&p)
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn query(self) -> Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for a in self.args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }

    pub(crate) fn query_scalar<O>(self) -> QueryScalar<'static, Any, O, AnyArguments>
    where
        (O,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(self.text));
        for a in self.args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }

    #[allow(dead_code)]
    pub(crate) fn query_as<O>(self) -> QueryAs<'static, Any, O, AnyArguments>
    where
        O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(self.text));
        for a in self.args {
            q = match a {
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_themselves_and_names_are_bound_once() {
        let mut q = Sql::new("select 1 where a = ");
        let actor = q.shared("actor", || Arg::from("x"));
        q.push(&actor);
        q.push(" and b = ").push_bind(3_i64);
        let again = q.shared("actor", || Arg::from("ignored"));
        q.push(" and c = ").push(&again);
        assert_eq!(q.text(), "select 1 where a = $1 and b = $2 and c = $1");
        assert_eq!(q.args, vec![Arg::from("x"), Arg::Int(3)]);
    }
}
