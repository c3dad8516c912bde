//! The log: checkpoint and proofs are public (they reveal only hashes); entries
//! are for the operator and auditors; receipts and the event feed show each
//! party the entries that concern it.

use crate::domain::ErrorCode;
use actix_web::{web, HttpResponse};

use super::auth::Principal;
use super::dto::*;
use super::error::ApiError;
use super::lists::{seq_cursor, EventList, Paging};
use crate::domain::Role;
use crate::server::AppState;
use crate::services::log_reads;
use crate::services::reads;
use crate::services::witnesses;

fn parse_entry(text: &str) -> Result<serde_json::Value, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(&e))
}

/// The header that names the key a checkpoint is signed with: its verifier
/// key line, as `GET /api/v1/log/key` serves it.
pub const LEDGER_KEY_HEADER: &str = "Ledger-Key";

/// The ledger's verifier key (C2SP signed-note verifier key line: name, key
/// hash, Ed25519 public key), to check checkpoints and receipts with.
/// Public, like the checkpoints it checks.
#[utoipa::path(get, path = "/api/v1/log/key", tag = "log",
    responses((status = 200, body = String, content_type = "text/plain",
        example = "scfledger.local/ledger+39c8e824+AYrhcyBawveQsYQxbKth8D8U0VeJBNhS3HyVQDCPST6J")))]
pub async fn key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.ledger.verifier().to_text()))
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note); the
/// `Ledger-Key` header names the key that signed it.
#[utoipa::path(get, path = "/api/v1/log/checkpoint", tag = "log",
    responses((status = 200, body = String, content_type = "text/plain",
        headers(("Ledger-Key" = String, description = "The verifier key line of the key that signed it"))),
        (status = 404, body = ProblemDoc)))]
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let latest = state.read(log_reads::latest_checkpoint).await?;
    match latest {
        Some((_, note)) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((LEDGER_KEY_HEADER, state.ledger.verifier().to_text()))
            .body(note)),
        None => Err(ApiError::new(
            ErrorCode::EmptyLog,
            "nothing has been appended yet",
        )),
    }
}

/// Entries in log order (operator and auditors).
#[utoipa::path(get, path = "/api/v1/log/entries", tag = "log", params(EntriesQuery),
    responses((status = 200, body = EntriesResponse), (status = 400, body = ProblemDoc), (status = 403, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn entries(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    if !matches!(principal.role, Role::Operator | Role::Auditor) {
        return Err(ApiError::forbidden(
            "the whole log is for the operator and auditors; parties read /api/v1/events",
        ));
    }
    let EntriesQuery { from, limit } = query.into_inner();
    let page = state
        .read(move |c| log_reads::entries(c, from.unwrap_or(0), limit))
        .await?;
    let entries = page
        .entries
        .iter()
        .map(|text| parse_entry(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(EntriesResponse {
        tree_size: page.tree_size,
        entries,
        next_from: page.next_from,
    }))
}

/// The latest checkpoint at least `witnesses` of the ledger's configured
/// witnesses cosigned, with their cosignatures (C2SP tlog-cosignature): what
/// a receipt is upgraded to (`/log/proof/inclusion?tree_size=` its size).
#[utoipa::path(get, path = "/api/v1/log/checkpoint/cosigned", tag = "log", params(CosignedQuery),
    responses((status = 200, body = String, content_type = "text/plain",
        headers(("Ledger-Key" = String, description = "The verifier key line of the key that signed it"))),
        (status = 404, body = ProblemDoc)))]
pub async fn cosigned_checkpoint(
    state: web::Data<AppState>,
    query: web::Query<CosignedQuery>,
) -> Result<HttpResponse, ApiError> {
    let quorum = query.witnesses.unwrap_or(1).max(1);
    let (verifier, witnesses) = (state.ledger.verifier().clone(), state.witnesses.clone());
    let latest = state
        .read(move |c| witnesses::latest_cosigned(c, &verifier, &witnesses, quorum))
        .await?;
    match latest {
        Some((_, note)) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((LEDGER_KEY_HEADER, state.ledger.verifier().to_text()))
            .body(note)),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no checkpoint carries {quorum} cosignatures of this ledger's witnesses yet"),
        )),
    }
}

