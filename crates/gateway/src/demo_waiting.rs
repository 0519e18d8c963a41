//! Demo data for the waiting list (issue 14): Dr Martin's declared capacity, a dozen
//! fictional requests from the communes of the demo territory (registered over the
//! past months, so that priorities differ), and one pending proposal to Dr Martin.
//! Written through the store's public API, as the coordinator and the nurse.

use anyhow::Context;
use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, Sex};
use cordee_pathway::store::{NewRequest, PatientRef, Store};
use cordee_pathway::waiting_list::{
    Capacity, Contact, Fragility, Precarity, Source, day_of, parse_commune,
};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// (birth name, first names, birth date, sex, commune, source, days ago, ald, precarity,
/// complex situation, GP who left, home visits)
type Demo = (
    &'static str,
    &'static str,
    &'static str,
    Sex,
    &'static str,
    Source,
    i64,
    bool,
    Option<Precarity>,
    bool,
    bool,
    bool,
);

const REQUESTS: &[Demo] = &[
    (
        "Vasseur",
        "Marcel",
        "1943-09-14",
        Sex::Male,
        "59350",
        Source::Mairie,
        95,
        true,
        None,
        false,
        true,
        true,
    ),
    (
        "Delattre",
        "Yvonne",
        "1938-02-27",
        Sex::Female,
        "59328",
        Source::Cpam,
        60,
        true,
        Some(Precarity::Css),
        false,
        false,
        true,
    ),
    (
        "Boulanger",
        "Karim",
        "1979-11-03",
        Sex::Male,
        "59350",
        Source::Patient,
        40,
        false,
        Some(Precarity::Ame),
        true,
        false,
        false,
    ),
    (
        "Lemaire",
        "Odile",
        "1951-06-19",
        Sex::Female,
        "59360",
        Source::Professional,
        120,
        true,
        None,
        false,
        true,
        false,
    ),
    (
        "Caron",
        "Théo",
        "1998-04-08",
        Sex::Male,
        "59009",
        Source::Patient,
        12,
        false,
        None,
        false,
        false,
        false,
    ),
    (
        "Dupuis",
        "Agnès",
        "1955-12-01",
        Sex::Female,
        "59636",
        Source::Mairie,
        75,
        false,
        None,
        false,
        true,
        false,
    ),
    (
        "Mercier",
        "Lucienne",
        "1933-08-22",
        Sex::Female,
        "59368",
        Source::Professional,
        20,
        true,
        None,
        true,
        false,
        true,
    ),
    (
        "Fontaine",
        "Nadia",
        "1986-03-15",
        Sex::Female,
        "59350",
        Source::Patient,
        5,
        false,
        Some(Precarity::Css),
        false,
        false,
        false,
    ),
    (
        "Leclercq",
        "Gérard",
        "1948-10-30",
        Sex::Male,
        "59386",
        Source::Cpam,
        150,
        true,
        None,
        false,
        false,
        false,
    ),
    (
        "Roussel",
        "Inès",
        "2001-01-21",
        Sex::Female,
        "59378",
        Source::Autre,
        30,
        false,
        None,
        false,
        false,
        false,
    ),
    (
        "Deschamps",
        "Jean-Pierre",
        "1946-05-05",
        Sex::Male,
        "59527",
        Source::Professional,
        45,
        false,
        None,
        true,
        true,
        true,
    ),
    (
        "Hennebelle",
        "Rose",
        "1962-07-11",
        Sex::Female,
        "59328",
        Source::Patient,
        8,
        true,
        Some(Precarity::Css),
        false,
        false,
        false,
    ),
];

pub async fn seed(
    store: &Store,
    gp: &Actor,
    nurse: &Actor,
    coordinator: &Actor,
    now: Millis,
) -> anyhow::Result<()> {
    let communes: Vec<String> = ["59350", "59328", "59360"]
        .iter()
        .map(|c| c.to_string())
        .collect();
    let capacity = Capacity::validate(true, 3, &communes, true, true, None, day_of(now))?;
    store.set_my_capacity(gp, capacity, now).await?;
    let mut first = None;
    for (i, d) in REQUESTS.iter().enumerate() {
        let (
            name,
            first_names,
            born,
            sex,
            commune,
            source,
            days,
            ald,
            precarity,
            complex,
            lost,
            home,
        ) = *d;
        let identity = IdentityInput {
            ins_matricule: None,
            ins_oid: None,
            birth_name: name.into(),
            first_names: first_names.into(),
            used_name: None,
            birth_date: born.into(),
            sex,
            birth_place_code: None,
        }
        .validate(IdentityStatus::Provisoire, now)?;
        let by = if i % 3 == 1 { nurse } else { coordinator };
        let request = store
            .create_waiting_request(
                by,
                NewRequest {
                    patient: PatientRef::Traits(identity),
                    commune: parse_commune(commune).context("demo commune")?,
                    source,
                    fragility: Fragility {
                        ald,
                        age_70_plus: false,
                        precarity,
                        complex_situation: complex,
                        lost_gp: lost,
                        needs_home_visits: home,
                    },
                    contact: Contact {
                        phone: Some(format!("03 20 5{} {:02} {:02}", i % 10, 10 + i, 40 + i)),
                        ..Contact::default()
                    },
                    notes: (by.account_id == nurse.account_id).then(|| {
                        "Suivi infirmier à domicile, ordonnances à renouveler".to_string()
                    }),
                },
                Millis(now.0 - days * DAY_MS),
            )
            .await?;
        if first.is_none() {
            first = Some(request.id);
        }
    }
    if let Some(id) = first {
        store
            .propose(coordinator, id, &[gp.account_id], now)
            .await?;
    }
    Ok(())
}
