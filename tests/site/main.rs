//! One test binary for: cli ci fmt golden isolation reach atomic parse_differential.
//! (A binary per file cost a link each on every CI run.)

mod atomic;
mod ci;
mod cli;
#[path = "../common/mod.rs"]
mod common;
mod fmt;
mod golden;
mod isolation;
mod parse_differential;
mod reach;
