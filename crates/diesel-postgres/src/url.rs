//! What libpq makes of the user name and password of a connection URL.
//!
//! Operators paste passwords into URLs unencoded. libpq then reads another
//! URL than the one meant, and its error echoes what it took for a host or a
//! port: with `postgres://ob:tPw@x@db/ob` it reports `could not translate
//! host name "x@db"`, the tail of the password. So a URL libpq would misread
//! is refused before connecting, with what to encode ([`url_problem`]), and
//! every message libpq writes about a URL passes through a [`Redactor`]
//! that removes whatever piece of the password it could contain.

/// Characters at which libpq cuts a URL into parts (user, password, hosts,
/// ports, parameters) and at which its messages quote or end one. A piece of
/// password that holds one is hidden piece by piece: more than needed,
/// never less.
fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '@' | '/'
            | ':'
            | '?'
            | '#'
            | '&'
            | '='
            | ','
            | '.'
            | '['
            | ']'
            | '"'
            | '\''
            | '('
            | ')'
            | ';'
    ) || c.is_whitespace()
}

/// Why libpq would not read the user name and password of `url` as meant,
/// and what to write instead; `None` when it would. Free of the password.
pub fn url_problem(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let advice = |part: &str, c: char| {
        Some(format!(
            "the {part} seems to contain an unencoded '{c}'; percent-encode it as %{:02X}",
            u32::from(c)
        ))
    };
    // libpq's reading: the user-info ends at the first '@' unless a '/'
    // comes first, and then there is none.
    match rest.find(['@', '/']) {
        Some(at) if rest[at..].starts_with('@') => {
            let user_info = &rest[..at];
            let hosts = &rest[at + 1..];
            let hosts = &hosts[..hosts.find(['/', '?']).unwrap_or(hosts.len())];
            if hosts.contains('@') {
                // A host never holds an '@': it was the user-info's.
                let part = if user_info.contains(':') {
                    "password"
                } else {
                    "user name"
                };
                return advice(part, '@');
            }
            if let Some((_, password)) = user_info.split_once(':') {
                if !percent_encoded(password) {
                    return advice("password", '%');
                }
            }
        }
        Some(slash) => {
            // `ob:s3cr/t@db/ob`: libpq reads host `ob`, port `s3cr`. A port
            // that is no number, with an '@' after it before the query, is
            // a password cut at its '/'.
            let hosts = &rest[..slash];
            let after = &rest[slash..];
            let at_later = after[..after.find('?').unwrap_or(after.len())].contains('@');
            let port_is_no_number = !hosts.starts_with('[')
                && hosts
                    .rsplit_once(':')
                    .is_some_and(|(_, port)| !port.chars().all(|c| c.is_ascii_digit()));
            if at_later && port_is_no_number {
                return advice("password", '/');
            }
        }
        None => {}
    }
    let password = query_password(url)?;
    (!percent_encoded(password)).then(|| {
        "the password parameter seems to contain an unencoded '%'; percent-encode it as %25"
            .to_owned()
    })
}

/// Whether every '%' of `text` starts an escape libpq decodes: two hex
/// digits, not `%00`. libpq's complaint about any other quotes the value.
fn percent_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(index, byte)| {
        *byte != b'%'
            || matches!(
                bytes.get(index + 1..index + 3),
                Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit()
                    && !(*high == b'0' && *low == b'0')
            )
    })
}

/// The value of a `password=` query parameter.
fn query_password(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|parameter| {
        parameter
            .split_once('=')
            .filter(|(key, _)| key.eq_ignore_ascii_case("password"))
            .map(|(_, value)| value)
    })
}

/// Removes from libpq's messages every piece of a URL's password they
/// could contain, as written or percent-decoded. The password is taken
/// generously, from the first ':' of the user-info to the *last* '@' (and
/// any `password=` parameter), so that this hides more than the password
/// when a URL is odd, never less.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    pieces: Vec<String>,
}

