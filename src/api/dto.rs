//! Request and response bodies of the JSON API. Hashes are standard base64,
//! like the checkpoint's root hash.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ledger::merkle::Hash;
use crate::ledger::Receipt;

pub fn hash_text(hash: &Hash) -> String {
    BASE64.encode(hash)
}

#[derive(Debug, Serialize)]
pub struct ReceiptResponse {
    pub seq: u64,
    pub leaf_hash: String,
    pub tree_size: u64,
    pub checkpoint: String,
    pub inclusion_proof: Vec<String>,
}

impl From<Receipt> for ReceiptResponse {
    fn from(receipt: Receipt) -> Self {
        ReceiptResponse {
            seq: receipt.seq,
            leaf_hash: hash_text(&receipt.leaf_hash),
            tree_size: receipt.tree_size,
            checkpoint: receipt.checkpoint,
            inclusion_proof: receipt.inclusion_proof.iter().map(hash_text).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    pub from: Option<u64>,
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct EntriesResponse {
    pub tree_size: u64,
    pub entries: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_from: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct InclusionQuery {
    pub seq: u64,
    pub tree_size: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct InclusionResponse {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub inclusion_proof: Vec<String>,
    pub checkpoint: String,
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    pub first: u64,
    pub second: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ConsistencyResponse {
    pub first: u64,
    pub second: u64,
    pub consistency_proof: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingRequest {
    pub account: String,
    pub currency: String,
    pub amount: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalRequest {
    pub memo: String,
    pub postings: Vec<PostingRequest>,
}

#[derive(Debug, Serialize)]
pub struct BalanceResponse {
    pub account: String,
    pub currency: String,
    pub balance: String,
}
