//! The demo's CPTS: its profile as an admin writes it (size 3, five missions, the
//! communes of the demo directory, a contract signed in 2023), so that the ACI report
//! has something to compute, and the adhesions of the demo professionals.

use anyhow::Context;
use cordee_pathway::Millis;
use cordee_pathway::cpts::ProfileInput;
use cordee_pathway::store::Store;

use crate::demo::{actor, login_account};
use crate::sandbox::personas;

const MEMBERS: &[&str] = &[
    "gp-martin",
    "gp-dubois",
    "nurse-bernard",
    "pharma-petit",
    "physio-moreau",
    "midwife-leroy",
];

pub async fn seed(store: &Store, now: Millis) -> anyhow::Result<()> {
    let persona = |hint: &str| {
        personas::PERSONAS
            .iter()
            .find(|p| p.hint == hint)
            .with_context(|| format!("persona {hint} missing"))
    };
    let admin = actor(&login_account(store, persona("admin-roux")?, now).await?);
    let profile = ProfileInput {
        name: "CPTS Lille Métropole Nord".into(),
        population: 85_000,
        contract_signed_on: Some("2023-09-12".into()),
        missions: [
            "acces_soins",
            "parcours",
            "prevention",
            "qualite",
            "accompagnement",
        ]
        .map(String::from)
        .to_vec(),
        communes: [
            "59350", "59328", "59360", "59636", "59368", "59386", "59378", "59527", "59009",
        ]
        .map(String::from)
        .to_vec(),
    }
    .validate()?;
    store.set_cpts_profile(&admin, profile, now).await?;
    for hint in MEMBERS {
        let who = actor(&login_account(store, persona(hint)?, now).await?);
        if store.cpts_membership(&who).await?.is_none() {
            store.join_cpts(&who, now).await?;
        }
    }
    Ok(())
}
