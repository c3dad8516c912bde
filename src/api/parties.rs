//! Parties, programmes, funder deposits and API keys: the operator's set-up.

use crate::domain::ErrorCode;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Principal;
use super::body::Body;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::{self, parse_json};
use super::{actor, recorded};
use crate::domain::{PartyId, Role};
use crate::server::AppState;
use crate::services::api_keys;
use crate::services::deposit::FunderDeposit;
use crate::services::party::RegisterParty;
use crate::services::program::{
    CreateProgram, EnrolSupplier, FunderFields, ProgramFields, SyndicateFields,
};
use crate::services::reads;

/// Register a party.
#[utoipa::path(post, path = "/api/v1/parties", tag = "set-up", request_body = PartyRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create_party(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let input: PartyRequest = parse_json(&body)?;
        let command = RegisterParty::parse(
            &principal.party,
            &input.party_id,
            &input.role,
            &input.name,
            input.tax_id.as_deref(),
            input.public_key.as_deref(),
        )?;
        let id = input.party_id;
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Read a party (itself, or any for the operator and auditors).
#[utoipa::path(get, path = "/api/v1/parties/{party_id}", tag = "set-up",
    params(("party_id" = String, Path)), responses((status = 200, body = PartyResponse), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn get_party(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let party_id = path.into_inner();
    let row = state
        .read(move |c| reads::party(c, &principal, &party_id))
        .await?;
    Ok(HttpResponse::Ok().json(PartyResponse::from(row)))
}

/// Create a programme: one retailer, one funder, one currency and its terms.
#[utoipa::path(post, path = "/api/v1/programs", tag = "set-up", request_body = ProgramRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create_program(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let p: ProgramRequest = parse_json(&body)?;
        let fields = ProgramFields {
            program_id: &p.program_id,
            retailer_id: &p.retailer_id,
            funder_id: &p.funder_id,
            currency: &p.currency,
            advance_rate: &p.advance_rate,
            discount_rate: &p.discount_rate,
            day_count: &p.day_count,
            tenor_min_days: p.tenor_min_days,
            tenor_max_days: p.tenor_max_days,
            grace_days: p.grace_days,
            late_rate: &p.late_rate,
            default_days: p.default_days,
            recourse: p.recourse,
            program_limit: &p.program_limit,
            retailer_limit: &p.retailer_limit,
            supplier_limit_fixed: p.supplier_limit_fixed.as_deref(),
            supplier_limit_multiple: p.supplier_limit_multiple.as_deref(),
            syndicate: syndicate_fields(&p),
        };
        let command = CreateProgram::parse(&principal.party, &fields)?;
        let id = p.program_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// The programme's funders as typed; `None` for one funder committed to the
/// programme limit (no `funders`, no rule or `single`).
fn syndicate_fields(p: &ProgramRequest) -> Option<SyndicateFields<'_>> {
    let single = p.allocation.as_deref().is_none_or(|a| a == "single");
    if single && p.funders.is_none() && p.early_payment_budget.is_none() {
        return None;
    }
    Some(SyndicateFields {
        allocation: p.allocation.as_deref().unwrap_or("single"),
        funders: p
            .funders
            .iter()
            .flatten()
            .map(|f| FunderFields {
                funder_id: &f.funder_id,
                commitment: &f.commitment,
                retailer_limit: f.retailer_limit.as_deref(),
                supplier_limit: f.supplier_limit.as_deref(),
            })
            .collect(),
        early_payment_budget: p.early_payment_budget.as_deref(),
    })
}

