//! Use cases: what the HTTP layer (or an embedding service) calls. Each takes
//! validated drafts, fills in ids and timestamps, checks the rules that span
//! entities, and makes one repository write.

use crate::access::Principal;
use crate::details::*;
use crate::entities::*;
use crate::ids::*;
use crate::mail::{Notification, NotifyRequest};
use crate::page::{Cursor, CursorPage, CursorRequest, Page, PageRequest};
use crate::ports::*;
use crate::values::*;
use crate::{DomainError, FieldError};

/// How many credentials of a batch are signed per call to the signer: it
/// spreads each call over the cores, and holds each credential as a tree
/// until it is signed.
const SIGN_CHUNK: usize = 256;

/// The fields a client sets on an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerDraft {
    /// Display name.
    pub name: Name,
    /// Home page.
    pub url: HttpUrl,
    /// Contact address.
    pub email: Option<Email>,
    /// Description.
    pub description: Option<Text>,
    /// Logo.
    pub image: Option<Iri>,
    /// The other OB 3.0 Profile properties.
    pub details: ProfileDetails,
}

/// The fields a client sets on a badge class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeClassDraft {
    /// The issuer that defines it.
    pub issuer_id: IssuerId,
    /// Display name.
    pub name: Name,
    /// What it means.
    pub description: Text,
    /// Image.
    pub image: Option<Iri>,
    /// How it is earned.
    pub criteria: Criteria,
    /// Tags.
    pub tags: Vec<Label>,
    /// Alignments.
    pub alignments: Vec<Alignment>,
    /// Version label.
    pub version: Option<Label>,
    /// OB 3.0 achievement type.
    pub achievement_type: Option<Label>,
    /// The other OB 3.0 Achievement properties.
    pub details: AchievementDetails,
    /// Whether its awards e-mail their recipient by default.
    pub notify_recipients: bool,
}

/// The fields a client sets on an award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionDraft {
    /// The badge awarded.
    pub badge_class_id: BadgeClassId,
    /// Who receives it.
    pub recipient: Recipient,
    /// When it was awarded; now when absent.
    pub issued_on: Option<Timestamp>,
    /// When it expires.
    pub expires: Option<Timestamp>,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// Narrative.
    pub narrative: Option<Text>,
    /// Per-award image.
    pub image: Option<Iri>,
    /// The other OB 3.0 credential and subject properties.
    pub details: Sparse<AwardDetails>,
    /// The issuer the body named (a credential sent back names it), if
    /// it named one: it must be the badge's issuer; it is not stored.
    pub named_issuer: Option<IssuerId>,
}

/// Refuses a draft that names another issuer than the badge's.
fn check_named_issuer(draft: &AssertionDraft, issuer_id: IssuerId) -> Result<(), DomainError> {
    match draft.named_issuer {
        Some(named) if named != issuer_id => Err(DomainError::invalid(
            "issuer",
            "is not the issuer of the achievement awarded",
        )),
        _ => Ok(()),
    }
}

/// The transitions of an award's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// Withdraw for good.
    Revoke(Option<Text>),
    /// Withdraw for now.
    Suspend(Option<Text>),
    /// Lift a suspension.
    Reinstate,
}

/// The issuer `id`, which `actor` must manage.
pub(crate) async fn managed_issuer(
    store: &dyn Store,
    actor: &Principal,
    id: IssuerId,
) -> Result<Issuer, DomainError> {
    let issuer = store.issuers().get(id).await?;
    actor.may_manage(&issuer)?;
    Ok(issuer)
}

/// Creates an issuer owned by the acting user.
pub async fn create_issuer(
    store: &dyn Store,
    actor: &Principal,
    draft: IssuerDraft,
) -> Result<Issuer, DomainError> {
    actor.may_create_issuer()?;
    let owner_id = actor.user_id;
    let now = Timestamp::now();
    let issuer = Issuer {
        id: IssuerId::generate(),
        name: draft.name,
        url: draft.url,
        email: draft.email,
        description: draft.description,
        image: draft.image,
        details: draft.details,
        owner_id,
        created_at: now,
        updated_at: now,
    };
    store.issuers().create(&issuer).await?;
    Ok(issuer)
}

