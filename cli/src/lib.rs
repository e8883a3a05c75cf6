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
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Order number (as finance sees it) or commercetools order id.
    pub order: String,
    /// The folder `ctvisma run` wrote its ledger to.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
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
    }
}
