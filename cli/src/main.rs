use std::io::{stderr, stdout};

use clap::Parser;

fn main() {
    let cli = ctvisma_cli::Cli::parse();
    let code = ctvisma_cli::run(cli, &mut stdout().lock(), &mut stderr().lock());
    std::process::exit(code);
}
