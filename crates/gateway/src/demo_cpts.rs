//! The demo's CPTS: its profile as an admin writes it (size 3, five missions, the
//! communes of the demo directory, a contract signed in 2023), so that the ACI report
//! has something to compute, and the adhesions of the demo professionals.

use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::cpts::ProfileInput;
use cordee_pathway::store::Store;

/// The profile written by `admin`; each of `members` joins (once).
pub async fn seed(
    store: &Store,
    admin: &Actor,
    members: &[&Actor],
    now: Millis,
) -> anyhow::Result<()> {
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
    store.set_cpts_profile(admin, profile, now).await?;
    for who in members {
        if store.cpts_membership(who).await?.is_none() {
            store.join_cpts(who, now).await?;
        }
    }
    Ok(())
}
