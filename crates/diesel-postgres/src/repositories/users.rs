use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use crate::rows::*;
use crate::schema::*;

use super::{blocking, decode, in_transaction, limit_offset, not_found, to_page};

/// Users on PostgreSQL.
pub(crate) struct PgUsers(pub(crate) super::Pools);

#[async_trait]
impl UserRepository for PgUsers {
    async fn create(&self, user: &User) -> RepoResult<()> {
        let row = UserRow::from(user);
        blocking(&self.0.primary, move |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: UserId) -> RepoResult<User> {
        blocking(&self.0.primary, move |conn| {
            users::table
                .find(id.as_uuid())
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("user", id))
                .and_then(decode)
        })
        .await
    }

    async fn find_by_username(&self, username: &str) -> RepoResult<Option<User>> {
        let username = username.to_owned();
        blocking(&self.0.primary, move |conn| {
            users::table
                .filter(users::username.eq(username))
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .map(decode)
                .transpose()
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.to_owned();
        blocking(&self.0.primary, move |conn| {
            users::table
                .filter(users::email.eq(email))
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .map(decode)
                .transpose()
        })
        .await
    }

    async fn update(&self, id: UserId, changes: &UserUpdate, at: Timestamp) -> RepoResult<User> {
        let columns = UserChangeset::from(changes);
        let bump = i32::from(changes.ends_sessions());
        blocking(&self.0.primary, move |conn| {
            // One statement: the given columns, and the counter raised from
            // its stored value, never from a value read earlier.
            let row = diesel::update(users::table.find(id.as_uuid()))
                .set((
                    &columns,
                    users::session_generation.eq(users::session_generation + bump),
                    users::updated_at.eq(stamp(at)),
                ))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .optional()?
                .ok_or_else(|| not_found("user", id.as_uuid()))?;
            decode(row)
        })
        .await
    }

    async fn delete(&self, id: UserId) -> RepoResult<()> {
        blocking(&self.0.primary, move |conn| {
            // The foreign keys remove the user's keys and clear issuer owners.
            let deleted = diesel::delete(users::table.find(id.as_uuid())).execute(conn)?;
            if deleted == 0 {
                return Err(not_found("user", id));
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, page: PageRequest) -> RepoResult<Page<User>> {
        let (limit, offset) = limit_offset(page);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let total: i64 = users::table.count().get_result(conn)?;
                let rows = users::table
                    .order((users::created_at.asc(), users::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(UserRow::as_select())
                    .load(conn)?;
                to_page(rows, total)
            })
        })
        .await
    }
}
