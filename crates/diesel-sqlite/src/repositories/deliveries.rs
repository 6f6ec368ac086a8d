//! Badge hosts and the sending of awards to them.
//!
//! Every change reads the row and writes it back in one `BEGIN IMMEDIATE`
//! transaction, applying the domain's own transition
//! (`openbadges_domain::deliveries`): SQLite has one writer at a time, so
//! two senders claim one after the other and the second sees the first's
//! rows as `sending`.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::deliveries::{Delivery, DeliveryState, RemoteHost, SealedTokens};
use openbadges_domain::mail::lease_end;
use openbadges_domain::ports::{DeliveryRepository, RepoResult};
use openbadges_domain::{AssertionId, DeliveryId, DomainError, RemoteHostId, Timestamp};

use crate::pool::Database;
use crate::rows::{
    decode, decode_id, decode_optional_timestamp, decode_timestamp, encode_optional_timestamp,
    encode_timestamp,
};
use crate::schema::{assertions, deliveries, remote_hosts};

use super::{decode_all, missing_reference, not_found};

/// A row of `remote_hosts`.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = remote_hosts, check_for_backend(diesel::sqlite::Sqlite))]
struct HostRow {
    id: String,
    base_url: String,
    authorization_url: String,
    token_url: String,
    scope: String,
    client_id: String,
    client_secret: Vec<u8>,
    registered_at: String,
}

impl From<&RemoteHost> for HostRow {
    fn from(host: &RemoteHost) -> Self {
        Self {
            id: host.id.to_string(),
            base_url: host.base_url.clone(),
            authorization_url: host.authorization_url.clone(),
            token_url: host.token_url.clone(),
            scope: host.scope.clone(),
            client_id: host.client_id.clone(),
            client_secret: host.sealed_client_secret.clone(),
            registered_at: encode_timestamp(host.registered_at),
        }
    }
}

impl TryFrom<HostRow> for RemoteHost {
    type Error = DomainError;

    fn try_from(row: HostRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("remote_hosts.id", &row.id)?,
            base_url: row.base_url,
            authorization_url: row.authorization_url,
            token_url: row.token_url,
            scope: row.scope,
            client_id: row.client_id,
            sealed_client_secret: row.client_secret,
            registered_at: decode_timestamp("remote_hosts.registered_at", &row.registered_at)?,
        })
    }
}

/// A row of `deliveries`; written back whole after a transition.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = deliveries, check_for_backend(diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct DeliveryRow {
    id: String,
    assertion_id: String,
    host_id: String,
    state: String,
    state_hash: Option<String>,
    code_verifier: Option<Vec<u8>>,
    authorize_until: String,
    access_token: Option<Vec<u8>>,
    refresh_token: Option<Vec<u8>>,
    attempts: i32,
    next_attempt_at: Option<String>,
    claimed_until: Option<String>,
    last_error: Option<String>,
    delivered_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<&Delivery> for DeliveryRow {
    type Error = DomainError;

    fn try_from(delivery: &Delivery) -> Result<Self, Self::Error> {
        Ok(Self {
            id: delivery.id.to_string(),
            assertion_id: delivery.assertion_id.to_string(),
            host_id: delivery.host_id.to_string(),
            state: delivery.state.as_str().to_owned(),
            state_hash: delivery.state_hash.clone(),
            code_verifier: delivery.sealed_verifier.clone(),
            authorize_until: encode_timestamp(delivery.authorize_until),
            access_token: delivery.tokens.as_ref().map(|t| t.access.clone()),
            refresh_token: delivery.tokens.as_ref().and_then(|t| t.refresh.clone()),
            attempts: i32::try_from(delivery.attempts)
                .map_err(|_| DomainError::Internal("attempts out of range".to_owned()))?,
            next_attempt_at: encode_optional_timestamp(delivery.next_attempt_at),
            claimed_until: encode_optional_timestamp(delivery.claimed_until),
            last_error: delivery.last_error.clone(),
            delivered_at: encode_optional_timestamp(delivery.delivered_at),
            created_at: encode_timestamp(delivery.created_at),
            updated_at: encode_timestamp(delivery.updated_at),
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
            id: decode_id("deliveries.id", &row.id)?,
            assertion_id: decode_id("deliveries.assertion_id", &row.assertion_id)?,
            host_id: decode_id("deliveries.host_id", &row.host_id)?,
            state: decode("deliveries.state", DeliveryState::parse(&row.state))?,
            state_hash: row.state_hash,
            sealed_verifier: row.code_verifier,
            authorize_until: decode_timestamp("deliveries.authorize_until", &row.authorize_until)?,
            tokens,
            attempts: decode("deliveries.attempts", u32::try_from(row.attempts))?,
            next_attempt_at: decode_optional_timestamp(
                "deliveries.next_attempt_at",
                row.next_attempt_at.as_deref(),
            )?,
            claimed_until: decode_optional_timestamp(
                "deliveries.claimed_until",
                row.claimed_until.as_deref(),
            )?,
            last_error: row.last_error,
            delivered_at: decode_optional_timestamp(
                "deliveries.delivered_at",
                row.delivered_at.as_deref(),
            )?,
            created_at: decode_timestamp("deliveries.created_at", &row.created_at)?,
            updated_at: decode_timestamp("deliveries.updated_at", &row.updated_at)?,
        })
    }
}

