//! Demo data, so that a newcomer who runs `cordee serve` finds something on every
//! screen: the sandbox personas' accounts (made exactly as their first login makes
//! them: the sandbox's claims through the real claim mapping, then
//! `Store::upsert_account`), three fictional patients with their care teams and
//! file entries, a patient thread, a group and a direct conversation — all written
//! through the store's public API as those accounts, so every rule and every audit
//! record applies as for real users.
//!
//! Idempotent: the first demo patient is looked up by its INS first, and nothing is
//! written again when it exists. Demo mode only; the identities are fictional and use
//! the INS demonstration OID.

use anyhow::Context;
use cordee_pathway::Millis;
use cordee_pathway::account::{AccountKind, Actor};
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::conversation::{Conversation, ConversationKind, MessageInput, MessageLimits};
use cordee_pathway::file::{EntryContent, EntryKind};
use cordee_pathway::ids::PatientId;
use cordee_pathway::patient::{IdentityInput, IdentityStatus, PatientQuery, Sex};
use cordee_pathway::policy::Category;
use cordee_pathway::store::{Account, NewConversation, NewMember, NewPatient, Store};
use serde_json::Value;

use crate::auth::claims;
use crate::sandbox::personas::{self, SandboxIdp};

const DEMO_OID: &str = "1.2.250.1.213.1.4.11";
/// The first demo patient's INS: its presence means the demo data is there.
const MARKER_INS: &str = "241055935001228";

/// Creates the demo data unless it is already there. Returns whether it wrote.
pub async fn seed(store: &Store, now: Millis) -> anyhow::Result<bool> {
    let mut clock = Clock::starting(now);
    let people = People::upsert(store, &mut clock).await?;
    let marker = PatientQuery::parse(MARKER_INS).context("demo marker INS")?;
    if !store
        .list_patients(&people.gp, Some(&marker), None, 1, now)
        .await?
        .is_empty()
    {
        return Ok(false);
    }
    Seeder {
        store,
        people: &people,
        clock,
    }
    .run()
    .await
    .context("Failed to create the demo data")?;
    // The CPTS modules' demo data, one module each.
    let p = &people;
    let members = [
        &p.gp,
        &p.second_gp,
        &p.nurse,
        &p.pharmacist,
        &p.physio,
        &p.midwife,
    ];
    crate::demo_cpts::seed(store, &p.admin, &members, now)
        .await
        .context("Failed to create the demo CPTS")?;
    // Campaigns (issue 15)
    crate::demo_campaigns::seed(
        store,
        &people.coordinator,
        &people.pharmacist,
        &people.nurse,
        now,
    )
    .await
    .context("Failed to create the demo campaigns")?;
    Ok(true)
}

/// Times for the demo records: from 8 a.m. (Paris, winter) a week ago, moving
/// forward record by record within working hours, never past the real `now`, so that
/// every list reads as if it had happened.
struct Clock {
    at: Millis,
    end: Millis,
}

const DAY_MS: i64 = 24 * 3600 * 1000;
const OPENS_MS: i64 = 7 * 3600 * 1000;
const CLOSES_MS: i64 = 18 * 3600 * 1000;

impl Clock {
    fn starting(now: Millis) -> Clock {
        let week_ago = now.0 - 7 * DAY_MS;
        Clock {
            at: Millis(week_ago - week_ago.rem_euclid(DAY_MS) + OPENS_MS),
            end: now,
        }
    }

    fn tick(&mut self, secs: i64) -> Millis {
        let mut next = self.at.plus_secs(secs).0;
        if next.rem_euclid(DAY_MS) >= CLOSES_MS {
            next = next - next.rem_euclid(DAY_MS) + DAY_MS + OPENS_MS;
        }
        self.at = Millis(next.min(self.end.0));
        self.at
    }
}

struct People {
    gp: Actor,
    nurse: Actor,
    pharmacist: Actor,
    physio: Actor,
    midwife: Actor,
    coordinator: Actor,
    second_gp: Actor,
    admin: Actor,
}

