//! The scheduler driven by fake jobs: blocking, fail-fast, fixer exclusion, batch
//! combining and ordering, and termination on random dependency graphs.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Mutex;

use super::*;
use crate::select::FileSet;

/// A fake process: `pass`, `fail` or `slow` (passes after 30 ms), by program name;
/// it records when each gate's batches ran.
#[derive(Default)]
struct Fake {
    ran: Mutex<Vec<(String, Instant, Instant)>>,
}

impl Runner for Fake {
    fn command(&self, command: &Cmd) -> Finished {
        let start = Instant::now();
        let program = command.program.to_string_lossy().into_owned();
        let exit = match program.as_str() {
            "fail" => Exit::Code(1),
            "slow" => {
                std::thread::sleep(Duration::from_millis(30));
                Exit::Code(0)
            }
            _ => Exit::Code(0),
        };
        let gate = command
            .env
            .iter()
            .find(|(k, _)| k == "GATE_NAME")
            .map(|(_, v)| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        let batch = command
            .args
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.ran.lock().unwrap().push((gate, start, Instant::now()));
        Finished::new(exit, format!("{batch}\n").into_bytes())
    }

    fn builtin(&self, _: &BuiltinJob, _: Option<SystemTime>) -> Result<Verdict, Problem> {
        Err(Problem::new("no built-in gates here"))
    }
}

/// Gates `(name, program, batches, depends_on, files, fixing)`.
type Spec<'a> = (&'a str, &'a str, usize, &'a [usize], &'a [&'a str], bool);

fn setup(specs: &[Spec<'_>]) -> (Config, Vec<GatePlan>) {
    let text = specs.iter().fold(String::new(), |text, (name, ..)| {
        text + &format!("[gates.{name}]\nkind = \"lint\"\nrun = [\"x\"]\n")
    });
    let mut config = crate::config::parse(&text, Path::new("gates.toml"), Path::new("/")).unwrap();
    let plans = specs
        .iter()
        .zip(&mut config.gates)
        .map(|((name, program, batches, depends_on, files, fixing), gate)| {
            gate.depends_on = depends_on.to_vec();
            let commands = (0..*batches)
                .map(|batch| Cmd {
                    program: PathBuf::from(program),
                    args: vec![OsString::from(format!("batch {batch}"))],
                    cwd: PathBuf::from("/"),
                    env: vec![("GATE_NAME".into(), (*name).into())],
                    env_remove: Vec::new(),
                    timeout: None,
                    file_args: 1,
                })
                .collect();
            GatePlan {
                decision: Decision::Run(commands),
                files: FileSet {
                    matched: std::sync::Arc::new(files.iter().map(PathBuf::from).collect()),
                    args: std::sync::Arc::new(files.iter().map(PathBuf::from).collect()),
                },
                fixing: *fixing,
            }
        })
        .collect();
    (config, plans)
}

fn run(fake: &Fake, specs: &[Spec<'_>], jobs: usize, fail_fast: bool) -> HashMap<String, Outcome> {
    let (config, plans) = setup(specs);
    let options = Options { jobs, fail_fast };
    let outcomes = execute_with(
        fake,
        Path::new("/"),
        Planned {
            config: &config,
            plans: &plans,
        },
        &options,
        &mut |_| {},
    )
    .unwrap();
    outcomes.into_iter().map(|o| (o.name.clone(), o)).collect()
}

#[test]
fn a_failed_dependency_blocks_its_dependents_and_theirs() {
    let fake = Fake::default();
    let outcomes = run(
        &fake,
        &[
            ("a", "fail", 1, &[], &["f"], false),
            ("b", "pass", 1, &[0], &["f"], false),
            ("c", "pass", 1, &[1], &["f"], false),
            ("d", "pass", 1, &[], &["f"], false),
        ],
        2,
        false,
    );
    assert_eq!(outcomes["a"].status, Status::Failed);
    assert_eq!(outcomes["b"].status, Status::Blocked);
    assert_eq!(outcomes["c"].status, Status::Blocked);
    assert_eq!(outcomes["d"].status, Status::Passed);
    let ran: Vec<String> = fake.ran.lock().unwrap().iter().map(|r| r.0.clone()).collect();
    assert!(
        !ran.contains(&"b".to_owned()) && !ran.contains(&"c".to_owned()),
        "{ran:?}"
    );
}

#[test]
fn fail_fast_starts_nothing_after_a_failure() {
    let fake = Fake::default();
    let outcomes = run(
        &fake,
        &[
            ("a", "fail", 1, &[], &["f"], false),
            ("b", "pass", 1, &[0], &["f"], false),
            ("c", "pass", 1, &[0], &["f"], false),
        ],
        1,
        true,
    );
    assert_eq!(outcomes["a"].status, Status::Failed);
    assert!(
        outcomes["b"].status == Status::Blocked && outcomes["c"].status == Status::Blocked,
        "{outcomes:?}"
    );
}

#[test]
fn a_fixer_never_runs_beside_a_gate_sharing_its_files() {
    let fake = Fake::default();
    let outcomes = run(
        &fake,
        &[
            ("fix", "slow", 1, &[], &["a.py"], true),
            ("lint", "slow", 1, &[], &["a.py"], false),
            ("other", "slow", 1, &[], &["b.py"], false),
        ],
        3,
        false,
    );
    assert!(outcomes.values().all(|o| o.status == Status::Passed), "{outcomes:?}");
    let ran = fake.ran.lock().unwrap();
    let span = |name: &str| ran.iter().find(|r| r.0 == name).map(|r| (r.1, r.2)).unwrap();
    let (fix, lint) = (span("fix"), span("lint"));
    assert!(
        fix.1 <= lint.0 || lint.1 <= fix.0,
        "the fixer and the linter overlapped"
    );
}

#[test]
fn batches_combine_in_order_and_the_worst_decides() {
    let fake = Fake::default();
    let outcomes = run(&fake, &[("a", "pass", 3, &[], &["f"], false)], 3, false);
    assert_eq!(outcomes["a"].output, "batch 0\nbatch 1\nbatch 2\n");
    assert_eq!(outcomes["a"].processes, 3);
    let outcomes = run(&fake, &[("b", "fail", 2, &[], &["f"], false)], 2, false);
    assert_eq!(outcomes["b"].status, Status::Failed);
    assert_eq!(outcomes["b"].exit_code, Some(1));
}

/// A small deterministic generator, so a failing graph replays by seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n) as usize
    }
}

