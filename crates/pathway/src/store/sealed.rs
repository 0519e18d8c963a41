//! Sealing and opening fields: the place (table, row, field) is bound into the
//! ciphertext, so a value copied to another row or column does not open.

use cordee_crypto::{DataKey, Place};

use crate::{Error, Result};

pub(crate) fn seal(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    plain: &[u8],
) -> Result<Vec<u8>> {
    Ok(key.seal(&Place::new(table, row, field), plain)?)
}

pub(crate) fn open(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    sealed: &[u8],
) -> Result<Vec<u8>> {
    Ok(key.open(&Place::new(table, row, field), sealed)?)
}

pub(crate) fn seal_str(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    plain: &str,
) -> Result<Vec<u8>> {
    seal(key, table, row, field, plain.as_bytes())
}

pub(crate) fn open_str(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    sealed: &[u8],
) -> Result<String> {
    String::from_utf8(open(key, table, row, field, sealed)?)
        .map_err(|_| Error::Crypto(cordee_crypto::CryptoError::Malformed))
}

pub(crate) fn seal_json<T: serde::Serialize>(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    value: &T,
) -> Result<Vec<u8>> {
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(value)
            .map_err(|_| Error::Crypto(cordee_crypto::CryptoError::Malformed))?,
    );
    seal(key, table, row, field, &bytes)
}

pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
    key: &DataKey,
    table: &str,
    row: &str,
    field: &str,
    sealed: &[u8],
) -> Result<T> {
    let bytes = zeroize::Zeroizing::new(open(key, table, row, field, sealed)?);
    serde_json::from_slice(&bytes).map_err(|_| Error::Crypto(cordee_crypto::CryptoError::Malformed))
}

pub(crate) fn patient_owner(patient: crate::ids::PatientId) -> String {
    format!("patient:{patient}")
}

pub(crate) fn attachment_owner(attachment: crate::ids::AttachmentId) -> String {
    format!("attachment:{attachment}")
}
