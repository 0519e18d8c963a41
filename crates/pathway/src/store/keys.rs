//! Data keys: created wrapped, unwrapped on use and cached briefly, destroyed for
//! crypto-shredding, rewrapped when the master key rotates.
//!
//! The keyring can be reloaded while the gateway serves: `cordee keys rotate` adds a
//! master key version to the file and raises `key_state.current_kek_version`; a
//! gateway that meets a newer version (in that row or in a wrapped key) re-reads the
//! file, so that it can unwrap rewrapped keys and wraps new ones with the new version.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use cordee_crypto::{BlindIndex, CryptoError, DataKey, FIRST_DATA_KEY_VERSION, Keyring};
use sqlx::{AnyConnection, Row};

use super::Store;
use crate::error::Noun;
use crate::{Error, Millis, Result};

/// Cached keys expire so that a key destroyed through another gateway instance stops
/// working here within this delay (erasure also marks the owner's rows, which every
/// query checks, so nothing erased is served in the meantime).
const CACHE_TTL_MS: i64 = 60_000;
const CACHE_MAX: usize = 50_000;

pub type KeyringLoader = Box<dyn Fn() -> std::result::Result<Keyring, CryptoError> + Send + Sync>;

pub struct Keys {
    keyring: RwLock<Arc<Keyring>>,
    reload: Option<KeyringLoader>,
    cache: Mutex<HashMap<String, (Arc<DataKey>, Millis)>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl Keys {
    /// `reload` re-reads the master key file; without it the keyring is fixed.
    pub fn new(keyring: Keyring, reload: Option<KeyringLoader>) -> Keys {
        Keys {
            keyring: RwLock::new(Arc::new(keyring)),
            reload,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn keyring(&self) -> Arc<Keyring> {
        match self.keyring.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload(&self) -> Result<Arc<Keyring>> {
        let Some(load) = &self.reload else {
            return Ok(self.keyring());
        };
        let fresh = Arc::new(load().map_err(|e| {
            Error::Unavailable(format!("the master key file cannot be reloaded: {e}"))
        })?);
        match self.keyring.write() {
            Ok(mut guard) => *guard = Arc::clone(&fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::clone(&fresh),
        }
        tracing::info!(
            current = fresh.current_kek_version(),
            "master key file reloaded"
        );
        Ok(fresh)
    }

    fn cached(&self, owner: &str, now: Millis) -> Option<Arc<DataKey>> {
        let cache = self.cache.lock().ok()?;
        let (key, at) = cache.get(owner)?;
        (now.0 - at.0 < CACHE_TTL_MS && now >= *at).then(|| Arc::clone(key))
    }

    fn remember(&self, owner: &str, key: &Arc<DataKey>, now: Millis) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (_, at)| now.0 - at.0 < CACHE_TTL_MS);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(owner.to_string(), (Arc::clone(key), now));
        }
    }

    fn forget(&self, owner: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(owner);
        }
    }

    /// Unwraps with the current keyring, reloading the file once when the wrapped key
    /// names a master key version this process does not know yet.
    fn unwrap(&self, wrapped: &[u8], owner: &str, version: u32) -> Result<DataKey> {
        match self.keyring().unwrap(wrapped, owner, version) {
            Err(CryptoError::UnknownKeyVersion(_)) if self.reload.is_some() => {
                Ok(self.reload()?.unwrap(wrapped, owner, version)?)
            }
            other => Ok(other?),
        }
    }
}

/// Progress of a master key rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewrapProgress {
    pub rewrapped: u64,
    pub remaining: u64,
}

