//! The e-mail telling a recipient about their award: a text and an HTML
//! part with the credential's page, and the badge attached.

use lettre::message::header::ContentType;
use lettre::message::{Attachment as AttachmentPart, Mailbox, MultiPart};
use lettre::Message;
use openbadges_domain::documents::{Urls, Version};
use openbadges_domain::{Assertion, BadgeClass, Email, Issuer};

/// A file attached to the e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its file name.
    pub filename: String,
    /// Its media type.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What the e-mail attaches: the badge image with the award baked in
/// (OB 3.0 "Baked Badge" PNG: the credential as issued in an `iTXt` chunk
/// `openbadgecredential`), `badge.png`: a picture the recipient can keep
/// and post, and a credential any verifier or wallet reads out of it.
pub fn attachment(baked_png: Vec<u8>) -> Attachment {
    Attachment {
        filename: "badge.png".to_owned(),
        content_type: "image/png".to_owned(),
        bytes: baked_png,
    }
}

/// The e-mail's content, before it becomes a MIME message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// Subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The credential's page: its OB 3.0 URL, which a browser is shown as
    /// a page and a verifier gets as JSON.
    pub link: String,
    /// The badge.
    pub attachment: Attachment,
}

/// The content of the e-mail about `award`, with `attachment` (see
/// [`attachment`]).
pub fn render(
    award: &Assertion,
    badge: &BadgeClass,
    issuer: &Issuer,
    urls: &Urls,
    attachment: Attachment,
) -> Content {
    let link = urls.credential(Version::V3, award.id);
    let achievement = badge.name.as_str();
    let issuer_name = issuer.name.as_str();
    let subject = format!("You have been awarded \"{achievement}\" by {issuer_name}");
    let text = format!(
        "Congratulations!\n\n\
         {issuer_name} has awarded you the badge \"{achievement}\".\n\n\
         {description}\n\n\
         See your badge and share it: {link}\n\n\
         The badge is attached to this e-mail (badge.png): an image you can keep and \
         share, with your Open Badges 3.0 credential inside, which a wallet or backpack \
         can import.\n",
        description = badge.description.as_str(),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n\
         <p>Congratulations!</p>\n\
         <p>{issuer} has awarded you the badge <strong>{name}</strong>.</p>\n\
         <p>{description}</p>\n\
         <p><a href=\"{href}\">See your badge and share it</a></p>\n\
         <p>The badge is attached to this e-mail (badge.png): an image you can keep and \
         share, with your Open Badges 3.0 credential inside, which a wallet or backpack \
         can import.</p>\n\
         </body></html>\n",
        issuer = escape(issuer_name),
        name = escape(achievement),
        description = escape(badge.description.as_str()),
        href = escape(&link),
    );
    Content {
        subject,
        text,
        html,
        link,
        attachment,
    }
}

/// The MIME message: `multipart/mixed` of `multipart/alternative` (text,
/// HTML) and the attachment.
pub fn message(from: &Mailbox, to: &Email, content: Content) -> Result<Message, String> {
    let to: Mailbox = to
        .as_str()
        .parse()
        .map_err(|err| format!("the address cannot be mailed to: {err}"))?;
    let attachment_type = ContentType::parse(&content.attachment.content_type)
        .map_err(|err| format!("attachment type: {err}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(content.subject)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    content.text,
                    content.html,
                ))
                .singlepart(
                    AttachmentPart::new(content.attachment.filename)
                        .body(content.attachment.bytes, attachment_type),
                ),
        )
        .map_err(|err| format!("the message cannot be built: {err}"))
}

