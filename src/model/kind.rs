//! What sort of gate it is, and where in the life of a change it runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, de};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Format,
    Lint,
    Typecheck,
    Test,
    Custom,
    /// Built in: total and patch coverage from coverage reports.
    Coverage,
    /// Built in: lockfiles against an offline vulnerability database.
    Audit,
    /// Built in: a hygiene check (`builtin = "trailing-whitespace"`, …).
    Builtin,
    /// Built in: secrets in what the change adds.
    Secrets,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Format => "format",
            Kind::Lint => "lint",
            Kind::Typecheck => "typecheck",
            Kind::Test => "test",
            Kind::Custom => "custom",
            Kind::Coverage => "coverage",
            Kind::Audit => "audit",
            Kind::Builtin => "builtin",
            Kind::Secrets => "secrets",
        }
    }
}

/// Where a gate runs: a git hook, CI, or by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Stage {
    PreCommit,
    PreMergeCommit,
    PrepareCommitMsg,
    CommitMsg,
    PostCommit,
    PostCheckout,
    PostMerge,
    PostRewrite,
    PreRebase,
    PrePush,
    Ci,
    Manual,
}

impl Stage {
    pub(crate) const ALL: [Stage; 12] = [
        Stage::PreCommit,
        Stage::PreMergeCommit,
        Stage::PrepareCommitMsg,
        Stage::CommitMsg,
        Stage::PostCommit,
        Stage::PostCheckout,
        Stage::PostMerge,
        Stage::PostRewrite,
        Stage::PreRebase,
        Stage::PrePush,
        Stage::Ci,
        Stage::Manual,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stage::PreCommit => "pre-commit",
            Stage::PreMergeCommit => "pre-merge-commit",
            Stage::PrepareCommitMsg => "prepare-commit-msg",
            Stage::CommitMsg => "commit-msg",
            Stage::PostCommit => "post-commit",
            Stage::PostCheckout => "post-checkout",
            Stage::PostMerge => "post-merge",
            Stage::PostRewrite => "post-rewrite",
            Stage::PreRebase => "pre-rebase",
            Stage::PrePush => "pre-push",
            Stage::Ci => "ci",
            Stage::Manual => "manual",
        }
    }

    /// The hooks whose change set is what the next commit records.
    pub(crate) fn commits_the_index(self) -> bool {
        matches!(
            self,
            Stage::PreCommit | Stage::PreMergeCommit | Stage::PrepareCommitMsg | Stage::CommitMsg
        )
    }

    /// `` `pre-commit`, `pre-push`, … `` for hints.
    pub(crate) fn listed() -> String {
        Stage::ALL
            .iter()
            .map(|s| format!("`{}`", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown stage `{text}`, expected one of {}", Stage::listed()))
    }
}

impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}
