//! One test binary for: cli ci fmt golden isolation reach atomic parse_differential.
//! (A binary per file cost a link each on every CI run.)

#[path = "../common/mod.rs"]
mod common;
mod cli;
mod ci;
mod fmt;
mod golden;
mod isolation;
mod reach;
mod atomic;
mod parse_differential;
