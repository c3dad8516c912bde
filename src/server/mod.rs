//! Building and running the HTTP application. Tests build it on port 0.

pub mod forward;

use crate::domain::ErrorCode;
use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};

use crate::api;
use crate::api::error::ApiError;
use crate::api::idempotency::IdempotencyKeys;
use crate::db::{DbConnection, DbError, Pool};
use crate::ledger::Ledger;
use crate::limits;
use crate::services::api_keys::KeyRing;
use crate::services::clock::Clock;
use crate::web as pages;
use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub ledger: Ledger,
    pub pool: Pool,
    /// Business dates (quotes, advances).
    pub clock: Clock,
    /// Failed sign-ins per address and e-mail.
    pub sign_in_limiter: crate::services::users::SignInLimiter,
    /// The active API keys, in memory.
    pub keys: Arc<KeyRing>,
    /// The Idempotency-Keys claimed and stored, in memory.
    pub idempotency: Arc<IdempotencyKeys>,
    /// How this instance reaches the writer when it stands by.
    pub cluster: forward::Cluster,
    /// The witnesses whose cosignatures this ledger keeps and serves.
    pub witnesses: Arc<Vec<crate::ledger::cosignature::WitnessVerifier>>,
    /// Requests per API key.
    pub key_rates: crate::api::rate::KeyRates,
    /// The writer's epoch (`Ledger::epoch`) as of which `keys` and
    /// `idempotency` were loaded: see [`AppState::follow_writer`].
    followed_epoch: std::sync::atomic::AtomicU64,
}

impl AppState {
    /// Runs a read on a pooled connection off the async threads.
    pub async fn read<T, E, F>(&self, read: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
        ApiError: From<E>,
    {
        let pool = self.pool.clone();
        let outcome = web::block(move || -> Result<Result<T, E>, DbError> {
            let mut connection = pool.get()?;
            Ok(read(&mut connection))
        })
        .await?;
        outcome
            .map_err(<ApiError as From<DbError>>::from)?
            .map_err(<ApiError as From<E>>::from)
    }
}

impl AppState {
    /// Before this instance answers as the writer: if it has become the
    /// writer since it last looked, it loads again what the last writer
    /// changed beside the ledger and it may not have seen yet: the API keys
    /// (created or revoked there) and the stored Idempotency-Keys. Both loads
    /// are safe to run twice, so concurrent requests may both do it.
    pub async fn follow_writer(&self) -> Result<(), ApiError> {
        use std::sync::atomic::Ordering;
        let epoch = self.ledger.epoch();
        if self.followed_epoch.load(Ordering::Acquire) == epoch {
            return Ok(());
        }
        let (keys, idempotency) = (self.keys.clone(), self.idempotency.clone());
        self.read(move |connection| {
            keys.reload(connection)?;
            idempotency.add_stored(connection)
        })
        .await?;
        self.followed_epoch.store(epoch, Ordering::Release);
        Ok(())
    }

    /// The writer epoch `keys` and `idempotency` were last loaded for.
    pub fn followed_epoch(&self) -> u64 {
        self.followed_epoch
            .load(std::sync::atomic::Ordering::Acquire)
    }
}

/// How a served instance is set up beyond its database and ledger.
pub struct Options {
    pub cluster: forward::Cluster,
    pub witnesses: Vec<crate::ledger::cosignature::WitnessVerifier>,
    /// Requests per API key (`api::rate`).
    pub key_rates: crate::api::rate::KeyRates,
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `listen` (port 0 picks a free port) and builds the server of a
    /// single instance.
    pub fn build(listen: &str, ledger: Ledger, pool: Pool, clock: Clock) -> std::io::Result<Self> {
        let options = Options {
            cluster: forward::Cluster::new(None).map_err(std::io::Error::other)?,
            witnesses: Vec::new(),
            key_rates: Default::default(),
        };
        Self::build_with(listen, ledger, pool, clock, options)
    }

