//! Use cases. The financing core is one folder per aggregate (DESIGN.md
//! section 3); each holds its `commands` (parse input into domain types,
//! decide, draft the entry), its `events` (the entry bodies it writes, each
//! an [`EntryBody`](crate::ledger::EntryBody) with its kind) and its
//! `projection` (how its entries change the read tables).
//!
//! Aggregates depend on one another in one direction only:
//!
//! ```text
//! common <- party, program, journal, bank_line
//! bank_line <- deposit, payout <- advance, payment <- treasury
//! program <- invoice
//! ```
//!
//! `events` gathers every body into the closed [`events::Event`] enum, which
//! `projector` matches exhaustively; no aggregate imports either. `treasury`
//! is not an aggregate: it imports statements and matches lines, writing
//! through the aggregates' commands. `reads` answers the queries, with who
//! may see what.
//!
//! Errors: a command refuses with [`LedgerError::Rejected`](crate::ledger::LedgerError)
//! carrying a [`domain::ErrorCode`](crate::domain::ErrorCode), one enum for
//! the whole application so that the API maps codes to statuses in one
//! place; an aggregate's own refusal helpers sit beside its commands.

pub mod advance;
pub mod bank_line;
pub mod common;
pub mod deposit;
pub mod events;
pub mod invoice;
pub mod journal;
pub mod party;
pub mod payment;
pub mod payout;
pub mod program;
pub mod projector;
pub mod reads;
pub mod treasury;
pub mod visibility;

pub mod api_keys;
pub mod clock;
pub mod demo;
pub mod export;
pub mod funder;
pub mod log_reads;
pub mod users;
pub mod webhooks;
pub mod witnesses;

use std::thread::JoinHandle;

use crate::db::DatabaseUrl;
use crate::ledger::note::LedgerKey;
use crate::ledger::{sequencer, Ledger, LedgerError, SequencerConfig};

/// Starts the ledger's writer with the application's projector.
pub fn start_ledger(
    url: &DatabaseUrl,
    key: LedgerKey,
    config: SequencerConfig,
) -> Result<(Ledger, JoinHandle<()>), LedgerError> {
    sequencer::start(url, key, config, projector::apply)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The aggregates, each a folder of services/.
    const AGGREGATES: [&str; 9] = [
        "advance",
        "bank_line",
        "deposit",
        "invoice",
        "journal",
        "party",
        "payment",
        "payout",
        "program",
    ];

    fn sources(folder: &Path) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                text.push_str(&sources(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
        text
    }

    /// The `services::x` modules a source text names in code (not in comments).
    fn named(text: &str, candidates: &[&str]) -> BTreeSet<String> {
        text.lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| {
                candidates
                    .iter()
                    .filter(move |c| line.contains(&format!("services::{c}")))
            })
            .map(|c| c.to_string())
            .collect()
    }

    #[test]
    fn aggregates_depend_on_one_another_in_one_direction() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services");
        let mut above: Vec<&str> = AGGREGATES.to_vec();
        above.extend(["events", "projector", "treasury", "reads"]);
        let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for aggregate in AGGREGATES {
            let mut uses = named(&sources(&root.join(aggregate)), &above);
            uses.remove(aggregate);
            for upper in ["events", "projector", "treasury", "reads"] {
                assert!(
                    !uses.contains(upper),
                    "{aggregate} imports services::{upper}, which sits above the aggregates"
                );
            }
            graph.insert(aggregate, uses);
        }
        // Depth-first search for a cycle.
        fn visit<'a>(
            node: &'a str,
            graph: &'a BTreeMap<&'a str, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
        ) {
            assert!(
                !path.contains(&node),
                "the aggregates import one another in a cycle: {} -> {node}",
                path.join(" -> ")
            );
            path.push(node);
            for next in &graph[node] {
                visit(next, graph, path);
            }
            path.pop();
        }
        for aggregate in AGGREGATES {
            visit(aggregate, &graph, &mut Vec::new());
        }
    }

    #[test]
    fn storage_imports_no_use_case() {
        let db = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db"));
        for line in db.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for upper in ["crate::services", "crate::api", "crate::web"] {
                assert!(!line.contains(upper), "src/db imports {upper}: {line}");
            }
        }
    }
}