impl Redactor {
    /// The redactor of messages about `url`.
    pub(crate) fn of(url: &str) -> Self {
        let mut passwords = Vec::new();
        if let Some(rest) = url.split_once("://").map(|(_, rest)| rest) {
            if let Some((user_info, _)) = rest.rsplit_once('@') {
                passwords.extend(user_info.split_once(':').map(|(_, password)| password));
            }
        }
        passwords.extend(query_password(url));
        let mut pieces: Vec<String> = passwords
            .into_iter()
            .flat_map(|password| {
                // Decoded as libpq does, keeping what is no escape as written.
                let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
                [password.to_owned(), decoded.into_owned()]
            })
            .flat_map(|password| {
                password
                    .split(is_boundary)
                    .filter(|piece| !piece.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        pieces.sort();
        pieces.dedup();
        Self { pieces }
    }

    /// `message` with every word that is a piece of the password replaced
    /// by `***`.
    pub(crate) fn redact(&self, message: &str) -> String {
        if self.pieces.is_empty() {
            return message.to_owned();
        }
        let mut redacted = String::with_capacity(message.len());
        let mut word = String::new();
        let flush = |word: &mut String, redacted: &mut String| {
            if self.pieces.iter().any(|piece| piece == word) {
                redacted.push_str("***");
            } else {
                redacted.push_str(word);
            }
            word.clear();
        };
        for c in message.chars() {
            if is_boundary(c) {
                flush(&mut word, &mut redacted);
                redacted.push(c);
            } else {
                word.push(c);
            }
        }
        flush(&mut word, &mut redacted);
        redacted
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_libpq_reads_as_meant_have_no_problem() {
        for url in [
            "postgres://ob:pw@db.example.com:5432/ob",
            "postgres://ob:p%40ss%2Fw%25rd@db/ob",
            "postgres://ob:pa?ss@db/ob",
            "postgres://ob:pa:ss@db/ob",
            "postgres://ob@/ob",
            "postgres://ob@%2Fvar%2Frun%2Fpostgresql/ob",
            "postgres://db1:5432,db2:5432/ob?target_session_attrs=read-write",
            "postgres://[::1]:5432/ob",
            "postgres://db:5432/ob?application_name=a@b",
            "postgres://db/ob?password=p%40ss",
            "postgresql://",
        ] {
            assert_eq!(url_problem(url), None, "{url}");
        }
    }

    #[test]
    fn misread_user_info_is_named_with_its_encoding() {
        for (url, expected) in [
            (
                "postgres://user:tPw@x@host/db",
                "the password seems to contain an unencoded '@'; percent-encode it as %40",
            ),
            ("postgres://user:a@b@c@host:5432", "unencoded '@'"),
            (
                "postgres://us@er@host/db",
                "the user name seems to contain an unencoded '@'",
            ),
            (
                "postgres://user:s3cr/t@host/db",
                "unencoded '/'; percent-encode it as %2F",
            ),
            (
                "postgres://user:50%off@host/db",
                "unencoded '%'; percent-encode it as %25",
            ),
            ("postgres://user:nul%00@host/db", "unencoded '%'"),
            ("postgres://host/db?password=50%off", "password parameter"),
        ] {
            let problem = url_problem(url).unwrap_or_else(|| panic!("{url}: no problem found"));
            assert!(problem.contains(expected), "{url}: {problem}");
        }
    }

    #[test]
    fn libpq_messages_lose_every_piece_of_the_password() {
        let cases = [
            (
                "postgres://user:tPw@x@127.0.0.1:5432/db",
                r#"could not translate host name "x@127.0.0.1" to address: Name or service not known"#,
                r#"could not translate host name "***@127.0.0.1" to address: Name or service not known"#,
            ),
            (
                "postgres://us@er:s3cr@t:x@127.0.0.1:5432/db",
                r#"invalid integer value "s3cr@t:x@127.0.0.1:5432" for connection option "port""#,
                r#"invalid integer value "***@***:***@127.0.0.1:5432" for connection option "port""#,
            ),
            (
                "postgres://user:50%off@host/db",
                r#"invalid percent-encoded token: "50%off""#,
                r#"invalid percent-encoded token: "***""#,
            ),
            (
                "postgres://user:p%40ss@host/db?password=other",
                "p@ss other p%40ss",
                "***@*** *** ***",
            ),
        ];
        for (url, message, expected) in cases {
            assert_eq!(Redactor::of(url).redact(message), expected, "{url}");
        }
        // Without a password, nothing to hide.
        let message = r#"could not translate host name "db" to address"#;
        assert_eq!(Redactor::of("postgres://ob@db/ob").redact(message), message);
        assert_eq!(
            format!("{:?}", Redactor::of("postgres://a:b@c")),
            "Redactor(<redacted>)"
        );
    }
}
