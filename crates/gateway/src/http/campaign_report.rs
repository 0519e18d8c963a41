//! The printable report of a campaign, in French: what it is, who takes part, the
//! totals against the targets and the weekly chart. One self-contained page: inline
//! SVG drawn with presentation attributes (the CSP allows no inline style, no
//! script), no external resource, every value escaped.

use std::fmt::Write;

use cordee_pathway::Millis;
use cordee_pathway::campaign::indicators::Indicators;
use cordee_pathway::campaign::{Campaign, Theme, format_day, paris_day};
use cordee_pathway::organisation::OrganisationKind;

use super::page::escape;

pub fn theme_label(theme: Theme) -> &'static str {
    match theme {
        Theme::Grippe => "Grippe",
        Theme::Covid => "Covid-19",
        Theme::Hpv => "Papillomavirus (HPV)",
        Theme::TrodAngine => "TROD angine",
        Theme::TrodCystite => "TROD cystite",
        Theme::DepistageColorectal => "Dépistage du cancer colorectal",
        Theme::MoisSansTabac => "Mois sans tabac",
        Theme::Canicule => "Canicule",
        Theme::Autre => "Autre",
    }
}

pub fn kind_label(kind: OrganisationKind) -> &'static str {
    match kind {
        OrganisationKind::Officine => "Officines",
        OrganisationKind::Cabinet => "Cabinets",
        OrganisationKind::Msp => "Maisons de santé",
        OrganisationKind::CentreSante => "Centres de santé",
        OrganisationKind::Laboratoire => "Laboratoires",
        OrganisationKind::Ssiad => "SSIAD",
        OrganisationKind::Had => "HAD",
        OrganisationKind::Ehpad => "EHPAD",
        OrganisationKind::Etablissement => "Établissements",
        OrganisationKind::Dac => "DAC",
        OrganisationKind::Autre => "Autres structures",
    }
}

/// `2026-10-15` → `15/10/2026`.
fn fr_date(day: time::Date) -> String {
    let iso = format_day(day);
    let mut parts = iso.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => iso,
    }
}

/// `12345` → `12 345` (French thousands, a narrow no-break space).
fn fr_number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn percent(a: f64) -> String {
    format!("{} %", (a * 100.0).round() as i64)
}

const PALETTE: [&str; 6] = [
    "#1d4ed8", "#059669", "#d97706", "#7c3aed", "#dc2626", "#0891b2",
];

fn colour(i: usize) -> &'static str {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#1d4ed8")
}