/// The e-mail asking a learner to confirm an address: a text and an HTML
/// part with the verification link. The link is the only secret in it.
pub fn verification(from: &Mailbox, to: &Email, link: &str) -> Result<Message, String> {
    let to_box: Mailbox = to
        .as_str()
        .parse()
        .map_err(|err| format!("the address cannot be mailed to: {err}"))?;
    let text = format!(
        "Please confirm that {address} is your e-mail address.\n\n\
         Open this link within 24 hours: {link}\n\n\
         Badges awarded to this address will then appear in your backpack. \
         If you did not add this address, ignore this e-mail.\n",
        address = to.as_str(),
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n\
         <p>Please confirm that {address} is your e-mail address.</p>\n\
         <p><a href=\"{href}\">Confirm the address</a> (within 24 hours).</p>\n\
         <p>Badges awarded to this address will then appear in your backpack. \
         If you did not add this address, ignore this e-mail.</p>\n\
         </body></html>\n",
        address = escape(to.as_str()),
        href = escape(link),
    );
    Message::builder()
        .from(from.clone())
        .to(to_box)
        .subject("Confirm your e-mail address")
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|err| format!("the message cannot be built: {err}"))
}

/// Text made safe inside HTML elements and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use openbadges_domain::testkit::{sample_assertion, sample_badge_class, sample_issuer};
    use openbadges_domain::{IssuedCredential, Name};

    /// Stands for the baked badge: the message carries whatever bytes it is given.
    const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn fixture() -> (Assertion, BadgeClass, Issuer, Urls) {
        let mut issuer = sample_issuer(None);
        issuer.name = Name::parse("Ada <Lovelace> & Co").expect("name");
        let badge = sample_badge_class(issuer.id);
        let mut award = sample_assertion(&badge, "ada@example.org");
        award.issued_credential = Some(IssuedCredential::new(
            &serde_json::json!({"id": "urn:x", "proof": {"type": "DataIntegrityProof"}}),
        ));
        (
            award,
            badge,
            issuer,
            Urls::new("https://badges.example.org").expect("urls"),
        )
    }

    #[test]
    fn both_parts_carry_the_link_and_names_and_the_html_is_escaped() {
        let (award, badge, issuer, urls) = fixture();
        let content = render(
            &award,
            &badge,
            &issuer,
            &urls,
            attachment(PNG_BYTES.to_vec()),
        );
        let link = format!("https://badges.example.org/v3/credentials/{}", award.id);
        assert_eq!(content.link, link);
        assert!(content.text.contains(&link), "{}", content.text);
        assert!(
            content.html.contains(&format!("href=\"{link}\"")),
            "{}",
            content.html
        );
        assert!(content.text.contains("Ada <Lovelace> & Co"));
        assert!(content.html.contains("Ada &lt;Lovelace&gt; &amp; Co"));
        assert!(!content.html.contains("<Lovelace>"));
        assert!(content.subject.contains(badge.name.as_str()));
    }

    #[test]
    fn the_message_is_mixed_with_alternative_parts_and_no_secret() {
        let (award, badge, issuer, urls) = fixture();
        let from: Mailbox = "Badges <badges@example.org>".parse().expect("from");
        let to = Email::parse("ada@example.org").expect("to");
        let content = render(
            &award,
            &badge,
            &issuer,
            &urls,
            attachment(PNG_BYTES.to_vec()),
        );
        let link = content.link.clone();
        let message = message(&from, &to, content).expect("message");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(raw.contains("filename=\"badge.png\""), "{raw}");
        assert!(raw.contains(&link[..30]), "{raw}");
        assert!(raw.contains("To: ada@example.org"), "{raw}");
        // Nothing of the server's own secrets goes into a message: its
        // parts come from the award, its badge and issuer only.
        assert!(!raw.to_lowercase().contains("password"));
    }

    #[test]
    fn the_verification_message_carries_the_link_in_both_parts() {
        let from: Mailbox = "Badges <badges@example.org>".parse().expect("from");
        let to = Email::parse("lena@example.org").expect("to");
        let link = "https://badges.example.org/learner/emails/verify?token=abc_DEF-123";
        let message = verification(&from, &to, link).expect("message");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("Subject: Confirm your e-mail address"),
            "{raw}"
        );
        assert!(raw.contains("To: lena@example.org"), "{raw}");
        assert!(!raw.contains("multipart/mixed"), "no attachment: {raw}");
        assert!(raw.contains("abc_DEF-123"), "{raw}");
    }
}
