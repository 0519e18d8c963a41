use std::process::ExitCode;

use clap::Parser;
use cordee_gateway::cli::{
    AciCommand, AuditCommand, Cli, Command, Common, DirectoryCommand, KeysCommand,
};
use cordee_gateway::config::Settings;
use cordee_gateway::{Gateway, keys, shutdown_signal, telemetry};
use cordee_pathway::audit::AuditVerdict;
use cordee_pathway::store::Store;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cordee: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

fn settings(common: Common) -> Result<Settings, ExitCode> {
    Settings::load(common.settings, common.config.as_deref()).map_err(|e| {
        eprintln!("cordee: {e}");
        ExitCode::from(2)
    })
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(common) => match settings(common) {
            Ok(s) => serve(s).await,
            Err(code) => return code,
        },
        Command::Migrate(common) => match settings(common) {
            Ok(s) => migrate(s).await,
            Err(code) => return code,
        },
        Command::Keys(KeysCommand::Init(common)) => match settings(common) {
            Ok(s) => keys::init(&s.master_key_file).map(|()| {
                println!(
                    "master key written to {} (mode 0600); keep a copy offline",
                    s.master_key_file.display()
                );
                ExitCode::SUCCESS
            }),
            Err(code) => return code,
        },
        Command::Keys(KeysCommand::Rotate(args)) => match settings(args.common) {
            Ok(s) => {
                telemetry::init(s.log_format, &s.log);
                keys::rotate(&s, args.retire, &mut std::io::stdout())
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            Err(code) => return code,
        },
        Command::Audit(AuditCommand::Verify(args)) => match settings(args.common) {
            Ok(s) => audit_verify(s, args.witness.as_deref()).await,
            Err(code) => return code,
        },
        Command::Audit(AuditCommand::Head(common)) => match settings(common) {
            Ok(s) => audit_head(s).await,
            Err(code) => return code,
        },
        Command::Backup(args) => match settings(args.common) {
            Ok(s) => backup(s, &args.to).await,
            Err(code) => return code,
        },
        Command::Directory(DirectoryCommand::Import(args)) => match settings(args.common) {
            Ok(s) => {
                telemetry::init(s.log_format, "warn");
                cordee_gateway::directory::import(
                    &s,
                    &args.file,
                    args.communes,
                    &mut std::io::stdout(),
                    &mut std::io::stderr(),
                )
                .await
            }
            Err(code) => return code,
        },
        Command::Aci(AciCommand::Load(args)) => match settings(args.common) {
            Ok(s) => {
                telemetry::init(s.log_format, "warn");
                cordee_gateway::aci::load(&s, &args.file, &mut std::io::stdout()).await
            }
            Err(code) => return code,
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cordee: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    telemetry::init(settings.log_format, &settings.log);
    let listen = settings.listen;
    let public_url = settings.public_url.clone();
    let demo = settings.demo;
    let gateway = Gateway::build(settings).await?;
    if demo {
        let store = &gateway.state().store;
        let now = gateway.state().now();
        if let Some(r) = cordee_gateway::directory::seed_demo(store, now).await? {
            println!(
                "Demo directory: {} professionals of a fictional territory of the Nord imported",
                r.new
            );
        }
        if cordee_gateway::demo::seed(store, now).await? {
            println!("Demo data created: patients, care teams, file entries and conversations.");
        }
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("CORDEE_LISTEN: cannot listen on {listen}: {e}"))?;
    let bound = listener.local_addr()?;
    tracing::info!(address = %bound, demo, "cordee is listening");
    println!("Cordée is running at {public_url}/ (listening on {bound})");
    if demo {
        println!(
            "Demo mode: data under ./data, PSC sandbox enabled. Do not put real patients here."
        );
        println!("Open {public_url}/ and log in as one of these personas:");
        for p in cordee_gateway::sandbox::personas::PERSONAS {
            println!(
                "  {:<16} {:<14} {} {}, {}",
                p.hint,
                p.idp.provider_id(),
                p.given_name,
                p.family_name,
                p.who
            );
        }
        println!(
            "Scripts: {public_url}/v1/auth/login?provider=psc-sandbox&login_hint=nurse-bernard&redirect_to=/v1/me"
        );
    }
    gateway.run(listener, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn backup(settings: Settings, to: &std::path::Path) -> anyhow::Result<ExitCode> {
    telemetry::init(settings.log_format, "warn");
    let db = cordee_gateway::connect(&settings).await?;
    let written = db.backup_to(to).await;
    db.close().await;
    let bytes = written?;
    println!(
        "backup written to {} ({:.1} MB, integrity checked)",
        to.display(),
        bytes as f64 / 1_048_576.0
    );
    println!(
        "It is sealed with the master key {}: keep a copy of that key apart from the backup. \
         Without the key the backup is unreadable; with both, everything is.",
        settings.master_key_file.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn migrate(settings: Settings) -> anyhow::Result<ExitCode> {
    telemetry::init(settings.log_format, &settings.log);
    let db = cordee_gateway::connect(&settings).await?;
    db.migrate().await?;
    let ready = db.readiness().await;
    db.close().await;
    println!("migrations applied; {} pending", ready.pending_migrations);
    Ok(ExitCode::SUCCESS)
}

async fn audit_store(settings: &Settings) -> anyhow::Result<Store> {
    telemetry::init(settings.log_format, "warn");
    let file = keys::load(&settings.master_key_file)?;
    Ok(Store::open(
        cordee_gateway::connect(settings).await?,
        keys::keys_for(settings, &file)?,
        cordee_gateway::clock::Clock::system().time_source(),
    ))
}

async fn audit_head(settings: Settings) -> anyhow::Result<ExitCode> {
    let store = audit_store(&settings).await?;
    let (seq, hash) = store.audit_head().await?;
    store.db().close().await;
    println!("{seq}:{}", hex::encode(hash));
    Ok(ExitCode::SUCCESS)
}

/// `SEQ:HASH` as printed by `cordee audit head`.
fn parse_witness(text: &str) -> anyhow::Result<(i64, [u8; 32])> {
    let bad = || anyhow::anyhow!("--witness must be SEQ:HASH as printed by `cordee audit head`");
    let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    let hash: [u8; 32] = hex::decode(hash)
        .ok()
        .and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
        .ok_or_else(bad)?;
    Ok((seq, hash))
}

async fn audit_verify(settings: Settings, witness: Option<&str>) -> anyhow::Result<ExitCode> {
    let witness = witness.map(parse_witness).transpose()?;
    let store = audit_store(&settings).await?;
    let verdict = match witness {
        Some(w) => store.verify_audit_against(w).await?,
        None => store.verify_audit().await?,
    };
    store.db().close().await;
    Ok(match verdict {
        AuditVerdict::Intact {
            records,
            checkpoints,
            head_seq,
        } => {
            println!(
                "audit chain intact: {records} records up to #{head_seq}, {checkpoints} checkpoints verified"
            );
            ExitCode::SUCCESS
        }
        AuditVerdict::Broken { seq, reason } => {
            println!("audit chain BROKEN at record #{seq}: {reason}");
            ExitCode::FAILURE
        }
    })
}