impl People {
    async fn upsert(store: &Store, clock: &mut Clock) -> anyhow::Result<People> {
        let mut actors = Vec::new();
        for p in personas::PERSONAS {
            let account = login_account(store, p, clock.tick(1)).await?;
            actors.push((p.hint, actor(&account)));
        }
        let mut take = |hint: &str| {
            actors
                .iter()
                .position(|(h, _)| *h == hint)
                .map(|i| actors.swap_remove(i).1)
                .with_context(|| format!("persona {hint} missing"))
        };
        Ok(People {
            gp: take("gp-martin")?,
            nurse: take("nurse-bernard")?,
            pharmacist: take("pharma-petit")?,
            physio: take("physio-moreau")?,
            midwife: take("midwife-leroy")?,
            coordinator: take("coord-garcia")?,
            second_gp: take("gp-dubois")?,
            admin: take("admin-roux")?,
        })
    }
}

/// The account a persona's first login creates: its userinfo through the same
/// claim mapping as a real login.
pub(crate) async fn login_account(
    store: &Store,
    persona: &personas::Persona,
    now: Millis,
) -> anyhow::Result<Account> {
    let Value::Object(userinfo) = persona.userinfo() else {
        anyhow::bail!("persona {} has no claims", persona.hint);
    };
    let provider = persona.idp.provider_id();
    let identity = match persona.idp {
        SandboxIdp::Psc => claims::map_psc(provider, &userinfo),
        SandboxIdp::Staff => claims::map_oidc(provider, "groups", &userinfo),
    }
    .map_err(|e| anyhow::anyhow!("persona {}: {}", persona.hint, e.detail()))?;
    Ok(store.upsert_account(&identity, now).await?)
}

/// The actor of a first session (exercice 0), as the session extractor makes it.
pub(crate) fn actor(account: &Account) -> Actor {
    Actor {
        account_id: account.id,
        kind: account.kind,
        profession: match account.kind {
            AccountKind::Staff => None,
            AccountKind::HealthProfessional => account
                .profile
                .exercice(0)
                .and_then(|e| e.profession.clone()),
        },
        roles: account.roles.clone(),
        session_id: None,
    }
}

struct Seeder<'a> {
    store: &'a Store,
    people: &'a People,
    clock: Clock,
}

struct DemoPatient {
    ins: Option<&'static str>,
    birth_name: &'static str,
    first_names: &'static str,
    used_name: Option<&'static str>,
    birth_date: &'static str,
    sex: Sex,
    birth_place: &'static str,
    status: IdentityStatus,
}

