//! The probes: liveness (`/health`) and readiness (`/health/ready`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use openbadges_domain::operations::{Backend, ReadRouting};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::DomainError;
use serde_json::json;

use crate::state::AppState;

/// `GET /health`: asks the database, so that a server whose database is gone
/// is reported down rather than healthy.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "health",
    summary = "Health of the server and its database",
    responses(
        (status = 200, description = "Up: the database answers.", body = crate::api::schema::Health,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "Down: the database does not answer.", body = crate::api::schema::Health,
            headers(("Cache-Control" = String, description = "`no-store`.")),
            example = json!({"status": "error", "backend": "postgresql", "database": "down"})),
    )
)]
pub(crate) async fn health(state: web::Data<AppState>) -> HttpResponse {
    health_response(state.store.backend(), state.store.ping().await)
}

fn health_response(backend: Backend, ping: RepoResult<()>) -> HttpResponse {
    let (mut response, status, database) = match ping {
        Ok(()) => (HttpResponse::Ok(), "ok", "up"),
        Err(error) => {
            log::warn!("health check: the database does not answer: {error}");
            (HttpResponse::ServiceUnavailable(), "error", "down")
        }
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "status": status,
            "backend": backend.as_str(),
            "database": database,
        }))
}

/// `GET /health/ready`: whether this instance should get traffic: the
/// database answers and its schema is current. Liveness is `/health`.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    operation_id = "ready",
    summary = "Readiness: the database answers and no migration is pending",
    description = "For load balancers and orchestrators (a Kubernetes readiness probe). 503 names what is \
        wrong: the database does not answer, or migrations are pending (run `openbadges-server migrate`). \
        With read replicas (`DATABASE_REPLICA_URLS`), `replicas` shows each one's state and lag; a replica \
        down or lagging does not make the server not ready, since the primary answers in its place. \
        Never rate limited.",
    responses(
        (status = 200, description = "Ready.", body = crate::api::schema::Readiness,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "Not ready: the database does not answer, or migrations are pending.",
            body = crate::api::schema::Readiness,
            headers(("Cache-Control" = String, description = "`no-store`.")),
            example = json!({"status": "not ready", "backend": "postgresql", "database": "up",
                "pendingMigrations": 2, "reason": "2 database migrations are pending: run `openbadges-server migrate`"})),
    )
)]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.as_ref();
    let readiness = match store.ping().await {
        Err(error) => Readiness::DatabaseDown(error),
        Ok(()) => match store.pending_migrations().await {
            Ok(0) => Readiness::Ready,
            Ok(pending) => Readiness::MigrationsPending(pending),
            Err(error) => Readiness::MigrationsUnknown(error),
        },
    };
    let replicas = store
        .read_routing()
        .map(|routing| replicas_json(&routing, &state.settings.database.replica_locations()));
    readiness_response(store.backend(), readiness, replicas)
}

/// Each replica as `/health/ready` shows it; `urls` are the redacted URLs
/// by index.
fn replicas_json(routing: &ReadRouting, urls: &[String]) -> serde_json::Value {
    routing
        .replicas
        .iter()
        .map(|replica| {
            json!({
                "replica": replica.index,
                "url": urls.get(replica.index),
                "state": replica.health.as_str(),
                "lagMs": replica.lag.map(|lag| u64::try_from(lag.as_millis()).unwrap_or(u64::MAX)),
                "queries": replica.queries,
            })
        })
        .collect()
}

/// What the readiness check found.
#[derive(Debug)]
enum Readiness {
    Ready,
    DatabaseDown(DomainError),
    MigrationsPending(usize),
    MigrationsUnknown(DomainError),
}

