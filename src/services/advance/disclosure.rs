//! What of a decision's inputs is confidential: withheld from the entry,
//! kept in a salted disclosure document whose SHA-256 the entry commits to.

use super::events::{AdvanceAccepted, RuleOutcome};
use crate::db::financing as fin_db;
use crate::db::{log as log_db, DbConnection};

/// The rules whose figures belong to other parties than the supplier: the
/// retailer's and the programme's exposure and limits, the funder's cash and
/// a buyer-funded programme's budget. A supplier sees whether they passed,
/// never their input or threshold.
pub const CONFIDENTIAL_RULES: [&str; 4] = [
    "retailer_limit",
    "program_limit",
    "funder_liquidity",
    "early_payment_budget",
];

/// What a withheld input or threshold reads.
pub const WITHHELD: &str = "withheld";

/// An allocation's funders with every input and limit withheld.
pub fn withhold_all(outcomes: &[RuleOutcome]) -> Vec<RuleOutcome> {
    outcomes
        .iter()
        .map(|r| RuleOutcome {
            rule: r.rule.clone(),
            input: WITHHELD.into(),
            threshold: WITHHELD.into(),
            passed: r.passed,
        })
        .collect()
}

/// The rules with the confidential figures withheld.
pub fn withhold_confidential(rules: &[RuleOutcome]) -> Vec<RuleOutcome> {
    rules
        .iter()
        .map(|r| {
            if CONFIDENTIAL_RULES.contains(&r.rule.as_str()) {
                RuleOutcome {
                    rule: r.rule.clone(),
                    input: WITHHELD.into(),
                    threshold: WITHHELD.into(),
                    passed: r.passed,
                }
            } else {
                r.clone()
            }
        })
        .collect()
}

/// The disclosure document of a decision: the confidential rules in full and
/// a random salt, as canonical JSON (RFC 8785). Its SHA-256 is the entry's
/// `confidential_inputs_sha256`; the salt keeps the figures from being
/// guessed from the commitment.
pub fn disclosure_document(
    salt_hex: &str,
    rules: &[RuleOutcome],
    allocation: Option<&[RuleOutcome]>,
) -> String {
    let confidential: Vec<&RuleOutcome> = rules
        .iter()
        .filter(|r| CONFIDENTIAL_RULES.contains(&r.rule.as_str()))
        .collect();
    let mut value = serde_json::json!({"salt": salt_hex, "rules": confidential});
    if let Some(funders) = allocation {
        // Every funder's inputs: its cash, commitment and exposures.
        value["allocation"] = serde_json::json!(funders);
    }
    let bytes =
        crate::ledger::jcs::canonical_bytes(&value).expect("rules are strings and booleans");
    String::from_utf8(bytes).expect("canonical JSON is UTF-8")
}

/// SHA-256 (hex) of a disclosure document.
pub fn disclosure_sha256(document: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(document.as_bytes()))
}

/// Checks every stored disclosure against its entry: the commitment, and the
/// same rules with the same outcomes. Returns how many were checked.
pub fn check_disclosures(connection: &mut DbConnection) -> Result<u64, String> {
    let mut checked = 0;
    let mut after = -1;
    loop {
        let rows =
            fin_db::disclosures_after(connection, after, crate::limits::DISCLOSURES_PER_READ)
                .map_err(|e| e.to_string())?;
        let Some(last) = rows.last() else {
            return Ok(checked);
        };
        after = last.seq;
        for row in rows {
            let seq = row.seq;
            let text = log_db::entry(connection, seq)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("disclosure {seq}: no entry at seq {seq}"))?;
            let entry = crate::ledger::Entry::from_canonical(text.as_bytes())
                .map_err(|e| format!("entry {seq}: {e}"))?;
            let Some(body) = entry
                .body_as::<AdvanceAccepted>()
                .map_err(|e| format!("entry {seq}: {e}"))?
            else {
                return Err(format!("disclosure {seq}: entry {seq} is a {}", entry.kind));
            };
            if body.confidential_inputs_sha256.as_deref() != Some(&disclosure_sha256(&row.document))
            {
                return Err(format!(
                    "disclosure {seq}: its SHA-256 is not the entry's commitment"
                ));
            }
            let disclosed: serde_json::Value = serde_json::from_str(&row.document)
                .map_err(|e| format!("disclosure {seq}: {e}"))?;
            let rules: Vec<RuleOutcome> = serde_json::from_value(disclosed["rules"].clone())
                .map_err(|e| format!("disclosure {seq}: {e}"))?;
            let withheld = withhold_confidential(&rules);
            for rule in &withheld {
                if !body.decision.contains(rule) {
                    return Err(format!(
                        "disclosure {seq}: rule {} does not match the entry's decision",
                        rule.rule
                    ));
                }
            }
            let disclosed_allocation: Option<Vec<RuleOutcome>> = match disclosed.get("allocation") {
                Some(value) => Some(
                    serde_json::from_value(value.clone())
                        .map_err(|e| format!("disclosure {seq}: {e}"))?,
                ),
                None => None,
            };
            let entry_allocation = body.allocation.as_ref().map(|a| a.funders.clone());
            if disclosed_allocation.as_deref().map(withhold_all) != entry_allocation {
                return Err(format!(
                    "disclosure {seq}: the funders' allocation does not match the entry's"
                ));
            }
            checked += 1;
        }
    }
}
