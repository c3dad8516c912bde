//! The JSON API under `/api/v1`: one routing table, handlers in files by topic.

pub mod auth;
pub mod dto;
pub mod error;
pub mod journal;
pub mod log;

use actix_web::web;

/// Every `/api/v1` route.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/v1")
            .route("/log/checkpoint", web::get().to(log::checkpoint))
            .route("/log/entries", web::get().to(log::entries))
            .route("/log/proof/inclusion", web::get().to(log::inclusion))
            .route("/log/proof/consistency", web::get().to(log::consistency))
            .route("/journal", web::post().to(journal::post))
            .route("/balances", web::get().to(journal::balances)),
    );
}