/// Progress of each kind towards its target: one horizontal bar each.
fn progress_svg(ind: &Indicators) -> String {
    let rows: Vec<_> = ind.totals.iter().filter(|t| t.target.is_some()).collect();
    if rows.is_empty() {
        return String::new();
    }
    let height = 34 * rows.len() + 10;
    let mut svg = format!(
        "<svg role=\"img\" aria-labelledby=\"progress-title\" width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\" font-family=\"sans-serif\" font-size=\"12\"><title id=\"progress-title\">Progression vers les objectifs</title>"
    );
    for (i, t) in rows.iter().enumerate() {
        let y = 10 + 34 * i;
        let share = t.achievement.unwrap_or(0.0).clamp(0.0, 1.0);
        let width = (share * 400.0).round() as i64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{ty}\" fill=\"#111\">{label}</text>\
             <rect x=\"220\" y=\"{y}\" width=\"400\" height=\"18\" fill=\"#e5e7eb\"/>\
             <rect x=\"220\" y=\"{y}\" width=\"{width}\" height=\"18\" fill=\"{c}\"/>\
             <text x=\"226\" y=\"{ty}\" fill=\"#fff\" stroke=\"#111\" stroke-width=\"0.3\">{value}</text>",
            ty = y + 13,
            label = escape(&truncate(&t.label, 32)),
            c = colour(i),
            value = escape(&format!(
                "{} / {} ({})",
                fr_number(t.count),
                fr_number(t.target.unwrap_or(0)),
                t.achievement.map(percent).unwrap_or_else(|| "—".into())
            )),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Counts per ISO week, one stacked bar per week, one colour per kind.
fn weekly_svg(campaign: &Campaign, ind: &Indicators) -> String {
    if ind.by_week.is_empty() {
        return "<p>Aucune action enregistrée pour l’instant.</p>".into();
    }
    let max = ind
        .by_week
        .iter()
        .map(|w| w.total)
        .max()
        .unwrap_or(1)
        .max(1);
    let n = ind.by_week.len();
    let chart_w = 600usize;
    let slot = (chart_w / n).max(4);
    let bar = (slot * 7 / 10).max(2);
    let top = 20usize;
    let chart_h = 220usize;
    let legend_y = top + chart_h + 40;
    let height = legend_y + 20 * campaign.action_kinds.len() + 10;
    let width = 40 + slot * n + 20;
    let mut svg = format!(
        "<svg role=\"img\" aria-labelledby=\"weeks-title\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\"><title id=\"weeks-title\">Actions par semaine</title>\
         <line x1=\"40\" y1=\"{base}\" x2=\"{xend}\" y2=\"{base}\" stroke=\"#111\"/>\
         <text x=\"0\" y=\"{ty}\" fill=\"#111\">{max_label}</text>",
        base = top + chart_h,
        xend = 40 + slot * n,
        ty = top + 4,
        max_label = fr_number(max),
    );
    for (i, w) in ind.by_week.iter().enumerate() {
        let x = 40 + slot * i + (slot - bar) / 2;
        let mut y = top + chart_h;
        for (k, kind) in campaign.action_kinds.iter().enumerate() {
            let count = w.counts.get(&kind.code).copied().unwrap_or(0);
            let h = ((count as f64 / max as f64) * chart_h as f64).round() as usize;
            if h == 0 {
                continue;
            }
            y = y.saturating_sub(h);
            let _ = write!(
                svg,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"{c}\"><title>{t}</title></rect>",
                c = colour(k),
                t = escape(&format!(
                    "{} — {} : {}",
                    w.week,
                    kind.label,
                    fr_number(count)
                )),
            );
        }
        if n <= 26 || i % 4 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{lx}\" y=\"{ly}\" fill=\"#111\" text-anchor=\"middle\">S{wk}</text>",
                lx = x + bar / 2,
                ly = top + chart_h + 14,
                wk = w.week.rsplit('W').next().unwrap_or(""),
            );
        }
    }
    for (k, kind) in campaign.action_kinds.iter().enumerate() {
        let y = legend_y + 20 * k;
        let _ = write!(
            svg,
            "<rect x=\"40\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"58\" y=\"{ty}\" fill=\"#111\">{l}</text>",
            c = colour(k),
            ty = y + 10,
            l = escape(&kind.label),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The whole page.
pub fn render(campaign: &Campaign, ind: &Indicators, now: Millis) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<p><strong>Thème :</strong> {theme}<br><strong>Période :</strong> du {from} au {to}<br>\
         <strong>Structures participantes :</strong> {n}</p>",
        theme = theme_label(campaign.theme),
        from = fr_date(campaign.starts_on),
        to = fr_date(campaign.ends_on),
        n = fr_number(ind.participants),
    );
    if !campaign.description.is_empty() {
        let _ = write!(body, "<p>{}</p>", escape(&campaign.description));
    }
    if !ind.participants_by_kind.is_empty() {
        body.push_str("<ul>");
        for (kind, n) in &ind.participants_by_kind {
            let _ = write!(body, "<li>{} : {}</li>", kind_label(*kind), fr_number(*n));
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Résultats</h2><table><thead><tr><th scope=\"col\">Action</th><th scope=\"col\">Réalisé</th><th scope=\"col\">Objectif</th><th scope=\"col\">Atteinte</th></tr></thead><tbody>");
    for t in &ind.totals {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.label),
            fr_number(t.count),
            t.target.map(fr_number).unwrap_or_else(|| "—".into()),
            t.achievement.map(percent).unwrap_or_else(|| "—".into()),
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&progress_svg(ind));
    body.push_str("<h2>Actions par semaine</h2>");
    body.push_str(&weekly_svg(campaign, ind));
    body.push_str("<h2>Par structure</h2>");
    if ind.by_structure.is_empty() {
        body.push_str("<p>Aucune structure.</p>");
    } else {
        body.push_str("<table><thead><tr><th scope=\"col\">Structure</th>");
        for k in &campaign.action_kinds {
            let _ = write!(body, "<th scope=\"col\">{}</th>", escape(&k.label));
        }
        body.push_str("<th scope=\"col\">Total</th></tr></thead><tbody>");
        for s in &ind.by_structure {
            let _ = write!(
                body,
                "<tr><td>{}{}</td>",
                escape(&s.name),
                if s.participating {
                    ""
                } else {
                    " (a quitté la campagne)"
                }
            );
            for k in &campaign.action_kinds {
                let _ = write!(
                    body,
                    "<td>{}</td>",
                    fr_number(s.counts.get(&k.code).copied().unwrap_or(0))
                );
            }
            let _ = write!(body, "<td>{}</td></tr>", fr_number(s.total));
        }
        body.push_str("</tbody></table>");
    }
    let _ = write!(
        body,
        "<p><small>Rapport établi le {} à partir des comptages saisis par les structures participantes (aucune donnée nominative).</small></p>",
        fr_date(paris_day(now))
    );
    format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t} — rapport de campagne</title></head>\n<body>\n<h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(&campaign.title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_read_the_french_way() {
        assert_eq!(fr_number(0), "0");
        assert_eq!(fr_number(999), "999");
        assert_eq!(fr_number(12345), "12\u{202f}345");
        assert_eq!(fr_number(1234567), "1\u{202f}234\u{202f}567");
        let d = cordee_pathway::campaign::parse_day("2026-10-05").unwrap();
        assert_eq!(fr_date(d), "05/10/2026");
        assert_eq!(percent(0.755), "76 %");
    }
}