/// [`DeliveryRepository`] on SQLite.
pub(crate) struct Deliveries {
    db: Database,
}

impl Deliveries {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }

    /// Reads delivery `id`, applies `change`, and writes it back when
    /// `change` answers `true`; answers that.
    async fn transition(
        &self,
        id: DeliveryId,
        change: impl FnOnce(&mut Delivery) -> bool + Send + 'static,
    ) -> RepoResult<bool> {
        let id = id.to_string();
        self.db
            .write(move |conn| {
                let row: Option<DeliveryRow> = deliveries::table
                    .find(&id)
                    .select(DeliveryRow::as_select())
                    .first(conn)
                    .optional()?;
                let Some(row) = row else {
                    return Ok(false);
                };
                let mut delivery = Delivery::try_from(row)?;
                if !change(&mut delivery) {
                    return Ok(false);
                }
                diesel::update(deliveries::table.find(&id))
                    .set(DeliveryRow::try_from(&delivery)?)
                    .execute(conn)?;
                Ok(true)
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
impl DeliveryRepository for Deliveries {
    async fn host(&self, base_url: &str) -> RepoResult<Option<RemoteHost>> {
        let base_url = base_url.to_owned();
        self.db
            .read(move |conn| {
                let row: Option<HostRow> = remote_hosts::table
                    .filter(remote_hosts::base_url.eq(&base_url))
                    .select(HostRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(RemoteHost::try_from).transpose()?)
            })
            .await
    }

    async fn get_host(&self, id: RemoteHostId) -> RepoResult<RemoteHost> {
        let key = id.to_string();
        self.db
            .read(move |conn| {
                let row: Option<HostRow> = remote_hosts::table
                    .find(&key)
                    .select(HostRow::as_select())
                    .first(conn)
                    .optional()?;
                match row {
                    Some(row) => Ok(RemoteHost::try_from(row)?),
                    None => Err(not_found("badge host", id)),
                }
            })
            .await
    }

    async fn add_host(&self, host: &RemoteHost) -> RepoResult<()> {
        let row = HostRow::from(host);
        self.db
            .write(move |conn| {
                diesel::insert_into(remote_hosts::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn start(&self, delivery: &Delivery) -> RepoResult<()> {
        let row = DeliveryRow::try_from(delivery)?;
        self.db
            .write(move |conn| {
                let award: i64 = assertions::table
                    .filter(assertions::id.eq(&row.assertion_id))
                    .count()
                    .get_result(conn)?;
                if award == 0 {
                    return Err(missing_reference("assertion", &row.assertion_id));
                }
                let host: i64 = remote_hosts::table
                    .filter(remote_hosts::id.eq(&row.host_id))
                    .count()
                    .get_result(conn)?;
                if host == 0 {
                    return Err(missing_reference("badge host", &row.host_id));
                }
                diesel::insert_into(deliveries::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn find_authorizing(&self, state_hash: &str) -> RepoResult<Option<Delivery>> {
        let state_hash = state_hash.to_owned();
        self.db
            .read(move |conn| {
                let row: Option<DeliveryRow> = deliveries::table
                    .filter(deliveries::state_hash.eq(&state_hash))
                    .filter(deliveries::state.eq(DeliveryState::Authorizing.as_str()))
                    .select(DeliveryRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(Delivery::try_from).transpose()?)
            })
            .await
    }

    async fn open_authorizations(
        &self,
        assertion_id: AssertionId,
        now: Timestamp,
    ) -> RepoResult<u64> {
        let id = assertion_id.to_string();
        let now = encode_timestamp(now);
        self.db
            .read(move |conn| {
                let count: i64 = deliveries::table
                    .filter(deliveries::assertion_id.eq(&id))
                    .filter(deliveries::state.eq(DeliveryState::Authorizing.as_str()))
                    .filter(deliveries::authorize_until.gt(&now))
                    .count()
                    .get_result(conn)?;
                Ok(u64::try_from(count).unwrap_or(0))
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
        let stamp = encode_timestamp(now);
        self.db
            .write(move |conn| {
                let due = deliveries::state
                    .eq(DeliveryState::Pending.as_str())
                    .and(deliveries::next_attempt_at.le(&stamp))
                    .or(deliveries::state
                        .eq(DeliveryState::Sending.as_str())
                        .and(deliveries::claimed_until.le(&stamp)));
                let rows: Vec<DeliveryRow> = deliveries::table
                    .filter(due)
                    .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
                    .limit(i64::from(limit))
                    .select(DeliveryRow::as_select())
                    .load(conn)?;
                let mut claimed: Vec<Delivery> = decode_all(rows)?;
                for delivery in &mut claimed {
                    delivery.claim(now, until);
                    diesel::update(deliveries::table.find(delivery.id.to_string()))
                        .set(DeliveryRow::try_from(&*delivery)?)
                        .execute(conn)?;
                }
                Ok(claimed)
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
        let id = assertion_id.to_string();
        self.db
            .read(move |conn| {
                let rows: Vec<DeliveryRow> = deliveries::table
                    .filter(deliveries::assertion_id.eq(&id))
                    .order((deliveries::created_at.asc(), deliveries::id.asc()))
                    .select(DeliveryRow::as_select())
                    .load(conn)?;
                decode_all(rows)
            })
            .await
    }
}
