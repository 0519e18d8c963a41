//! The `cordee` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Layer;

#[derive(Parser)]
#[command(
    name = "cordee",
    version,
    about = "Cordée: secure coordination for the health professionals of a CPTS"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway. With no configuration at all it is a working demo on 127.0.0.1:8443.
    Serve(Common),
    /// Apply pending database migrations and exit.
    Migrate(Common),
    /// Master key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Audit log checks.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent, checked copy of the SQLite database while the gateway keeps
    /// serving (PostgreSQL: use pg_dump). The copy is sealed with the master key: keep
    /// that key apart from it.
    Backup(BackupArgs),
    /// The territory's directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// The ACI contract's agreement tables.
    #[command(subcommand)]
    Aci(AciCommand),
}

#[derive(Subcommand)]
pub enum AciCommand {
    /// Load an agreement version's amounts (for example avenant 2) from a JSON file
    /// (format in docs/aci.md); a version already loaded is refused.
    Load(AciLoadArgs),
}

#[derive(Args)]
pub struct AciLoadArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Import the ANS extraction PS_LibreAcces_Personne_activite (pipe-separated, one
    /// line per activity): adds, updates and removes professionals, prints the counts
    /// (read, kept, new, updated, gone) and the malformed lines. Re-running it with the
    /// same file changes nothing.
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// The extraction, e.g. PS_LibreAcces_Personne_activite_202611230800.txt.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// INSEE codes of the communes to keep, comma-separated (59350,59328). Default: the
    /// communes of the CPTS profile, or every line when it lists none.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub communes: Option<Vec<String>>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write a new master key file (mode 0600); refuses to overwrite an existing file.
    Init(Common),
    /// Add a new key version and rewrap every data key with it, while the gateway keeps serving.
    /// Resumes an interrupted rotation instead of adding another version.
    Rotate(RotateArgs),
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the audit hash chain and its checkpoints; exit 0 when intact, 1 and the first broken record otherwise.
    Verify(VerifyArgs),
    /// Print the newest record as a witness (`SEQ:HASH`). Keep it outside this database
    /// (run it on a schedule into another system): `verify --witness` then also
    /// catches the newest records being deleted with their checkpoints.
    Head(Common),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// A head printed earlier by `cordee audit head`; that record must still be there.
    #[arg(long, value_name = "SEQ:HASH")]
    pub witness: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Settings shared by every command.
#[derive(Args)]
pub struct Common {
    /// TOML settings file; CORDEE_* variables and flags override its keys.
    #[arg(long, env = "CORDEE_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Layer,
}

#[derive(Args)]
pub struct BackupArgs {
    /// The file to write; never overwritten.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args)]
pub struct RotateArgs {
    /// After rewrapping, remove the older versions from the key file (refused while any
    /// data key still needs them).
    #[arg(long)]
    pub retire: bool,
    #[command(flatten)]
    pub common: Common,
}