/// A witness hands in its cosignature of a checkpoint. Public: the
/// cosignature proves itself, and only one of a configured witness, valid
/// for the checkpoint of `tree_size`, is kept (the first per witness).
#[utoipa::path(post, path = "/api/v1/log/cosignatures", tag = "log", request_body = CosignatureRequest,
    responses((status = 201, body = CosignatureResponse), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn cosignature(
    state: web::Data<AppState>,
    body: web::Json<CosignatureRequest>,
) -> Result<HttpResponse, ApiError> {
    let CosignatureRequest {
        tree_size,
        cosignature,
    } = body.into_inner();
    let (verifier, witnesses) = (state.ledger.verifier().clone(), state.witnesses.clone());
    let (witness, cosignatures) = state
        .read(move |c| witnesses::accept(c, &verifier, &witnesses, tree_size, &cosignature))
        .await?;
    Ok(HttpResponse::Created().json(CosignatureResponse {
        tree_size,
        witness,
        cosignatures,
    }))
}

/// Inclusion proof of an entry against a signed checkpoint.
#[utoipa::path(get, path = "/api/v1/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = InclusionResponse), (status = 404, body = ProblemDoc)))]
pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let InclusionQuery { seq, tree_size } = query.into_inner();
    let answer = state
        .read(move |c| log_reads::inclusion(c, seq, tree_size))
        .await?;
    Ok(HttpResponse::Ok().json(inclusion_response(answer)))
}

fn inclusion_response(answer: log_reads::InclusionAnswer) -> InclusionResponse {
    InclusionResponse {
        seq: answer.seq,
        tree_size: answer.tree_size,
        leaf_hash: hash_text(&answer.leaf_hash),
        inclusion_proof: answer.proof.iter().map(hash_text).collect(),
        checkpoint: answer.checkpoint,
    }
}

/// Consistency proof between two signed tree sizes.
#[utoipa::path(get, path = "/api/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyResponse), (status = 400, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn consistency(
    state: web::Data<AppState>,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let ConsistencyQuery { first, second } = query.into_inner();
    let answer = state
        .read(move |c| log_reads::consistency(c, first, second))
        .await?;
    Ok(HttpResponse::Ok().json(ConsistencyResponse {
        first: answer.first,
        second: answer.second,
        consistency_proof: answer.proof.iter().map(hash_text).collect(),
    }))
}

/// An entry that concerns you, with its inclusion proof against the latest checkpoint.
#[utoipa::path(get, path = "/api/v1/receipts/{seq}", tag = "log",
    params(("seq" = i64, Path)), responses((status = 200, body = EntryReceiptResponse), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn receipt(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let seq = path.into_inner();
    let (entry, answer, disclosure) = state
        .read(move |c| {
            let entry = reads::entry(c, &principal, seq)?;
            let answer = log_reads::inclusion(c, seq as u64, None)?;
            let disclosure = match principal.role {
                Role::Operator | Role::Auditor => crate::db::financing::disclosure(c, seq)?,
                _ => None,
            };
            Ok::<_, log_reads::ReadError>((entry, answer, disclosure))
        })
        .await?;
    Ok(HttpResponse::Ok().json(EntryReceiptResponse {
        entry: parse_entry(&entry)?,
        receipt: inclusion_response(answer),
        disclosure: disclosure.map(|d| parse_entry(&d)).transpose()?,
    }))
}

/// The event feed: entries that concern you, after a cursor.
#[utoipa::path(get, path = "/api/v1/events", tag = "log", params(EventsQuery),
    responses((status = 200, body = EventList), (status = 400, body = ProblemDoc)), security(("bearer" = [])))]
pub async fn events(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let EventsQuery {
        limit,
        cursor,
        after_seq,
    } = query.into_inner();
    if cursor.is_some() && after_seq.is_some() {
        return Err(ApiError::new(
            ErrorCode::BadQuery,
            "give cursor or after_seq, not both",
        ));
    }
    let (limit, after) = Paging { limit, cursor }.read_as::<i64>()?;
    let after = after.or(after_seq).unwrap_or(-1);
    let mut rows = state
        .read(move |c| reads::events(c, &principal, after, limit + 1))
        .await?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = seq_cursor(rows.last().map_or(after, |(seq, _, _)| *seq));
    let events = rows
        .into_iter()
        .map(|(seq, text, whole)| {
            let entry = parse_entry(&text)?;
            let kind = entry
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_string();
            Ok(if whole {
                EventResponse {
                    seq,
                    kind,
                    entry: Some(entry),
                    withheld: None,
                }
            } else {
                EventResponse {
                    seq,
                    kind,
                    entry: None,
                    withheld: Some(
                        "it holds other parties' figures; the operator and auditors read it whole"
                            .into(),
                    ),
                }
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(EventList {
        data: events,
        has_more,
        next_cursor,
    }))
}
