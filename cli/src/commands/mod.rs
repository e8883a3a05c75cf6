pub mod export_sie;
pub mod map;
pub mod run;
pub mod status;
