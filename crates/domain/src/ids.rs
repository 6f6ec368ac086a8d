//! Typed identifiers: an `IssuerId` cannot be passed where a `BadgeClassId` is
//! expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn generate() -> Self {
                Self(Uuid::new_v4())
            }
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies an issuer profile.
    IssuerId
);
id_type!(
    /// Identifies a badge class (OB 3.0: achievement).
    BadgeClassId
);
id_type!(
    /// Identifies an assertion (OB 3.0: credential).
    AssertionId
);
id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies an API key.
    ApiKeyId
);
id_type!(
    /// Identifies a signing key.
    SigningKeyId
);
id_type!(
    /// Identifies a status list (a Bitstring Status List of one issuer).
    StatusListId
);
id_type!(
    /// Identifies an endorsement (an OB 3.0 `EndorsementCredential`).
    EndorsementId
);
id_type!(
    /// Identifies an uploaded image (a hosted asset).
    AssetId
);
id_type!(
    /// Identifies a message of the mail outbox.
    OutboxId
);
id_type!(
    /// Identifies an e-mail address a learner claims.
    LearnerEmailId
);
id_type!(
    /// Identifies a registered OAuth client; its text is the `client_id`.
    OAuthClientId
);
id_type!(
    /// Identifies an OAuth grant: one authorization of a client by a
    /// learner, and every token issued under it.
    GrantId
);
id_type!(
    /// Identifies a learner's badge host this server has registered with.
    RemoteHostId
);
id_type!(
    /// Identifies the sending of one award to one badge host.
    DeliveryId
);
id_type!(
    /// Identifies a platform of the previous server's backpack API.
    PlatformId
);
id_type!(
    /// Identifies a platform's user (mapped to a learner account).
    PlatformUserId
);
