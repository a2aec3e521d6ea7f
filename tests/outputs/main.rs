//! One test binary for: consumers scanners structure mtls yaml_oracle pure.
//! (A binary per file cost a link each on every CI run.)

#[path = "../common/mod.rs"]
mod common;
mod consumers;
mod mtls;
mod pure;
mod scanners;
mod structure;
mod yaml_oracle;