/// Replaces an issuer's client-set fields.
pub async fn update_issuer(
    store: &dyn Store,
    actor: &Principal,
    id: IssuerId,
    draft: IssuerDraft,
) -> Result<Issuer, DomainError> {
    let current = managed_issuer(store, actor, id).await?;
    let issuer = Issuer {
        name: draft.name,
        url: draft.url,
        email: draft.email,
        description: draft.description,
        image: draft.image,
        details: draft.details,
        updated_at: Timestamp::now(),
        ..current
    };
    store.issuers().update(&issuer).await?;
    Ok(issuer)
}

/// Deletes an issuer (see [`IssuerRepository::delete`] for `mode`).
pub async fn delete_issuer(
    store: &dyn Store,
    actor: &Principal,
    id: IssuerId,
    mode: DeleteMode,
) -> Result<(), DomainError> {
    managed_issuer(store, actor, id).await?;
    store.issuers().delete(id, mode).await
}

/// Creates a badge class; its issuer must exist and be managed by `actor`.
pub async fn create_badge_class(
    store: &dyn Store,
    actor: &Principal,
    draft: BadgeClassDraft,
) -> Result<BadgeClass, DomainError> {
    // An unknown issuer is a bad field of the request (400, as the
    // previous server answered), not a missing resource.
    match store.issuers().get(draft.issuer_id).await {
        Ok(issuer) => actor.may_manage(&issuer)?,
        Err(DomainError::NotFound { id, .. }) => {
            return Err(DomainError::invalid(
                "issuer",
                format!("issuer {id} does not exist"),
            ))
        }
        Err(other) => return Err(other),
    }
    let now = Timestamp::now();
    let badge = BadgeClass {
        id: BadgeClassId::generate(),
        issuer_id: draft.issuer_id,
        name: draft.name,
        description: draft.description,
        image: draft.image,
        criteria: draft.criteria,
        tags: draft.tags,
        alignments: draft.alignments,
        version: draft.version,
        achievement_type: draft.achievement_type,
        details: draft.details,
        notify_recipients: draft.notify_recipients,
        created_at: now,
        updated_at: now,
    };
    store.badge_classes().create(&badge).await?;
    Ok(badge)
}

/// Replaces a badge class's client-set fields. Its issuer cannot change:
/// awards already made name that issuer.
pub async fn update_badge_class(
    store: &dyn Store,
    actor: &Principal,
    id: BadgeClassId,
    draft: BadgeClassDraft,
) -> Result<BadgeClass, DomainError> {
    let current = store.badge_classes().get(id).await?;
    managed_issuer(store, actor, current.issuer_id).await?;
    if draft.issuer_id != current.issuer_id {
        return Err(DomainError::invalid(
            "issuer",
            "cannot be changed; create a new achievement under the other issuer",
        ));
    }
    let badge = BadgeClass {
        name: draft.name,
        description: draft.description,
        image: draft.image,
        criteria: draft.criteria,
        tags: draft.tags,
        alignments: draft.alignments,
        version: draft.version,
        achievement_type: draft.achievement_type,
        details: draft.details,
        notify_recipients: draft.notify_recipients,
        updated_at: Timestamp::now(),
        ..current
    };
    store.badge_classes().update(&badge).await?;
    Ok(badge)
}

/// Deletes a badge class (see [`BadgeClassRepository::delete`] for `mode`).
pub async fn delete_badge_class(
    store: &dyn Store,
    actor: &Principal,
    id: BadgeClassId,
    mode: DeleteMode,
) -> Result<(), DomainError> {
    let badge = store.badge_classes().get(id).await?;
    managed_issuer(store, actor, badge.issuer_id).await?;
    store.badge_classes().delete(id, mode).await
}

/// The badge class an award refers to, with its issuer, which `actor`
/// must manage; a missing badge class is a bad reference in the request,
/// not a missing resource.
async fn awarded_badge_class(
    store: &dyn Store,
    actor: &Principal,
    id: BadgeClassId,
) -> Result<(BadgeClass, Issuer), DomainError> {
    let (badge, issuer) = match store.badge_classes().get_with_issuer(id).await {
        Err(DomainError::NotFound {
            entity: "badge class",
            ..
        }) => {
            return Err(DomainError::MissingReference {
                entity: "badge class",
                id: id.to_string(),
            })
        }
        other => other?,
    };
    actor.may_manage(&issuer)?;
    Ok((badge, issuer))
}

