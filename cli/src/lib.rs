//! `ctvisma`: the local and ops command. Each subcommand lives in `commands/`; this file only
//! parses arguments and dispatches, so tests can drive the same code in-process.

pub mod commands;
pub mod files;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "ctvisma", version, about = "commercetools → Visma: map, post and reconcile")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Map commercetools orders (resources, messages, SQS events; files or folders) to postings,
    /// printed as one JSON document. Problems go to stderr as JSON lines; exit 1 if any.
    Map(MapArgs),
    /// Map inputs as `map` does and write one entity's postings not yet exported as a SIE 4I file
    /// of vouchers. A state file beside the output (`.sie-exported-<entity>.json`) makes each
    /// posting exported once. Summary on stderr as JSON; exit 1 if some input was refused.
    ExportSie(ExportSieArgs),
    /// The main job on this machine: every message of the inputs through the same handler as
    /// the Lambdas, an SQLite ledger in `--out`, SIE files and a JSON journal there; a second run
    /// posts nothing new. Closing summary on stdout; problems as JSON lines on stderr.
    Run(RunArgs),
    /// What happened to an order (number or id): every message seen with its outcome and reason,
    /// every posting with its Visma document, from the ledger of `ctvisma run` (JSON on stdout).
    Status(StatusArgs),
    /// Checks the rules file: it parses and every entity's accounts and VAT rules are complete;
    /// with `--against visma`, each entity's Visma company has them, and (with CTP_* set) every
    /// tax category and shipping method of the commercetools project is mapped. Exit 1 if not.
    CheckRules(CheckRulesArgs),
    /// Re-runs the messages the local ledger recorded as parked or retry (after a rules fix)
    /// through the same handler as `run`; postings made before are never made twice.
    Replay(ReplayArgs),
    /// Moves parked messages from the parking queue back to their source queue (SQS), deleting
    /// each only after it was re-sent.
    Redrive(RedriveArgs),
    /// Compares the orders and payments of one day with what the ledger recorded as posted, per
    /// entity, currency and VAT code; writes `reconcile-<date>.md` and `.html`. Exit 1 on any
    /// difference.
    Reconcile(ReconcileArgs),
    /// The `stock` function once: each entity with `[entities.<ID>.stock]` synced in the
    /// direction its rules name (Visma levels onto commercetools inventory entries, or entries
    /// onto Visma stock balances), with CTP_* and EACCOUNTING_*; with paths, their InventoryEntry
    /// messages applied instead. JSON summary on stdout; exit 1 if an entity or SKU failed.
    SyncStock(SyncStockArgs),
}

/// Which ledger to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LedgerKind {
    /// DynamoDB when `IDEMPOTENCY_TABLE` and `LEDGER_TABLE` are set (as in the Lambdas), else
    /// the local SQLite ledger.
    Auto,
    /// `<out>/ctvisma.sqlite`, written by `ctvisma run`.
    Sqlite,
    /// The deployed stack's tables (`IDEMPOTENCY_TABLE`, `LEDGER_TABLE`; AWS credentials, region
    /// and `AWS_ENDPOINT_URL` as the AWS SDK reads them).
    Dynamodb,
}

#[derive(Debug, clap::Args)]
pub struct CheckRulesArgs {
    /// The posting rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// Also check against the live systems: `visma` (each entity's target company, and the
    /// commercetools project when CTP_* is set).
    #[arg(long, value_parser = ["visma"])]
    pub against: Option<String>,
    /// commercetools API and auth host (overrides CTP_API_URL and CTP_AUTH_URL; credentials
    /// still from CTP_*).
    #[arg(long)]
    pub ct_url: Option<String>,
    /// Where eAccounting's rotated refresh tokens are kept (as `run` keeps them).
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The posting rules file (the fixed one).
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// The folder `ctvisma run` wrote its ledger to.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Post every entity to this target instead of the one its rules name.
    #[arg(long, value_parser = parse_target)]
    pub target: Option<ctvisma_core::rules::Target>,
}

