//! A held credential's source as columns, and back, written once for both
//! stores: the adapters convert only the column types (text or `uuid`), so
//! both accept and refuse the same rows.

use openbadges_domain::backpack::{HeldFormat, HeldSource};
use openbadges_domain::DomainError;
use uuid::Uuid;

/// The source columns of a `held_credentials` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceColumns {
    /// `source`: `awarded`, `uploaded` or `platform`.
    pub source: &'static str,
    /// `assertion_id`: the award, for `awarded`.
    pub assertion_id: Option<Uuid>,
    /// `client`: the OAuth client, for `uploaded` by one.
    pub client: Option<String>,
    /// `platform_id`: the platform, for `platform`.
    pub platform_id: Option<Uuid>,
}

impl SourceColumns {
    /// The columns of `source`. A platform source that is not a UUID names
    /// no platform: `MissingReference`, as the foreign key would say.
    pub fn of(source: &HeldSource) -> Result<Self, DomainError> {
        let mut columns = Self {
            source: source.kind(),
            assertion_id: None,
            client: None,
            platform_id: None,
        };
        match source {
            HeldSource::Awarded(award) => columns.assertion_id = Some(award.as_uuid()),
            HeldSource::Uploaded { client } => columns.client.clone_from(client),
            HeldSource::Platform(platform) => {
                columns.platform_id =
                    Some(
                        Uuid::parse_str(platform).map_err(|_| DomainError::MissingReference {
                            entity: "platform",
                            id: platform.clone(),
                        })?,
                    );
            }
        }
        Ok(columns)
    }

    /// The source these columns store; `Err` names what is wrong.
    pub fn restore(self) -> Result<HeldSource, String> {
        match (self.source, self.assertion_id, self.platform_id) {
            ("awarded", Some(award), None) => Ok(HeldSource::Awarded(award.into())),
            ("uploaded", _, None) => Ok(HeldSource::Uploaded {
                client: self.client,
            }),
            ("platform", _, Some(platform)) => Ok(HeldSource::Platform(platform.to_string())),
            (source, ..) => Err(format!("source {source:?} does not match its references")),
        }
    }
}

/// The stored source kind, as a `'static` name, if it is one.
pub fn known_source(text: &str) -> Option<&'static str> {
    ["awarded", "uploaded", "platform"]
        .into_iter()
        .find(|known| *known == text)
}

/// The stored format, if it is one.
pub fn held_format(text: &str) -> Result<HeldFormat, String> {
    HeldFormat::parse(text).map_err(|err| err.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        for source in [
            HeldSource::Awarded(openbadges_domain::AssertionId::generate()),
            HeldSource::Uploaded { client: None },
            HeldSource::Uploaded {
                client: Some("client-1".to_owned()),
            },
            HeldSource::Platform(Uuid::new_v4().to_string()),
        ] {
            let columns = SourceColumns::of(&source).expect("columns");
            assert_eq!(known_source(columns.source), Some(columns.source));
            assert_eq!(columns.restore(), Ok(source));
        }
        assert!(SourceColumns::of(&HeldSource::Platform("nope".to_owned())).is_err());
    }
}
