//! Demo case conferences: a concertation of last month, validated (its case is an
//! `rcp` entry in Mme Durand's file, its action handed over), and an RCP planned next
//! week with two cases — written through the store's public API as the personas.

use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::case_conference::{Action, ConferenceInput, ConferenceKind, Minutes, Quorum};
use cordee_pathway::ids::PatientId;
use cordee_pathway::policy::Category;
use cordee_pathway::store::Store;

const DAY_SECS: i64 = 24 * 3600;

/// Who takes part.
pub struct Cast<'a> {
    pub gp: &'a Actor,
    pub nurse: &'a Actor,
    pub pharmacist: &'a Actor,
    pub physio: &'a Actor,
    pub coordinator: &'a Actor,
}

/// 14:00 UTC on the day `days` away from `now`.
fn afternoon(now: Millis, days: i64) -> Millis {
    let day_ms = DAY_SECS * 1000;
    let at = now.0 + days * day_ms;
    Millis(at - at.rem_euclid(day_ms) + 14 * 3600 * 1000)
}

pub async fn seed(
    store: &Store,
    cast: &Cast<'_>,
    jeanne: PatientId,
    henri: PatientId,
    now: Millis,
) -> anyhow::Result<()> {
    // Last month's concertation, validated.
    let past = store
        .create_case_conference(
            cast.coordinator,
            ConferenceInput {
                title: "Concertation mensuelle — parcours des personnes âgées".into(),
                kind: ConferenceKind::Concertation,
                scheduled_at: afternoon(now, -30),
                duration_minutes: 90,
                place: Some("MSP du Vieux-Lille, salle de réunion".into()),
                chair_id: Some(cast.gp.account_id),
                quorum: Quorum::default_for(ConferenceKind::Concertation),
            },
            now,
        )
        .await?;
    for who in [cast.nurse, cast.pharmacist, cast.physio] {
        store
            .add_case_conference_participant(cast.coordinator, past.id, who.account_id, now)
            .await?;
    }
    let case = store
        .add_case_conference_case(
            cast.gp,
            past.id,
            jeanne,
            "Retour à domicile après décompensation cardiaque : quel suivi pour éviter une réhospitalisation ?",
            now,
        )
        .await?;
    store
        .record_case_minutes(
            cast.gp,
            past.id,
            case.id,
            Minutes {
                summary: Some("Poids stable depuis la sortie, observance correcte avec le pilulier. Marche encore hésitante.".into()),
                proposal: Some("Pesée quotidienne par l’infirmière, alerte au-delà de +2 kg en 3 jours ; kinésithérapie 2 fois par semaine.".into()),
                decision: Some("Maintien à domicile ; réévaluation à la prochaine concertation.".into()),
                follow_up_id: Some(cast.gp.account_id),
                actions: vec![Action {
                    title: "Pesée quotidienne et alerte +2 kg en 3 jours".into(),
                    category: Category::Soins,
                    assignee_id: cast.nurse.account_id,
                    due_on: Millis(afternoon(now, 14).0).to_rfc3339().chars().take(10).collect(),
                }],
            },
            now,
        )
        .await?;
    for who in [cast.gp, cast.nurse, cast.pharmacist, cast.physio] {
        store
            .set_case_conference_attendance(cast.gp, past.id, who.account_id, true, now)
            .await?;
    }
    store
        .validate_case_conference(cast.gp, past.id, now)
        .await?;
    // A correction after the fact: the record stays as validated, the rectificatif
    // follows it in the chain and reaches Mme Durand's file as an `rcp` entry.
    store
        .add_case_conference_addendum(
            cast.gp,
            past.id,
            Some(case.id),
            "Rectificatif : kinésithérapie 3 fois par semaine (et non 2), comme convenu en séance avec M. Moreau.",
            now,
        )
        .await?;

    // Next week's RCP, planned, with two cases. The demo has two médecins of the same
    // specialty: its quorum asks for two médecins and one specialty.
    let next = store
        .create_case_conference(
            cast.coordinator,
            ConferenceInput {
                title: "RCP gériatrique du territoire".into(),
                kind: ConferenceKind::Rcp,
                scheduled_at: afternoon(now, 7),
                duration_minutes: 60,
                place: Some("https://visio.example.org/rcp-geriatrie".into()),
                chair_id: Some(cast.gp.account_id),
                quorum: Quorum {
                    min_participants: 2,
                    min_professions: 1,
                },
            },
            now,
        )
        .await?;
    for who in [cast.nurse, cast.pharmacist, cast.physio] {
        store
            .add_case_conference_participant(cast.coordinator, next.id, who.account_id, now)
            .await?;
    }
    store
        .add_case_conference_case(
            cast.gp,
            next.id,
            jeanne,
            "Adaptation du traitement diurétique : avis partagé médecin, pharmacien, infirmière.",
            now,
        )
        .await?;
    store
        .add_case_conference_case(
            cast.gp,
            next.id,
            henri,
            "Ulcère de jambe qui ne cicatrise pas : orientation vers une consultation plaies et cicatrisation ?",
            now,
        )
        .await?;
    Ok(())
}