#[test]
fn random_dependency_graphs_with_duplicates_always_end() {
    let programs = ["pass", "fail", "pass", "slow"];
    for seed in 0..300u64 {
        let mut rng = Rng(seed);
        let count = 1 + rng.below(7);
        let names: Vec<String> = (0..count).map(|i| format!("g{i}")).collect();
        let deps: Vec<Vec<usize>> = (0..count)
            .map(|i| {
                let mut deps: Vec<usize> = (0..rng.below(4))
                    .filter(|_| i > 0)
                    .map(|_| rng.below(i as u64))
                    .collect();
                if let Some(&first) = deps.first() {
                    deps.push(first); // a duplicate, which config rejects but the scheduler must survive
                }
                deps
            })
            .collect();
        let specs: Vec<Spec<'_>> = (0..count)
            .map(|i| {
                (
                    names[i].as_str(),
                    programs[rng.below(4)],
                    1 + rng.below(3),
                    deps[i].as_slice(),
                    &["f"][..],
                    rng.below(4) == 0,
                )
            })
            .collect();
        let fake = Fake::default();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let outcomes = run(&fake, &specs, 1 + rng_jobs(seed), seed % 2 == 0);
                let _ = send.send(outcomes);
            });
            let outcomes = receive
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("seed {seed} did not end: {specs:?}"));
            assert_eq!(outcomes.len(), count, "seed {seed}");
            for (i, name) in names.iter().enumerate() {
                let outcome = &outcomes[name];
                let failed_dependency = deps[i]
                    .iter()
                    .any(|&d| !outcomes[&names[d]].status.lets_dependents_run());
                if failed_dependency {
                    assert_eq!(outcome.status, Status::Blocked, "seed {seed}, {name}");
                } else {
                    // The fakes never error: a gate that could run did run.
                    assert_ne!(outcome.status, Status::Error, "seed {seed}, {name}: {outcome:?}");
                }
            }
        });
    }
}

fn rng_jobs(seed: u64) -> usize {
    (seed % 3) as usize
}
