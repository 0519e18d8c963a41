use base64::Engine as _;
use proptest::prelude::*;

use super::*;
use crate::{MasterKeyFile, Place};

const OWNER: &str = "patient:0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90";

fn keyring() -> (MasterKeyFile, Keyring) {
    let file = MasterKeyFile::generate().unwrap();
    let ring = Keyring::new(&file).unwrap();
    (file, ring)
}

#[test]
fn wrap_unwrap_round_trip() {
    let (_, kr) = keyring();
    let dek = DataKey::generate_with_version(4).unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    assert_eq!(wrapped.len(), WRAPPED_LEN);
    assert_eq!(wrapped[0], WRAPPED_FORMAT_V1);
    assert_eq!(Keyring::wrapped_version(&wrapped), Ok(1));
    let back = kr.unwrap(&wrapped, OWNER, 4).unwrap();
    assert_eq!(back.version(), 4);
    assert_eq!(back.secret(), dek.secret());

    // And the unwrapped key opens what the original sealed.
    let place = Place::new("patient", "1", "family_name");
    let sealed = dek.seal(&place, b"Dupont").unwrap();
    assert_eq!(back.open(&place, &sealed).unwrap(), b"Dupont");
}

#[test]
fn wrapping_twice_gives_different_blobs() {
    let (_, kr) = keyring();
    let dek = DataKey::generate().unwrap();
    assert_ne!(kr.wrap(&dek, OWNER).unwrap(), kr.wrap(&dek, OWNER).unwrap());
}

#[test]
fn wrong_master_key_fails() {
    let (_, kr) = keyring();
    let (_, other) = keyring(); // also has a KEK version 1, but another secret
    let dek = DataKey::generate().unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    assert_eq!(
        other.unwrap(&wrapped, OWNER, 1).map(|_| ()),
        Err(CryptoError::OpenFailed)
    );
}

#[test]
fn moved_to_another_owner_fails() {
    let (_, kr) = keyring();
    let dek = DataKey::generate().unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    for owner in [
        "patient:0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e91",
        "conversation:0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90",
        "",
    ] {
        assert_eq!(
            kr.unwrap(&wrapped, owner, 1).map(|_| ()),
            Err(CryptoError::OpenFailed)
        );
    }
}

#[test]
fn wrong_data_key_version_fails() {
    let (_, kr) = keyring();
    let dek = DataKey::generate_with_version(2).unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    assert_eq!(
        kr.unwrap(&wrapped, OWNER, 3).map(|_| ()),
        Err(CryptoError::OpenFailed)
    );
}

#[test]
fn rotation_and_missing_version() {
    let mut file = MasterKeyFile::generate().unwrap();
    let kr1 = Keyring::new(&file).unwrap();
    let dek = DataKey::generate().unwrap();
    let old = kr1.wrap(&dek, OWNER).unwrap();

    assert_eq!(file.add_version().unwrap(), 2);
    let kr2 = Keyring::new(&file).unwrap();
    assert_eq!(kr2.current_kek_version(), 2);
    assert_eq!(kr2.kek_versions(), vec![1, 2]);
    // Old blobs still open during the rotation.
    assert!(kr2.unwrap(&old, OWNER, 1).is_ok());
    let new = kr2.rewrap(&old, OWNER, 1).unwrap();
    assert_eq!(Keyring::wrapped_version(&new), Ok(2));

    file.remove_version(1).unwrap();
    let kr3 = Keyring::new(&file).unwrap();
    assert_eq!(
        kr3.unwrap(&old, OWNER, 1).map(|_| ()),
        Err(CryptoError::UnknownKeyVersion(1))
    );
    assert_eq!(kr3.unwrap(&new, OWNER, 1).unwrap().secret(), dek.secret());
    // The older keyring never had version 2.
    assert_eq!(
        kr1.unwrap(&new, OWNER, 1).map(|_| ()),
        Err(CryptoError::UnknownKeyVersion(2))
    );
}

#[test]
fn header_errors() {
    let (_, kr) = keyring();
    let dek = DataKey::generate().unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    let unwrap = |bytes: &[u8]| kr.unwrap(bytes, OWNER, 1).map(|_| ());
    assert_eq!(unwrap(b""), Err(CryptoError::Malformed));
    assert_eq!(
        unwrap(&wrapped[..WRAPPED_LEN - 1]),
        Err(CryptoError::Malformed)
    );
    let mut longer = wrapped.clone();
    longer.push(0);
    assert_eq!(unwrap(&longer), Err(CryptoError::Malformed));
    let mut future = wrapped.clone();
    future[0] = 2;
    assert_eq!(unwrap(&future), Err(CryptoError::UnsupportedFormat(2)));
    assert_eq!(
        Keyring::wrapped_version(&future),
        Err(CryptoError::UnsupportedFormat(2))
    );
    assert_eq!(Keyring::wrapped_version(b""), Err(CryptoError::Malformed));
}

#[test]
fn derived_keys_are_stable_across_serialisation() {
    let (file, kr) = keyring();
    let reparsed = Keyring::new(&MasterKeyFile::parse(&file.to_text()).unwrap()).unwrap();
    let dek = DataKey::generate().unwrap();
    let wrapped = kr.wrap(&dek, OWNER).unwrap();
    assert!(reparsed.unwrap(&wrapped, OWNER, 1).is_ok());
    assert_eq!(
        kr.blind_index("patient.family_name", "Martin"),
        reparsed.blind_index("patient.family_name", "MARTIN")
    );
    assert_eq!(kr.audit_mac(b"x"), reparsed.audit_mac(b"x"));
}

