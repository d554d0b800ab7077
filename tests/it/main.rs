//! Integration tests: the real binary against temporary git repositories.

mod architecture;
mod audit;
mod cache;
mod changes;
mod common;
mod config;
mod coverage;
mod detect;
mod fidelity;
mod github;
mod hooks;
mod hostile;
mod hygiene;
mod keeper;
mod keeper_random;
mod matrix;
mod migrate;
mod presets;
mod remote;
mod report;
mod run;
mod secrets;
mod snapshots;
mod timings;
