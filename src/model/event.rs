//! What the scheduler tells the reporters while it runs. Workers never print: they send
//! these to the one thread that renders.

use super::Outcome;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    /// The first process of a gate started.
    Started { gate: usize },
    /// A gate has its final outcome (it ran, or was skipped or blocked).
    Finished { gate: usize, outcome: &'a Outcome },
}