impl Seeder<'_> {
    async fn run(mut self) -> anyhow::Result<()> {
        let p = self.people;
        // Mme Lefebvre, 84, at home after a heart failure: the whole team around her.
        let jeanne = self
            .patient(
                &p.gp,
                DemoPatient {
                    ins: Some(MARKER_INS),
                    birth_name: "Lefebvre",
                    first_names: "Jeanne Marie",
                    used_name: Some("Durand"),
                    birth_date: "1941-05-02",
                    sex: Sex::Female,
                    birth_place: "59350",
                    status: IdentityStatus::Qualifiee,
                },
                "medecin_traitant",
            )
            .await?;
        self.member(
            &p.gp,
            jeanne,
            &p.nurse,
            "infirmier_referent",
            "Soins à domicile matin et soir",
        )
        .await?;
        self.member(
            &p.gp,
            jeanne,
            &p.pharmacist,
            "pharmacien",
            "Préparation des doses à administrer",
        )
        .await?;
        self.member(
            &p.gp,
            jeanne,
            &p.physio,
            "kinesitherapeute",
            "Rééducation à la marche après hospitalisation",
        )
        .await?;
        self.entry(&p.gp, jeanne, "synthese", "note", "Synthèse : retour à domicile après décompensation cardiaque",
            "Insuffisance cardiaque à FEVG altérée, diabète de type 2. Vit seule, fille à Roubaix. Objectifs : pas de réhospitalisation, poids stable.").await?;
        self.entry(&p.gp, jeanne, "medical", "observation", "Consultation de sortie d’hospitalisation",
            "Œdèmes des membres inférieurs en régression. Furosémide 40 mg le matin. Contrôle ionogramme dans 7 jours.").await?;
        self.entry(
            &p.pharmacist,
            jeanne,
            "traitements",
            "note",
            "Préparation des doses à administrer",
            "Pilulier hebdomadaire préparé le lundi, livré par la pharmacie du Beffroi.",
        )
        .await?;
        self.entry(
            &p.nurse,
            jeanne,
            "soins",
            "observation",
            "Pesée et surveillance des œdèmes",
            "Poids ce matin : 68,2 kg (+0,4 kg). Œdèmes des chevilles stables. Tension 128/76.",
        )
        .await?;
        self.entry(&p.nurse, jeanne, "social", "note", "Aide à domicile",
            "Aide-ménagère deux fois par semaine (mardi, vendredi). Portage des repas à mettre en place.").await?;
        self.entry(
            &p.physio,
            jeanne,
            "administratif",
            "note",
            "Séances de kinésithérapie",
            "Lundi, mercredi et vendredi à 14 h, au domicile.",
        )
        .await?;
        let thread = self
            .conversation(
                &p.nurse,
                NewConversation {
                    kind: ConversationKind::Patient,
                    patient_id: Some(jeanne),
                    category: Some(category("soins")?),
                    title: Some("Mme Durand : suivi à domicile".into()),
                    member_ids: vec![],
                },
            )
            .await?;
        self.say(
            &p.nurse,
            &thread,
            "Bonjour Docteur, Mme Durand a pris 0,4 kg depuis hier, œdèmes stables.",
            false,
        )
        .await?;
        self.say(
            &p.gp,
            &thread,
            "Merci. Pesée quotidienne et prévenez-moi au-delà de +1 kg.",
            false,
        )
        .await?;
        self.say(
            &p.pharmacist,
            &thread,
            "Pilulier de la semaine livré ce matin.",
            false,
        )
        .await?;
        self.say(
            &p.nurse,
            &thread,
            "Essoufflement au repos ce soir, +1,3 kg. Pouvez-vous passer demain matin ?",
            true,
        )
        .await?;

        // M. Rousseau, provisional identity: no INS yet.
        let henri = self
            .patient(
                &p.gp,
                DemoPatient {
                    ins: None,
                    birth_name: "Rousseau",
                    first_names: "Henri Louis",
                    used_name: None,
                    birth_date: "1938-11-20",
                    sex: Sex::Male,
                    birth_place: "59599",
                    status: IdentityStatus::Provisoire,
                },
                "medecin_traitant",
            )
            .await?;
        self.member(
            &p.gp,
            henri,
            &p.nurse,
            "infirmier",
            "Pansement d’ulcère veineux",
        )
        .await?;
        self.entry(&p.nurse, henri, "soins", "observation", "Ulcère jambe gauche",
            "Plaie de 3 × 2 cm, fibrine 30 %. Pansement hydrocolloïde, réfection tous les deux jours.").await?;
        self.entry(
            &p.gp,
            henri,
            "synthese",
            "note",
            "Synthèse",
            "Ulcère veineux chronique, HTA. Identité à valider sur pièce d’identité.",
        )
        .await?;

        // Mme Fontaine, followed by the midwife.
        let lea = self
            .patient(
                &p.midwife,
                DemoPatient {
                    ins: Some("290075935012370"),
                    birth_name: "Fontaine",
                    first_names: "Léa",
                    used_name: None,
                    birth_date: "1990-07-14",
                    sex: Sex::Female,
                    birth_place: "59350",
                    status: IdentityStatus::Qualifiee,
                },
                "sage_femme",
            )
            .await?;
        self.member(
            &p.midwife,
            lea,
            &p.gp,
            "medecin_traitant",
            "Médecin traitant",
        )
        .await?;
        self.entry(
            &p.midwife,
            lea,
            "medical",
            "observation",
            "Suivi de grossesse, 24 SA",
            "Grossesse de déroulement normal. Prochaine échographie à 32 SA.",
        )
        .await?;

        // The MSP's group and a direct conversation.
        let group = self
            .conversation(
                &p.coordinator,
                NewConversation {
                    kind: ConversationKind::Group,
                    patient_id: None,
                    category: None,
                    title: Some("MSP des Tilleuls : équipe".into()),
                    member_ids: vec![
                        p.gp.account_id,
                        p.nurse.account_id,
                        p.pharmacist.account_id,
                        p.physio.account_id,
                        p.midwife.account_id,
                    ],
                },
            )
            .await?;
        self.say(&p.coordinator, &group, "Réunion de concertation jeudi à 13 h en salle 2. Pensez à proposer vos situations complexes.", false).await?;
        self.say(
            &p.gp,
            &group,
            "Je proposerai une patiente en retour à domicile.",
            false,
        )
        .await?;
        let direct = self
            .conversation(
                &p.gp,
                NewConversation {
                    kind: ConversationKind::Direct,
                    patient_id: None,
                    category: None,
                    title: None,
                    member_ids: vec![p.pharmacist.account_id],
                },
            )
            .await?;
        self.say(
            &p.gp,
            &direct,
            "Bonjour, avez-vous reçu la nouvelle ordonnance de Mme Durand ?",
            false,
        )
        .await?;
        self.say(
            &p.pharmacist,
            &direct,
            "Oui, c’est noté pour le pilulier de lundi.",
            false,
        )
        .await?;
        // Waiting list (issue 14)
        crate::demo_waiting::seed(self.store, &p.gp, &p.nurse, &p.coordinator, self.clock.end)
            .await?;
        // Pathways, care plans and tasks (issue 12)
        let now = self.clock.tick(600);
        crate::demo_plans::seed(self.store, &p.coordinator, &p.gp, jeanne, now).await?;
        // Case conferences (issue 13)
        crate::demo_conferences::seed(
            self.store,
            &crate::demo_conferences::Cast {
                gp: &p.gp,
                nurse: &p.nurse,
                pharmacist: &p.pharmacist,
                physio: &p.physio,
                coordinator: &p.coordinator,
            },
            jeanne,
            henri,
            self.clock.end,
        )
        .await?;
        Ok(())
    }

    async fn patient(
        &mut self,
        creator: &Actor,
        p: DemoPatient,
        role: &str,
    ) -> anyhow::Result<PatientId> {
        let now = self.clock.tick(600);
        let identity = IdentityInput {
            ins_matricule: p.ins.map(str::to_string),
            ins_oid: p.ins.map(|_| DEMO_OID.to_string()),
            birth_name: p.birth_name.into(),
            first_names: p.first_names.into(),
            used_name: p.used_name.map(str::to_string),
            birth_date: p.birth_date.into(),
            sex: p.sex,
            birth_place_code: Some(p.birth_place.into()),
        }
        .validate(p.status, now)?;
        let view = self
            .store
            .create_patient(
                creator,
                NewPatient {
                    identity,
                    status: p.status,
                    creator_role: Some(team_role(role)?),
                },
                now,
            )
            .await?;
        Ok(view.id)
    }

    async fn member(
        &mut self,
        by: &Actor,
        patient: PatientId,
        who: &Actor,
        role: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        let now = self.clock.tick(600);
        self.store
            .add_member(
                by,
                patient,
                NewMember {
                    account_id: who.account_id,
                    role: team_role(role)?,
                    reason: reason.into(),
                    end_at: None,
                },
                now,
            )
            .await?;
        Ok(())
    }

    async fn entry(
        &mut self,
        author: &Actor,
        patient: PatientId,
        category_code: &str,
        kind: &str,
        title: &str,
        body: &str,
    ) -> anyhow::Result<()> {
        let now = self.clock.tick(3 * 3600);
        let kind = EntryKind::parse(kind).with_context(|| format!("entry kind {kind}"))?;
        let content = EntryContent::new(title, body, vec![])?;
        self.store
            .create_entry(
                author,
                patient,
                category(category_code)?,
                kind,
                content,
                now,
            )
            .await?;
        Ok(())
    }

    async fn conversation(
        &mut self,
        creator: &Actor,
        new: NewConversation,
    ) -> anyhow::Result<Conversation> {
        let now = self.clock.tick(3600);
        Ok(self.store.create_conversation(creator, new, now).await?)
    }

    async fn say(
        &mut self,
        sender: &Actor,
        conversation: &Conversation,
        body: &str,
        urgent: bool,
    ) -> anyhow::Result<()> {
        let now = self.clock.tick(1800);
        let conversation = self
            .store
            .conversation_for_posting(sender, conversation.id, now)
            .await?;
        let input = MessageInput {
            client_id: uuid::Uuid::now_v7().to_string(),
            body: body.into(),
            attachments: vec![],
            reply_to: None,
            mentions: vec![],
            urgent,
        }
        .validate(&MessageLimits::default())?;
        self.store
            .send_message(sender, &conversation, input, now)
            .await?;
        Ok(())
    }
}

fn team_role(code: &str) -> anyhow::Result<TeamRole> {
    TeamRole::parse(code).with_context(|| format!("team role {code}"))
}

fn category(code: &str) -> anyhow::Result<Category> {
    Category::parse(code).with_context(|| format!("category {code}"))
}

#[cfg(test)]
mod tests {
    use cordee_pathway::patient::InsMatricule;

    #[test]
    fn the_demo_ins_numbers_carry_their_key() {
        for ins in [super::MARKER_INS, "290075935012370"] {
            assert!(InsMatricule::parse(ins).is_ok(), "{ins}");
        }
    }
}