/// The badge class an award refers to; a missing one is a bad reference
/// in the request, not a missing resource.
async fn referenced_badge_class(
    store: &dyn Store,
    id: BadgeClassId,
) -> Result<BadgeClass, DomainError> {
    match store.badge_classes().get(id).await {
        Err(DomainError::NotFound { .. }) => Err(DomainError::MissingReference {
            entity: "badge class",
            id: id.to_string(),
        }),
        other => other,
    }
}

fn build_assertion(draft: AssertionDraft, issuer_id: IssuerId, now: Timestamp) -> Assertion {
    Assertion {
        id: AssertionId::generate(),
        badge_class_id: draft.badge_class_id,
        issuer_id,
        recipient: draft.recipient,
        issued_on: draft.issued_on.unwrap_or(now),
        expires: draft.expires,
        evidence: draft.evidence,
        narrative: draft.narrative,
        image: draft.image,
        details: draft.details,
        status: CredentialStatus::Active,
        status_slot: None,
        issued_credential: None,
        created_at: now,
        updated_at: now,
    }
}

/// Whether awards of `badge` tell their recipient by e-mail when the
/// request does not say (the achievement's `notifyRecipients`).
fn notifies_by_default(badge: &BadgeClass) -> bool {
    badge.notify_recipients
}

/// How issued credentials get their proof: the signer and the URLs the
/// credential document is rendered with. Issuance without it stores
/// unsigned awards (the caller opted out).
#[derive(Clone, Copy)]
pub struct Proofs<'a> {
    /// Makes the proof.
    pub signer: &'a dyn CredentialSigner,
    /// Renders the document that is signed.
    pub urls: &'a crate::documents::Urls,
}

/// The signer with the issuer's key, ready (the key made and opened), or
/// `None` for unsigned issuance. Taken before a status bit is: a signer
/// that cannot sign fails here, and no bit is spent on it.
async fn ready<'a>(
    proofs: Option<Proofs<'a>>,
    issuer: &Issuer,
) -> Result<Option<(Proofs<'a>, SigningKey)>, DomainError> {
    match proofs {
        Some(proofs) => Ok(Some((proofs, proofs.signer.key_for(issuer).await?))),
        None => Ok(None),
    }
}