/// Read a programme (its retailer, funder, suppliers trading in it, operator, auditors).
#[utoipa::path(get, path = "/api/v1/programs/{program_id}", tag = "set-up",
    params(("program_id" = String, Path)), responses((status = 200, body = ProgramResponse), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn get_program(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let program_id = path.into_inner();
    let row = state
        .read(move |c| reads::program(c, &principal, &program_id))
        .await?;
    Ok(HttpResponse::Ok().json(ProgramResponse::from(row)))
}

/// Enrol a supplier in a programme (the operator, or the programme's
/// retailer). Only members register invoices in a programme and are financed by it.
#[utoipa::path(post, path = "/api/v1/programs/{program_id}/suppliers", tag = "set-up", request_body = EnrolmentRequest,
    params(("program_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn enrol_supplier(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require_any(&[Role::Operator, Role::Retailer])?;
    let program_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: EnrolmentRequest = parse_json(&body)?;
        let command = EnrolSupplier::parse(actor(&principal), &program_id, &input.supplier_id)?;
        let id = input.supplier_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Record a funder's money arriving in the platform's bank account.
#[utoipa::path(post, path = "/api/v1/funders/{funder_id}/deposits", tag = "set-up", request_body = DepositRequest,
    params(("funder_id" = String, Path), ("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = Recorded), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn deposit(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let funder_id = path.into_inner();
    idempotency::run(&state, &request, &body, || async {
        let input: DepositRequest = parse_json(&body)?;
        let command =
            FunderDeposit::parse(&principal.party, &funder_id, &input.currency, &input.amount)?;
        let id = funder_id.clone();
        idempotency::submit(&request, &state.ledger, command, move |receipt| {
            recorded(id.clone(), receipt)
        })
        .await
    })
    .await
}

/// Create an API key for a party and role; the token is in the answer only.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "set-up", request_body = ApiKeyRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per request")),
    responses((status = 201, body = ApiKeyResponse), (status = 422, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn create_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    request: HttpRequest,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    idempotency::run(&state, &request, &body, || async {
        let input: ApiKeyRequest = parse_json(&body)?;
        let party =
            PartyId::parse(&input.party_id).map_err(|e| ApiError::invalid("party_id", e))?;
        let role: Role = input
            .role
            .parse()
            .map_err(|e: String| ApiError::invalid("role", e))?;
        let label = input.label.clone();
        let ring = state.keys.clone();
        let creator = format!("api-key:{}", principal.key_id);
        let created = state
            .read(move |c| {
                let created = api_keys::create_by(c, &party, role, &label, &creator)?;
                ring.reload(c)?;
                Ok::<_, api_keys::CredentialError>(created)
            })
            .await?;
        let answer = ApiKeyResponse {
            key_id: created.key_id,
            token: created.token,
        };
        Ok((
            StatusCode::CREATED,
            serde_json::to_value(answer).expect("serializes"),
        ))
    })
    .await
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/api/v1/api-keys/{key_id}", tag = "set-up",
    params(("key_id" = String, Path)), responses((status = 204), (status = 404, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Role::Operator)?;
    let key_id = path.into_inner();
    let label = key_id.clone();
    let revoked = key_id.clone();
    if state.read(move |c| api_keys::revoke(c, &key_id)).await? {
        state.keys.forget(&revoked);
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no active API key {label:?}"),
        ))
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PartiesQuery {
    /// Only parties of this role.
    #[param(value_type = Option<super::closed::RoleName>)]
    pub role: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List parties, by id: every one for the operator and auditors, itself for a party.
#[utoipa::path(get, path = "/api/v1/parties", tag = "set-up", params(PartiesQuery),
    responses((status = 200, body = super::lists::PartyList), (status = 400, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list_parties(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<PartiesQuery>,
) -> Result<HttpResponse, ApiError> {
    let PartiesQuery {
        role,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = super::lists::Paging { limit, cursor }.read()?;
    let rows = state
        .read(move |c| reads::parties_page(c, &principal, &after, role.as_deref(), limit + 1))
        .await?;
    let page = super::lists::page(rows, limit, |p| p.party_id.to_string(), PartyResponse::from);
    Ok(HttpResponse::Ok().json(super::lists::PartyList::new(page)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ProgramsQuery {
    /// Only programmes of this retailer.
    pub retailer_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List programmes, by id: every one for the operator and auditors; a
/// retailer's own, a funder's and an enrolled supplier's.
#[utoipa::path(get, path = "/api/v1/programs", tag = "set-up", params(ProgramsQuery),
    responses((status = 200, body = super::lists::ProgramList), (status = 400, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list_programs(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ProgramsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ProgramsQuery {
        retailer_id,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = super::lists::Paging { limit, cursor }.read()?;
    let rows = state
        .read(move |c| {
            reads::programs_page(c, &principal, &after, retailer_id.as_deref(), limit + 1)
        })
        .await?;
    let page = super::lists::page(
        rows,
        limit,
        |p| p.program_id.to_string(),
        ProgramResponse::from,
    );
    Ok(HttpResponse::Ok().json(super::lists::ProgramList::new(page)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ApiKeysQuery {
    /// Only the keys of this party (the operator and auditors).
    pub party_id: Option<String>,
    /// Only keys that work (not revoked).
    #[serde(default)]
    pub active: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List API keys, by id, never their secrets: every one for the operator
/// and auditors, its own party's for a party.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "set-up", params(ApiKeysQuery),
    responses((status = 200, body = super::lists::ApiKeyList), (status = 400, body = ProblemDoc)),
    security(("bearer" = [])))]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ApiKeysQuery>,
) -> Result<HttpResponse, ApiError> {
    let ApiKeysQuery {
        party_id,
        active,
        limit,
        cursor,
    } = query.into_inner();
    let (limit, after) = super::lists::Paging { limit, cursor }.read()?;
    let rows = state
        .read(move |c| {
            reads::api_keys_page(
                c,
                &principal,
                &after,
                party_id.as_deref(),
                active,
                limit + 1,
            )
        })
        .await?;
    let page = super::lists::page(
        rows,
        limit,
        |k| k.key_id.clone(),
        super::lists::ApiKeyInfo::from,
    );
    Ok(HttpResponse::Ok().json(super::lists::ApiKeyList::new(page)))
}
