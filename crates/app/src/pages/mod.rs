//! Pages for people: a browser opening a credential, achievement or
//! issuer URL gets HTML; API clients and verifiers keep getting JSON from
//! the same URL (see [`negotiation`]).
//!
//! Pages are server-rendered from templates (`crates/app/templates`,
//! compiled into the binary) and need no JavaScript. They load nothing
//! from elsewhere: their style sheet and images come from this server, and
//! their `Content-Security-Policy` allows nothing more.

mod negotiation;
mod view;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use openbadges_domain::documents::Version;
use openbadges_domain::{Assertion, CredentialStatus, DomainError};
use openbadges_verify::Report;
use serde_json::Value;

pub(crate) use negotiation::wants_html;
use view::*;

/// What a page may load: its style sheet and images from this server
/// (baked badges, hosted images, `data:` images), nothing else; no
/// scripts, no forms, no frames.
const PAGE_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The credential page's policy: as [`PAGE_POLICY`], but its one form
/// ("Send to your badge host") posts here and is answered with a redirect
/// to the learner's host, an https address no policy can name in advance.
const CREDENTIAL_PAGE_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'self'; \
     base-uri 'none'; form-action 'self' https:; frame-ancestors 'none'";

/// Where the pages' style sheet is served.
const STYLE_PATH: &str = "/pages/style.css";

/// The style sheet, compiled in.
const STYLE: &str = include_str!("../../templates/style.css");

/// Registers the style sheet's route.
pub fn routes(config: &mut web::ServiceConfig) {
    config.route(STYLE_PATH, web::get().to(style));
}

/// The style sheet: immutable for a build, so cached for a day.
async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .content_type("text/css; charset=utf-8")
        .body(STYLE)
}

/// What every page has in its `<head>`: its title and the Open Graph tags
/// link previews read.
struct Head {
    title: String,
    description: String,
    url: String,
    image: Option<String>,
    style: &'static str,
}

impl Head {
    fn new(title: String, description: Option<&str>, url: String, image: Option<String>) -> Self {
        let description = description
            .map(|d| truncate(d, 200))
            .unwrap_or_else(|| title.clone());
        Self {
            title,
            description,
            url,
            image,
            style: STYLE_PATH,
        }
    }
}

/// At most `max` characters of `text`, cut at a word, with an ellipsis.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// The verdict a reader sees first: one word for the colour-blind-safe
/// banner class, a heading and a sentence.
struct Verdict {
    class: &'static str,
    heading: String,
    explanation: String,
}

/// One check of the verification, in words a layperson reads.
struct CheckView {
    label: &'static str,
    passed: bool,
    message: String,
}

/// What each check of a report is called on the page.
fn check_label(name: &str) -> &'static str {
    match name {
        "proof" => "Digital signature",
        "issuerMatch" => "Issuer identity",
        "keyStatus" => "Issuer's signing key",
        "status" => "Revocation",
        "validityWindow" => "Dates of validity",
        "schema" => "Format",
        "jwtClaims" => "Token details",
        _ => "Check",
    }
}

fn verdict(award: &Assertion, report: &Report, issuer: &str, expires: Option<&str>) -> Verdict {
    match &award.status {
        CredentialStatus::Revoked { reason, at } => Verdict {
            class: "revoked",
            heading: "This badge has been revoked".to_owned(),
            explanation: format!(
                "{issuer} withdrew this badge on {}. It is no longer valid.{}",
                human_date(&at.to_rfc3339()),
                reason
                    .as_ref()
                    .map(|r| format!(" Reason given: {}", r.as_str()))
                    .unwrap_or_default()
            ),
        },
        CredentialStatus::Suspended { reason, .. } => Verdict {
            class: "suspended",
            heading: "This badge is suspended".to_owned(),
            explanation: format!(
                "{issuer} has put this badge on hold: it is not valid for now, and may be \
                 reinstated.{}",
                reason
                    .as_ref()
                    .map(|r| format!(" Reason given: {}", r.as_str()))
                    .unwrap_or_default()
            ),
        },
        CredentialStatus::Active if report.is_expired => Verdict {
            class: "expired",
            heading: "This badge has expired".to_owned(),
            explanation: format!(
                "It was valid until {}. It was genuinely issued by {issuer}, but it no longer counts.",
                expires.map_or_else(|| "its end date".to_owned(), human_date)
            ),
        },
        CredentialStatus::Active if !report.is_valid() => Verdict {
            class: "invalid",
            heading: "This badge could not be verified".to_owned(),
            explanation: "One of the checks below failed: do not rely on this badge until \
                 its issuer confirms it."
                .to_owned(),
        },
        CredentialStatus::Active => Verdict {
            class: "valid",
            heading: "This badge is valid".to_owned(),
            explanation: format!(
                "It was issued by {issuer}, its digital signature shows it has not been \
                 altered, and it has not been revoked or expired."
            ),
        },
    }
}

