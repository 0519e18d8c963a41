//! Demo data for pathways and care plans: three territorial pathways as a CPTS of
//! the Nord would write them, and Mme Durand's care plan started from the heart
//! failure one, so that the nurse's "Mes tâches" is not empty.

use cordee_pathway::Millis;
use cordee_pathway::account::Actor;
use cordee_pathway::care_plan::{Objective, PlanContentInput, Problem};
use cordee_pathway::ids::PatientId;
use cordee_pathway::protocol::{ProtocolContent, StepInput};
use cordee_pathway::store::{NewPlan, Store};

fn step(title: &str, category: &str, profession: Option<&str>, offset_days: i64) -> StepInput {
    StepInput {
        title: title.into(),
        category: category.into(),
        profession_code: profession.map(Into::into),
        offset_days,
    }
}

/// The pathways, then the plan of `patient` (whose team holds the GP, the nurse,
/// the pharmacist and the physiotherapist).
pub async fn seed(
    store: &Store,
    coordinator: &Actor,
    gp: &Actor,
    patient: PatientId,
    now: Millis,
) -> anyhow::Result<()> {
    let home = ProtocolContent::new(
        "Retour à domicile après hospitalisation",
        "Protocole de la CPTS pour les sorties d’hospitalisation des patients fragiles.",
        &[
            step("Visite infirmière à domicile", "soins", Some("60"), 1),
            step("Bilan partagé de médication", "traitements", Some("21"), 2),
            step("Évaluation des aides à domicile", "social", None, 3),
            step(
                "Consultation de suivi chez le médecin traitant",
                "medical",
                Some("10"),
                7,
            ),
        ],
    )?;
    let wound = ProtocolContent::new(
        "Plaie chronique",
        "Ulcère de jambe, escarre, plaie du pied diabétique : suivi partagé.",
        &[
            step(
                "Évaluation initiale de la plaie (photo, mesure)",
                "soins",
                Some("60"),
                0,
            ),
            step(
                "Avis médical et prescription des pansements",
                "medical",
                Some("10"),
                2,
            ),
            step(
                "Délivrance et conseil sur les pansements",
                "traitements",
                Some("21"),
                3,
            ),
            step("Réévaluation de la plaie", "soins", Some("60"), 14),
        ],
    )?;
    let heart = ProtocolContent::new(
        "Insuffisance cardiaque",
        "Prévenir la décompensation : surveillance du poids, des traitements et de l’activité.",
        &[
            step("Pesée et surveillance des œdèmes", "soins", Some("60"), 0),
            step("Bilan partagé de médication", "traitements", Some("21"), 2),
            step("Reprise de la marche", "soins", Some("70"), 3),
            step(
                "Éducation thérapeutique : régime peu salé, auto-pesée",
                "soins",
                Some("60"),
                10,
            ),
            step("Consultation et ionogramme", "medical", Some("10"), 7),
        ],
    )?;
    store.create_pathway(coordinator, home, now).await?;
    store.create_pathway(coordinator, wound, now).await?;
    let heart = store.create_pathway(coordinator, heart, now).await?;
    let plan = NewPlan {
        content: PlanContentInput {
            title: "PPS insuffisance cardiaque".into(),
            problems: vec![
                Problem { label: "Insuffisance cardiaque à FEVG altérée".into(), priority: 1, patient_priority: false },
                Problem { label: "Rester vivre chez elle".into(), priority: 2, patient_priority: true },
                Problem { label: "Isolement, fille à Roubaix".into(), priority: 3, patient_priority: false },
            ],
            preferences: "Passages infirmiers le matin ; pas d’hospitalisation si possible.".into(),
            objectives: vec![
                Objective { label: "Pas de réhospitalisation".into(), criteria: "Aucune hospitalisation en 3 mois".into() },
                Objective { label: "Poids stable".into(), criteria: "Moins de 2 kg de variation par semaine".into() },
            ],
            alert_plan: "Prise de poids de plus de 2 kg en 3 jours : appeler le médecin traitant ; prévenir sa fille.".into(),
        },
        pathway_id: Some(heart.id),
        ..NewPlan::default()
    };
    store.create_care_plan(gp, patient, plan, now).await?;
    Ok(())
}