impl Store {
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keys.keyring()
    }

    /// Re-reads the master key file (after a rotation added a version).
    pub fn reload_keyring(&self) -> Result<()> {
        self.keys.reload().map(|_| ())
    }

    /// Blind index of `value` for `purpose` (`birth_name_date`, `ins`, …).
    pub fn blind_index(&self, purpose: &str, value: &str) -> BlindIndex {
        self.keys.keyring().blind_index(purpose, value)
    }

    /// The data key of `owner` (`patient:<id>`, `conversation:<id>`).
    pub async fn data_key(&self, owner: &str) -> Result<Arc<DataKey>> {
        if let Some(key) = self.keys.cached(owner, self.time.now()) {
            return Ok(key);
        }
        let row = sqlx::query("select key_version, wrapped from data_keys where owner = $1")
            .bind(owner)
            .fetch_optional(self.db.reader())
            .await?
            .ok_or(Error::not_found(Noun::DataKey))?;
        self.open_key_row(owner, &row)
    }

    /// Same as [`Store::data_key`], inside a write transaction.
    pub(crate) async fn data_key_in(
        &self,
        tx: &mut AnyConnection,
        owner: &str,
    ) -> Result<Arc<DataKey>> {
        if let Some(key) = self.keys.cached(owner, self.time.now()) {
            return Ok(key);
        }
        let row = sqlx::query("select key_version, wrapped from data_keys where owner = $1")
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::not_found(Noun::DataKey))?;
        self.open_key_row(owner, &row)
    }

    fn open_key_row(&self, owner: &str, row: &sqlx::any::AnyRow) -> Result<Arc<DataKey>> {
        let version: i64 = row.try_get("key_version")?;
        let wrapped: Option<Vec<u8>> = row.try_get("wrapped")?;
        let wrapped = wrapped.ok_or(Error::Erased)?;
        let version = u32::try_from(version).map_err(|_| Error::Crypto(CryptoError::Malformed))?;
        let key = Arc::new(self.keys.unwrap(&wrapped, owner, version)?);
        self.keys.remember(owner, &key, self.time.now());
        Ok(key)
    }

    /// Creates the data key of a new owner inside its creating transaction.
    pub(crate) async fn create_data_key(
        &self,
        tx: &mut AnyConnection,
        owner: &str,
        now: Millis,
    ) -> Result<Arc<DataKey>> {
        let keyring = self.current_keyring(tx).await?;
        let key = DataKey::generate_with_version(FIRST_DATA_KEY_VERSION)?;
        let wrapped = keyring.wrap(&key, owner)?;
        sqlx::query(
            "insert into data_keys (owner, key_version, kek_version, wrapped, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(owner)
        .bind(i64::from(key.version()))
        .bind(i64::from(keyring.current_kek_version()))
        .bind(wrapped)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let key = Arc::new(key);
        self.keys.remember(owner, &key, self.time.now());
        Ok(key)
    }

    /// The keyring to wrap new keys with: reloaded first when a rotation has raised
    /// the current version beyond what this process knows.
    async fn current_keyring(&self, tx: &mut AnyConnection) -> Result<Arc<Keyring>> {
        let keyring = self.keys.keyring();
        let recorded: Option<i64> =
            sqlx::query_scalar("select current_kek_version from key_state where id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        match recorded {
            Some(v) if v > i64::from(keyring.current_kek_version()) => self.keys.reload(),
            Some(_) => Ok(keyring),
            None => {
                sqlx::query("insert into key_state (id, current_kek_version) values (1, $1) on conflict (id) do nothing")
                    .bind(i64::from(keyring.current_kek_version()))
                    .execute(&mut *tx)
                    .await?;
                Ok(keyring)
            }
        }
    }

    /// Crypto-shredding: the wrapped key is overwritten with null; every field sealed
    /// under it can never be opened again.
    pub(crate) async fn destroy_data_key(
        &self,
        tx: &mut AnyConnection,
        owner: &str,
        now: Millis,
    ) -> Result<()> {
        sqlx::query("update data_keys set wrapped = null, destroyed_at = $2 where owner = $1")
            .bind(owner)
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        self.keys.forget(owner);
        Ok(())
    }

    /// Records that `version` is now the master key version for new data keys.
    pub async fn set_current_kek_version(&self, version: u32) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "insert into key_state (id, current_kek_version) values (1, $1) \
             on conflict (id) do update set current_kek_version = excluded.current_kek_version",
        )
        .bind(i64::from(version))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rewraps up to `batch` data keys still wrapped with an older master key
    /// version, in one short transaction, so that the gateway keeps serving. Safe to
    /// interrupt and run again: each key is updated only if still at its old version.
    pub async fn rewrap_data_keys(&self, batch: i64) -> Result<RewrapProgress> {
        let keyring = self.keys.keyring();
        let current = i64::from(keyring.current_kek_version());
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(
            "select owner, key_version, kek_version, wrapped from data_keys \
             where kek_version < $1 and wrapped is not null order by owner limit $2",
        )
        .bind(current)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        let mut rewrapped = 0u64;
        for row in &rows {
            let owner: String = row.try_get("owner")?;
            let version: i64 = row.try_get("key_version")?;
            let old: i64 = row.try_get("kek_version")?;
            let wrapped: Vec<u8> = row.try_get("wrapped")?;
            let version =
                u32::try_from(version).map_err(|_| Error::Crypto(CryptoError::Malformed))?;
            let fresh = keyring.rewrap(&wrapped, &owner, version)?;
            let done = sqlx::query("update data_keys set wrapped = $1, kek_version = $2 where owner = $3 and kek_version = $4")
                .bind(fresh)
                .bind(current)
                .bind(&owner)
                .bind(old)
                .execute(&mut *tx)
                .await?;
            rewrapped += done.rows_affected();
        }
        tx.commit().await?;
        let remaining: i64 = sqlx::query_scalar(
            "select count(*) from data_keys where kek_version < $1 and wrapped is not null",
        )
        .bind(current)
        .fetch_one(self.db.writer())
        .await?;
        Ok(RewrapProgress {
            rewrapped,
            remaining: u64::try_from(remaining).unwrap_or(0),
        })
    }

    /// How many live data keys each master key version wraps.
    pub async fn data_keys_per_version(&self) -> Result<Vec<(u32, u64)>> {
        let rows = sqlx::query(
            "select kek_version, count(*) as n from data_keys where wrapped is not null group by kek_version order by kek_version",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let v: i64 = r.try_get("kek_version")?;
                let n: i64 = r.try_get("n")?;
                Ok((u32::try_from(v).unwrap_or(0), u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }
}