#[derive(Template)]
#[template(path = "credential.html")]
struct CredentialPage {
    head: Head,
    name: String,
    description: Option<String>,
    image: String,
    achievement: AchievementView,
    achievement_url: String,
    issuer: IssuerView,
    issuer_url: String,
    recipient: Option<String>,
    issued: String,
    awarded: Option<String>,
    expires: Option<String>,
    narrative: Option<String>,
    credits: Option<String>,
    results: Vec<ResultView>,
    evidence: Vec<EvidenceView>,
    verdict: Verdict,
    checks: Vec<CheckView>,
    downloads: Vec<Link>,
    linkedin: Option<String>,
    /// Where the "Send to your badge host" form posts; `None` when the
    /// credential cannot be sent (unsigned, revoked or suspended).
    send_action: Option<String>,
    /// The hosts it was sent to, and how that went.
    sent: Vec<SentView>,
}

/// A host the credential was sent to, as the credential page lists it.
pub(crate) struct SentView {
    /// The host's base URL.
    pub host: String,
    /// Where the sending is, in words.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "achievement.html")]
struct AchievementPage {
    head: Head,
    achievement: AchievementView,
    image: Option<String>,
    issuer_url: String,
    json_url: String,
}

#[derive(Template)]
#[template(path = "issuer.html")]
struct IssuerPage {
    head: Head,
    issuer: IssuerView,
    image: Option<String>,
    json_url: String,
}

/// An image a page may show: one served here or a `data:` URI. Anything
/// else would be a third-party request from the reader's browser, which
/// the page's policy refuses anyway.
fn local_image(url: Option<String>, base: &str) -> Option<String> {
    url.filter(|u| u.starts_with(&format!("{base}/")) || u.starts_with("data:image/"))
}

/// An HTML answer with the pages' security policy.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    html_with(status, body, PAGE_POLICY)
}

fn html_with(status: StatusCode, body: String, policy: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        ))
        // The page shows the live verification result: never reuse it.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Accept"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) fn rendered(template: &impl Template) -> Result<String, DomainError> {
    template
        .render()
        .map_err(|e| DomainError::Internal(format!("page template: {e}")))
}

/// LinkedIn's "Add to profile" link for a certification, with the
/// parameters LinkedIn documents: name, organisation, issue and
/// expiration month and year, the credential's URL and id.
fn linkedin(name: &str, issuer: &str, issued: &str, expires: Option<&str>, url: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("startTask", "CERTIFICATION_NAME");
    query.append_pair("name", name);
    query.append_pair("organizationName", issuer);
    let year_month = |raw: &str| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|t| (t.format("%Y").to_string(), t.format("%-m").to_string()))
    };
    if let Some((year, month)) = year_month(issued) {
        query.append_pair("issueYear", &year);
        query.append_pair("issueMonth", &month);
    }
    if let Some((year, month)) = expires.and_then(year_month) {
        query.append_pair("expirationYear", &year);
        query.append_pair("expirationMonth", &month);
    }
    query.append_pair("certUrl", url);
    query.append_pair("certId", url.rsplit('/').next().unwrap_or(url));
    format!("https://www.linkedin.com/profile/add?{}", query.finish())
}

/// The page of a credential. `credential` is the OB 3.0 credential as the
/// API serves it (signed as issued, or built for an unsigned award);
/// `report` its verification now. A revoked credential's page answers 410,
/// as its JSON does, and says so plainly.
pub(crate) fn credential(
    award: &Assertion,
    credential: &Value,
    report: &Report,
    base: &str,
    sent: Vec<SentView>,
) -> Result<HttpResponse, DomainError> {
    let subject = credential.get("credentialSubject").unwrap_or(&Value::Null);
    let achievement_doc = subject.get("achievement").unwrap_or(&Value::Null);
    let achievement = AchievementView::of(achievement_doc);
    let issuer_doc = credential.get("issuer").unwrap_or(&Value::Null);
    let issuer = IssuerView::of(issuer_doc);
    let url = format!("{base}/v3/credentials/{}", award.id);
    let name = text(credential, &["name"]).unwrap_or_else(|| achievement.name.clone());
    let issued = text(credential, &["validFrom"]).unwrap_or_default();
    let expires = text(credential, &["validUntil"]);
    let image = format!("{url}/image?format=png");
    let signed = credential.get("proof").is_some();
    let mut downloads = vec![
        Link {
            href: format!("{url}/image?format=png"),
            label: "Badge image with the credential inside (PNG)".to_owned(),
        },
        Link {
            href: format!("{url}/image?format=svg"),
            label: "Badge image with the credential inside (SVG)".to_owned(),
        },
        Link {
            href: format!("{url}?format=json"),
            label: "Credential (JSON)".to_owned(),
        },
    ];
    if signed {
        downloads.push(Link {
            href: format!("{url}?format=jwt"),
            label: "Credential (VC-JWT)".to_owned(),
        });
    }
    let page = CredentialPage {
        head: Head::new(
            format!("{name}, issued by {}", issuer.name),
            achievement.description.as_deref(),
            url.clone(),
            Some(image.clone()),
        ),
        linkedin: (!award.status.is_revoked())
            .then(|| linkedin(&name, &issuer.name, &issued, expires.as_deref(), &url)),
        verdict: verdict(award, report, &issuer.name, expires.as_deref()),
        checks: report
            .checks
            .iter()
            .map(|c| CheckView {
                label: check_label(c.name),
                passed: c.passed,
                message: c.message.clone(),
            })
            .collect(),
        description: text(credential, &["description"]),
        recipient: recipient(subject),
        issued: human_date(&issued),
        awarded: text(credential, &["awardedDate"]).map(|d| human_date(&d)),
        expires: expires.as_deref().map(human_date),
        narrative: text(subject, &["narrative"]),
        credits: scalar(subject, "creditsEarned"),
        results: results(subject, achievement_doc),
        evidence: evidence(credential),
        achievement_url: format!("{base}/v3/achievements/{}", award.badge_class_id),
        issuer_url: format!("{base}/v3/issuers/{}", award.issuer_id),
        downloads,
        name,
        image,
        achievement,
        issuer,
        send_action: (signed && matches!(award.status, CredentialStatus::Active))
            .then(|| format!("{base}/credentials/{}/send", award.id)),
        sent,
    };
    let status = if award.status.is_revoked() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    Ok(html_with(status, rendered(&page)?, CREDENTIAL_PAGE_POLICY))
}

