//! Use cases for user accounts and API keys. Passwords arrive already hashed
//! (the application hashes with argon2id) and API keys as their SHA-256: the
//! domain never sees a secret.

use crate::access::Principal;
use crate::entities::{ApiKey, User};
use crate::ids::{ApiKeyId, IssuerId, UserId};
use crate::page::{Page, PageRequest};
use crate::ports::{Store, UserUpdate};
use crate::values::*;
use crate::DomainError;

/// The fields of a new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: Username,
    /// Contact address.
    pub email: Option<Email>,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// Role.
    pub role: Role,
}

/// The fields of a new API key; the key itself is made by the caller, which
/// shows it once and passes only its hash here.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The user the key acts for.
    pub user_id: UserId,
    /// Label.
    pub name: Name,
    /// SHA-256 of the key.
    pub key_hash: ApiKeyHash,
    /// First characters of the key, to recognise it in lists.
    pub prefix: Label,
    /// What it may do; at most what its user's role allows.
    pub permissions: Vec<Permission>,
    /// Limit to one issuer, which the user must manage.
    pub issuer_scope: Option<IssuerId>,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
}

fn user_from(new: NewUser) -> User {
    let now = Timestamp::now();
    User {
        id: UserId::generate(),
        username: new.username,
        email: new.email,
        password_hash: new.password_hash,
        role: new.role,
        session_generation: 0,
        created_at: now,
        updated_at: now,
    }
}

/// An administrator creates an account.
pub async fn create_user(
    store: &dyn Store,
    actor: &Principal,
    new: NewUser,
) -> Result<User, DomainError> {
    actor.may_administer()?;
    let user = user_from(new);
    store.users().create(&user).await?;
    Ok(user)
}

/// Someone registers a learner account themself (when the server allows
/// it: the caller decides). The role is always `learner`, whatever was asked.
pub async fn register_learner(store: &dyn Store, new: NewUser) -> Result<User, DomainError> {
    let user = user_from(NewUser {
        role: Role::Learner,
        ..new
    });
    store.users().create(&user).await?;
    Ok(user)
}

/// Creates the first administrator of a fresh install, unless a user with
/// that name exists already (then nothing changes: a restart must not reset
/// a password changed since). Returns the user and whether it was created.
pub async fn bootstrap_admin(store: &dyn Store, new: NewUser) -> Result<(User, bool), DomainError> {
    if let Some(existing) = store
        .users()
        .find_by_username(new.username.as_str())
        .await?
    {
        return Ok((existing, false));
    }
    let user = user_from(NewUser {
        role: Role::Admin,
        ..new
    });
    match store.users().create(&user).await {
        Ok(()) => Ok((user, true)),
        // Another instance bootstrapped it at the same moment.
        Err(DomainError::Duplicate { .. }) => store
            .users()
            .find_by_username(user.username.as_str())
            .await?
            .map(|u| (u, false))
            .ok_or_else(|| DomainError::Internal("bootstrap admin vanished".to_owned())),
        Err(other) => Err(other),
    }
}

/// The account, for the user themself or an administrator.
pub async fn get_user(
    store: &dyn Store,
    actor: &Principal,
    id: UserId,
) -> Result<User, DomainError> {
    actor.may_act_for(id)?;
    store.users().get(id).await
}

/// All accounts, for an administrator.
pub async fn list_users(
    store: &dyn Store,
    actor: &Principal,
    page: PageRequest,
) -> Result<Page<User>, DomainError> {
    actor.may_administer()?;
    store.users().list(page).await
}

/// Changes of an account: e-mail by the user or an admin, role by an admin only.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New e-mail (`Some(None)` clears it).
    pub email: Option<Option<Email>>,
    /// New role.
    pub role: Option<Role>,
}

