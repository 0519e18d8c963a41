//! The ACI report for people: a CSV the accountant opens in a French spreadsheet
//! (`;`, decimal comma, UTF-8 with a BOM, CRLF) and a printable HTML page in French
//! with its charts as inline SVG (presentation attributes only: the CSP allows no
//! inline style, and nothing is fetched from elsewhere).

use std::fmt::Write;

use cordee_pathway::aci::{Cents, Report, line_label, mission_line};

use crate::web::build_id;

/// (French, English) text of a warning code.
pub fn warning_text(code: &str) -> (&'static str, &'static str) {
    match code {
        "aci.mission_without_amounts" => (
            "Une mission choisie n’a pas de montant dans l’accord applicable (par exemple la réponse aux crises sanitaires, ajoutée par l’avenant 2) : chargez les tables de l’avenant.",
            "A chosen mission has no amount in the applicable agreement (load the avenant's tables).",
        ),
        "aci.mission_without_indicators" => (
            "Une mission a une part variable mais aucun indicateur pondéré : sa part variable ne peut pas être gagnée.",
            "A mission has a variable part but no weighted indicator: its variable part cannot be earned.",
        ),
        "aci.mandatory_mission_missing" => (
            "Une mission obligatoire de l’accord n’est pas choisie dans le profil de la CPTS.",
            "A mandatory mission of the agreement is not chosen in the CPTS profile.",
        ),
        "aci.no_contract_date" => (
            "La date de signature du contrat n’est pas renseignée : la date de l’avance est inconnue.",
            "The contract's signature date is not set: the advance's date is unknown.",
        ),
        "aci.contract_after_year" => (
            "Le contrat est signé après l’année du rapport.",
            "The contract was signed after the report's year.",
        ),
        _ => ("Point à vérifier.", "To check."),
    }
}

/// `12 500,50` (narrow no-break space between thousands, as French typography wants).
pub fn euros_fr(c: Cents) -> String {
    let negative = c.0 < 0;
    let abs = c.0.unsigned_abs();
    let (units, cents) = (abs / 100, abs % 100);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(ch);
    }
    format!("{}{grouped},{cents:02}", if negative { "-" } else { "" })
}

/// Euros for the spreadsheet: no grouping, decimal comma.
fn euros_csv(c: Cents) -> String {
    let sign = if c.0 < 0 { "-" } else { "" };
    let abs = c.0.unsigned_abs();
    format!("{sign}{},{:02}", abs / 100, abs % 100)
}

