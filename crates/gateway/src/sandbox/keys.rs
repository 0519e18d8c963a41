//! The sandbox's RS256 signing key.
//!
//! ring verifies and signs RSA but cannot generate RSA keys, so the key is made with
//! the `rsa` crate — already in the build as openidconnect's RSA implementation, so no
//! new code is trusted — once, and kept under the data folder (mode 0600) so that
//! restarts keep it and ID tokens issued before a restart still verify. Generating a
//! 2048-bit key takes a fraction of a second with optimisations (see the dev profile
//! override in Cargo.toml); tests write a key generated once per test binary instead.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;

pub const KEY_FILE: &str = "sandbox-signing-key.pem";

pub struct SigningKey {
    pub key: CoreRsaPrivateSigningKey,
    pub kid: String,
    pub jwk: CoreJsonWebKey,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// A new 2048-bit RSA key as PKCS#1 PEM.
pub fn generate_pem() -> anyhow::Result<String> {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).context("Failed to generate an RSA key")?;
    Ok(key
        .to_pkcs1_pem(LineEnding::LF)
        .context("Failed to encode the RSA key")?
        .to_string())
}

/// Loads the key from the data folder, making it first if there is none. Blocking:
/// call from `spawn_blocking`.
pub fn load_or_generate(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let file = path(data_dir);
    let pem = match std::fs::read_to_string(&file) {
        Ok(pem) => pem,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pem = generate_pem()?;
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("Cannot create {}", data_dir.display()))?;
            write_private(&file, &pem)?;
            pem
        }
        Err(e) => return Err(e).with_context(|| format!("Cannot read {}", file.display())),
    };
    from_pem(&pem).with_context(|| format!("{} is not a PKCS#1 RSA key", file.display()))
}

fn from_pem(pem: &str) -> anyhow::Result<SigningKey> {
    let rsa = rsa::RsaPrivateKey::from_pkcs1_pem(pem)?;
    // The key id is a digest of the public modulus: stable across restarts, new
    // whenever the key file is replaced.
    let digest = ring::digest::digest(&ring::digest::SHA256, &rsa.n().to_bytes_be());
    let kid = URL_SAFE_NO_PAD.encode(digest.as_ref().get(..12).unwrap_or_default());
    let key = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.clone())))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let jwk = key.as_verification_key();
    Ok(SigningKey { key, kid, jwk })
}

#[cfg(unix)]
fn write_private(file: &Path, pem: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("Cannot create {}", file.display()))?;
    f.write_all(pem.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(file: &Path, pem: &str) -> anyhow::Result<()> {
    std::fs::write(file, pem).with_context(|| format!("Cannot create {}", file.display()))
}
