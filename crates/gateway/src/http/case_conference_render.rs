//! The validated record as a printable page in French: the conference, attendance,
//! each case (question, summary, proposal, decision, follow-up, actions), the
//! addenda and the hashes. Every text from users is escaped; the page links the
//! printable reports' stylesheet and runs no script (the CSP allows neither inline
//! style nor inline script, and nothing is fetched from elsewhere), so printing is
//! the browser's own command.

use std::fmt::Write;

use cordee_pathway::Millis;
use cordee_pathway::calendar::paris_clock;
use cordee_pathway::case_conference::addendum::RecordView;
use cordee_pathway::case_conference::record::RecordParticipant;

use super::aci_render::esc;
use crate::web::build_id;

fn profession(code: Option<&str>) -> &'static str {
    match code {
        Some("10") => "Médecin",
        Some("21") => "Pharmacien",
        Some("40") => "Chirurgien-dentiste",
        Some("50") => "Sage-femme",
        Some("60") => "Infirmier",
        Some("70") => "Masseur-kinésithérapeute",
        Some("80") => "Pédicure-podologue",
        Some("91") => "Orthophoniste",
        Some("92") => "Orthoptiste",
        Some("94") => "Ergothérapeute",
        Some("95") => "Diététicien",
        Some("96") => "Psychomotricien",
        Some(_) => "Professionnel de santé",
        None => "Coordination",
    }
}

fn category(code: &str) -> &'static str {
    match code {
        "synthese" => "Synthèse",
        "medical" => "Médical",
        "soins" => "Soins",
        "traitements" => "Traitements",
        "resultats" => "Résultats",
        "social" => "Social",
        "administratif" => "Administratif",
        _ => "Autre",
    }
}

/// `2026-11-23T09:30:00Z` as a Paris clock shows it.
fn moment(rfc3339: &str) -> String {
    Millis::parse_rfc3339(rfc3339)
        .map(paris_clock)
        .unwrap_or_else(|| esc(rfc3339))
}

/// `YYYY-MM-DD` as `DD/MM/YYYY`.
fn day(ymd: &str) -> String {
    match (ymd.get(0..4), ymd.get(5..7), ymd.get(8..10)) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => esc(ymd),
    }
}

fn name_of(people: &[RecordParticipant], id: &str) -> Option<String> {
    people
        .iter()
        .find(|p| p.account_id == id)
        .map(|p| person_label(&p.display_name))
}

/// A professional's name as the web client shows it: the directory and Pro Santé
/// Connect give some in capitals ("CLAIRE MARTIN"), which read as a patient's birth
/// name; those are written "Claire Martin" (lib/format.js `personLabel`).
fn person_label(name: &str) -> String {
    if name != name.to_uppercase() {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = c.is_whitespace() || matches!(c, '\'' | '’' | '-');
    }
    out
}

/// A user's text, escaped; line breaks kept by the stylesheet (`.text`).
fn text_or_dash(text: Option<&str>) -> String {
    match text {
        Some(t) if !t.is_empty() => format!("<span class=\"text\">{}</span>", esc(t)),
        _ => "—".into(),
    }
}

