//! The built-in audit gate: every lockfile of the repository against the offline OSV
//! database; with `new_only`, only what the change introduced.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::audit::{self, Audit, Policy};
use crate::config::AuditSpec;
use crate::git::Repo;
use crate::git::changes::ChangeSet;
use crate::model::{Diagnostic, Problem, Verdict};

#[derive(Debug)]
pub(crate) struct AuditJob {
    pub(crate) spec: AuditSpec,
    pub(crate) root: PathBuf,
    /// Every lockfile of the repository, repository-relative.
    pub(crate) lockfiles: Vec<PathBuf>,
    pub(crate) changes: ChangeSet,
}

impl AuditJob {
    pub(crate) fn run(&self) -> Result<Verdict> {
        let db = self.spec.db()?;
        let today = audit::today();
        let mut result = audit::audit(&self.root, &self.lockfiles, &db, &self.spec.policy, today)?;
        // The lockfiles as they are now against the same files at the base commit (for a
        // commit, HEAD): only findings the change brought in remain.
        if self.spec.new_only
            && let Some(base) = self.changes.base
        {
            let known = self.at_base(base, &db, today)?;
            result.findings.retain(|f| {
                !known
                    .iter()
                    .any(|k| k.id == f.id && k.package == f.package && k.version == f.version)
            });
        }
        Ok(verdict(&result, &self.spec.policy))
    }

    /// The findings the lockfiles had at the base commit, read from git into a scratch folder.
    fn at_base(&self, base: git2::Oid, db: &Path, today: jiff::civil::Date) -> Result<Vec<audit::Finding>> {
        let repo = Repo::open()?;
        let tree = repo.git.find_commit(base)?.tree()?;
        let scratch = repo
            .git
            .path()
            .join("gate")
            .join(format!("base-{}", std::process::id()));
        let mut present = Vec::new();
        let write = |relative: &Path, id: git2::Oid| -> Result<()> {
            let blob = repo.git.find_blob(id)?;
            let path = scratch.join(relative);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            Ok(std::fs::write(&path, blob.content())?)
        };
        for lockfile in &self.lockfiles {
            let Ok(entry) = tree.get_path(lockfile) else { continue };
            write(lockfile, entry.id())?;
            present.push(lockfile.clone());
            // Requirement files include their neighbours (`-r base.txt`): bring those along.
            if audit::lockfile::Kind::of(lockfile) == Some(audit::lockfile::Kind::Requirements) {
                let dir = lockfile.parent().unwrap_or(Path::new(""));
                let folder = if dir.as_os_str().is_empty() {
                    Some(tree.clone())
                } else {
                    tree.get_path(dir).ok().and_then(|e| repo.git.find_tree(e.id()).ok())
                };
                for entry in folder.iter().flat_map(git2::Tree::iter) {
                    let name = entry.name().unwrap_or_default();
                    if entry.kind() == Some(git2::ObjectType::Blob)
                        && Path::new(name)
                            .extension()
                            .is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("in"))
                    {
                        write(&dir.join(name), entry.id())?;
                    }
                }
            }
        }
        let result = audit::audit(&scratch, &present, db, &self.spec.policy, today);
        let _ = std::fs::remove_dir_all(&scratch);
        Ok(result?.findings)
    }
}

pub(crate) fn verdict(audit: &Audit, policy: &Policy) -> Verdict {
    let diagnostics: Vec<Diagnostic> = audit.diagnostics(policy.unaudited_warns);
    let unaudited = audit.unaudited_lines();
    let mut notes: Vec<String> = audit.notes.iter().map(|n| format!("note: {n}")).collect();
    let level = if policy.unaudited_warns { "warning" } else { "error" };
    notes.extend(unaudited.iter().map(|line| format!("{level}: {line}")));
    let error = (!unaudited.is_empty() && !policy.unaudited_warns).then(|| {
        Problem::hinted(format!("{} not audited", if audit.unaudited.len() == 1 { "1 entry".to_owned() } else { format!("{} entries", audit.unaudited.len()) }), "update the database (`gate audit --update`), fix the versions, or set `ecosystems = [...]` or `unaudited = \"warn\"` on the gate")
    });
    Verdict {
        passed: audit.failing() == 0,
        summary: audit.summary(),
        diagnostics,
        notes,
        details: serde_json::to_value(audit).ok(),
        error,
    }
}