/// Updates an account: only the fields given are written, so an e-mail
/// change racing a demotion cannot write the old role back.
pub async fn update_user(
    store: &dyn Store,
    actor: &Principal,
    id: UserId,
    changes: UserChanges,
) -> Result<User, DomainError> {
    actor.may_change_account(id)?;
    if changes.role.is_some() {
        actor.may_administer()?;
        if actor.user_id == Some(id) {
            return Err(DomainError::Conflict(
                "an administrator cannot change their own role; another administrator can"
                    .to_owned(),
            ));
        }
    }
    let update = UserUpdate {
        email: changes.email,
        role: changes.role,
        ..UserUpdate::default()
    };
    store.users().update(id, &update, Timestamp::now()).await
}

/// Sets a new password hash, which ends every login token of the user
/// issued before. The caller has checked the current password
/// (self-service) or is an administrator.
pub async fn set_password(
    store: &dyn Store,
    actor: &Principal,
    id: UserId,
    password_hash: PasswordHash,
) -> Result<(), DomainError> {
    actor.may_change_account(id)?;
    let update = UserUpdate {
        password_hash: Some(password_hash),
        ..UserUpdate::default()
    };
    store.users().update(id, &update, Timestamp::now()).await?;
    Ok(())
}

/// Ends every login token of the user issued so far ("log out
/// everywhere"): by the user themself or an administrator. API keys are
/// not sessions and stay; they are revoked one by one.
pub async fn end_sessions(
    store: &dyn Store,
    actor: &Principal,
    id: UserId,
) -> Result<(), DomainError> {
    actor.may_change_account(id)?;
    let update = UserUpdate {
        end_sessions: true,
        ..UserUpdate::default()
    };
    store.users().update(id, &update, Timestamp::now()).await?;
    Ok(())
}

/// An administrator deletes an account (its keys go with it). Nobody deletes
/// their own account, so an install cannot lose its last administrator by accident.
pub async fn delete_user(
    store: &dyn Store,
    actor: &Principal,
    id: UserId,
) -> Result<(), DomainError> {
    actor.may_administer()?;
    if actor.user_id == Some(id) {
        return Err(DomainError::Conflict(
            "an administrator cannot delete their own account".to_owned(),
        ));
    }
    store.users().delete(id).await
}

/// Creates an API key for `new.user_id`: by that user or an administrator;
/// its permissions cannot exceed the user's role, and a scope must be an
/// issuer the user manages.
pub async fn create_api_key(
    store: &dyn Store,
    actor: &Principal,
    new: NewApiKey,
) -> Result<ApiKey, DomainError> {
    actor.may_change_account(new.user_id)?;
    actor.may_grant(&new.permissions)?;
    if actor.issuer_scope.is_some() {
        return Err(DomainError::Forbidden(
            "a key scoped to one issuer may not create keys".to_owned(),
        ));
    }
    let user = store.users().get(new.user_id).await.map_err(|e| match e {
        DomainError::NotFound { id, .. } => DomainError::MissingReference { entity: "user", id },
        other => other,
    })?;
    let allowed = Principal::role_permissions(user.role);
    if let Some(extra) = new.permissions.iter().find(|p| !allowed.contains(p)) {
        return Err(DomainError::invalid(
            "permissions",
            format!(
                "{extra:?} exceeds what the user's role ({}) allows",
                user.role.as_str()
            )
            .to_lowercase(),
        ));
    }
    if new.permissions.is_empty() {
        return Err(DomainError::invalid(
            "permissions",
            "must name at least one of read, write, admin",
        ));
    }
    if let Some(scope) = new.issuer_scope {
        let issuer = store.issuers().get(scope).await.map_err(|e| match e {
            DomainError::NotFound { id, .. } => DomainError::MissingReference {
                entity: "issuer",
                id,
            },
            other => other,
        })?;
        Principal::session(user.id, user.role)
            .may_manage(&issuer)
            .map_err(|_| {
                DomainError::invalid("issuerId", "the key's user does not manage this issuer")
            })?;
    }
    if new.expires_at.is_some_and(|at| at <= Timestamp::now()) {
        return Err(DomainError::invalid("expiresAt", "must be in the future"));
    }
    let mut permissions = new.permissions;
    permissions.sort();
    permissions.dedup();
    let key = ApiKey {
        id: ApiKeyId::generate(),
        user_id: new.user_id,
        name: new.name,
        key_hash: new.key_hash,
        prefix: new.prefix,
        permissions,
        issuer_scope: new.issuer_scope,
        expires_at: new.expires_at,
        revoked_at: None,
        last_used_at: None,
        created_at: Timestamp::now(),
    };
    store.api_keys().create(&key).await?;
    Ok(key)
}

