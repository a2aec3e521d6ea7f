//! The one error type of the tool: what goes wrong that is not the spec's
//! fault (a spec's faults are [`crate::diagnostics::Diagnostic`]s). Every
//! stage returns it, so no stage imports another's error type: `bundle`
//! does not know `lower`, and "was it superseded" is a variant, not a
//! message compared as text.

/// An error that is not the spec's fault; the command exits with 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An input could not be read, or the command line names none.
    Input(String),
    /// The bundle could not be written, or read back.
    Io(String),
    /// A template that does not render, or output that breaks a format
    /// rule the checks should have caught: a bug.
    Internal(String),
    /// The analysis was abandoned for a newer edit ([`crate::Options::cancel`]).
    Superseded,
}

impl Error {
    pub fn is_superseded(&self) -> bool {
        matches!(self, Error::Superseded)
    }

    /// The message, as printed after `error: `.
    pub fn message(&self) -> &str {
        match self {
            Error::Input(m) | Error::Io(m) | Error::Internal(m) => m,
            Error::Superseded => "the analysis was superseded by a newer edit",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