/// Renders and signs the OB 3.0 credential of `award` before it is stored,
/// so that the award and its proof are written in one transaction.
async fn attach_proof(
    signing: Option<&(Proofs<'_>, SigningKey)>,
    award: &mut Assertion,
    badge: &BadgeClass,
    issuer: &Issuer,
) -> Result<(), DomainError> {
    if let Some((proofs, key)) = signing {
        let document = crate::documents::ob3::credential(award, badge, issuer, proofs.urls);
        award.issued_credential = Some(proofs.signer.sign(key, document).await?);
    }
    Ok(())
}

/// Hands out `count` bits of the issuer's status lists: a single bit from
/// the store's reserve when it keeps one (a request issuing one credential;
/// see [`BitReserve`](crate::status_bits::BitReserve)), more in one
/// allocation of their own (a batch).
pub(crate) async fn allocate_slots(
    store: &dyn Store,
    issuer_id: IssuerId,
    count: u32,
    now: Timestamp,
) -> Result<Vec<StatusSlot>, DomainError> {
    if let (1, Some(reserve)) = (count, store.bit_reserve()) {
        let slot = reserve
            .take(store.status_lists(), issuer_id, StatusList::CAPACITY, now)
            .await?;
        return Ok(vec![slot]);
    }
    let slots = store
        .status_lists()
        .allocate(issuer_id, count, StatusList::CAPACITY, now)
        .await?;
    if slots.len() != count as usize {
        return Err(DomainError::Internal(format!(
            "the status list store handed out {} of {count} bits",
            slots.len()
        )));
    }
    Ok(slots)
}

/// Awards a badge of an issuer `actor` manages, signed unless `proofs` is `None`.
pub async fn issue(
    store: &dyn Store,
    actor: &Principal,
    proofs: Option<Proofs<'_>>,
    draft: AssertionDraft,
) -> Result<Assertion, DomainError> {
    issue_notifying(
        store,
        actor,
        proofs,
        draft,
        &NotifyRequest::default(),
        false,
    )
    .await
}

/// Awards a badge as [`issue`] does, and, when `mail_enabled` (SMTP is
/// configured) and `notify` or the achievement asks for it, queues the
/// e-mail telling the recipient in the same transaction. `notify` is
/// checked whether or not mail is enabled, so a request valid on one
/// server is valid on all.
pub async fn issue_notifying(
    store: &dyn Store,
    actor: &Principal,
    proofs: Option<Proofs<'_>>,
    draft: AssertionDraft,
    notify: &NotifyRequest,
    mail_enabled: bool,
) -> Result<Assertion, DomainError> {
    // An unknown badge class is a bad field of the request (400, as the
    // previous server answered), named as the OB 2.0 body names it.
    let (badge, issuer) = match awarded_badge_class(store, actor, draft.badge_class_id).await {
        Err(DomainError::MissingReference { id, .. }) => {
            return Err(DomainError::invalid(
                "badge",
                format!("badge class {id} does not exist"),
            ))
        }
        other => other?,
    };
    check_named_issuer(&draft, badge.issuer_id)?;
    let now = Timestamp::now();
    let mut award = build_assertion(draft, badge.issuer_id, now);
    award.validate()?;
    let address = notify.address_for(&award.recipient, notifies_by_default(&badge))?;
    let notification = address
        .filter(|_| mail_enabled)
        .map(|to| Notification::new(award.id, to, now));
    // In this order: the key (which may fail), the bit the credential
    // names, the proof over it, then the award with its proof in one
    // transaction.
    let signing = ready(proofs, &issuer).await?;
    award.status_slot = allocate_slots(store, issuer.id, 1, now).await?.pop();
    attach_proof(signing.as_ref(), &mut award, &badge, &issuer).await?;
    match &notification {
        Some(notification) => {
            store
                .assertions()
                .create_notifying(&award, notification)
                .await?
        }
        None => store.assertions().create(&award).await?,
    }
    Ok(award)
}

/// Awards many badges at once: every draft is checked first, errors are
/// reported per item (`credentials[3].expires`), and the awards are stored
/// in one transaction, all or none. Signed credentials wait in `spill`
/// until they are stored and answered (see [`AwardBatch`](crate::AwardBatch)).
pub async fn issue_batch(
    store: &dyn Store,
    actor: &Principal,
    proofs: Option<Proofs<'_>>,
    drafts: Vec<AssertionDraft>,
    spill: Box<dyn crate::batch::Spill>,
) -> Result<crate::batch::AwardBatch, DomainError> {
    let notify = vec![NotifyRequest::default(); drafts.len()];
    issue_batch_notifying(store, actor, proofs, drafts, spill, &notify, false).await
}

/// Awards many badges as [`issue_batch`] does; `notify[i]` says whether
/// to tell the recipient of `drafts[i]` (see [`issue_notifying`]), its
/// errors reported as `credentials[i].notifyEmail`. The e-mails are queued
/// in the batch's transaction.
pub async fn issue_batch_notifying(
    store: &dyn Store,
    actor: &Principal,
    proofs: Option<Proofs<'_>>,
    drafts: Vec<AssertionDraft>,
    spill: Box<dyn crate::batch::Spill>,
    notify: &[NotifyRequest],
    mail_enabled: bool,
) -> Result<crate::batch::AwardBatch, DomainError> {
    let now = Timestamp::now();
    let mut notifications = Vec::new();
    let mut entities: std::collections::HashMap<BadgeClassId, (BadgeClass, Issuer)> =
        Default::default();
    let mut awards = Vec::with_capacity(drafts.len());
    let mut errors = Vec::new();
    for (index, draft) in drafts.into_iter().enumerate() {
        let issuer_id = match entities.get(&draft.badge_class_id) {
            Some((badge, _)) => badge.issuer_id,
            None => match awarded_badge_class(store, actor, draft.badge_class_id).await {
                Ok((badge, issuer)) => {
                    let issuer_id = badge.issuer_id;
                    entities.insert(badge.id, (badge, issuer));
                    issuer_id
                }
                Err(DomainError::MissingReference { id, .. }) => {
                    errors.push(FieldError::new(
                        format!("credentials[{index}].badge"),
                        format!("badge class {id} does not exist"),
                    ));
                    continue;
                }
                Err(other) => return Err(other),
            },
        };
        if let Err(DomainError::Validation(fields)) = check_named_issuer(&draft, issuer_id) {
            errors.extend(
                fields.into_iter().map(|f| {
                    FieldError::new(format!("credentials[{index}].{}", f.field), f.message)
                }),
            );
            continue;
        }
        let award = build_assertion(draft, issuer_id, now);
        let default = entities
            .get(&award.badge_class_id)
            .is_some_and(|(badge, _)| notifies_by_default(badge));
        let address = notify.get(index).map_or(Ok(None), |asked| {
            asked.address_for(&award.recipient, default)
        });
        let checked = award.validate().and(address);
        match checked {
            Err(DomainError::Validation(fields)) => {
                errors.extend(fields.into_iter().map(|f| {
                    FieldError::new(format!("credentials[{index}].{}", f.field), f.message)
                }));
                continue;
            }
            Err(other) => return Err(other),
            Ok(Some(to)) if mail_enabled => {
                notifications.push(Notification::new(award.id, to, now));
            }
            Ok(_) => {}
        }
        awards.push(award);
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    // Grouped per issuer: status bits are handed out per issuer, one
    // allocation each, before signing (the signed credential names its
    // bit); and signed per issuer, so the signer can spread the work over
    // cores, SIGN_CHUNK at a time, so that only that many credentials are
    // held as trees at once. Each signed text then waits in the spill.
    let mut by_issuer: std::collections::HashMap<IssuerId, (&Issuer, Vec<usize>)> =
        Default::default();
    for (index, award) in awards.iter().enumerate() {
        if let Some((_, issuer)) = entities.get(&award.badge_class_id) {
            by_issuer
                .entry(issuer.id)
                .or_insert_with(|| (issuer, Vec::new()))
                .1
                .push(index);
        }
    }
    // Every issuer's key before any bit is spent.
    let mut keys: std::collections::HashMap<IssuerId, SigningKey> = Default::default();
    if let Some(proofs) = proofs {
        for (issuer, _) in by_issuer.values() {
            keys.insert(issuer.id, proofs.signer.key_for(issuer).await?);
        }
    }
    for (issuer, indices) in by_issuer.values() {
        let count = u32::try_from(indices.len())
            .map_err(|_| DomainError::invalid("credentials", "too many credentials"))?;
        let slots = allocate_slots(store, issuer.id, count, now).await?;
        for (&index, slot) in indices.iter().zip(slots) {
            awards[index].status_slot = Some(slot);
        }
    }
    let mut batch = crate::batch::AwardBatch::new(awards, spill);
    for notification in notifications {
        batch.notify(notification);
    }
    if let Some(proofs) = proofs {
        for (issuer, indices) in by_issuer.into_values() {
            for chunk in indices.chunks(SIGN_CHUNK) {
                let (indices, documents): (Vec<usize>, Vec<serde_json::Value>) = chunk
                    .iter()
                    .filter_map(|&index| {
                        let award = batch.award(index);
                        let (badge, _) = entities.get(&award.badge_class_id)?;
                        let document =
                            crate::documents::ob3::credential(award, badge, issuer, proofs.urls);
                        Some((index, document))
                    })
                    .unzip();
                let key = keys.get(&issuer.id).ok_or_else(|| {
                    DomainError::Internal("no key for an issuer of the batch".to_owned())
                })?;
                let signed = proofs.signer.sign_many(key, documents).await?;
                for (index, document) in indices.into_iter().zip(signed) {
                    batch.set_credential(index, document)?;
                }
            }
        }
    }
    store.assertions().create_many(batch).await
}

/// Replaces an award's client-set fields and, when `proofs` is given,
/// signs the changed credential anew (the old proof no longer matches).
/// The badge cannot change. The status is not written: a revocation
/// landing meanwhile stays, and the answer shows it.
pub async fn update_assertion(
    store: &dyn Store,
    actor: &Principal,
    proofs: Option<Proofs<'_>>,
    id: AssertionId,
    draft: AssertionDraft,
) -> Result<Assertion, DomainError> {
    let current = store.assertions().get(id).await?;
    let issuer = managed_issuer(store, actor, current.issuer_id).await?;
    if draft.badge_class_id != current.badge_class_id {
        return Err(DomainError::invalid(
            "badge",
            "cannot be changed; issue a new credential for the other badge",
        ));
    }
    check_named_issuer(&draft, current.issuer_id)?;
    let mut award = Assertion {
        recipient: draft.recipient,
        issued_on: draft.issued_on.unwrap_or(current.issued_on),
        expires: draft.expires,
        evidence: draft.evidence,
        narrative: draft.narrative,
        image: draft.image,
        details: draft.details,
        issued_credential: None,
        updated_at: Timestamp::now(),
        ..current
    };
    award.validate()?;
    let badge = store.badge_classes().get(award.badge_class_id).await?;
    let signing = ready(proofs, &issuer).await?;
    attach_proof(signing.as_ref(), &mut award, &badge, &issuer).await?;
    store.assertions().update(&award).await?;
    store.assertions().get(id).await
}

/// Signs an award anew: one issued unsigned, or one to be signed with
/// another key. `key` must be an active Ed25519 key of the award's issuer
/// (a 400 naming `keyId` otherwise); without it the issuer's active key
/// signs. A revoked award is not signed again (409). Only the stored
/// credential changes, in one write; the status is not written.
pub async fn sign_assertion(
    store: &dyn Store,
    actor: &Principal,
    proofs: Proofs<'_>,
    id: AssertionId,
    key: Option<SigningKeyId>,
) -> Result<Assertion, DomainError> {
    let mut award = store.assertions().get(id).await?;
    let issuer = managed_issuer(store, actor, award.issuer_id).await?;
    if award.status.is_revoked() {
        return Err(DomainError::Conflict(format!(
            "credential {id} is revoked; it is not signed again"
        )));
    }
    let key = match key {
        None => proofs.signer.key_for(&issuer).await?,
        Some(key_id) => {
            let not_usable = || {
                DomainError::invalid(
                    "keyId",
                    format!(
                        "{key_id} is not an active Ed25519 key of issuer {}",
                        issuer.id
                    ),
                )
            };
            let key = match store.signing_keys().get(key_id).await {
                Err(DomainError::NotFound { .. }) => return Err(not_usable()),
                other => other?,
            };
            if key.issuer_id != issuer.id
                || key.algorithm != KeyAlgorithm::Ed25519
                || key.status != KeyStatus::Active
            {
                return Err(not_usable());
            }
            key
        }
    };
    let badge = store.badge_classes().get(award.badge_class_id).await?;
    let document = crate::documents::ob3::credential(&award, &badge, &issuer, proofs.urls);
    award.issued_credential = Some(proofs.signer.sign(&key, document).await?);
    award.updated_at = Timestamp::now();
    store.assertions().update(&award).await?;
    store.assertions().get(id).await
}

/// Revokes, suspends or reinstates an award. Revocation is final:
/// a revoked award cannot be suspended or reinstated. The write is a
/// compare-and-set on the status read here, so of two changes racing, the
/// second is refused (409) rather than undoing the first.
pub async fn change_status(
    store: &dyn Store,
    actor: &Principal,
    id: AssertionId,
    change: StatusChange,
) -> Result<Assertion, DomainError> {
    let mut award = store.assertions().get(id).await?;
    managed_issuer(store, actor, award.issuer_id).await?;
    let now = Timestamp::now();
    let status = match (&award.status, change) {
        (CredentialStatus::Revoked { .. }, _) => {
            return Err(DomainError::Conflict(format!(
                "credential {id} is already revoked"
            )))
        }
        (_, StatusChange::Revoke(reason)) => CredentialStatus::Revoked { reason, at: now },
        (_, StatusChange::Suspend(reason)) => CredentialStatus::Suspended { reason, at: now },
        (CredentialStatus::Suspended { .. }, StatusChange::Reinstate) => CredentialStatus::Active,
        (CredentialStatus::Active, StatusChange::Reinstate) => {
            return Err(DomainError::Conflict(format!(
                "credential {id} is not suspended"
            )))
        }
    };
    store
        .assertions()
        .set_status(id, &award.status, &status, now)
        .await?;
    award.status = status;
    award.updated_at = now;
    Ok(award)
}

/// Lists awards for a reader: admins and viewers see every award, an
/// issuer-role user (or a key scoped to an issuer) only those of issuers
/// they manage. Asking for another's issuer is refused, not silently empty.
pub async fn list_credentials(
    store: &dyn Store,
    actor: &Principal,
    filter: AssertionFilter,
    page: PageRequest,
) -> Result<Page<Assertion>, DomainError> {
    let filter = readable_credentials(store, actor, filter).await?;
    store.assertions().list(&filter, page).await
}

/// [`list_credentials`] walked by cursor: the same awards in the same
/// order and under the same access rules, a page at a time after
/// `request.after()`, with no total; each page costs the same however deep
/// it is.
pub async fn list_credentials_after(
    store: &dyn Store,
    actor: &Principal,
    filter: AssertionFilter,
    request: CursorRequest,
) -> Result<CursorPage<Assertion>, DomainError> {
    let filter = readable_credentials(store, actor, filter).await?;
    let limit = request.limit();
    // One more than asked tells whether a next page exists, without counting.
    let mut items = store
        .assertions()
        .list_after(&filter, request.after(), limit.saturating_add(1))
        .await?;
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if items.len() > wanted {
        items.truncate(wanted);
        items
            .last()
            .map(|last| Cursor::new(last.created_at, last.id.as_uuid()))
    } else {
        None
    };
    Ok(CursorPage { items, next })
}

/// `filter` narrowed to what `actor` may read: refused when it names an
/// issuer whose credentials are not theirs to read, otherwise limited to
/// the key's issuer, or to the issuers the user owns.
async fn readable_credentials(
    store: &dyn Store,
    actor: &Principal,
    mut filter: AssertionFilter,
) -> Result<AssertionFilter, DomainError> {
    actor.may_read_credentials()?;
    if let Some(issuer_id) = filter.issuer_id {
        match store.issuers().get(issuer_id).await {
            Ok(issuer) if !actor.may_see_credentials_of(&issuer) => {
                return Err(DomainError::Forbidden(format!(
                    "the credentials of issuer {issuer_id} are not yours to read"
                )))
            }
            // An unknown issuer has no credentials: an empty page.
            Ok(_) | Err(DomainError::NotFound { .. }) => {}
            Err(other) => return Err(other),
        }
    } else if let Some(scope) = actor.issuer_scope {
        filter.issuer_id = Some(scope);
    } else if actor.owns_only() {
        filter.owner_id = Some(actor.user_id.ok_or_else(|| {
            DomainError::Forbidden("this credential is not tied to a user".to_owned())
        })?);
    }
    Ok(filter)
}

/// The issuer of a status list, if `actor` may read its credentials.
async fn readable_issuer(
    store: &dyn Store,
    actor: &Principal,
    issuer_id: IssuerId,
) -> Result<Issuer, DomainError> {
    actor.may_read_credentials()?;
    let issuer = store.issuers().get(issuer_id).await?;
    if !actor.may_see_credentials_of(&issuer) {
        return Err(DomainError::Forbidden(format!(
            "the credentials of issuer {issuer_id} are not yours to read"
        )));
    }
    Ok(issuer)
}

/// A status list and how many of its awards are revoked and suspended, for
/// someone who may read its issuer's credentials.
pub async fn status_list_report(
    store: &dyn Store,
    actor: &Principal,
    id: StatusListId,
) -> Result<(StatusList, StatusCounts), DomainError> {
    let list = store.status_lists().get(id).await?;
    readable_issuer(store, actor, list.issuer_id).await?;
    let counts = store.status_lists().counts(id).await?;
    Ok((list, counts))
}

/// Every status list of an issuer, oldest first, with their counts.
pub async fn status_lists_of(
    store: &dyn Store,
    actor: &Principal,
    issuer_id: IssuerId,
) -> Result<Vec<(StatusList, StatusCounts)>, DomainError> {
    readable_issuer(store, actor, issuer_id).await?;
    let mut reports = Vec::new();
    for list in store.status_lists().list_for_issuer(issuer_id).await? {
        let counts = store.status_lists().counts(list.id).await?;
        reports.push((list, counts));
    }
    Ok(reports)
}

/// Makes an empty status list for an issuer `actor` manages, ahead of the
/// awards that will use it (lists are otherwise made as bits are needed).
/// An unknown issuer is a bad `issuer` field of the request.
pub async fn create_status_list(
    store: &dyn Store,
    actor: &Principal,
    issuer_id: IssuerId,
) -> Result<StatusList, DomainError> {
    match store.issuers().get(issuer_id).await {
        Ok(issuer) => actor.may_manage(&issuer)?,
        Err(DomainError::NotFound { id, .. }) => {
            return Err(DomainError::invalid(
                "issuer",
                format!("issuer {id} does not exist"),
            ))
        }
        Err(other) => return Err(other),
    }
    let list = StatusList {
        id: StatusListId::generate(),
        issuer_id,
        capacity: StatusList::CAPACITY,
        allocated: 0,
        created_at: Timestamp::now(),
    };
    store.status_lists().create(&list).await?;
    Ok(list)
}

/// Adds `related` to an achievement's OB 3.0 `related` list (an achievement
/// in another language or version); `actor` must manage its issuer. A
/// related achievement of ours (`ours`) must exist. An id already listed
/// is a conflict: the entry is removed first to change it. Answers the
/// achievement as stored.
pub async fn add_related(
    store: &dyn Store,
    actor: &Principal,
    id: BadgeClassId,
    related: Related,
    ours: Option<BadgeClassId>,
) -> Result<BadgeClass, DomainError> {
    let current = store.badge_classes().get(id).await?;
    managed_issuer(store, actor, current.issuer_id).await?;
    if let Some(other) = ours {
        if other == id {
            return Err(DomainError::invalid(
                "id",
                "is this achievement: an achievement is not related to itself",
            ));
        }
        referenced_badge_class(store, other).await?;
    }
    if current.details.related.iter().any(|r| r.id == related.id) {
        return Err(DomainError::Conflict(format!(
            "{} is already related to this achievement",
            related.id.as_str()
        )));
    }
    let mut badge = current;
    badge.details.related.push(related);
    badge.updated_at = Timestamp::now();
    store.badge_classes().update(&badge).await?;
    Ok(badge)
}

/// Removes the entry `related` from an achievement's `related` list;
/// `actor` must manage its issuer. Not listed is not found.
pub async fn remove_related(
    store: &dyn Store,
    actor: &Principal,
    id: BadgeClassId,
    related: &Iri,
) -> Result<BadgeClass, DomainError> {
    let current = store.badge_classes().get(id).await?;
    managed_issuer(store, actor, current.issuer_id).await?;
    let mut badge = current;
    let before = badge.details.related.len();
    badge.details.related.retain(|r| &r.id != related);
    if badge.details.related.len() == before {
        return Err(DomainError::NotFound {
            entity: "related achievement",
            id: related.as_str().to_owned(),
        });
    }
    badge.updated_at = Timestamp::now();
    store.badge_classes().update(&badge).await?;
    Ok(badge)
}

/// The e-mail queued about an award, if any, for a caller who may read the
/// issuer's credentials; to any other, the award does not exist.
pub async fn delivery_of(
    store: &dyn Store,
    actor: &Principal,
    id: AssertionId,
) -> Result<Option<crate::mail::OutboxMessage>, DomainError> {
    actor.may_read_credentials()?;
    let award = store.assertions().get(id).await?;
    let issuer = store.issuers().get(award.issuer_id).await?;
    if !actor.may_see_credentials_of(&issuer) {
        return Err(DomainError::NotFound {
            entity: "assertion",
            id: id.to_string(),
        });
    }
    store.outbox().state_of(id).await
}
