//! The whole envelope life cycle through the public API only, as the gateway will
//! drive it: install, new patient, write, read, search, KEK rotation, audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use cordee_crypto::{
    BreakReason, ChainBreak, Checkpoint, CryptoError, DataKey, GENESIS, Keyring, MasterKeyFile,
    Place, canonical, chain_hash, sealed_key_version, verify_chain,
};

const OWNER: &str = "patient:0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90";
const ROW: &str = "0190f5c2-7d3e-7a44-9b1e-3f1c2a5d8e90";

#[test]
fn life_cycle_with_rotation() {
    // Install: generate and persist the master key file.
    let text = MasterKeyFile::generate().unwrap().to_text();
    let mut file = MasterKeyFile::parse(&text).unwrap();
    let keyring = Keyring::new(&file).unwrap();

    // New patient: a data key, stored wrapped, with its version.
    let dek = Arc::new(DataKey::generate().unwrap());
    let stored_version = dek.version();
    let stored_wrapped = keyring.wrap(&dek, OWNER).unwrap();

    // Write: seal fields, compute the search index.
    let name = Place {
        table: "patient",
        row_id: ROW,
        field: "family_name",
    };
    let birth = Place {
        table: "patient",
        row_id: ROW,
        field: "birth_date",
    };
    let sealed_name = dek.seal(&name, "Lefèvre-Dupont".as_bytes()).unwrap();
    let sealed_birth = dek.seal(&birth, b"1952-03-14").unwrap();
    let index = keyring.blind_index("patient.family_name", "Lefèvre-Dupont");

    // Sealing from several threads with the shared key.
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let dek = Arc::clone(&dek);
            std::thread::spawn(move || {
                let place = Place {
                    table: "note",
                    row_id: "n",
                    field: "body",
                };
                let sealed = dek.seal(&place, format!("note {i}").as_bytes()).unwrap();
                dek.open(&place, &sealed).unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), format!("note {i}").into_bytes());
    }

    // Search and read after a restart.
    let keyring = Keyring::new(&MasterKeyFile::parse(&text).unwrap()).unwrap();
    assert_eq!(
        keyring.blind_index("patient.family_name", "LEFEVRE DUPONT"),
        index
    );
    assert_eq!(sealed_key_version(&sealed_name), Ok(stored_version));
    let dek = keyring
        .unwrap(&stored_wrapped, OWNER, stored_version)
        .unwrap();
    assert_eq!(
        dek.open(&name, &sealed_name).unwrap(),
        "Lefèvre-Dupont".as_bytes()
    );
    // A ciphertext swapped into another column does not open.
    assert_eq!(dek.open(&name, &sealed_birth), Err(CryptoError::OpenFailed));

    // KEK rotation: add a version, rewrap everything, prove nothing is left on the
    // old version, remove it.
    let new_version = file.add_version().unwrap();
    let keyring = Keyring::new(&file).unwrap();
    assert_eq!(Keyring::wrapped_version(&stored_wrapped), Ok(1));
    let rewrapped = keyring
        .rewrap(&stored_wrapped, OWNER, stored_version)
        .unwrap();
    assert_eq!(Keyring::wrapped_version(&rewrapped), Ok(new_version));
    file.remove_version(1).unwrap();
    let text = file.to_text();
    let keyring = Keyring::new(&MasterKeyFile::parse(&text).unwrap()).unwrap();
    assert_eq!(
        keyring
            .unwrap(&stored_wrapped, OWNER, stored_version)
            .map(|_| ()),
        Err(CryptoError::UnknownKeyVersion(1))
    );
    let dek = keyring.unwrap(&rewrapped, OWNER, stored_version).unwrap();
    // Data untouched by rotation still opens.
    assert_eq!(
        dek.open(&name, &sealed_name).unwrap(),
        "Lefèvre-Dupont".as_bytes()
    );
    // Blind indexes survive KEK rotation.
    assert_eq!(
        keyring.blind_index("patient.family_name", "lefevre dupont"),
        index
    );
}

#[test]
fn audit_chain_with_checkpoint() {
    let keyring = Keyring::new(&MasterKeyFile::generate().unwrap()).unwrap();
    let mut records: Vec<(i64, Vec<u8>, [u8; 32])> = Vec::new();
    let mut head = GENESIS;
    for seq in 1..=5i64 {
        let bytes = canonical(&[
            b"81234567890",
            b"read",
            OWNER.as_bytes(),
            &seq.to_be_bytes(),
        ]);
        head = chain_hash(&head, &bytes);
        records.push((seq, bytes, head));
    }
    let verified = verify_chain(records.iter().map(|(s, b, h)| (*s, &b[..], h))).unwrap();
    assert_eq!(verified, head);
    let checkpoint = Checkpoint::sign(&keyring, 5, &verified);
    assert!(checkpoint.verify(&keyring));

    // Someone deletes record 3.
    records.remove(2);
    assert_eq!(
        verify_chain(records.iter().map(|(s, b, h)| (*s, &b[..], h))),
        Err(ChainBreak {
            seq: 4,
            reason: BreakReason::OutOfSequence { expected: 3 }
        })
    );
}

#[test]
fn shared_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<DataKey>();
    check::<Keyring>();
    check::<MasterKeyFile>();
    check::<CryptoError>();
}
