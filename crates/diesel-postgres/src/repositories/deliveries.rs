//! Badge hosts and the sending of awards to them.
//!
//! Every change reads the row `FOR UPDATE` and writes it back in one
//! transaction, applying the domain's own transition
//! (`openbadges_domain::deliveries`). A claim selects the due rows `FOR
//! UPDATE SKIP LOCKED`: a second sender claiming at the same time skips the
//! rows the first holds, and once the first commits they are no longer due.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use openbadges_domain::deliveries::{Delivery, DeliveryState, RemoteHost, SealedTokens};
use openbadges_domain::mail::lease_end;
use openbadges_domain::ports::{DeliveryRepository, RepoResult};
use openbadges_domain::{AssertionId, DeliveryId, DomainError, RemoteHostId, Timestamp};

use uuid::Uuid;

use crate::errors::Failure;
use crate::pool::PgPool;
use crate::rows::{parse, restamp, stamp};
use crate::schema::{assertions, deliveries, remote_hosts};

use super::{blocking, decode_all, in_transaction, not_found};

fn missing_reference(entity: &'static str, id: Uuid) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

/// A row of `remote_hosts`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = remote_hosts, check_for_backend(diesel::pg::Pg))]
struct HostRow {
    id: Uuid,
    base_url: String,
    authorization_url: String,
    token_url: String,
    scope: String,
    client_id: String,
    client_secret: Vec<u8>,
    registered_at: DateTime<Utc>,
}

impl From<&RemoteHost> for HostRow {
    fn from(host: &RemoteHost) -> Self {
        Self {
            id: host.id.as_uuid(),
            base_url: host.base_url.clone(),
            authorization_url: host.authorization_url.clone(),
            token_url: host.token_url.clone(),
            scope: host.scope.clone(),
            client_id: host.client_id.clone(),
            client_secret: host.sealed_client_secret.clone(),
            registered_at: stamp(host.registered_at),
        }
    }
}

impl TryFrom<HostRow> for RemoteHost {
    type Error = DomainError;

    fn try_from(row: HostRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id.into(),
            base_url: row.base_url,
            authorization_url: row.authorization_url,
            token_url: row.token_url,
            scope: row.scope,
            client_id: row.client_id,
            sealed_client_secret: row.client_secret,
            registered_at: restamp(row.registered_at),
        })
    }
}

/// A row of `deliveries`; written back whole after a transition.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = deliveries, check_for_backend(diesel::pg::Pg))]
#[diesel(treat_none_as_null = true)]
struct DeliveryRow {
    id: Uuid,
    assertion_id: Uuid,
    host_id: Uuid,
    state: String,
    state_hash: Option<String>,
    code_verifier: Option<Vec<u8>>,
    authorize_until: DateTime<Utc>,
    access_token: Option<Vec<u8>>,
    refresh_token: Option<Vec<u8>>,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    claimed_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<&Delivery> for DeliveryRow {
    type Error = DomainError;

    fn try_from(delivery: &Delivery) -> Result<Self, Self::Error> {
        Ok(Self {
            id: delivery.id.as_uuid(),
            assertion_id: delivery.assertion_id.as_uuid(),
            host_id: delivery.host_id.as_uuid(),
            state: delivery.state.as_str().to_owned(),
            state_hash: delivery.state_hash.clone(),
            code_verifier: delivery.sealed_verifier.clone(),
            authorize_until: stamp(delivery.authorize_until),
            access_token: delivery.tokens.as_ref().map(|t| t.access.clone()),
            refresh_token: delivery.tokens.as_ref().and_then(|t| t.refresh.clone()),
            attempts: i32::try_from(delivery.attempts)
                .map_err(|_| DomainError::Internal("attempts out of range".to_owned()))?,
            next_attempt_at: delivery.next_attempt_at.map(stamp),
            claimed_until: delivery.claimed_until.map(stamp),
            last_error: delivery.last_error.clone(),
            delivered_at: delivery.delivered_at.map(stamp),
            created_at: stamp(delivery.created_at),
            updated_at: stamp(delivery.updated_at),
        })
    }
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = DomainError;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        let tokens = row.access_token.map(|access| SealedTokens {
            access,
            refresh: row.refresh_token,
        });
        Ok(Self {
            id: row.id.into(),
            assertion_id: row.assertion_id.into(),
            host_id: row.host_id.into(),
            state: parse("deliveries.state", row.state, |s| DeliveryState::parse(&s))?,
            state_hash: row.state_hash,
            sealed_verifier: row.code_verifier,
            authorize_until: restamp(row.authorize_until),
            tokens,
            attempts: parse("deliveries.attempts", row.attempts.to_string(), |s| {
                s.parse::<u32>()
            })?,
            next_attempt_at: row.next_attempt_at.map(restamp),
            claimed_until: row.claimed_until.map(restamp),
            last_error: row.last_error,
            delivered_at: row.delivered_at.map(restamp),
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        })
    }
}