fn csv_field(text: &str) -> String {
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn csv(r: &Report, cpts_name: &str) -> String {
    let mut out = String::from("\u{feff}");
    let mut row = |cells: &[String]| {
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    };
    row(&[
        "Rubrique".into(),
        "Indicateur".into(),
        "Valeur".into(),
        "Cible".into(),
        "Poids".into(),
        "Atteinte (%)".into(),
        "Part fixe (€)".into(),
        "Part variable en jeu (€)".into(),
        "Part variable acquise (€)".into(),
    ]);
    let blank = String::new;
    row(&[
        line_label(cordee_pathway::aci::Line::Operating).into(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        euros_csv(r.operating),
        euros_csv(Cents(0)),
        euros_csv(Cents(0)),
    ]);
    for m in &r.missions {
        let label = line_label(mission_line(m.mission)).to_string();
        row(&[
            label.clone(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            euros_csv(m.fixed),
            euros_csv(m.variable),
            euros_csv(m.variable_earned),
        ]);
        for l in &m.indicators {
            row(&[
                label.clone(),
                l.label.clone(),
                l.value.map(|v| v.to_string()).unwrap_or_default(),
                l.target.to_string(),
                l.weight.to_string(),
                format!("{},{:02}", l.achievement_bp / 100, l.achievement_bp % 100),
                blank(),
                euros_csv(l.at_stake),
                euros_csv(l.earned),
            ]);
        }
    }
    for (label, amount) in [
        ("Montant maximal", r.maximum),
        ("Montant acquis", r.earned),
        ("Avance versée", r.advance),
        ("Solde", r.balance),
    ] {
        row(&[
            label.into(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            euros_csv(amount),
            blank(),
            blank(),
        ]);
    }
    row(&[
        "CPTS".into(),
        cpts_name.into(),
        r.year.to_string(),
        format!("taille {}", r.size),
        r.agreement_version.clone(),
        blank(),
        blank(),
        blank(),
        blank(),
    ]);
    out
}

pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar per mission: variable part earned over what was at stake.
fn mission_chart(r: &Report) -> String {
    let rows = r.missions.len().max(1);
    let height = 28 * rows + 10;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 640 {height}\" width=\"640\" height=\"{height}\" role=\"img\" aria-label=\"Part variable acquise par mission\">"
    );
    for (i, m) in r.missions.iter().enumerate() {
        let y = 5 + 28 * i;
        let ratio = if m.variable.0 > 0 {
            m.variable_earned.0 as f64 / m.variable.0 as f64
        } else {
            0.0
        };
        let w = (ratio * 300.0).round();
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" font-size=\"12\" fill=\"#1b2430\">{label}</text>\
             <rect x=\"260\" y=\"{y}\" width=\"300\" height=\"18\" fill=\"#e3e8ef\"/>\
             <rect x=\"260\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"#0b5cad\"/>\
             <text x=\"570\" y=\"{ty}\" font-size=\"12\" fill=\"#1b2430\">{pct} %</text>",
            ty = y + 14,
            label = esc(line_label(mission_line(m.mission))),
            pct = (ratio * 100.0).round(),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Indicator achievement bars for one mission.
fn indicator_chart(m: &cordee_pathway::aci::MissionLine) -> String {
    if m.indicators.is_empty() {
        return String::new();
    }
    let height = 24 * m.indicators.len() + 6;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 640 {height}\" width=\"640\" height=\"{height}\" role=\"img\" aria-label=\"Atteinte des indicateurs\">"
    );
    for (i, l) in m.indicators.iter().enumerate() {
        let y = 3 + 24 * i;
        let w = (l.achievement_bp as f64 / 10_000.0 * 300.0).round();
        let short: String = l.label.chars().take(40).collect();
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" font-size=\"11\" fill=\"#1b2430\">{label}</text>\
             <rect x=\"260\" y=\"{y}\" width=\"300\" height=\"16\" fill=\"#e3e8ef\"/>\
             <rect x=\"260\" y=\"{y}\" width=\"{w}\" height=\"16\" fill=\"#1e6b34\"/>\
             <text x=\"570\" y=\"{ty}\" font-size=\"11\" fill=\"#1b2430\">{pct} %</text>",
            ty = y + 12,
            label = esc(&short),
            pct = l.achievement_bp / 100,
        );
    }
    svg.push_str("</svg>");
    svg
}

pub fn html(r: &Report, cpts_name: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Rapport ACI {year} — {name}</title>\
         <link rel=\"stylesheet\" href=\"/assets/{build}/report.css\"></head><body>\
         <header><h1>Rapport ACI {year}</h1><p class=\"sub\">{name} — CPTS de taille {size} — {agreement}</p></header>",
        year = r.year,
        name = esc(cpts_name),
        build = build_id(),
        size = r.size,
        agreement = esc(&r.agreement_label),
    );
    let _ = write!(
        h,
        "<section class=\"totals\"><h2>Synthèse</h2><table><tbody>\
         <tr><th>Montant maximal de l’année</th><td>{max} €</td></tr>\
         <tr><th>Montant acquis au vu des indicateurs</th><td>{earned} €</td></tr>\
         <tr><th>Avance ({bp} %){due}</th><td>{adv} €</td></tr>\
         <tr><th>Solde à verser avec l’avance suivante</th><td>{bal} €</td></tr>\
         </tbody></table></section>",
        max = euros_fr(r.maximum),
        earned = euros_fr(r.earned),
        adv = euros_fr(r.advance),
        bal = euros_fr(r.balance),
        bp = if r.maximum.0 > 0 {
            r.advance.0 * 100 / r.maximum.0
        } else {
            0
        },
        due = r
            .advance_due_on
            .as_deref()
            .map(|d| format!(", due le {}", date_fr(d)))
            .unwrap_or_default(),
    );
    if !r.warnings.is_empty() {
        h.push_str("<section class=\"warnings\"><h2>Points à vérifier</h2><ul>");
        for w in &r.warnings {
            let _ = write!(h, "<li>{}</li>", esc(warning_text(w).0));
        }
        h.push_str("</ul></section>");
    }
    let _ = write!(
        h,
        "<section><h2>Part variable acquise par mission</h2>{}</section>",
        mission_chart(r)
    );
    let _ = write!(
        h,
        "<section><h2>Détail par rubrique</h2><table class=\"lines\"><thead><tr><th>Rubrique</th><th>Part fixe</th><th>Part variable</th><th>Acquise</th></tr></thead><tbody>\
         <tr><th>{}</th><td>{} €</td><td>—</td><td>—</td></tr>",
        line_label(cordee_pathway::aci::Line::Operating),
        euros_fr(r.operating)
    );
    for m in &r.missions {
        let _ = write!(
            h,
            "<tr><th>{}</th><td>{} €{}</td><td>{} €</td><td>{} €</td></tr>",
            esc(line_label(mission_line(m.mission))),
            euros_fr(m.fixed),
            if m.supplement.0 > 0 {
                format!(
                    " <span class=\"note\">dont soins non programmés {} €</span>",
                    euros_fr(m.supplement)
                )
            } else {
                String::new()
            },
            euros_fr(m.variable),
            euros_fr(m.variable_earned),
        );
    }
    h.push_str("</tbody></table></section>");
    for m in &r.missions {
        let _ = write!(
            h,
            "<section class=\"mission\"><h2>{}</h2>",
            esc(line_label(mission_line(m.mission)))
        );
        if m.indicators.is_empty() {
            h.push_str("<p>Aucun indicateur défini pour cette mission.</p></section>");
            continue;
        }
        h.push_str(&indicator_chart(m));
        h.push_str("<table class=\"lines\"><thead><tr><th>Indicateur</th><th>Valeur</th><th>Cible</th><th>Atteinte</th><th>En jeu</th><th>Acquis</th></tr></thead><tbody>");
        for l in &m.indicators {
            let _ = write!(
                h,
                "<tr><th>{}</th><td>{}</td><td>{}</td><td>{} %</td><td>{} €</td><td>{} €</td></tr>",
                esc(&l.label),
                l.value
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "non mesuré".into()),
                l.target,
                l.achievement_bp / 100,
                euros_fr(l.at_stake),
                euros_fr(l.earned),
            );
        }
        h.push_str("</tbody></table></section>");
    }
    h.push_str("<footer><p>Montants calculés par Cordée à partir de ses propres données (comptes, sans aucune donnée de patient). Les cibles et pondérations sont celles saisies par la coordination.</p></footer></body></html>");
    h
}

fn date_fr(ymd: &str) -> String {
    match (ymd.get(0..4), ymd.get(5..7), ymd.get(8..10)) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => ymd.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_amounts() {
        assert_eq!(euros_fr(Cents(18_500_000)), "185\u{202f}000,00");
        assert_eq!(euros_fr(Cents(-4_625_050)), "-46\u{202f}250,50");
        assert_eq!(euros_fr(Cents(99)), "0,99");
        assert_eq!(euros_csv(Cents(13_875_000)), "138750,00");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("dit \"x\""), "\"dit \"\"x\"\"\"");
        assert_eq!(csv_field("x\"; y"), "\"x\"\"; y\"");
        assert_eq!(esc("<b>&\""), "&lt;b&gt;&amp;&quot;");
        assert_eq!(date_fr("2025-03-15"), "15/03/2025");
    }
}
