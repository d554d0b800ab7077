//! The processes a command started, from `/proc`: those of its process group (a timeout or
//! a leftover stops the group), and those that left the group (`setsid`, a daemon's double
//! fork) but still hold the command's output. Gate adopts orphans (a child subreaper), so
//! every process a command started stays a descendant of gate's while gate runs, and only
//! gate's own descendants are ever signalled.

use std::collections::HashMap;
use std::os::fd::AsFd;

/// From now on orphaned descendants are reparented to gate instead of to init: a process
/// that left a command's group is then still found among gate's descendants. Once per
/// process; gate never waits for them (they are reaped with gate's exit).
pub(crate) fn adopt_orphans() {
    // Without it (not Linux, or refused) a process that left the group is only not found.
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
}

/// Reaps the adopted orphans that have exited: each would stay a zombie of gate's until gate
/// exits. Only a child that is certainly no process gate started itself (those are waited
/// for by whoever started them): one in another session, or in a process group that is
/// neither its own (gate starts each tool as a group leader) nor gate's (everything else
/// gate starts). One `waitid` that peeks, when nothing has exited.
pub(crate) fn reap_adopted() {
    // SAFETY: getpgrp and getsid have no preconditions.
    let (group, session) = unsafe { (libc::getpgrp(), libc::getsid(0)) };
    loop {
        // SAFETY: waitid writes into `info`, which is zeroed (si_pid 0: nothing exited);
        // WNOWAIT leaves the child to be waited for.
        let pid = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
            if libc::waitid(libc::P_ALL, 0, &raw mut info, flags) != 0 {
                return;
            }
            info.si_pid()
        };
        if pid == 0 || !adopted(pid, group, session) {
            return; // nothing exited, or the first to exit is another's to wait for
        }
        // SAFETY: a child of gate's that nobody else waits for (see above).
        unsafe {
            libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
        }
    }
}

/// Whether the child `pid` is an adopted orphan (see [`reap_adopted`]).
fn adopted(pid: i32, group: i32, session: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
        return false;
    };
    let fields: Vec<i32> = after
        .split_whitespace()
        .skip(2)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields[..] {
        [its_group, its_session] => its_session != session || (its_group != pid && its_group != group),
        _ => false,
    }
}

/// One line of `/proc/<pid>/stat`, the fields read here.
struct Stat {
    pid: i32,
    state: char,
    parent: i32,
    group: i32,
    rss_pages: u64,
}

/// Every process `/proc` shows.
fn each_process(each: &mut dyn FnMut(&Stat)) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for (pid, stat) in entries.flatten().filter_map(|e| {
        let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
        Some((pid, std::fs::read_to_string(e.path().join("stat")).ok()?))
    }) {
        // After the command name in parentheses: state, ppid, pgrp, … rss (the 22nd).
        let Some(after) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        let number = |at: usize| fields.get(at).and_then(|f| f.parse::<i32>().ok());
        let (Some(parent), Some(group)) = (number(1), number(2)) else {
            continue;
        };
        each(&Stat {
            pid,
            state: fields.first().and_then(|s| s.chars().next()).unwrap_or('?'),
            parent,
            group,
            rss_pages: fields.get(21).and_then(|r| r.parse().ok()).unwrap_or(0),
        });
    }
}

/// Resident pages of every process in `group`.
pub(super) fn group_pages(group: i32) -> u64 {
    let mut pages = 0;
    each_process(&mut |p| {
        if p.group == group {
            pages += p.rss_pages;
        }
    });
    pages
}

/// The processes of `group` that are stopped. A process outside the terminal's foreground
/// group that reads it (a password or host-key prompt) is stopped by the kernel (SIGTTIN)
/// and would wait for ever, where gate's live view holds the terminal.
pub(super) fn stopped_in(group: i32) -> Vec<i32> {
    let mut stopped = Vec::new();
    each_process(&mut |p| {
        if p.group == group && p.state == 'T' {
            stopped.push(p.pid);
        }
    });
    stopped
}

/// Gate's descendants outside `group` that hold `pipe` (a command's output) open.
pub(super) fn holders_outside(group: i32, pipe: impl AsFd) -> Vec<i32> {
    let Ok(inode) = rustix::fs::fstat(pipe).map(|s| s.st_ino) else {
        return Vec::new();
    };
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut groups: HashMap<i32, i32> = HashMap::new();
    each_process(&mut |p| {
        children.entry(p.parent).or_default().push(p.pid);
        groups.insert(p.pid, p.group);
    });
    let wanted = format!("pipe:[{inode}]");
    let mut holders = Vec::new();
    let mut next: Vec<i32> = children.get(&me).cloned().unwrap_or_default();
    while let Some(pid) = next.pop() {
        next.extend(children.get(&pid).into_iter().flatten());
        if groups.get(&pid) == Some(&group) {
            continue; // the group's signal reaches it
        }
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|to| to.as_os_str() == wanted.as_str()));
        if holds {
            holders.push(pid);
        }
    }
    holders
}