/// The page of an achievement, from its OB 3.0 document.
pub(crate) fn achievement(document: &Value, base: &str) -> Result<HttpResponse, DomainError> {
    let achievement = AchievementView::of(document);
    let url = text(document, &["id"]).unwrap_or_default();
    let image = local_image(iri(document, "image"), base);
    let page = AchievementPage {
        head: Head::new(
            achievement.name.clone(),
            achievement.description.as_deref(),
            url.clone(),
            image.clone(),
        ),
        issuer_url: text(document, &["creator", "id"]).unwrap_or_default(),
        json_url: format!("{url}?format=json"),
        achievement,
        image,
    };
    Ok(html(StatusCode::OK, rendered(&page)?))
}

/// The page of an issuer, from its OB 3.0 profile.
pub(crate) fn issuer(document: &Value, base: &str) -> Result<HttpResponse, DomainError> {
    let issuer = IssuerView::of(document);
    let url = text(document, &["id"]).unwrap_or_default();
    let image = local_image(iri(document, "image"), base);
    let page = IssuerPage {
        head: Head::new(
            issuer.name.clone(),
            issuer.description.as_deref(),
            url.clone(),
            image.clone(),
        ),
        json_url: format!("{url}?format=json"),
        issuer,
        image,
    };
    Ok(html(StatusCode::OK, rendered(&page)?))
}

/// Which version's document a page reads: always OB 3.0, the richer one;
/// the page of a `/v2/...` URL shows the same badge.
pub(crate) const PAGE_VERSION: Version = Version::V3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkedin_link_carries_the_documented_parameters() {
        let link = linkedin(
            "Data & Ethics",
            "Example University",
            "2026-03-05T00:00:00Z",
            Some("2028-11-30T00:00:00Z"),
            "https://badges.example.org/v3/credentials/abc",
        );
        let (base, query) = link.split_once('?').unwrap();
        assert_eq!(base, "https://www.linkedin.com/profile/add");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("startTask"), Some("CERTIFICATION_NAME"));
        assert_eq!(get("name"), Some("Data & Ethics"));
        assert_eq!(get("organizationName"), Some("Example University"));
        assert_eq!(get("issueYear"), Some("2026"));
        assert_eq!(get("issueMonth"), Some("3"));
        assert_eq!(get("expirationYear"), Some("2028"));
        assert_eq!(get("expirationMonth"), Some("11"));
        assert_eq!(
            get("certUrl"),
            Some("https://badges.example.org/v3/credentials/abc")
        );
        assert_eq!(get("certId"), Some("abc"));
    }

    #[test]
    fn descriptions_are_cut_at_a_word() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three four", 10), "one two…");
    }

    #[test]
    fn only_local_images_are_shown() {
        let base = "https://badges.example.org";
        assert_eq!(
            local_image(Some(format!("{base}/assets/x")), base),
            Some(format!("{base}/assets/x"))
        );
        assert!(local_image(Some("data:image/png;base64,AAAA".into()), base).is_some());
        assert_eq!(
            local_image(Some("https://cdn.example.com/x.png".into()), base),
            None
        );
        assert_eq!(
            local_image(Some("https://badges.example.org.evil/x".into()), base),
            None
        );
    }
}

#[derive(Template)]
#[template(path = "sending.html")]
struct MessagePage {
    head: Head,
    heading: String,
    message: String,
    back: Option<String>,
}

/// A short page telling a person what happened (sending a badge to their
/// host): a heading, a sentence, and a link back to the badge.
pub(crate) fn message(
    status: StatusCode,
    heading: &str,
    message: &str,
    back: Option<String>,
    url: String,
) -> HttpResponse {
    let page = MessagePage {
        head: Head::new(heading.to_owned(), Some(message), url, None),
        heading: heading.to_owned(),
        message: message.to_owned(),
        back,
    };
    match rendered(&page) {
        Ok(body) => html(status, body),
        Err(err) => {
            log::error!("{err}");
            HttpResponse::InternalServerError().finish()
        }
    }
}
