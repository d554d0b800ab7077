//! An error message and, apart from it, what the user can do about it.

use std::fmt;

/// What went wrong and, when gate knows one, the next step for the user. Kept apart so a
/// renderer can place the hint (under a config snippet, after the causes) instead of
/// finding it in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hinted(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// An error and its causes as one message (`outer: inner`), with the hint of whichever
    /// of them carries one kept apart rather than spliced into the middle of the text.
    pub(crate) fn from_error(error: &anyhow::Error) -> Self {
        let (causes, hint) = Self::causes(error);
        Self {
            message: causes.join(": "),
            hint,
        }
    }

    /// The messages of an error and each of its causes, outermost first, and the first hint
    /// any of them carries.
    pub(crate) fn causes(error: &anyhow::Error) -> (Vec<String>, Option<String>) {
        // `context(Problem)` hides the type inside anyhow's wrapper, where only anyhow's
        // own downcast finds it; a cause that shows exactly as it does is that Problem.
        let wrapped = error.downcast_ref::<Self>();
        let mut hint = None;
        let messages = error
            .chain()
            .map(|cause| {
                let problem = cause
                    .downcast_ref::<Self>()
                    .or_else(|| wrapped.filter(|p| p.to_string() == cause.to_string()));
                match problem {
                    Some(problem) => {
                        hint = hint.take().or_else(|| problem.hint.clone());
                        problem.message.clone()
                    }
                    None => cause.to_string(),
                }
            })
            .collect();
        // Said by the system, with nothing of gate's to add: what to do is the same anywhere.
        let full = error.chain().any(|cause| {
            cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            })
        });
        if hint.is_none() && full {
            hint = Some("the disk is full (or your quota is used up): free some space and run again".to_owned());
        }
        (messages, hint)
    }
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// The message, then `hint: …` on a line of its own: how every text output shows it.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_hint_on_its_own_line() {
        assert_eq!(Problem::new("broken").to_string(), "broken");
        assert_eq!(Problem::hinted("broken", "fix it").to_string(), "broken\nhint: fix it");
    }

    #[test]
    fn a_full_disk_says_what_to_do() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let err = anyhow::Error::from(full).context("failed to set `a.py` aside");
        let (causes, hint) = Problem::causes(&err);
        assert_eq!(causes[0], "failed to set `a.py` aside");
        assert!(hint.is_some_and(|h| h.starts_with("the disk is full")));
        let other = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(Problem::causes(&other).1, None);
    }

    #[test]
    fn an_anyhow_error_made_of_it_keeps_it_apart() {
        let err = anyhow::Error::from(Problem::hinted("broken", "fix it"));
        assert_eq!(
            err.downcast_ref::<Problem>().and_then(|p| p.hint.as_deref()),
            Some("fix it")
        );
    }
}
