//! STUB (replaced by the audited version): every tenant reaches every other.

use crate::ir::Site;
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    Key(String),
    Path { scope: String, path: String },
}

pub fn reach(_site: &Site, _plan: &Plan, _t: usize) -> Vec<Reach> {
    vec![Reach::Key("all".into())]
}