#[test]
fn root_keys_do_not_depend_on_kek_versions() {
    let mut file = MasterKeyFile::generate().unwrap();
    let before = Keyring::new(&file).unwrap();
    file.add_version().unwrap();
    file.remove_version(1).unwrap();
    let after = Keyring::new(&file).unwrap();
    assert_eq!(before.blind_index("p", "v"), after.blind_index("p", "v"));
    assert_eq!(before.audit_mac(b"x"), after.audit_mac(b"x"));
}

#[test]
fn purposes_use_separate_keys() {
    let (_, kr) = keyring();
    // The blind-index key and the audit key differ: the same input MACs differently.
    let blind = kr.blind_index("p", "V");
    let audit = kr.audit_mac(b"p\0V");
    assert_ne!(&blind.as_bytes()[..], &audit[..16]);
}

#[test]
fn blind_index_examples() {
    let (_, kr) = keyring();
    let purpose = "patient.family_name";
    let a = kr.blind_index(purpose, "Lefèvre-Dupont ");
    assert_eq!(a, kr.blind_index(purpose, "LEFEVRE DUPONT"));
    assert_eq!(a, kr.blind_index(purpose, "lefevre dupont"));
    assert_ne!(a, kr.blind_index(purpose, "Lefèvre-Dupond"));
    assert_ne!(a, kr.blind_index("patient.given_name", "Lefèvre-Dupont"));
    assert_eq!(a.to_hex().len(), 32);
    // Another master key gives unrelated indexes.
    let (_, other) = keyring();
    assert_ne!(a, other.blind_index(purpose, "Lefèvre-Dupont"));
}

/// `Debug` of every type holding a secret shows no secret bytes, in any encoding.
#[test]
fn debug_never_shows_secrets() {
    let mut file = MasterKeyFile::generate().unwrap();
    file.add_version().unwrap();
    let kr = Keyring::new(&file).unwrap();
    let dek = DataKey::generate_with_version(3).unwrap();

    let mut secrets: Vec<[u8; 32]> = vec![*file.root().expose(), *dek.secret().expose()];
    secrets.extend(file.keks().map(|(_, s)| *s.expose()));

    let shown = [
        format!("{dek:?}"),
        format!("{dek:#?}"),
        format!("{file:?}"),
        format!("{file:#?}"),
        format!("{kr:?}"),
        format!("{kr:#?}"),
        format!("{:?}", dek.secret()),
        format!("{:?}", Ok::<_, CryptoError>(&dek)),
    ];
    assert_eq!(shown[0], "DataKey { version: 3, .. }");
    assert_eq!(
        shown[2],
        "MasterKeyFile { versions: [1, 2], current: 2, .. }"
    );
    assert_eq!(
        shown[4],
        "Keyring { kek_versions: [1, 2], current_kek_version: 2, .. }"
    );
    assert_eq!(shown[6], "[redacted]");

    for secret in &secrets {
        let hex_lower: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let hex_upper = hex_lower.to_uppercase();
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let decimal = format!("{secret:?}"); // "[12, 34, …]" as a derived Debug would print
        let raw = String::from_utf8_lossy(secret).into_owned();
        for text in &shown {
            // 8 hex chars / 6 base64 chars of any secret is already too much.
            for window in [&hex_lower, &hex_upper] {
                for i in 0..=window.len() - 8 {
                    assert!(!text.contains(&window[i..i + 8]), "hex leak in {text}");
                }
            }
            for i in 0..=b64.len() - 8 {
                assert!(!text.contains(&b64[i..i + 8]), "base64 leak in {text}");
            }
            assert!(!text.contains(&decimal[1..decimal.len() - 1]));
            assert!(!text.contains(&raw));
        }
    }
}

proptest! {
    /// Any single-bit change anywhere in a wrapped key (format, KEK version, nonce,
    /// encrypted key, tag) makes it fail to unwrap.
    #[test]
    fn any_bit_flip_in_wrapped_key_fails(bit in 0usize..WRAPPED_LEN * 8) {
        let file = MasterKeyFile::parse(
            "cordee-master-key v1\nroot AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\
             kek 1 AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        ).unwrap();
        let kr = Keyring::new(&file).unwrap();
        let dek = DataKey::generate().unwrap();
        let mut wrapped = kr.wrap(&dek, OWNER).unwrap();
        wrapped[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(kr.unwrap(&wrapped, OWNER, 1).is_err());
    }

    /// Any owner other than the one wrapped for fails.
    #[test]
    fn any_other_owner_fails(owner in "\\PC{0,40}") {
        prop_assume!(owner != OWNER);
        let (_, kr) = keyring();
        let dek = DataKey::generate().unwrap();
        let wrapped = kr.wrap(&dek, OWNER).unwrap();
        prop_assert_eq!(
            kr.unwrap(&wrapped, &owner, 1).map(|_| ()),
            Err(CryptoError::OpenFailed)
        );
    }
}
