//! The public log: checkpoint, entries and proofs. No key needed: anyone
//! holding the verifier key may audit.

use actix_web::{web, HttpResponse};

use super::dto::*;
use super::error::ApiError;
use crate::server::AppState;
use crate::services::log_reads;

pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let latest = state.read(log_reads::latest_checkpoint).await?;
    match latest {
        Some((_, note)) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(note)),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "empty_log",
            "nothing has been appended yet",
        )),
    }
}

pub async fn entries(
    state: web::Data<AppState>,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let EntriesQuery { from, limit } = query.into_inner();
    let page = state
        .read(move |c| log_reads::entries(c, from.unwrap_or(0), limit))
        .await?;
    let entries = page
        .entries
        .iter()
        .map(|text| serde_json::from_str(text))
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(EntriesResponse {
        tree_size: page.tree_size,
        entries,
        next_from: page.next_from,
    }))
}

pub async fn inclusion(
    state: web::Data<AppState>,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let InclusionQuery { seq, tree_size } = query.into_inner();
    let answer = state
        .read(move |c| log_reads::inclusion(c, seq, tree_size))
        .await?;
    Ok(HttpResponse::Ok().json(InclusionResponse {
        seq: answer.seq,
        tree_size: answer.tree_size,
        leaf_hash: hash_text(&answer.leaf_hash),
        inclusion_proof: answer.proof.iter().map(hash_text).collect(),
        checkpoint: answer.checkpoint,
    }))
}

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
