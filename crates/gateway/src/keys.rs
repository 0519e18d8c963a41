//! The master key file: created by `cordee keys init` (mode 0600, never
//! overwritten), generated under the data folder in demo mode, rotated online by
//! `cordee keys rotate`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use cordee_crypto::{Keyring, MasterKeyFile};
use cordee_pathway::audit::{Action, AuditEvent, Outcome, Purpose};
use cordee_pathway::store::{Keys, Store};

use crate::config::Settings;

/// Writes a new key file; refuses to overwrite one (that would orphan every data key
/// wrapped with it).
pub fn init(path: &Path) -> anyhow::Result<()> {
    let file = MasterKeyFile::generate().context("cannot generate a master key")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut out = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!("{} already exists; refusing to overwrite a master key (it would make every sealed record unreadable)", path.display())
        } else {
            anyhow!("cannot create {}: {e}", path.display())
        }
    })?;
    out.write_all(file.to_text().as_bytes())?;
    out.sync_all()?;
    Ok(())
}

/// Reads the key file, refusing one that other users can read.
pub fn load(path: &Path) -> anyhow::Result<MasterKeyFile> {
    let meta = fs::metadata(path).map_err(|e| {
        anyhow!(
            "CORDEE_MASTER_KEY_FILE: cannot read {}: {e}",
            path.display()
        )
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "CORDEE_MASTER_KEY_FILE: {} can be read by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(|e| {
        anyhow!(
            "CORDEE_MASTER_KEY_FILE: cannot read {}: {e}",
            path.display()
        )
    })?);
    MasterKeyFile::parse(&text).map_err(|e| {
        anyhow!(
            "CORDEE_MASTER_KEY_FILE: {} is not a Cordée master key file: {e}",
            path.display()
        )
    })
}

/// The key file for `cordee serve`: in demo mode a missing file is generated (with a
/// warning); otherwise it must exist.
pub fn load_for_serve(settings: &Settings) -> anyhow::Result<MasterKeyFile> {
    let path = &settings.master_key_file;
    if settings.demo && !path.exists() {
        tracing::warn!(path = %path.display(), "demo mode: generating a master key; do not use it for real patients");
        init(path)?;
    }
    load(path)
}

/// Replaces the key file atomically (temporary file, fsync, rename).
fn replace(path: &Path, file: &MasterKeyFile) -> anyhow::Result<()> {
    let tmp = PathBuf::from(format!("{}.new", path.display()));
    let _ = fs::remove_file(&tmp);
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    out.write_all(file.to_text().as_bytes())?;
    out.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Lets the store re-read the file when a rotation has moved on.
pub fn loader(path: PathBuf) -> cordee_pathway::store::KeyringLoader {
    Box::new(move || {
        let file = load(&path).map_err(|e| cordee_crypto::CryptoError::KeyFile(e.to_string()))?;
        Keyring::new(&file)
    })
}

pub fn keys_for(settings: &Settings, file: &MasterKeyFile) -> anyhow::Result<Keys> {
    let keyring = Keyring::new(file)
        .map_err(|e| anyhow!("cannot derive keys from the master key file: {e}"))?;
    Ok(Keys::new(
        keyring,
        Some(loader(settings.master_key_file.clone())),
    ))
}

/// `cordee keys rotate`: adds a master key version (unless an interrupted rotation is
/// being resumed), rewraps every data key in small batches while gateways keep
/// serving, and with `retire` removes the versions no data key needs any more.
pub async fn rotate(settings: &Settings, retire: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let path = &settings.master_key_file;
    let mut file = load(path)?;
    let db = crate::connect(settings).await?;
    let store = Store::open(
        db,
        keys_for(settings, &file)?,
        crate::clock::Clock::system().time_source(),
    );
    let current = file.current_version();
    let behind = store
        .data_keys_per_version()
        .await?
        .iter()
        .any(|(v, n)| *v < current && *n > 0);
    if behind {
        writeln!(out, "resuming the rotation to master key version {current}")?;
    } else {
        let version = file.add_version()?;
        replace(path, &file)?;
        store.reload_keyring()?;
        writeln!(
            out,
            "master key version {version} added to {}",
            path.display()
        )?;
    }
    let current = file.current_version();
    store.set_current_kek_version(current).await?;
    let mut total = 0u64;
    // Two quiet passes: a gateway that wrapped a new key with the old version just
    // before it noticed the rotation is caught by the second.
    let mut quiet_passes = 0;
    while quiet_passes < 2 {
        let progress = store.rewrap_data_keys(500).await?;
        total += progress.rewrapped;
        if progress.rewrapped > 0 {
            writeln!(
                out,
                "rewrapped {} data keys, {} to go",
                progress.rewrapped, progress.remaining
            )?;
        }
        if progress.remaining == 0 {
            quiet_passes += 1;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let per_version = store.data_keys_per_version().await?;
    writeln!(
        out,
        "rotation complete: {total} data keys rewrapped; every data key is wrapped with version {current}"
    )?;
    if retire {
        for old in file.versions().into_iter().filter(|v| *v < current) {
            if per_version.iter().any(|(v, n)| *v == old && *n > 0) {
                bail!("master key version {old} still wraps data keys; run the rotation again");
            }
            file.remove_version(old)?;
            writeln!(out, "master key version {old} retired")?;
        }
        replace(path, &file)?;
    }
    store
        .audit(
            AuditEvent::new(
                crate::clock::Clock::system().now(),
                None,
                Action::KeysRotate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .detail(format!("kek_version={current} rewrapped={total}")),
        )
        .await?;
    store.close().await;
    Ok(())
}