/// A key, for its user or an administrator. Someone else's key is reported
/// as missing, not forbidden, so ids cannot be probed.
pub async fn get_api_key(
    store: &dyn Store,
    actor: &Principal,
    id: ApiKeyId,
) -> Result<ApiKey, DomainError> {
    let key = store.api_keys().get(id).await?;
    if actor.may_act_for(key.user_id).is_err() {
        return Err(DomainError::NotFound {
            entity: "api key",
            id: id.to_string(),
        });
    }
    Ok(key)
}

/// Revokes a key; it stops working at once. Revoking twice is a no-op.
pub async fn revoke_api_key(
    store: &dyn Store,
    actor: &Principal,
    id: ApiKeyId,
) -> Result<ApiKey, DomainError> {
    let key = get_api_key(store, actor, id).await?;
    actor.may_change_account(key.user_id)?;
    // Revocation is its own write of `revoked_at` alone: nothing read
    // before (by a request using the key, say) can write it back.
    store.api_keys().revoke(id, Timestamp::now()).await
}

/// Deletes a key: by its user with a write-capable credential, or an
/// administrator.
pub async fn delete_api_key(
    store: &dyn Store,
    actor: &Principal,
    id: ApiKeyId,
) -> Result<(), DomainError> {
    let key = get_api_key(store, actor, id).await?;
    actor.may_change_account(key.user_id)?;
    store.api_keys().delete(id).await
}

/// How often at most a key's `last_used_at` is written: often enough to
/// tell a live key from a dead one, rare enough not to write per request.
pub const LAST_USED_GRANULARITY: std::time::Duration = std::time::Duration::from_secs(300);

/// Whether a use of `key` (as authentication read it) at `now` is worth
/// recording: its last recorded use is unset or older than
/// [`LAST_USED_GRANULARITY`]. The record itself is
/// [`crate::ports::ApiKeyRepository::record_use`], which writes
/// `last_used_at` alone, so a revocation landing since the key was read
/// stays.
pub fn use_worth_recording(key: &ApiKey, now: Timestamp) -> bool {
    key.last_used_at.is_none_or(|at| {
        (now.as_datetime() - at.as_datetime())
            .to_std()
            .is_ok_and(|age| age >= LAST_USED_GRANULARITY)
    })
}

/// Why a presented API key does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    /// No such key.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// Resolves a presented key to the principal it acts as, checking
/// revocation, expiry and that its user still exists. Returns the key too, so
/// the caller can record its use.
pub async fn authenticate_api_key(
    store: &dyn Store,
    hash: &ApiKeyHash,
    now: Timestamp,
) -> Result<Result<(Principal, ApiKey), KeyRejection>, DomainError> {
    let Some(key) = store.api_keys().find_by_hash(hash).await? else {
        return Ok(Err(KeyRejection::Unknown));
    };
    if key.revoked_at.is_some() {
        return Ok(Err(KeyRejection::Revoked));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(KeyRejection::Expired));
    }
    let user = match store.users().get(key.user_id).await {
        Ok(user) => user,
        Err(DomainError::NotFound { .. }) => return Ok(Err(KeyRejection::Unknown)),
        Err(other) => return Err(other),
    };
    // A key acts with no more than its user's role allows now: the keys
    // of a user demoted since they were made lose what the role lost.
    let allowed = Principal::role_permissions(user.role);
    let principal = Principal {
        user_id: Some(user.id),
        role: user.role,
        permissions: key
            .permissions
            .iter()
            .filter(|p| allowed.contains(p))
            .copied()
            .collect(),
        issuer_scope: key.issuer_scope,
        credential: crate::access::Credential::ApiKey,
    };
    Ok(Ok((principal, key)))
}