/// [`DeliveryRepository`] on PostgreSQL.
pub(crate) struct PgDeliveries(pub(crate) PgPool);

impl PgDeliveries {
    /// Reads delivery `id`, applies `change`, and writes it back when
    /// `change` answers `true`; answers that.
    async fn transition(
        &self,
        id: DeliveryId,
        change: impl FnOnce(&mut Delivery) -> bool + Send + 'static,
    ) -> RepoResult<bool> {
        let id = id.as_uuid();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let row: Option<DeliveryRow> = deliveries::table
                    .find(id)
                    .select(DeliveryRow::as_select())
                    .for_update()
                    .first(conn)
                    .optional()?;
                let Some(row) = row else {
                    return Ok(false);
                };
                let mut delivery = Delivery::try_from(row)?;
                if !change(&mut delivery) {
                    return Ok(false);
                }
                diesel::update(deliveries::table.find(id))
                    .set(DeliveryRow::try_from(&delivery)?)
                    .execute(conn)?;
                Ok(true)
            })
        })
        .await
    }

    /// Applies `change` to the claimed delivery while it is still that claim.
    async fn finish(
        &self,
        claimed: &Delivery,
        change: impl FnOnce(&mut Delivery) + Send + 'static,
    ) -> RepoResult<bool> {
        let claim = claimed.clone();
        self.transition(claimed.id, move |delivery| {
            let current = delivery.is_claim(&claim);
            if current {
                change(delivery);
            }
            current
        })
        .await
    }
}