pub fn html(view: &RecordView, now: Millis) -> String {
    let r = &view.record;
    let kind = if r.kind == "rcp" {
        "réunion de concertation pluridisciplinaire (RCP)"
    } else {
        "concertation pluriprofessionnelle"
    };
    let people = &r.participants;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Compte rendu — {title}</title>\
         <link rel=\"stylesheet\" href=\"/assets/{build}/report.css\"></head><body class=\"record\">\
         <header><h1>Compte rendu de {kind}</h1><p class=\"sub\">{title}</p></header>\
         <p class=\"print-hint\">Imprimer / enregistrer en PDF : commande « Imprimer » du navigateur \
         (Ctrl+P, ou ⌘P sur Mac), puis « Enregistrer au format PDF ».</p>",
        title = esc(&r.title),
        build = build_id(),
    );
    let _ = write!(
        h,
        "<section><h2>La concertation</h2><dl class=\"facts\">\
         <dt>Date</dt><dd>{at} ({minutes} min)</dd>\
         <dt>Lieu</dt><dd>{place}</dd>\
         <dt>Présidence</dt><dd>{chair}</dd>\
         <dt>Quorum</dt><dd>{quorum}</dd>\
         <dt>Validé</dt><dd>le {validated} par {by}</dd></dl></section>",
        at = moment(&r.scheduled_at),
        minutes = r.duration_minutes,
        place = text_or_dash(r.place.as_deref()),
        chair = esc(name_of(people, &r.chair_id).as_deref().unwrap_or("—")),
        quorum = if r.kind == "rcp" {
            format!(
                "{} médecins présents, {} spécialités distinctes",
                r.quorum.min_participants, r.quorum.min_professions
            )
        } else {
            format!(
                "{} participants présents, {} professions distinctes",
                r.quorum.min_participants, r.quorum.min_professions
            )
        },
        validated = moment(&r.validated_at),
        by = esc(name_of(people, &r.validated_by).as_deref().unwrap_or("—")),
    );
    h.push_str(
        "<section><h2>Présences</h2><table class=\"attendance\"><thead><tr><th>Participant</th>\
         <th>Profession</th><th>Présence</th></tr></thead><tbody>",
    );
    for p in people {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(&person_label(&p.display_name)),
            profession(p.profession_code.as_deref()),
            p.specialty_code
                .as_deref()
                .map(|s| format!(" ({})", esc(s)))
                .unwrap_or_default(),
            if p.attended {
                "présent·e"
            } else {
                "absent·e"
            },
        );
    }
    h.push_str("</tbody></table></section>");
    if r.cases.is_empty() {
        h.push_str("<section><h2>Cas</h2><p>Aucun cas dans ce compte rendu.</p></section>");
    }
    for (i, c) in r.cases.iter().enumerate() {
        let _ = write!(
            h,
            "<section class=\"case\"><h2>Cas {n} — {name} <span class=\"sub\">né·e le {born}</span></h2>\
             <dl class=\"facts\">\
             <dt>Présenté par</dt><dd>{presenter}</dd>\
             <dt>Question posée</dt><dd>{question}</dd>\
             <dt>Synthèse de la discussion</dt><dd>{summary}</dd>\
             <dt>Proposition</dt><dd>{proposal}</dd>\
             <dt>Décision</dt><dd>{decision}</dd>\
             <dt>Suivi</dt><dd>{follow_up}</dd></dl>",
            n = i + 1,
            name = esc(&c.patient_name),
            born = day(&c.patient_birth_date),
            presenter = esc(name_of(people, &c.presenter_id).as_deref().unwrap_or("—")),
            question = text_or_dash(Some(&c.question)),
            summary = text_or_dash(c.summary.as_deref()),
            proposal = text_or_dash(c.proposal.as_deref()),
            decision = text_or_dash(c.decision.as_deref()),
            follow_up = esc(c
                .follow_up_id
                .as_deref()
                .and_then(|f| name_of(people, f))
                .as_deref()
                .unwrap_or("—")),
        );
        if !c.actions.is_empty() {
            h.push_str("<h3>Actions</h3><ul>");
            for a in &c.actions {
                let who = a.assignee_id.to_string();
                let _ = write!(
                    h,
                    "<li>{} — {} — confiée à {} — échéance {}</li>",
                    esc(&a.title),
                    category(a.category.as_str()),
                    esc(name_of(people, &who)
                        .as_deref()
                        .unwrap_or("un professionnel")),
                    day(&a.due_on),
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</section>");
    }
    h.push_str("<section class=\"addenda\"><h2>Rectificatifs</h2>");
    if view.addenda.is_empty() {
        h.push_str("<p>Aucun rectificatif.</p>");
    } else {
        h.push_str("<ol>");
        for a in &view.addenda {
            let about = match a.case_id {
                None => "la concertation".to_string(),
                Some(case) => r
                    .cases
                    .iter()
                    .find(|c| c.case_id == case.to_string())
                    .map(|c| format!("le cas de {}", esc(&c.patient_name)))
                    .unwrap_or_else(|| "un cas".into()),
            };
            let _ = write!(
                h,
                "<li><p class=\"sub\">Rectificatif n° {n}, le {at}, par {author} — concerne {about}</p>\
                 <p>{text}</p>\
                 <p class=\"hash\">Empreinte <code>{hash}</code>, chaînée à <code>{previous}</code></p></li>",
                n = a.position,
                at = paris_clock(a.created_at),
                author = esc(&person_label(&a.author_name)),
                text = match &a.text {
                    Some(t) => format!("<span class=\"text\">{}</span>", esc(t)),
                    None => "<em>Texte effacé avec le dossier du patient.</em>".into(),
                },
                hash = esc(&a.hash),
                previous = esc(&a.previous_hash),
            );
        }
        h.push_str("</ol>");
    }
    h.push_str("</section>");
    let _ = write!(
        h,
        "<footer><p>Empreinte SHA-256 du compte rendu validé : <code>{hash}</code><br>\
         Dernière empreinte de la chaîne (compte rendu et rectificatifs) : <code>{head}</code></p>\
         <p>Le compte rendu validé est immuable : toute correction est un rectificatif ajouté à la suite, \
         dont l’empreinte couvre la précédente. Document édité le {now} par Cordée ; il contient des \
         données de santé couvertes par le secret professionnel.</p></footer></body></html>",
        hash = esc(&view.hash),
        head = esc(view.head()),
        now = paris_clock(now),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordee_pathway::case_conference::Quorum;

    #[test]
    fn names_in_capitals_are_written_as_the_client_writes_them() {
        assert_eq!(person_label("CLAIRE MARTIN"), "Claire Martin");
        assert_eq!(person_label("JEAN-PIERRE D’ARC"), "Jean-Pierre D’Arc");
        assert_eq!(person_label("Dr Martin"), "Dr Martin");
    }
    use cordee_pathway::case_conference::record::{Record, RecordCase};

    fn view() -> RecordView {
        RecordView {
            record: Record {
                format: "cordee.case_conference.record/1".into(),
                conference_id: "c".into(),
                title: "RCP <b>gériatrique</b>".into(),
                kind: "concertation".into(),
                scheduled_at: "2026-11-23T09:30:00Z".into(),
                duration_minutes: 60,
                place: None,
                chair_id: "a".into(),
                quorum: Quorum {
                    min_participants: 3,
                    min_professions: 3,
                },
                validated_at: "2026-11-23T10:30:00Z".into(),
                validated_by: "a".into(),
                participants: vec![RecordParticipant {
                    account_id: "a".into(),
                    display_name: "Dr Martin & associés".into(),
                    profession_code: Some("10".into()),
                    specialty_code: None,
                    attended: true,
                }],
                cases: vec![RecordCase {
                    case_id: "k".into(),
                    patient_id: "p".into(),
                    patient_name: "DUPONT Jeanne".into(),
                    patient_birth_date: "1940-01-02".into(),
                    presenter_id: "a".into(),
                    question: "Maintien ?".into(),
                    summary: Some("<script>alert(1)</script>".into()),
                    proposal: None,
                    decision: Some("Oui \"vraiment\"".into()),
                    follow_up_id: Some("a".into()),
                    actions: vec![],
                }],
            },
            hash: "f".repeat(64),
            addenda: vec![],
        }
    }

    #[test]
    fn every_user_text_is_escaped() {
        let page = html(&view(), Millis(0));
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("RCP &lt;b&gt;gériatrique&lt;/b&gt;"));
        assert!(page.contains("Dr Martin &amp; associés"));
        assert!(page.contains("Oui &quot;vraiment&quot;"));
        assert!(page.contains("23/11/2026 à 10h30"));
        assert!(page.contains("né·e le 02/01/1940"));
        assert!(page.contains("Aucun rectificatif."));
        // No script, no inline style: the CSP allows neither.
        assert!(!page.contains("<script") && !page.contains("style="));
    }
}
