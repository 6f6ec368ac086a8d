//! Property tests of the domain's validators (issue 4): for any input, no
//! panic; whatever is accepted satisfies the documented rule and is kept as
//! given; a value generated to satisfy the rule is accepted.

use chrono::{DateTime, SecondsFormat, Utc};
use openbadges_domain::{
    Email, HttpUrl, Iri, Label, Name, PageRequest, Recipient, RecipientIdentity, RecipientKind,
    Text, Timestamp, Username,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are printed with their minimal input; no regression
        // files are written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any string at all, biased towards the characters validators look at.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        "[a-z@. \\t\\n\\x00:/%-]{0,40}",
        "\\PC{0,40}",
    ]
}

/// Text without control characters and with something visible.
fn visible_text(max_extra: usize) -> impl Strategy<Value = String> {
    ("\\PC", proptest::collection::vec("\\PC", 0..max_extra)).prop_filter_map(
        "something visible",
        |(first, rest)| {
            let text = format!("{first}{}", rest.concat());
            (!text.trim().is_empty()).then_some(text)
        },
    )
}

fn valid_email() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,30}(\\.[a-zA-Z0-9_-]{1,10}){0,2}",
        "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,2}\\.[a-z]{2,10}",
    )
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
}

/// `text` with the case of its ASCII letters flipped where `flips` says.
fn recase(text: &str, flips: &[bool]) -> String {
    text.chars()
        .zip(flips.iter().cycle())
        .map(|(c, flip)| {
            if *flip {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Instants of years 2 to 9998 in whole microseconds: at any offset they
/// still print with four-digit years, as RFC 3339 has them.
fn instant_micros() -> impl Strategy<Value = i64> {
    -62_104_060_800_000_000i64..=253_370_764_799_999_999i64
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn email_accepts_only_the_documented_shape(raw in any_text()) {
        if let Ok(email) = Email::parse(raw.clone()) {
            prop_assert_eq!(email.as_str(), raw.as_str());
            prop_assert!(raw.len() <= 254);
            prop_assert!(!raw.chars().any(|c| c.is_whitespace() || c.is_control()));
            let (local, domain) = raw.rsplit_once('@').expect("an @");
            prop_assert!(!local.is_empty() && local.len() <= 64);
            prop_assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
            prop_assert!(!domain.contains(".."));
        }
    }

    #[test]
    fn generated_emails_are_accepted(email in valid_email()) {
        prop_assert!(Email::parse(email.clone()).is_ok(), "{email}");
        // Whitespace anywhere makes it invalid.
        let spaced = email.replacen('@', " @", 1);
        prop_assert!(Email::parse(spaced).is_err());
    }

    #[test]
    fn http_url_accepts_only_http_and_https_with_a_host(raw in any_text()) {
        if let Ok(url) = HttpUrl::parse(raw.clone()) {
            prop_assert_eq!(url.as_str(), raw.as_str());
            prop_assert!(raw.len() <= 2048);
            prop_assert!(!raw.chars().any(|c| c.is_whitespace() || c.is_control()));
            let parsed = url::Url::parse(&raw).expect("a URL");
            prop_assert!(matches!(parsed.scheme(), "http" | "https"));
            prop_assert!(parsed.host_str().is_some_and(|h| !h.is_empty()));
        }
    }

    #[test]
    fn generated_http_urls_are_accepted_and_other_schemes_refused(
        scheme in "https?",
        // At most one hyphen per label: "xn--" labels are punycode, and a
        // malformed one is rightly refused by the URL parser.
        host in "[a-z][a-z0-9]{0,15}(-[a-z0-9]{1,5})?(\\.[a-z][a-z0-9]{0,15}(-[a-z0-9]{1,5})?){0,3}",
        path in "(/[a-zA-Z0-9._~-]{0,12}){0,4}",
        other in "(ftp|file|javascript|mailto|data|urn)",
    ) {
        let url = format!("{scheme}://{host}{path}");
        prop_assert!(HttpUrl::parse(url.clone()).is_ok(), "{url}");
        let other = format!("{other}://{host}{path}");
        prop_assert!(HttpUrl::parse(other.clone()).is_err(), "{other}");
    }

    #[test]
    fn iri_accepts_only_absolute_iris_without_spaces(raw in any_text()) {
        if let Ok(iri) = Iri::parse(raw.clone()) {
            prop_assert_eq!(iri.as_str(), raw.as_str());
            prop_assert!(raw.len() <= Iri::MAX_LEN);
            prop_assert!(!raw.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert!(url::Url::parse(&raw).is_ok());
        }
    }

    #[test]
    fn generated_iris_are_accepted(
        scheme in "(urn|did|mailto|tag|data)",
        rest in "[a-zA-Z0-9][a-zA-Z0-9:._~-]{0,40}",
    ) {
        let iri = format!("{scheme}:{rest}");
        prop_assert!(Iri::parse(iri.clone()).is_ok(), "{iri}");
        prop_assert!(Iri::parse(rest.clone()).is_err() || rest.contains(':'), "relative {rest}");
    }

    #[test]
    fn names_labels_and_texts_follow_their_rules(raw in any_text()) {
        let visible = !raw.trim().is_empty();
        let length = raw.chars().count();
        let controls = |allow_newlines: bool| raw.chars().any(|c| {
            c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t'))
        });
        let name = Name::parse(raw.clone());
        prop_assert_eq!(name.is_ok(), visible && length <= Name::MAX_CHARS && !controls(false));
        if let Ok(name) = name {
            prop_assert_eq!(name.as_str(), raw.as_str());
        }
        let label = Label::parse(raw.clone());
        prop_assert_eq!(label.is_ok(), visible && length <= Label::MAX_CHARS && !controls(false));
        let text = Text::parse(raw.clone());
        prop_assert_eq!(text.is_ok(), visible && length <= Text::MAX_CHARS && !controls(true));
        if let Ok(text) = text {
            prop_assert_eq!(text.as_str(), raw.as_str());
        }
    }

    #[test]
    fn generated_names_labels_and_texts_are_accepted(
        short in visible_text(99),
        line in visible_text(10),
        lines in proptest::collection::vec(visible_text(20), 1..5),
    ) {
        prop_assert!(Label::parse(short.clone()).is_ok(), "{short:?}");
        prop_assert!(Name::parse(short.clone()).is_ok(), "{short:?}");
        prop_assert!(Text::parse(lines.join("\n\t")).is_ok());
        // Exactly at the limit, and one over, counted in characters.
        let at_limit: String = line.chars().cycle().take(Name::MAX_CHARS).collect();
        prop_assert!(Name::parse(at_limit.clone()).is_ok());
        let over = format!("{at_limit}x");
        prop_assert!(Name::parse(over).is_err(), "one over the limit");
        let two_lines = format!("{line}\n{line}");
        prop_assert!(Name::parse(two_lines).is_err(), "one line only");
        let with_nul = format!("{line}\u{0}");
        prop_assert!(Text::parse(with_nul).is_err(), "no NUL");
    }

    #[test]
    fn usernames_follow_their_rule(raw in any_text()) {
        let expected = (3..=64).contains(&raw.chars().count())
            && raw.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        let parsed = Username::parse(raw.clone());
        prop_assert_eq!(parsed.is_ok(), expected);
        if let Ok(username) = parsed {
            prop_assert_eq!(username.as_str(), raw.as_str());
        }
    }

    #[test]
    fn generated_usernames_are_accepted(
        ascii in "[a-zA-Z0-9._@-]{3,64}",
        letters in "\\p{L}{3,20}",
    ) {
        prop_assert!(Username::parse(ascii.clone()).is_ok(), "{ascii}");
        prop_assert!(Username::parse(letters.clone()).is_ok(), "{letters}");
        let spaced = format!("{ascii} ");
        prop_assert!(Username::parse(spaced).is_err(), "no spaces");
    }

    #[test]
    fn timestamps_parse_only_rfc3339_without_panicking(raw in any_text()) {
        if let Ok(timestamp) = Timestamp::parse(&raw) {
            // Whatever is accepted prints in UTC and reads back the same.
            let printed = timestamp.to_rfc3339();
            prop_assert!(printed.ends_with('Z'), "{printed}");
            prop_assert_eq!(Timestamp::parse(&printed).expect("its own output"), timestamp);
        }
    }

    #[test]
    fn timestamps_round_trip_any_microsecond_instant(
        micros in instant_micros(),
        offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59),
    ) {
        let instant = DateTime::from_timestamp_micros(micros).expect("in range");
        let timestamp = Timestamp::from_datetime(instant);
        prop_assert_eq!(timestamp.as_datetime(), instant);
        let printed = timestamp.to_rfc3339();
        prop_assert_eq!(Timestamp::parse(&printed).expect("parses"), timestamp, "{}", printed);
        // Any offset names the same instant.
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).expect("an offset");
        let elsewhere = instant.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Micros, false);
        prop_assert_eq!(Timestamp::parse(&elsewhere).expect("parses"), timestamp, "{}", elsewhere);
    }

    #[test]
    fn timestamps_refuse_nanosecond_precision(
        seconds in 0i64..=253_402_300_799,
        nanos in 0u32..1_000_000_000,
    ) {
        prop_assume!(nanos % 1_000 != 0);
        let instant: DateTime<Utc> = DateTime::from_timestamp(seconds, nanos).expect("in range");
        let printed = instant.to_rfc3339_opts(SecondsFormat::Nanos, true);
        prop_assert!(Timestamp::parse(&printed).is_err(), "{printed}");
        // Cut to microseconds, it is accepted.
        let cut = instant.to_rfc3339_opts(SecondsFormat::Micros, true);
        prop_assert!(Timestamp::parse(&cut).is_ok(), "{cut}");
    }

    #[test]
    fn hashed_recipients_match_sha256_of_normalized_identity_and_salt(
        email in valid_email(),
        salt in "\\PC{0,40}",
        flips in proptest::collection::vec(any::<bool>(), 1..16),
    ) {
        let recased = recase(&email, &flips);
        let recipient = Recipient::hashed(RecipientKind::Email, &recased, &salt).expect("valid");
        let expected = format!("sha256${}", sha256_hex(&format!("{}{salt}", recased.to_lowercase())));
        prop_assert_eq!(
            recipient.identity(),
            &RecipientIdentity::Hashed {
                hash: expected,
                salt: (!salt.is_empty()).then(|| salt.clone()),
            }
        );
        // The lookup key ignores the salt and the case of the address.
        let key = Recipient::lookup_key_for(RecipientKind::Email, &email);
        prop_assert_eq!(recipient.lookup_key(), key.as_str());
        prop_assert_eq!(Recipient::lookup_key_for(RecipientKind::Email, &recased), key.clone());
        let plain = Recipient::plain(RecipientKind::Email, &email.to_ascii_uppercase()).expect("valid");
        prop_assert_eq!(plain.lookup_key(), key.as_str());
        prop_assert_eq!(key, format!("sha256${}", sha256_hex(&email.to_lowercase())));
    }

    #[test]
    fn recipients_never_panic_and_validate_by_kind(
        identity in any_text(),
        salt in any_text(),
        kind in prop_oneof![
            Just(RecipientKind::Email),
            Just(RecipientKind::Url),
            Just(RecipientKind::Telephone),
            Just(RecipientKind::Did),
        ],
    ) {
        let plain = Recipient::plain(kind, &identity);
        let valid = match kind {
            RecipientKind::Email => Email::parse(identity.clone()).is_ok(),
            RecipientKind::Url => HttpUrl::parse(identity.clone()).is_ok(),
            RecipientKind::Did => Iri::parse(identity.clone()).is_ok(),
            RecipientKind::Telephone => {
                let digits = identity.strip_prefix('+').unwrap_or(&identity);
                !digits.is_empty() && digits.len() <= 20 && digits.chars().all(|c| c.is_ascii_digit())
            }
        };
        prop_assert_eq!(plain.is_ok(), valid);
        let hashed = Recipient::hashed(kind, &identity, &salt);
        let salt_ok = salt.len() <= 255 && !salt.chars().any(char::is_control);
        prop_assert_eq!(hashed.is_ok(), valid && salt_ok);
        if kind != RecipientKind::Email {
            // Only e-mail addresses are case-folded.
            prop_assert_eq!(
                Recipient::lookup_key_for(kind, &identity),
                format!("sha256${}", sha256_hex(&identity))
            );
        }
        let prehashed = Recipient::prehashed(kind, &identity, None);
        if let Ok(recipient) = prehashed {
            let lower = identity.to_ascii_lowercase();
            prop_assert_eq!(recipient.lookup_key(), lower.as_str());
            let (algorithm, digest) = lower.split_once('$').expect("algorithm$hex");
            let length = if algorithm == "sha256" { 64 } else { 32 };
            prop_assert!(matches!(algorithm, "sha256" | "md5"));
            prop_assert!(digest.len() == length && digest.chars().all(|c| c.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn prehashed_identities_are_accepted_in_either_case(
        digest in "[0-9a-fA-F]{64}",
        md5 in "[0-9a-fA-F]{32}",
    ) {
        let sha = format!("sha256${digest}");
        let recipient = Recipient::prehashed(RecipientKind::Email, &sha, Some("salt")).expect("valid");
        let lowered = sha.to_ascii_lowercase();
        prop_assert_eq!(recipient.lookup_key(), lowered.as_str());
        let md5_hash = format!("md5${md5}");
        prop_assert!(Recipient::prehashed(RecipientKind::Email, &md5_hash, None).is_ok(), "md5");
        let short_sha = format!("sha256${md5}");
        prop_assert!(Recipient::prehashed(RecipientKind::Email, &short_sha, None).is_err(), "length");
    }

    #[test]
    fn page_requests_are_bounded(limit in any::<u32>(), offset in any::<u64>()) {
        let valid = (1..=PageRequest::MAX_LIMIT).contains(&limit) && offset <= PageRequest::MAX_OFFSET;
        match PageRequest::new(limit, offset) {
            Ok(page) => {
                prop_assert!(valid);
                prop_assert_eq!(page.limit(), limit);
                prop_assert_eq!(page.offset(), offset);
            }
            Err(_) => prop_assert!(!valid),
        }
    }

    #[test]
    fn page_requests_in_range_are_accepted(
        limit in 1..=PageRequest::MAX_LIMIT,
        offset in 0..=PageRequest::MAX_OFFSET,
    ) {
        let page = PageRequest::new(limit, offset).expect("in range");
        prop_assert_eq!((page.limit(), page.offset()), (limit, offset));
        prop_assert!(i64::try_from(page.offset()).is_ok(), "fits the backends' i64");
    }
}