#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    /// The parking queue's URL.
    #[arg(long)]
    pub from: String,
    /// Send every message here instead of the queue named by its `source_queue` attribute.
    #[arg(long)]
    pub to: Option<String>,
    /// Only list what would be moved; nothing is sent or deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most this many messages.
    #[arg(long)]
    pub max: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The day (posting date, YYYY-MM-DD).
    #[arg(long)]
    pub date: String,
    /// Only this entity.
    #[arg(long)]
    pub entity: Option<String>,
    /// The posting rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// The ledger folder (SQLite) and where the report goes.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub ledger: LedgerKind,
    /// Recorded orders, payments and messages (files or folders); ignored when CTP_* is set
    /// (then the day's orders and their payments are read from commercetools).
    #[arg(default_value = "events")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SyncStockArgs {
    /// The rules file (its `[entities.<ID>.stock]` sections).
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// Only this entity.
    #[arg(long)]
    pub entity: Option<String>,
    /// Where the applied versions (ctvisma.sqlite) and eAccounting's refresh tokens are kept.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Writes in flight at once.
    #[arg(long, default_value_t = ctvisma_stock::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// InventoryEntry messages to apply (files or folders); none: sync every entity.
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Order number (as finance sees it) or commercetools order id.
    pub order: String,
    /// The folder `ctvisma run` wrote its ledger to.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Which ledger to read.
    #[arg(long, value_enum, default_value = "auto")]
    pub ledger: LedgerKind,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The posting rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// Where the ledger (ctvisma.sqlite), SIE files and journal go.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Post every entity to this target instead of the one its rules name.
    #[arg(long, value_parser = parse_target)]
    pub target: Option<ctvisma_core::rules::Target>,
    /// SQS event files, messages or resources; files or folders.
    #[arg(default_value = "events")]
    pub paths: Vec<PathBuf>,
}

fn parse_target(s: &str) -> Result<ctvisma_core::rules::Target, String> {
    match s {
        "sie" => Ok(ctvisma_core::rules::Target::Sie),
        "eaccounting" => Ok(ctvisma_core::rules::Target::Eaccounting),
        "vismanet" => Ok(ctvisma_core::rules::Target::Vismanet),
        other => Err(format!("{other:?} is not one of sie, eaccounting, vismanet")),
    }
}

#[derive(Debug, clap::Args)]
pub struct MapArgs {
    /// The posting rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// JSON files or folders of them.
    #[arg(default_value = "events")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExportSieArgs {
    /// The posting rules file.
    #[arg(long, default_value = "config/rules.toml")]
    pub rules: PathBuf,
    /// The entity (rules `entities.<ID>`) whose postings are exported.
    #[arg(long)]
    pub entity: String,
    /// The SIE file to write [default: out/<entity>-<YYYYMMDD>.si, today's date].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// JSON files, settlement CSVs or folders of them.
    #[arg(default_value = "events")]
    pub paths: Vec<PathBuf>,
}

/// Exit codes: 0 all mapped, 1 some input refused (details on stderr), 2 unusable setup.
pub mod exit {
    pub const OK: i32 = 0;
    pub const REFUSED: i32 = 1;
    pub const SETUP: i32 = 2;
}

/// Runs a parsed command, writing the result to `out` and problems to `err`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match cli.command {
        Command::Map(args) => commands::map::run(&args, out, err),
        Command::ExportSie(args) => commands::export_sie::run(&args, err),
        Command::Run(args) => commands::run::run(&args, out, err),
        Command::Status(args) => commands::status::run(&args, out, err),
        Command::CheckRules(args) => commands::check_rules::run(&args, out, err),
        Command::Replay(args) => commands::replay::run(&args, out, err),
        Command::Redrive(args) => commands::redrive::run(&args, out, err),
        Command::Reconcile(args) => commands::reconcile::run(&args, out, err),
        Command::SyncStock(args) => commands::sync_stock::run(&args, out, err),
    }
}
