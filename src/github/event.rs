//! Which commits a GitHub Actions run is about, from the event payload: the change set of
//! a pull request is its base..head (not `GITHUB_SHA`, a test merge commit), of a push
//! before..after, of a merge queue entry the group's base..head.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// The commits to compare, as the event names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Range {
    /// merge-base(base, head)..head.
    Between { base: String, head: String },
    /// A push that created a branch: compare with the default branch.
    NewBranch { head: String, default_branch: String },
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// The range for `event` (its name) with payload at `path`; `None` for events without one
/// (`workflow_dispatch`, `schedule`, …), where `settings.base` applies.
pub(crate) fn range(event: &str, path: &Path) -> Result<Option<Range>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the GitHub event payload `{}`", path.display()))?;
    let payload: Value = serde_json::from_str(&text)
        .with_context(|| format!("the GitHub event payload `{}` is not JSON", path.display()))?;
    let text_at = |pointer: &str| payload.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let range = match event {
        "pull_request" | "pull_request_target" => {
            match (text_at("/pull_request/base/sha"), text_at("/pull_request/head/sha")) {
                (Some(base), Some(head)) => Some(Range::Between { base, head }),
                _ => None,
            }
        }
        "push" => match (text_at("/before"), text_at("/after")) {
            (Some(_), Some(after)) if after == ZERO => None, // a deleted branch
            (Some(before), Some(head)) if before == ZERO => {
                text_at("/repository/default_branch").map(|default_branch| Range::NewBranch { head, default_branch })
            }
            (Some(base), Some(head)) => Some(Range::Between { base, head }),
            _ => None,
        },
        "merge_group" => match (text_at("/merge_group/base_sha"), text_at("/merge_group/head_sha")) {
            (Some(base), Some(head)) => Some(Range::Between { base, head }),
            _ => None,
        },
        _ => None,
    };
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_of(event: &str, payload: &str) -> Option<Range> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, payload).unwrap();
        range(event, &path).unwrap()
    }

    #[test]
    fn pull_requests_use_base_and_head_not_the_merge_commit() {
        let payload = r#"{"pull_request":{"base":{"sha":"b1"},"head":{"sha":"h1"}}}"#;
        let expected = Some(Range::Between {
            base: "b1".into(),
            head: "h1".into(),
        });
        assert_eq!(range_of("pull_request", payload), expected);
        assert_eq!(range_of("pull_request_target", payload), expected);
    }

    #[test]
    fn pushes_new_branches_and_merge_groups() {
        assert_eq!(
            range_of("push", r#"{"before":"a","after":"b"}"#),
            Some(Range::Between {
                base: "a".into(),
                head: "b".into()
            })
        );
        assert_eq!(
            range_of(
                "push",
                &format!(r#"{{"before":"{ZERO}","after":"b","repository":{{"default_branch":"main"}}}}"#)
            ),
            Some(Range::NewBranch {
                head: "b".into(),
                default_branch: "main".into()
            })
        );
        assert_eq!(
            range_of("merge_group", r#"{"merge_group":{"base_sha":"x","head_sha":"y"}}"#),
            Some(Range::Between {
                base: "x".into(),
                head: "y".into()
            })
        );
        assert_eq!(range_of("workflow_dispatch", "{}"), None);
    }
}
