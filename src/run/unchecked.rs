//! What a run cannot check, named and left out of the change set: paths the set-aside had
//! to leave as they are, and (with nothing set aside) files beyond a directory that is now a
//! symbolic link.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::git::Repo;
use crate::git::changes::ChangeSet;
use crate::keeper::Keeper;
use crate::printer::Printer;

/// The change set without the paths the set-aside had to leave as they are (now a
/// directory, under a link), or, with nothing set aside, the files beyond a directory that
/// is now a link: they are named, and a tool would check something else.
pub(crate) fn checkable<'c>(
    printer: Printer,
    repo: &Repo,
    changes: &'c ChangeSet,
    keeper: Option<&Keeper<'_>>,
) -> std::borrow::Cow<'c, ChangeSet> {
    let unchecked: HashSet<PathBuf> = match keeper {
        Some(keeper) => keeper.left().iter().cloned().collect(),
        None => beyond_links(printer, repo.root(), changes),
    };
    if unchecked.is_empty() {
        return std::borrow::Cow::Borrowed(changes);
    }
    std::borrow::Cow::Owned(ChangeSet {
        files: changes
            .files
            .iter()
            .filter(|f| !unchecked.contains(&f.path))
            .cloned()
            .collect(),
        ..changes.clone()
    })
}

/// The files of `changes` beyond a directory that is now a symbolic link. As git sees it they
/// are not in the working tree, and a tool handed one would read outside the repository:
/// each link is named once, with how many files it hides.
fn beyond_links(printer: Printer, root: &Path, changes: &ChangeSet) -> HashSet<PathBuf> {
    use crate::git::stat;
    let Ok(tree) = stat::Root::open(root) else {
        return HashSet::new(); // the run fails on its own, saying why
    };
    let existing = changes.files.iter().filter(|f| f.exists()).map(|f| f.path.as_path());
    let linked = stat::linked_directories(&tree, existing);
    if linked.is_empty() {
        return HashSet::new();
    }
    let beyond: HashSet<PathBuf> = changes
        .files
        .iter()
        .filter(|f| stat::beyond_a_link(&linked, &f.path))
        .map(|f| f.path.clone())
        .collect();
    let mut links: Vec<&PathBuf> = linked
        .iter()
        .filter(|dir| dir.parent().is_none_or(|parent| !linked.contains(parent)))
        .collect();
    links.sort();
    for link in links {
        let hidden = beyond.iter().filter(|path| path.starts_with(link)).count();
        printer.warn(format_args!(
            "`{}` is now a symbolic link, and gate never reads through one: {} in it {} not checked",
            link.display(),
            crate::model::text::plural(hidden, "tracked file"),
            if hidden == 1 { "is" } else { "are" }
        ));
    }
    beyond
}