    /// [`Application::build`] with `options`: as one of several instances
    /// of a ledger (a standby forwards what needs the writer,
    /// `server::forward`), and with the witnesses it keeps cosignatures of.
    pub fn build_with(
        listen: &str,
        ledger: Ledger,
        pool: Pool,
        clock: Clock,
        options: Options,
    ) -> std::io::Result<Self> {
        let Options {
            cluster,
            witnesses,
            key_rates,
        } = options;
        let listener = TcpListener::bind(listen)?;
        let port = listener.local_addr()?.port();
        // Idempotency-Keys left unfinished by an earlier process wrote
        // nothing, or are safe to run again: free them before serving.
        let mut connection = pool.get().map_err(std::io::Error::other)?;
        let freed = crate::db::idempotency::release_unfinished(&mut connection)
            .map_err(std::io::Error::other)?;
        if freed > 0 {
            tracing::warn!(
                freed,
                "freed Idempotency-Keys left unfinished by an earlier release"
            );
        }
        let keys = Arc::new(KeyRing::load(&mut connection).map_err(std::io::Error::other)?);
        let idempotency =
            Arc::new(IdempotencyKeys::load(&mut connection).map_err(std::io::Error::other)?);
        drop(connection);
        reload_keys_while_serving(&keys, pool.clone())?;
        let state = web::Data::new(AppState {
            followed_epoch: ledger.epoch().into(),
            ledger,
            pool,
            clock,
            sign_in_limiter: Default::default(),
            keys,
            idempotency,
            cluster,
            witnesses: Arc::new(witnesses),
            key_rates,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(limits::HTTP_JSON_BODY_BYTES_MAX)
                        .error_handler(api::error::json_error_handler),
                )
                .app_data(
                    web::QueryConfig::default().error_handler(api::error::query_error_handler),
                )
                .app_data(web::PathConfig::default().error_handler(api::error::path_error_handler))
                .app_data(web::PayloadConfig::new(limits::HTTP_JSON_BODY_BYTES_MAX))
                .wrap(actix_web::middleware::from_fn(api::rate::headers))
                .wrap(actix_web::middleware::from_fn(refuse_hidden_characters))
                .wrap(actix_web::middleware::from_fn(head_as_get))
                .wrap(actix_web::middleware::from_fn(forward::forward_to_writer))
                .wrap(actix_web::middleware::Logger::new("%r %s %Dms").exclude("/healthz"))
                .route("/healthz", web::get().to(healthz))
                .route("/readyz", web::get().to(readyz))
                .route("/metrics", web::get().to(metrics))
                .configure(api::routes)
                .configure(pages::routes)
                .default_service(web::to(not_found))
        })
        .workers(2)
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Reloads the key ring every `API_KEY_RELOAD_SECONDS`, for keys another
/// process (the CLI) created or revoked; stops once the server is gone.
fn reload_keys_while_serving(keys: &Arc<KeyRing>, pool: Pool) -> std::io::Result<()> {
    let keys = Arc::downgrade(keys);
    std::thread::Builder::new()
        .name("scfledger-key-ring".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(
                limits::API_KEY_RELOAD_SECONDS,
            ));
            let Some(keys) = keys.upgrade() else { return };
            let reloaded = pool
                .get()
                .map_err(DbError::from)
                .and_then(|mut c| keys.reload(&mut c));
            if let Err(error) = reloaded {
                tracing::warn!(error = %error, "reloading the API keys failed; the last ones stay");
            }
        })?;
    Ok(())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.ledger.is_running() {
        return Err(ApiError::new(
            ErrorCode::NotReady,
            "the sequencer is not running",
        ));
    }
    state
        .read(|c| crate::db::execute_raw(c, "SELECT 1"))
        .await?;
    // Every instance serves every route; one writes (PostgreSQL: the others stand by).
    let ledger = &state.ledger;
    let role = if ledger.is_writer() {
        "writer"
    } else {
        "standby"
    };
    let writer = match (ledger.writer_url(), ledger.is_writer()) {
        (Some(url), _) => url,
        (None, true) => "this instance".into(),
        (None, false) => "unknown".into(),
    };
    Ok(HttpResponse::Ok().content_type("text/plain").body(format!(
        "ready\nrole: {role}\nwriter: {writer}\nepoch: {}\ntakeovers: {}\n",
        ledger.epoch(),
        ledger.takeovers()
    )))
}

/// Counters in Prometheus' text format, for the operators' monitoring: the
/// role, the takeovers, the writer's batches and commands, the forwarded
/// requests. No party's figures.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let ledger = &state.ledger;
    let counts = ledger.counts();
    let lines = [
        (
            "scfledger_writer",
            "gauge",
            "1 while this instance writes the ledger",
            u64::from(ledger.is_writer()),
        ),
        (
            "scfledger_epoch",
            "gauge",
            "the epoch this instance writes or last wrote under",
            ledger.epoch(),
        ),
        (
            "scfledger_takeovers_total",
            "counter",
            "times this instance took over as the writer",
            ledger.takeovers(),
        ),
        (
            "scfledger_batches_total",
            "counter",
            "batches this instance committed or tried",
            counts.batches,
        ),
        (
            "scfledger_commands_total",
            "counter",
            "commands this instance's writer ran",
            counts.commands,
        ),
        (
            "scfledger_forwarded_total",
            "counter",
            "requests this instance forwarded to the writer",
            state.cluster.forwarded(),
        ),
    ];
    let mut body = String::new();
    for (name, kind, help, value) in lines {
        body.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// An unknown URL: a page with a way back for a browser, problem+json for
/// everything else.
async fn not_found(request: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let wants_html = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !request.path().starts_with("/api/") {
        return Ok(pages::not_found_page());
    }
    Err(ApiError::new(ErrorCode::NotFound, "no such route"))
}

/// HEAD is answered as GET without the body (actix-http leaves the body out
/// of an answer to HEAD), so uptime monitors and link checkers see the page.
async fn head_as_get(
    mut request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if request.method() == actix_web::http::Method::HEAD {
        request.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(request).await
}

/// Refuses a URL whose decoded path or query holds a control or invisible
/// formatting character (`/api/v1/invoices/%00`), the same on both backends.
async fn refuse_hidden_characters(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let target = request.uri().path_and_query().map_or("", |p| p.as_str());
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8_lossy();
    if let Err(error) = crate::domain::text::check(&decoded) {
        return Err(
            ApiError::new(ErrorCode::InvalidPath, format!("the URL {error}"))
                .with_field("url")
                .into(),
        );
    }
    next.call(request).await
}