#[async_trait]
impl DeliveryRepository for PgDeliveries {
    async fn host(&self, base_url: &str) -> RepoResult<Option<RemoteHost>> {
        let base_url = base_url.to_owned();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let row: Option<HostRow> = remote_hosts::table
                    .filter(remote_hosts::base_url.eq(&base_url))
                    .select(HostRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(RemoteHost::try_from).transpose()?)
            })
        })
        .await
    }

    async fn get_host(&self, id: RemoteHostId) -> RepoResult<RemoteHost> {
        let key = id.as_uuid();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let row: Option<HostRow> = remote_hosts::table
                    .find(key)
                    .select(HostRow::as_select())
                    .first(conn)
                    .optional()?;
                match row {
                    Some(row) => Ok(RemoteHost::try_from(row)?),
                    None => Err(not_found("badge host", id)),
                }
            })
        })
        .await
    }

    async fn add_host(&self, host: &RemoteHost) -> RepoResult<()> {
        let row = HostRow::from(host);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                diesel::insert_into(remote_hosts::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn start(&self, delivery: &Delivery) -> RepoResult<()> {
        let row = DeliveryRow::try_from(delivery)?;
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let award: i64 = assertions::table
                    .filter(assertions::id.eq(row.assertion_id))
                    .count()
                    .get_result(conn)?;
                if award == 0 {
                    return Err(missing_reference("assertion", row.assertion_id));
                }
                let host: i64 = remote_hosts::table
                    .filter(remote_hosts::id.eq(row.host_id))
                    .count()
                    .get_result(conn)?;
                if host == 0 {
                    return Err(missing_reference("badge host", row.host_id));
                }
                diesel::insert_into(deliveries::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn find_authorizing(&self, state_hash: &str) -> RepoResult<Option<Delivery>> {
        let state_hash = state_hash.to_owned();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let row: Option<DeliveryRow> = deliveries::table
                    .filter(deliveries::state_hash.eq(&state_hash))
                    .filter(deliveries::state.eq(DeliveryState::Authorizing.as_str()))
                    .select(DeliveryRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(Delivery::try_from).transpose()?)
            })
        })
        .await
    }

    async fn open_authorizations(
        &self,
        assertion_id: AssertionId,
        now: Timestamp,
    ) -> RepoResult<u64> {
        let id = assertion_id.as_uuid();
        let now = stamp(now);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let count: i64 = deliveries::table
                    .filter(deliveries::assertion_id.eq(id))
                    .filter(deliveries::state.eq(DeliveryState::Authorizing.as_str()))
                    .filter(deliveries::authorize_until.gt(now))
                    .count()
                    .get_result(conn)?;
                Ok(u64::try_from(count).unwrap_or(0))
            })
        })
        .await
    }

    async fn authorized(
        &self,
        id: DeliveryId,
        tokens: &SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let tokens = tokens.clone();
        self.transition(id, move |delivery| delivery.authorize(&tokens, now))
            .await
    }

    async fn authorization_failed(
        &self,
        id: DeliveryId,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let error = error.to_owned();
        self.transition(id, move |delivery| delivery.fail_authorization(&error, now))
            .await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease: std::time::Duration,
        limit: u32,
    ) -> RepoResult<Vec<Delivery>> {
        let until = lease_end(now, lease)?;
        let at = stamp(now);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let due = deliveries::state
                    .eq(DeliveryState::Pending.as_str())
                    .and(deliveries::next_attempt_at.le(at))
                    .or(deliveries::state
                        .eq(DeliveryState::Sending.as_str())
                        .and(deliveries::claimed_until.le(at)));
                let rows: Vec<DeliveryRow> = deliveries::table
                    .filter(due)
                    .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
                    .limit(i64::from(limit))
                    .select(DeliveryRow::as_select())
                    .for_update()
                    .skip_locked()
                    .load(conn)?;
                let mut claimed: Vec<Delivery> = decode_all(rows)?;
                for delivery in &mut claimed {
                    delivery.claim(now, until);
                    diesel::update(deliveries::table.find(delivery.id.as_uuid()))
                        .set(DeliveryRow::try_from(&*delivery)?)
                        .execute(conn)?;
                }
                Ok(claimed)
            })
        })
        .await
    }

    async fn renew_tokens(
        &self,
        claimed: &Delivery,
        tokens: &SealedTokens,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let tokens = tokens.clone();
        self.finish(claimed, move |delivery| {
            delivery.tokens = Some(tokens);
            delivery.updated_at = now;
        })
        .await
    }

    async fn mark_delivered(&self, claimed: &Delivery, at: Timestamp) -> RepoResult<bool> {
        self.finish(claimed, move |delivery| delivery.deliver(at))
            .await
    }

    async fn mark_retry(
        &self,
        claimed: &Delivery,
        next_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let error = error.to_owned();
        self.finish(claimed, move |delivery| {
            delivery.retry(next_at, &error, now)
        })
        .await
    }

    async fn mark_failed(
        &self,
        claimed: &Delivery,
        error: &str,
        now: Timestamp,
    ) -> RepoResult<bool> {
        let error = error.to_owned();
        self.finish(claimed, move |delivery| delivery.fail(&error, now))
            .await
    }

    async fn list_for(&self, assertion_id: AssertionId) -> RepoResult<Vec<Delivery>> {
        let id = assertion_id.as_uuid();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let rows: Vec<DeliveryRow> = deliveries::table
                    .filter(deliveries::assertion_id.eq(id))
                    .order((deliveries::created_at.asc(), deliveries::id.asc()))
                    .select(DeliveryRow::as_select())
                    .load(conn)?;
                decode_all(rows)
            })
        })
        .await
    }
}
