//! Who may do what. The HTTP layer establishes a [`Principal`] (from a
//! login token or an API key); the use cases ask it before every write.
//!
//! The rules:
//! - public documents (issuers, achievements, credentials by id) and the
//!   lists of issuers and achievements are readable by anyone;
//! - lists of credentials carry recipient data: an admin or a viewer sees
//!   all of them, an issuer-role user those of the issuers they own;
//! - an admin manages everything; an issuer-role user creates issuers (and
//!   owns them) and manages the issuers they own, with their achievements
//!   and credentials; a viewer writes nothing;
//! - an API key acts for its user, narrowed by its permissions (`read`,
//!   `write`, `admin`) and, when scoped, to one issuer;
//! - a learner has none of these permissions: they hold credentials, and
//!   reach only their own backpack, addresses and profile.

use crate::entities::Issuer;
use crate::ids::{IssuerId, UserId};
use crate::values::{Permission, Role};
use crate::DomainError;

/// How the principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A login token (JWT) of a user.
    Session,
    /// An API key from the `api_keys` table.
    ApiKey,
    /// A key configured in the environment (`AUTH_API_KEY_<NAME>`).
    ConfiguredKey,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user acted for; `None` for a configured key not tied to a user.
    pub user_id: Option<UserId>,
    /// The user's role.
    pub role: Role,
    /// What this credential may do; a session has every permission of its role.
    pub permissions: Vec<Permission>,
    /// When set, only this issuer (and what belongs to it) may be touched.
    pub issuer_scope: Option<IssuerId>,
    /// How the caller authenticated.
    pub credential: Credential,
}

fn forbidden(message: impl Into<String>) -> DomainError {
    DomainError::Forbidden(message.into())
}

impl Principal {
    /// The permissions a role grants to a session.
    pub fn role_permissions(role: Role) -> Vec<Permission> {
        match role {
            Role::Admin => vec![Permission::Read, Permission::Write, Permission::Admin],
            Role::Issuer => vec![Permission::Read, Permission::Write],
            Role::Viewer => vec![Permission::Read],
            // A learner reaches only their own `/learner/*` resources, which
            // check the user id, not a permission.
            Role::Learner => vec![],
        }
    }

    /// A logged-in user with every permission of their role.
    pub fn session(user_id: UserId, role: Role) -> Self {
        Self {
            user_id: Some(user_id),
            role,
            permissions: Self::role_permissions(role),
            issuer_scope: None,
            credential: Credential::Session,
        }
    }

    fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Admin role used with the admin permission.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.has(Permission::Admin)
    }

    fn may_write(&self) -> Result<(), DomainError> {
        if self.role == Role::Viewer || !self.has(Permission::Write) {
            return Err(forbidden("this credential may not write"));
        }
        Ok(())
    }

    /// May create an issuer (which the caller then owns).
    pub fn may_create_issuer(&self) -> Result<(), DomainError> {
        self.may_write()?;
        if self.issuer_scope.is_some() {
            return Err(forbidden(
                "a key scoped to one issuer may not create issuers",
            ));
        }
        Ok(())
    }

    /// May upload an image (`POST /assets`): any credential that may
    /// write, as for creating an achievement.
    pub fn may_upload(&self) -> Result<(), DomainError> {
        self.may_write()
    }

    /// May change `issuer`, its achievements and its credentials.
    pub fn may_manage(&self, issuer: &Issuer) -> Result<(), DomainError> {
        self.may_write()?;
        if self.issuer_scope.is_some_and(|scope| scope != issuer.id) {
            return Err(forbidden(format!(
                "this key is scoped to another issuer than {}",
                issuer.id
            )));
        }
        if self.role == Role::Admin || (self.user_id.is_some() && self.user_id == issuer.owner_id) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "issuer {} is managed by someone else",
                issuer.id
            )))
        }
    }

    /// Which credentials a list may show: `Ok(None)` for all of them,
    /// `Ok(Some(issuers))` to limit to those issuers' awards (decided by
    /// the caller from [`Principal::owns_only`]).
    pub fn may_read_credentials(&self) -> Result<(), DomainError> {
        if !self.has(Permission::Read) {
            return Err(forbidden("this credential may not read credentials"));
        }
        Ok(())
    }

    /// When lists of credentials must be limited to the caller's own
    /// issuers: an issuer-role user, or any key scoped to one issuer.
    pub fn owns_only(&self) -> bool {
        self.issuer_scope.is_some() || self.role == Role::Issuer
    }

    /// Whether the caller may see `issuer`'s credentials in lists.
    pub fn may_see_credentials_of(&self, issuer: &Issuer) -> bool {
        if self.issuer_scope.is_some_and(|scope| scope != issuer.id) {
            return false;
        }
        match self.role {
            Role::Admin | Role::Viewer => true,
            Role::Issuer => self.user_id.is_some() && self.user_id == issuer.owner_id,
            Role::Learner => false,
        }
    }

    /// May manage user accounts and everyone's API keys.
    pub fn may_administer(&self) -> Result<(), DomainError> {
        if self.is_admin() && self.issuer_scope.is_none() {
            Ok(())
        } else {
            Err(forbidden("only an administrator may do this"))
        }
    }

    /// May change the account `user_id` (e-mail, password, keys, sessions):
    /// an administrator, or the user themself logged in (whatever their
    /// role: a viewer manages their own account too) or with a
    /// write-capable key. A read-only key must not be a way to take over
    /// its account.
    pub fn may_change_account(&self, user_id: UserId) -> Result<(), DomainError> {
        self.may_act_for(user_id)?;
        if self.may_administer().is_ok()
            || self.credential == Credential::Session
            || self.has(Permission::Write)
        {
            Ok(())
        } else {
            Err(forbidden("this credential may not change the account"))
        }
    }

    /// Whether the caller holds every permission in `wanted`: a credential
    /// cannot hand out more than it has.
    pub fn may_grant(&self, wanted: &[Permission]) -> Result<(), DomainError> {
        match wanted.iter().find(|p| !self.has(**p)) {
            None => Ok(()),
            Some(missing) => Err(forbidden(
                format!("this credential cannot grant the {missing:?} permission").to_lowercase(),
            )),
        }
    }

    /// May act on the account `user_id` (self-service or admin).
    pub fn may_act_for(&self, user_id: UserId) -> Result<(), DomainError> {
        if self.user_id == Some(user_id) || self.may_administer().is_ok() {
            Ok(())
        } else {
            Err(forbidden(
                "only the user themself or an administrator may do this",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::*;

    fn issuer(owner: Option<UserId>) -> Issuer {
        let now = Timestamp::now();
        Issuer {
            id: IssuerId::generate(),
            name: Name::parse("I").unwrap(),
            url: HttpUrl::parse("https://i.example.org").unwrap(),
            email: None,
            description: None,
            image: None,
            details: Default::default(),
            owner_id: owner,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn owners_and_admins_manage_others_do_not() {
        let owner = UserId::generate();
        let mine = issuer(Some(owner));
        let theirs = issuer(Some(UserId::generate()));
        let me = Principal::session(owner, Role::Issuer);
        assert!(me.may_manage(&mine).is_ok());
        assert!(me.may_manage(&theirs).is_err());
        assert!(Principal::session(UserId::generate(), Role::Admin)
            .may_manage(&theirs)
            .is_ok());
        assert!(Principal::session(owner, Role::Viewer)
            .may_manage(&mine)
            .is_err());
    }

    #[test]
    fn read_only_keys_cannot_take_over_their_account() {
        let user = UserId::generate();
        let read_only = Principal {
            user_id: Some(user),
            role: Role::Issuer,
            permissions: vec![Permission::Read],
            issuer_scope: None,
            credential: Credential::ApiKey,
        };
        assert!(read_only.may_change_account(user).is_err());
        assert!(read_only.may_grant(&[Permission::Read]).is_ok());
        assert!(read_only
            .may_grant(&[Permission::Read, Permission::Write])
            .is_err());
        let session = Principal::session(user, Role::Issuer);
        assert!(session.may_change_account(user).is_ok());
        let viewer = Principal::session(user, Role::Viewer);
        assert!(viewer.may_change_account(user).is_ok(), "self-service");
        assert!(viewer.may_change_account(UserId::generate()).is_err());
        assert!(viewer.may_grant(&[Permission::Write]).is_err());
        assert!(session.may_change_account(UserId::generate()).is_err());
        assert!(session.may_grant(&[Permission::Admin]).is_err());
    }

    #[test]
    fn learners_have_none_of_the_admin_permissions() {
        let me = UserId::generate();
        let learner = Principal::session(me, Role::Learner);
        assert!(learner.permissions.is_empty());
        assert!(learner.may_create_issuer().is_err());
        assert!(learner.may_upload().is_err());
        assert!(learner.may_read_credentials().is_err());
        assert!(learner.may_administer().is_err());
        assert!(learner.may_manage(&issuer(Some(me))).is_err());
        assert!(!learner.may_see_credentials_of(&issuer(Some(me))));
        assert!(learner.may_grant(&[Permission::Read]).is_err());
        assert!(learner.may_change_account(me).is_ok(), "their own password");
        assert!(learner.may_change_account(UserId::generate()).is_err());
    }

    #[test]
    fn keys_are_narrowed_by_permissions_and_scope() {
        let owner = UserId::generate();
        let mine = issuer(Some(owner));
        let other_mine = issuer(Some(owner));
        let key = Principal {
            user_id: Some(owner),
            role: Role::Issuer,
            permissions: vec![Permission::Read, Permission::Write],
            issuer_scope: Some(mine.id),
            credential: Credential::ApiKey,
        };
        assert!(key.may_manage(&mine).is_ok());
        assert!(key.may_manage(&other_mine).is_err());
        assert!(key.may_create_issuer().is_err());
        let read_only = Principal {
            permissions: vec![Permission::Read],
            issuer_scope: None,
            ..key
        };
        assert!(read_only.may_manage(&mine).is_err());
        let admin_key_without_admin_permission = Principal {
            role: Role::Admin,
            permissions: vec![Permission::Read, Permission::Write],
            ..read_only
        };
        assert!(admin_key_without_admin_permission.may_administer().is_err());
    }
}
