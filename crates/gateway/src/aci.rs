//! `cordee aci load FILE`: loads an agreement version's tables (an avenant) so that
//! reports for the years it covers use its amounts, without a code change.
//!
//! The file is JSON, amounts in euros:
//! `{ "version": "avenant-2", "label": "…", "effective_from": "2022-04-01",
//!    "advance_percent": 75, "mandatory": ["acces_soins", …],
//!    "sizes": { "1": [{ "line": "fonctionnement", "fixed": 50000, "variable": 0 }, …], … } }`

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cordee_pathway::aci::{Amount, Cents, Line};
use cordee_pathway::cpts::Mission;
use cordee_pathway::store::{AgreementTables, Store};
use serde::Deserialize;

use crate::config::Settings;
use crate::keys;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementFile {
    version: String,
    label: String,
    effective_from: String,
    advance_percent: f64,
    mandatory: Vec<String>,
    sizes: BTreeMap<String, Vec<AmountFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmountFile {
    line: String,
    fixed: f64,
    variable: f64,
}

fn cents(euros: f64, what: &str) -> anyhow::Result<Cents> {
    let c = (euros * 100.0).round();
    if !(0.0..=1e12).contains(&c) || (c - euros * 100.0).abs() > 1e-6 {
        bail!("{what}: {euros} is not an amount in euros with at most 2 decimals");
    }
    Ok(Cents(c as i64))
}

/// Reads and checks an agreement file; every refusal names the place.
pub fn parse(text: &str) -> anyhow::Result<AgreementTables> {
    let f: AgreementFile = serde_json::from_str(text).context("not an agreement file")?;
    let version = f.version.trim();
    if version.is_empty()
        || version.len() > 40
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        bail!("version: 1 to 40 letters, digits or dashes");
    }
    if time::Date::parse(
        &f.effective_from,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_err()
    {
        bail!("effective_from: a date written YYYY-MM-DD");
    }
    if !(0.0..=100.0).contains(&f.advance_percent) {
        bail!("advance_percent: 0 to 100");
    }
    let mandatory = f
        .mandatory
        .iter()
        .map(|m| Mission::parse(m).with_context(|| format!("mandatory: unknown mission {m:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut sizes = Vec::new();
    for (size, rows) in &f.sizes {
        let size: u8 = match size.as_str() {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            other => bail!("sizes: {other:?} is not a size (1 to 4)"),
        };
        let mut amounts: Vec<Amount> = Vec::new();
        for r in rows {
            let line = Line::parse(&r.line).with_context(|| {
                format!(
                    "size {size}: unknown line {:?} (one of {})",
                    r.line,
                    Line::NAMES.join(", ")
                )
            })?;
            if amounts.iter().any(|a| a.line == line) {
                bail!("size {size}: line {} appears twice", line.as_str());
            }
            amounts.push(Amount {
                line,
                fixed: cents(r.fixed, &format!("size {size} {} fixed", line.as_str()))?,
                variable: cents(
                    r.variable,
                    &format!("size {size} {} variable", line.as_str()),
                )?,
            });
        }
        if !amounts.iter().any(|a| a.line == Line::Operating) {
            bail!("size {size}: the operating line (fonctionnement) is missing");
        }
        sizes.push((size, amounts));
    }
    if sizes.len() != 4 {
        bail!("sizes: the four sizes 1 to 4 are needed");
    }
    Ok(AgreementTables {
        version: version.to_string(),
        label: f.label.trim().to_string(),
        effective_from: f.effective_from,
        advance_bp: (f.advance_percent * 100.0).round() as i64,
        mandatory,
        sizes,
    })
}

pub async fn load(
    settings: &Settings,
    file: &Path,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let tables = parse(&text).with_context(|| format!("{}", file.display()))?;
    let key_file = keys::load(&settings.master_key_file)?;
    let db = crate::connect(settings).await?;
    let pending = db.readiness().await.pending_migrations;
    if pending > 0 {
        db.close().await;
        bail!("the database lacks {pending} migration(s); run `cordee migrate` first");
    }
    let clock = crate::clock::Clock::system();
    let store = Store::open(
        db,
        keys::keys_for(settings, &key_file)?,
        clock.time_source(),
    );
    drop(key_file);
    let result = store.load_aci_agreement(&tables, clock.now()).await;
    store.close().await;
    result?;
    let total: Vec<String> = tables
        .sizes
        .iter()
        .map(|(s, a)| {
            let sum: i64 = a.iter().map(|x| x.fixed.0 + x.variable.0).sum();
            format!("size {s}: {} €", sum / 100)
        })
        .collect();
    writeln!(
        out,
        "loaded agreement {} from {} ({})",
        tables.version,
        tables.effective_from,
        total.join(", ")
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sizes: &str) -> String {
        format!(
            r#"{{ "version": "avenant-2", "label": "Avenant 2", "effective_from": "2022-04-01",
                 "advance_percent": 75, "mandatory": ["acces_soins", "crise_sanitaire"], "sizes": {sizes} }}"#
        )
    }

    #[test]
    fn an_avenant_file_is_read_and_checked() {
        let row = r#"[{ "line": "fonctionnement", "fixed": 60000, "variable": 0 },
                      { "line": "crise_sanitaire", "fixed": 12500.5, "variable": 12500 }]"#;
        let ok = parse(&file(&format!(
            r#"{{ "1": {row}, "2": {row}, "3": {row}, "4": {row} }}"#
        )))
        .unwrap();
        assert_eq!(ok.advance_bp, 7_500);
        assert_eq!(ok.sizes.len(), 4);
        assert_eq!(ok.sizes[0].1[1].fixed, Cents(1_250_050));
        for (bad, why) in [
            (file(r#"{ "1": [] }"#), "operating"),
            (file(&format!(r#"{{ "5": {row} }}"#)), "not a size"),
            (
                file(r#"{ "1": [{ "line": "nope", "fixed": 1, "variable": 1 }] }"#),
                "unknown line",
            ),
            (
                file(r#"{ "1": [{ "line": "fonctionnement", "fixed": 0.001, "variable": 0 }] }"#),
                "2 decimals",
            ),
            (file(&format!(r#"{{ "1": {row} }}"#)), "four sizes"),
        ] {
            let e = format!("{:#}", parse(&bad).unwrap_err());
            assert!(e.contains(why), "{e}");
        }
    }
}
