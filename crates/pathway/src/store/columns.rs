//! Values read back from their columns, for the care plans and their tasks: a
//! stored day that is not a day is corruption; an account id that does not parse
//! names nobody.

use crate::calendar::Day;
use crate::error::Noun;
use crate::ids::AccountId;
use crate::{Error, Result};

pub(super) fn day(text: &str) -> Result<Day> {
    Day::parse(text).ok_or_else(|| Error::corrupt(format!("a stored day is not a day: {text}")))
}

pub(super) fn account(text: &str) -> Result<AccountId> {
    AccountId::parse(text).ok_or(Error::not_found(Noun::Account))
}