/// The readiness answer; `replicas` (from [`replicas_json`]) only when
/// read replicas are configured.
fn readiness_response(
    backend: Backend,
    readiness: Readiness,
    replicas: Option<serde_json::Value>,
) -> HttpResponse {
    let (database, pending, reason) = match readiness {
        Readiness::Ready => ("up", Some(0), None),
        Readiness::DatabaseDown(error) => {
            log::warn!("not ready: the database does not answer: {error}");
            (
                "down",
                None,
                Some("the database does not answer".to_owned()),
            )
        }
        Readiness::MigrationsPending(count) => {
            let reason = format!(
                "{count} database migration{} pending: run `openbadges-server migrate`",
                if count == 1 { " is" } else { "s are" }
            );
            log::warn!("not ready: {reason}");
            ("up", Some(count), Some(reason))
        }
        Readiness::MigrationsUnknown(error) => {
            log::warn!("not ready: cannot read which migrations are applied: {error}");
            (
                "up",
                None,
                Some("cannot read which database migrations are applied".to_owned()),
            )
        }
    };
    let mut response = match reason {
        None => HttpResponse::Ok(),
        Some(_) => HttpResponse::ServiceUnavailable(),
    };
    let mut body = json!({
        "status": if reason.is_none() { "ready" } else { "not ready" },
        "backend": backend.as_str(),
        "database": database,
        "pendingMigrations": pending,
    });
    if let Some(reason) = reason {
        body["reason"] = reason.into();
    }
    if let Some(replicas) = replicas {
        body["replicas"] = replicas;
    }
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use serde_json::Value;

    use super::*;
    use crate::error::tests::body;

    #[test]
    fn readiness_names_what_is_wrong() {
        let response = readiness_response(Backend::Sqlite, Readiness::Ready, None);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body(response),
            json!({"status": "ready", "backend": "sqlite", "database": "up", "pendingMigrations": 0})
        );

        let response =
            readiness_response(Backend::Postgresql, Readiness::MigrationsPending(2), None);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let answer = body(response);
        assert_eq!(answer["status"], "not ready");
        assert_eq!(answer["pendingMigrations"], 2);
        assert_eq!(
            answer["reason"],
            "2 database migrations are pending: run `openbadges-server migrate`"
        );

        let response = readiness_response(
            Backend::Postgresql,
            Readiness::DatabaseDown(DomainError::Unavailable("password=hunter2".into())),
            None,
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let answer = body(response);
        assert_eq!(answer["database"], "down");
        assert_eq!(answer["pendingMigrations"], Value::Null);
        assert_eq!(answer["reason"], "the database does not answer");
        assert!(!answer.to_string().contains("hunter2"));
    }

    #[test]
    fn replicas_are_shown_by_index_state_and_lag() {
        use openbadges_domain::operations::{ReplicaHealth, ReplicaState};
        use std::time::Duration;
        let routing = ReadRouting {
            replicas: vec![
                ReplicaState {
                    index: 0,
                    health: ReplicaHealth::Serving,
                    lag: Some(Duration::from_millis(120)),
                    queries: 7,
                    fallbacks: 1,
                },
                ReplicaState {
                    index: 1,
                    health: ReplicaHealth::Down,
                    lag: None,
                    queries: 0,
                    fallbacks: 0,
                },
            ],
            primary_reads: 3,
        };
        let urls = [
            "postgres://ob:***@r0/badges".to_owned(),
            "postgres://r1/badges".to_owned(),
        ];
        let response = readiness_response(
            Backend::Postgresql,
            Readiness::Ready,
            Some(replicas_json(&routing, &urls)),
        );
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a down replica leaves the server ready"
        );
        assert_eq!(
            body(response)["replicas"],
            json!([
                {"replica": 0, "url": "postgres://ob:***@r0/badges", "state": "serving", "lagMs": 120, "queries": 7},
                {"replica": 1, "url": "postgres://r1/badges", "state": "down", "lagMs": null, "queries": 0},
            ])
        );
    }

    #[test]
    fn health_reports_up_and_down() {
        let response = health_response(Backend::Sqlite, Ok(()));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            body(response),
            json!({"status": "ok", "backend": "sqlite", "database": "up"})
        );

        let response = health_response(
            Backend::Postgresql,
            Err(DomainError::Unavailable("connection reset".into())),
        );
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body(response),
            json!({"status": "error", "backend": "postgresql", "database": "down"})
        );
    }
}
