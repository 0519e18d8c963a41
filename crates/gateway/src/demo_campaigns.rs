//! Demo campaigns: the flu vaccination campaign of the current (or last) season,
//! which pharma-petit's officine and nurse-bernard's cabinet joined and recorded
//! for the last weeks, and "Mars bleu" (colorectal screening kits) in the coming
//! March, which the officine joined already. Written through the store's public API
//! as the coordinator and the professionals, like real use.

use std::collections::BTreeMap;

use anyhow::Context;
use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::campaign::{ActionInput, ActionKind, CampaignInput, format_day, paris_day};
use cordee_pathway::ids::OrganisationId;
use cordee_pathway::organisation::OrganisationQuery;
use cordee_pathway::store::Store;
use time::{Date, Month};

fn kind(code: &str, label: &str) -> ActionKind {
    ActionKind {
        code: code.into(),
        label: label.into(),
    }
}

fn day(year: i32, month: Month, d: u8) -> anyhow::Result<Date> {
    Date::from_calendar_date(year, month, d).context("demo campaign date")
}

async fn first_organisation(store: &Store, who: &Actor) -> anyhow::Result<Option<OrganisationId>> {
    let query = OrganisationQuery {
        member: Some(who.account_id),
        limit: 1,
        ..OrganisationQuery::default()
    };
    Ok(store.organisations(&query).await?.first().map(|o| o.id))
}

pub async fn seed(
    store: &Store,
    coordinator: &Actor,
    pharmacist: &Actor,
    nurse: &Actor,
    now: Millis,
) -> anyhow::Result<()> {
    let today = paris_day(now);
    let year = today.year();
    // The flu season runs from mid-October to the end of January.
    let season = match today.month() {
        Month::October | Month::November | Month::December => year,
        _ => year - 1,
    };
    let flu = CampaignInput {
        theme: "grippe".into(),
        title: format!("Vaccination antigrippale {season}-{}", season + 1),
        description: "Campagne de vaccination contre la grippe saisonnière en officine et par les infirmiers libéraux : \
            personnes de 65 ans et plus, personnes à risque, professionnels de santé."
            .into(),
        starts_on: format_day(day(season, Month::October, 15)?),
        ends_on: format_day(day(season + 1, Month::January, 31)?),
        action_kinds: vec![
            kind("doses_administrees", "Doses administrées"),
            kind("plus_65_ans", "Personnes de 65 ans et plus"),
            kind("professionnels_vaccines", "Professionnels de santé vaccinés"),
        ],
        targets: BTreeMap::from([
            ("doses_administrees".to_string(), 3000),
            ("plus_65_ans".to_string(), 2000),
            ("professionnels_vaccines".to_string(), 150),
        ]),
    };
    let flu = store
        .create_campaign(coordinator, flu.validate()?, now)
        .await?;
    let march = if today.month() as u8 <= 3 {
        year
    } else {
        year + 1
    };
    let mars_bleu = CampaignInput {
        theme: "depistage_colorectal".into(),
        title: format!("Mars bleu {march}"),
        description: "Remise des kits de dépistage du cancer colorectal aux personnes de 50 à 74 ans, en officine et au cabinet."
            .into(),
        starts_on: format_day(day(march, Month::March, 1)?),
        ends_on: format_day(day(march, Month::March, 31)?),
        action_kinds: vec![
            kind("kits_remis", "Kits remis"),
            kind("tests_realises", "Tests réalisés"),
        ],
        targets: BTreeMap::from([("kits_remis".to_string(), 400)]),
    };
    let mars_bleu = store
        .create_campaign(coordinator, mars_bleu.validate()?, now)
        .await?;

    let officine = first_organisation(store, pharmacist).await?;
    let cabinet = first_organisation(store, nurse).await?;
    if let Some(officine) = officine {
        store
            .join_campaign(pharmacist, flu.id, officine, now)
            .await?;
        store
            .join_campaign(pharmacist, mars_bleu.id, officine, now)
            .await?;
    }
    if let Some(cabinet) = cabinet {
        store
            .join_campaign(coordinator, flu.id, cabinet, now)
            .await?;
    }
    // The last three weeks of the season so far (or its last three weeks).
    let last = if today < flu.ends_on {
        today
    } else {
        flu.ends_on
    };
    let mut d = last;
    let mut n: i64 = 0;
    while d >= flu.starts_on && n < 21 {
        // Counters are closed on Sundays.
        if d.weekday() != time::Weekday::Sunday {
            let on = format_day(d);
            if let Some(officine) = officine {
                let doses = 6 + (n * 7) % 11;
                let older = doses * 2 / 3;
                for (k, c) in [("doses_administrees", doses), ("plus_65_ans", older)] {
                    store
                        .record_campaign_action(
                            pharmacist,
                            flu.id,
                            &ActionInput::new(officine, k, c, &on),
                            now,
                        )
                        .await?;
                }
                if n % 5 == 0 {
                    store
                        .record_campaign_action(
                            pharmacist,
                            flu.id,
                            &ActionInput::new(officine, "professionnels_vaccines", 1, &on),
                            now,
                        )
                        .await?;
                }
            }
            if let Some(cabinet) = cabinet
                && n % 2 == 0
            {
                let doses = 3 + (n * 5) % 7;
                store
                    .record_campaign_action(
                        nurse,
                        flu.id,
                        &ActionInput::new(cabinet, "doses_administrees", doses, &on),
                        now,
                    )
                    .await?;
                store
                    .record_campaign_action(
                        nurse,
                        flu.id,
                        &ActionInput::new(cabinet, "plus_65_ans", doses - 1, &on),
                        now,
                    )
                    .await?;
            }
        }
        n += 1;
        match d.previous_day() {
            Some(p) => d = p,
            None => break,
        }
    }
    Ok(())
}
