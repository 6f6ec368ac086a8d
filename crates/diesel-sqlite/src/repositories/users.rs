//! User accounts.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{RepoResult, UserRepository, UserUpdate};
use openbadges_domain::{Page, PageRequest, Timestamp, User, UserId};

use super::{decode_all, limit_offset, not_found, total};
use crate::pool::Database;
use crate::rows::{encode_timestamp, UserChanges, UserRow};
use crate::schema::users;

/// [`UserRepository`] on SQLite.
pub(crate) struct Users {
    db: Database,
}

impl Users {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UserRepository for Users {
    async fn create(&self, user: &User) -> RepoResult<()> {
        let row = UserRow::from(user);
        self.db
            .write(move |conn| {
                diesel::insert_into(users::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: UserId) -> RepoResult<User> {
        self.db
            .run(move |conn| {
                let row = users::table
                    .find(id.to_string())
                    .select(UserRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("user", id))?;
                Ok(User::try_from(row)?)
            })
            .await
    }

    async fn find_by_username(&self, username: &str) -> RepoResult<Option<User>> {
        let username = username.to_owned();
        self.db
            .run(move |conn| {
                let row = users::table
                    .filter(users::username.eq(&username))
                    .select(UserRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(User::try_from).transpose()?)
            })
            .await
    }

    async fn find_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.to_owned();
        self.db
            .run(move |conn| {
                let row = users::table
                    .filter(users::email.eq(&email))
                    .select(UserRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(User::try_from).transpose()?)
            })
            .await
    }

    async fn update(&self, id: UserId, changes: &UserUpdate, at: Timestamp) -> RepoResult<User> {
        let columns = UserChanges::from(changes);
        let bump = i32::from(changes.ends_sessions());
        self.db
            .write(move |conn| {
                // One statement: the given columns, and the counter raised
                // from its stored value, never from a value read earlier.
                let row = diesel::update(users::table.find(id.to_string()))
                    .set((
                        &columns,
                        users::session_generation.eq(users::session_generation + bump),
                        users::updated_at.eq(encode_timestamp(at)),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .optional()?
                    .ok_or_else(|| not_found("user", id))?;
                Ok(User::try_from(row)?)
            })
            .await
    }

    async fn delete(&self, id: UserId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                // The schema's foreign keys do the rest: API keys are deleted
                // and owned issuers lose their owner.
                let deleted = diesel::delete(users::table.find(id.to_string())).execute(conn)?;
                if deleted == 0 {
                    return Err(not_found("user", id));
                }
                Ok(())
            })
            .await
    }

    async fn list(&self, page: PageRequest) -> RepoResult<Page<User>> {
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let count: i64 = users::table.count().get_result(conn)?;
                let rows: Vec<UserRow> = users::table
                    .select(UserRow::as_select())
                    .order((users::created_at.asc(), users::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(conn)?;
                Ok(Page {
                    items: decode_all(rows)?,
                    total: total(count)?,
                })
            })
            .await
    }
}
