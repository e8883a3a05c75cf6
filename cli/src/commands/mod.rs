pub mod check_rules;
pub mod export_sie;
pub mod map;
pub mod reconcile;
pub mod redrive;
pub mod replay;
pub mod run;
pub mod status;
pub mod sync_stock;

use std::io::Write;

/// A setup failure (unreadable rules, a bad environment, no runtime): one JSON line on stderr and
/// the setup exit code.
pub(crate) fn setup_error(err: &mut dyn Write, message: &str) -> i32 {
    let _ = writeln!(err, "{}", serde_json::json!({"error": "setup", "message": message}));
    crate::exit::SETUP
}

/// The runtime of the commands that handle messages: two workers, as a Lambda's vCPUs.
pub(crate) fn runtime(err: &mut dyn Write) -> Result<tokio::runtime::Runtime, i32> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| setup_error(err, &format!("tokio runtime: {e}")))
}
