//! `cordee directory import FILE`, and the demo's directory: a fictional extraction of
//! a territory of the Nord, built into the binary, imported on the first start of an
//! empty demo so that `cordee serve` has professionals to search without any file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cordee_pathway::Millis;
use cordee_pathway::directory::CommuneCode;
use cordee_pathway::store::{ImportOptions, ImportReport, MAX_PROBLEMS, Store};

use crate::config::Settings;
use crate::keys;

/// The fixture of `tests/fixtures/rpps/territoire.txt` (written by
/// `scripts/rpps_synthetic.py fixture`); the sandbox personas are in it.
pub const DEMO_EXTRACTION: &str = include_str!("../../../tests/fixtures/rpps/territoire.txt");

/// Imports the demo extraction when the directory is empty; `None` when it was not.
pub async fn seed_demo(store: &Store, now: Millis) -> anyhow::Result<Option<ImportReport>> {
    if !store.directory_is_empty().await? {
        return Ok(None);
    }
    let report = store
        .import_rpps(DEMO_EXTRACTION.as_bytes(), &ImportOptions::default(), now)
        .await
        .context("Failed to import the demo directory")?;
    Ok(Some(report))
}

/// Parses `--communes 59350,59009`.
pub fn parse_communes(list: &[String]) -> anyhow::Result<Vec<CommuneCode>> {
    list.iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(|c| {
            CommuneCode::parse(c).with_context(|| {
                format!("--communes: {c:?} is not an INSEE commune code (5 characters, e.g. 59350 for Lille)")
            })
        })
        .collect()
}

/// `cordee directory import FILE [--communes …]`: prints the counts, then the
/// malformed lines on `err`.
pub async fn import(
    settings: &Settings,
    file: &Path,
    communes: Option<Vec<String>>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let communes = communes.as_deref().map(parse_communes).transpose()?;
    let opened = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let reader = tokio::io::BufReader::with_capacity(256 * 1024, opened);
    let key_file = keys::load(&settings.master_key_file)?;
    let db = crate::connect(settings).await?;
    let pending = db.readiness().await.pending_migrations;
    if pending > 0 {
        db.close().await;
        bail!(
            "the database lacks {pending} migration(s); run `cordee migrate` (or start `cordee serve` once) first"
        );
    }
    let clock = crate::clock::Clock::system();
    let store = Store::open(
        db,
        keys::keys_for(settings, &key_file)?,
        clock.time_source(),
    );
    drop(key_file);
    let options = ImportOptions {
        communes,
        ..ImportOptions::default()
    };
    let result = store.import_rpps(reader, &options, clock.now()).await;
    store.close().await;
    let report = result?;
    print_report(&report, file, out, err)?;
    Ok(ExitCode::SUCCESS)
}

fn print_report(
    report: &ImportReport,
    file: &Path,
    out: &mut impl Write,
    err: &mut impl Write,
) -> std::io::Result<()> {
    let scope = if report.scope == "*" {
        "every commune".to_string()
    } else {
        format!("communes {}", report.scope)
    };
    writeln!(out, "imported {} ({scope})", file.display())?;
    writeln!(out, "  read       {:>9} lines", report.read)?;
    writeln!(out, "  malformed  {:>9} lines (skipped)", report.malformed)?;
    writeln!(
        out,
        "  outside    {:>9} professionals with no activity in the communes",
        report.outside
    )?;
    writeln!(out, "  new        {:>9} professionals", report.new)?;
    writeln!(out, "  updated    {:>9} professionals", report.updated)?;
    writeln!(out, "  kept       {:>9} professionals", report.kept)?;
    writeln!(
        out,
        "  gone       {:>9} professionals (listed by the previous import, not by this one)",
        report.gone
    )?;
    writeln!(out, "  organisations created: {}", report.organisations_new)?;
    if report.repeated > 0 {
        writeln!(
            out,
            "  {} professionals were met again later in the file; their activities were merged",
            report.repeated
        )?;
    }
    for p in &report.problems {
        writeln!(err, "line {}: {}", p.line, p.reason)?;
    }
    let unlisted = report
        .malformed
        .saturating_sub(report.problems.len() as u64);
    if unlisted > 0 {
        writeln!(
            err,
            "… and {unlisted} more malformed lines (the first {MAX_PROBLEMS} are listed)"
        )?;
    }
    Ok(())
}
