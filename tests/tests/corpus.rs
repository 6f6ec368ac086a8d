//! A corpus of bad input (issue 4), sent as an administrator to every
//! route on both backends: malformed JSON, wrong types for each field, huge
//! and deeply nested bodies, invalid ids and references, invalid dates,
//! bad pagination, unicode edge cases and injection-looking strings.
//!
//! Every answer must be a 4xx (never a 5xx, never a dropped connection)
//! with a body in the documented JSON shape, and nothing may be written:
//! the counts and documents of the fixture are the same before and after.
//! Each scenario reports every bad answer at once. Valid unusual strings
//! are the other half: they are stored and read back exactly.

use std::fmt::Write as _;

use openbadges_e2e::{
    achievement_body, award_body, issuer_body, on_both_backends, uuid_of, Backend, Caller, Framing,
    OnBothBackends, Response, Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::{json, Value};

on_both_backends!(
    malformed_json_is_refused,
    huge_and_deeply_nested_bodies_are_refused,
    wrong_types_are_refused,
    invalid_ids_in_paths_are_refused,
    invalid_references_are_refused,
    invalid_dates_are_refused,
    bad_pagination_is_refused,
    unicode_edge_cases_are_refused,
    injection_looking_input_is_refused,
    unknown_methods_are_refused,
    valid_unusual_strings_are_stored_exactly,
);

const PREFIXES: [&str; 3] = ["", "/v2", "/v3"];

/// The JSON type a field takes, which decides what is a wrong type for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An optional string.
    Str,
    /// A required string.
    StrRequired,
    /// A string or an object with an `id` (references, images, criteria).
    StrOrObject,
    /// The same, required.
    StrOrObjectRequired,
    /// A required object.
    ObjectRequired,
    /// An array of objects or one object (evidence, alignment).
    Objects,
    /// An array of strings (tags).
    Strings,
    /// API key permissions: a non-empty array of read, write, admin.
    Permissions,
    /// An optional boolean.
    Bool,
    /// A batch's `credentials`: a non-empty array of credential objects.
    Batch,
}

/// Values of every JSON type; [`wrong_values`] picks those a field refuses.
fn candidates() -> Vec<(&'static str, Value)> {
    vec![
        ("number", json!(-1.5e20)),
        ("true", json!(true)),
        ("string", json!("text")),
        ("empty array", json!([])),
        ("array of strings", json!(["x"])),
        ("array of null", json!([null])),
        ("empty object", json!({})),
        ("object with a numeric id", json!({"id": 42})),
        ("null", Value::Null),
    ]
}

/// The values of [`candidates`] that `kind` must refuse.
fn wrong_values(kind: Kind) -> Vec<(&'static str, Value)> {
    let accepted: &[&str] = match kind {
        Kind::Str => &["string", "null"],
        Kind::StrRequired => &["string"],
        Kind::StrOrObject => &["string", "null"],
        Kind::StrOrObjectRequired => &["string"],
        Kind::ObjectRequired => &[],
        Kind::Objects => &["empty array", "null"],
        Kind::Strings => &["empty array", "array of strings", "null"],
        Kind::Permissions => &["null"],
        Kind::Bool => &["true", "null"],
        Kind::Batch => &[],
    };
    candidates()
        .into_iter()
        .filter(|(name, _)| !accepted.contains(name))
        .collect()
}

/// A route that reads a JSON body, with a valid body and its fields.
struct BodyRoute {
    method: &'static str,
    /// With `{id}` where the path takes one.
    template: String,
    id: Option<String>,
    /// A valid body: never sent as is.
    body: Value,
    /// JSON pointers of the body's fields (`/recipient/identity`) and kinds.
    fields: Vec<(String, Kind)>,
    /// Whether the body goes through the bounded JSON reader (every route
    /// but revocation, which reads raw bytes as its body is optional).
    json_reader: bool,
}

impl BodyRoute {
    /// Whether the route is under `/v2` or `/v3`: the same handler as the
    /// bare path, rendering documents in another version. The costliest
    /// cases (every wrong type of every field, 20 MB bodies) run on the
    /// bare paths and their aliases only.
    fn versioned(&self) -> bool {
        self.template.starts_with("/v2/") || self.template.starts_with("/v3/")
    }

    /// Whether the route is a partial update (`PUT`/`PATCH` of an issuer,
    /// achievement or credential): its body is a JSON merge patch (RFC
    /// 7396) of the stored document, so a field it leaves out is kept and
    /// `{}`, anywhere, changes nothing.
    fn merges(&self) -> bool {
        matches!(self.method, "PUT" | "PATCH")
            && self.template.ends_with("/{id}")
            && !self.template.starts_with("/users")
    }

    /// Whether `{}` is a valid body (every field optional).
    fn all_optional(&self) -> bool {
        if self.merges() {
            return true;
        }
        self.fields.iter().all(|(_, kind)| {
            !matches!(
                kind,
                Kind::StrRequired | Kind::StrOrObjectRequired | Kind::ObjectRequired | Kind::Batch
            )
        })
    }

    fn path(&self) -> String {
        self.path_with(self.id.as_deref().unwrap_or_default())
    }

    fn path_with(&self, id: &str) -> String {
        self.template.replace("{id}", id)
    }
}

/// A route without a body.
struct PlainRoute {
    method: &'static str,
    template: String,
    id: Option<String>,
    /// Answers a paginated list.
    list: bool,
}

impl PlainRoute {
    fn path(&self) -> String {
        self.template
            .replace("{id}", self.id.as_deref().unwrap_or_default())
    }
}

fn fields(list: &[(&str, Kind)]) -> Vec<(String, Kind)> {
    list.iter()
        .map(|(pointer, kind)| ((*pointer).to_owned(), *kind))
        .collect()
}

fn prefixed(prefix: &str, list: &[(String, Kind)]) -> Vec<(String, Kind)> {
    list.iter()
        .map(|(pointer, kind)| (format!("{prefix}{pointer}"), *kind))
        .collect()
}

/// A server with an administrator, a viewer, an issuer with an achievement
/// and a credential, and an API key: the things bad requests aim at.
struct Fixture {
    server: Server,
    _storage: Storage,
    admin: Caller,
    admin_id: String,
    user_id: String,
    issuer: String,
    badge: String,
    cred: String,
    key_id: String,
}

impl std::ops::Deref for Fixture {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

#[track_caller]
fn created(response: &Response) -> String {
    response.assert_status(201);
    uuid_of(&response.body)
}

impl OnBothBackends for Fixture {
    fn on(backend: Backend) -> Self {
        let storage = Storage::create(backend);
        let server = storage.launch_with_auth().start();
        let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
        let admin_id = server.get_as(&admin, "/auth/profile").body["user"]["id"]
            .as_str()
            .expect("the administrator's id")
            .to_owned();
        let user_id = server.create_user(&admin, "target", "target-password", "viewer");
        let issuer = created(&server.post_as(&admin, "/issuers", &issuer_body("Target issuer")));
        let badge = created(&server.post_as(
            &admin,
            "/achievements",
            &achievement_body(&issuer, "Target"),
        ));
        let cred = created(&server.post_as(
            &admin,
            "/credentials",
            &award_body(&badge, "target@recipients.example.org"),
        ));
        let (key_id, _) = server.create_api_key(&admin, &json!({"name": "target key"}));
        Self {
            server,
            _storage: storage,
            admin,
            admin_id,
            user_id,
            issuer,
            badge,
            cred,
            key_id,
        }
    }
}

impl Fixture {
    /// Everything a bad request could have changed: counts and documents,
    /// read by the administrator.
    fn state(&self) -> Vec<String> {
        let counts = [
            "/issuers".to_owned(),
            "/achievements".to_owned(),
            "/credentials".to_owned(),
            "/users".to_owned(),
            format!("/api-keys?userId={}", self.admin_id),
            format!("/api-keys?userId={}", self.user_id),
        ];
        let documents = [
            format!("/issuers/{}", self.issuer),
            format!("/achievements/{}", self.badge),
            format!("/credentials/{}", self.cred),
            format!("/users/{}", self.user_id),
            format!("/users/{}", self.admin_id),
            format!("/api-keys/{}", self.key_id),
        ];
        let mut state: Vec<String> = counts
            .iter()
            .map(|path| format!("{path}: {} items", self.total_as(&self.admin, path)))
            .collect();
        state.extend(documents.iter().map(|path| {
            let response = self.get_as(&self.admin, path);
            format!("{path}: {} {}", response.status, response.text)
        }));
        state
    }

    fn award(&self) -> Value {
        let mut award = award_body(&self.badge, "corpus@recipients.example.org");
        award["expires"] = json!("2099-01-01T00:00:00Z");
        award["evidence"] =
            json!([{"id": "https://evidence.example.org/1", "narrative": "Did it"}]);
        award["narrative"] = json!("Earned in the corpus");
        award["image"] = json!("https://issuer.example.org/award.png");
        award["recipient"]["hashed"] = json!(true);
        award["recipient"]["salt"] = json!("pepper");
        award
    }

    fn award_ob3(&self) -> Value {
        json!({
            "credentialSubject": {
                "achievement": {"id": self.badge},
                "identifier": [{"identityType": "emailAddress", "identityHash": "ob3@recipients.example.org", "hashed": true}],
            },
            "validFrom": "2024-05-01T12:00:00Z",
            "validUntil": "2099-01-01T00:00:00Z",
        })
    }

    fn achievement(&self) -> Value {
        let mut body = achievement_body(&self.issuer, "Corpus achievement");
        body["tags"] = json!(["corpus"]);
        body["alignment"] =
            json!([{"targetName": "Skill", "targetUrl": "https://skills.example.org/1"}]);
        body["version"] = json!("1.0");
        body["achievementType"] = json!("Badge");
        body
    }

    /// Every route that reads a JSON body.
    fn body_routes(&self) -> Vec<BodyRoute> {
        let issuer_fields = fields(&[
            ("/name", Kind::StrRequired),
            ("/url", Kind::StrRequired),
            ("/email", Kind::StrRequired),
            ("/description", Kind::Str),
            ("/image", Kind::StrOrObject),
        ]);
        let achievement_fields = fields(&[
            ("/issuer", Kind::StrOrObjectRequired),
            ("/name", Kind::StrRequired),
            ("/description", Kind::StrRequired),
            ("/image", Kind::StrOrObjectRequired),
            ("/criteria", Kind::StrOrObjectRequired),
            ("/criteria/narrative", Kind::Str),
            ("/tags", Kind::Strings),
            ("/alignment", Kind::Objects),
            ("/alignment/0/targetName", Kind::StrRequired),
            ("/alignment/0/targetUrl", Kind::StrRequired),
            ("/version", Kind::Str),
            ("/achievementType", Kind::Str),
        ]);
        let award_fields = fields(&[
            ("/badge", Kind::StrOrObjectRequired),
            ("/recipient", Kind::ObjectRequired),
            ("/recipient/type", Kind::Str),
            ("/recipient/identity", Kind::StrRequired),
            ("/recipient/hashed", Kind::Bool),
            ("/recipient/salt", Kind::Str),
            ("/issuedOn", Kind::Str),
            ("/expires", Kind::Str),
            ("/evidence", Kind::Objects),
            ("/evidence/0/id", Kind::Str),
            ("/evidence/0/narrative", Kind::Str),
            ("/narrative", Kind::Str),
            ("/image", Kind::StrOrObject),
        ]);
        let ob3_fields = fields(&[
            ("/credentialSubject", Kind::ObjectRequired),
            ("/credentialSubject/achievement", Kind::StrOrObjectRequired),
            ("/credentialSubject/identifier", Kind::Objects),
            (
                "/credentialSubject/identifier/0/identityHash",
                Kind::StrRequired,
            ),
            ("/credentialSubject/identifier/0/identityType", Kind::Str),
            ("/validFrom", Kind::Str),
            ("/validUntil", Kind::Str),
        ]);
        let mut routes = Vec::new();
        for p in PREFIXES {
            let mut add = |method,
                           template: String,
                           id: Option<&String>,
                           body: Value,
                           fields: Vec<(String, Kind)>| {
                routes.push(BodyRoute {
                    method,
                    json_reader: !template.ends_with("/revoke"),
                    template,
                    id: id.cloned(),
                    body,
                    fields,
                });
            };
            add(
                "POST",
                format!("{p}/issuers"),
                None,
                issuer_body("x"),
                issuer_fields.clone(),
            );
            add(
                "PUT",
                format!("{p}/issuers/{{id}}"),
                Some(&self.issuer),
                issuer_body("x"),
                issuer_fields.clone(),
            );
            for alias in ["achievements", "badge-classes"] {
                add(
                    "POST",
                    format!("{p}/{alias}"),
                    None,
                    self.achievement(),
                    achievement_fields.clone(),
                );
                add(
                    "PUT",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.badge),
                    self.achievement(),
                    achievement_fields.clone(),
                );
            }
            for alias in ["credentials", "assertions"] {
                add(
                    "POST",
                    format!("{p}/{alias}"),
                    None,
                    self.award(),
                    award_fields.clone(),
                );
                add(
                    "POST",
                    format!("{p}/{alias}"),
                    None,
                    self.award_ob3(),
                    ob3_fields.clone(),
                );
                add(
                    "PUT",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.cred),
                    self.award(),
                    award_fields.clone(),
                );
                add(
                    "PUT",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.cred),
                    self.award_ob3(),
                    ob3_fields.clone(),
                );
                let mut batch_fields = fields(&[("/credentials", Kind::Batch)]);
                batch_fields.extend(prefixed("/credentials/0", &award_fields));
                add(
                    "POST",
                    format!("{p}/{alias}/batch"),
                    None,
                    json!({"credentials": [self.award()]}),
                    batch_fields,
                );
                add(
                    "POST",
                    format!("{p}/{alias}/{{id}}/revoke"),
                    Some(&self.cred),
                    json!({"reason": "Issued in error"}),
                    fields(&[("/reason", Kind::Str)]),
                );
            }
        }
        let mut add =
            |method, template: &str, id: Option<&String>, body: Value, list: &[(&str, Kind)]| {
                routes.push(BodyRoute {
                    method,
                    template: template.to_owned(),
                    id: id.cloned(),
                    body,
                    fields: fields(list),
                    json_reader: true,
                });
            };
        add(
            "POST",
            "/users",
            None,
            json!({"username": "newcomer", "email": "new@example.org", "password": "newcomer-password", "role": "viewer"}),
            &[
                ("/username", Kind::StrRequired),
                ("/email", Kind::Str),
                ("/password", Kind::StrRequired),
                ("/role", Kind::Str),
            ],
        );
        add(
            "PUT",
            "/users/{id}",
            Some(&self.user_id),
            json!({"email": "changed@example.org", "role": "issuer"}),
            &[("/email", Kind::Str), ("/role", Kind::Str)],
        );
        // The administrator's own password: self-service needs the current
        // one. The new one is the same, should a case slip through.
        add(
            "POST",
            "/users/{id}/change-password",
            Some(&self.admin_id),
            json!({"currentPassword": ADMIN_PASSWORD, "newPassword": ADMIN_PASSWORD}),
            &[
                ("/currentPassword", Kind::StrRequired),
                ("/newPassword", Kind::StrRequired),
            ],
        );
        add(
            "POST",
            "/api-keys",
            None,
            json!({
                "name": "corpus",
                "permissions": ["read"],
                "issuerId": self.issuer,
                "expiresAt": "2099-01-01T00:00:00Z",
                "userId": self.admin_id,
            }),
            &[
                ("/name", Kind::StrRequired),
                ("/permissions", Kind::Permissions),
                ("/issuerId", Kind::Str),
                ("/expiresAt", Kind::Str),
                ("/userId", Kind::Str),
            ],
        );
        add(
            "POST",
            "/auth/login",
            None,
            json!({"usernameOrEmail": ADMIN_USERNAME, "password": ADMIN_PASSWORD}),
            &[
                ("/usernameOrEmail", Kind::StrRequired),
                ("/password", Kind::StrRequired),
            ],
        );
        // `PATCH` is the same partial update as `PUT`: the same cases.
        let patches: Vec<BodyRoute> = routes
            .iter()
            .filter(|r| r.method == "PUT" && r.merges())
            .map(|r| BodyRoute {
                method: "PATCH",
                template: r.template.clone(),
                id: r.id.clone(),
                body: r.body.clone(),
                fields: r.fields.clone(),
                json_reader: r.json_reader,
            })
            .collect();
        routes.extend(patches);
        routes
    }

    /// Every route without a body.
    fn plain_routes(&self) -> Vec<PlainRoute> {
        let mut routes = Vec::new();
        let mut add = |method, template: String, id: Option<&String>, list| {
            routes.push(PlainRoute {
                method,
                template,
                id: id.cloned(),
                list,
            });
        };
        for p in PREFIXES {
            add("GET", format!("{p}/issuers"), None, true);
            add(
                "GET",
                format!("{p}/issuers/{{id}}"),
                Some(&self.issuer),
                false,
            );
            add(
                "HEAD",
                format!("{p}/issuers/{{id}}"),
                Some(&self.issuer),
                false,
            );
            add(
                "GET",
                format!("{p}/issuers/{{id}}/achievements"),
                Some(&self.issuer),
                true,
            );
            add(
                "DELETE",
                format!("{p}/issuers/{{id}}"),
                Some(&self.issuer),
                false,
            );
            for alias in ["achievements", "badge-classes"] {
                add("GET", format!("{p}/{alias}"), None, true);
                add(
                    "GET",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.badge),
                    false,
                );
                add(
                    "HEAD",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.badge),
                    false,
                );
                add(
                    "GET",
                    format!("{p}/{alias}/{{id}}/credentials"),
                    Some(&self.badge),
                    true,
                );
                add(
                    "DELETE",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.badge),
                    false,
                );
            }
            for alias in ["credentials", "assertions"] {
                add("GET", format!("{p}/{alias}"), None, true);
                add(
                    "GET",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.cred),
                    false,
                );
                add(
                    "HEAD",
                    format!("{p}/{alias}/{{id}}"),
                    Some(&self.cred),
                    false,
                );
            }
        }
        add("GET", "/users".to_owned(), None, true);
        add("GET", "/users/{id}".to_owned(), Some(&self.user_id), false);
        add(
            "DELETE",
            "/users/{id}".to_owned(),
            Some(&self.user_id),
            false,
        );
        add("GET", "/api-keys".to_owned(), None, true);
        add(
            "GET",
            "/api-keys/{id}".to_owned(),
            Some(&self.key_id),
            false,
        );
        add(
            "DELETE",
            "/api-keys/{id}".to_owned(),
            Some(&self.key_id),
            false,
        );
        add(
            "POST",
            "/api-keys/{id}/revoke".to_owned(),
            Some(&self.key_id),
            false,
        );
        add("GET", "/auth/profile".to_owned(), None, false);
        add("GET", "/health".to_owned(), None, false);
        routes
    }

    /// Sends a raw request as the administrator.
    fn raw(
        &self,
        method: &str,
        target: &str,
        body: Option<&[u8]>,
        framing: Framing,
    ) -> Result<Response, String> {
        let Caller::Token(token) = &self.admin else {
            unreachable!("the administrator logged in")
        };
        let authorization = format!("Bearer {token}");
        self.send_raw_framed(
            method,
            target,
            &[("Authorization", &authorization)],
            body,
            framing,
        )
    }
}

/// The problems of one answer to a bad request: not a 4xx, or not in the
/// documented shape, or (for a 400) not naming `field` when one is given.
fn problems(response: &Response, field: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    let status = response.status;
    if !(400..500).contains(&status) {
        found.push(format!("answered {status}, not a 4xx"));
        return found;
    }
    if response.request.starts_with("HEAD ") {
        // The answer to HEAD has the headers of the GET answer, no body.
        return found;
    }
    if status == 431 && response.text.is_empty() {
        // The request head was too large for the HTTP codec: answered
        // before any route, without a body.
        return found;
    }
    let body = &response.body;
    if status == 400 {
        let details = body["details"].as_object();
        let shaped = body["success"] == json!(false)
            && body["error"] == json!("Validation error")
            && details.is_some_and(|d| {
                !d.is_empty()
                    && d.values().all(|messages| {
                        messages.as_array().is_some_and(|m| {
                            !m.is_empty()
                                && m.iter().all(|m| m.as_str().is_some_and(|m| !m.is_empty()))
                        })
                    })
            });
        if !shaped {
            found.push(format!(
                "400 not in the validation shape: {}",
                response.text
            ));
        } else if let Some(field) = field {
            if !details.is_some_and(|d| d.contains_key(field)) {
                found.push(format!("400 does not name {field}: {}", response.text));
            }
        }
    } else {
        let reason = reason_phrase(status);
        let shaped = body["error"] == json!(reason)
            && body["message"].as_str().is_some_and(|m| !m.is_empty());
        if !shaped {
            found.push(format!(
                "{status} not in the documented shape {{\"error\":{reason:?},\"message\":...}}: {:?} ({})",
                response.text,
                response.header("content-type").unwrap_or("no content type")
            ));
        }
    }
    found
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        _ => "an HTTP reason phrase",
    }
}

/// Collects the bad answers of a scenario and checks that nothing was
/// written; panics with all of them at the end.
struct Report<'f> {
    fixture: &'f Fixture,
    before: Vec<String>,
    failures: String,
    failed: usize,
    sent: usize,
}

/// How many bad answers a report lists in full.
const LISTED: usize = 80;

impl<'f> Report<'f> {
    fn new(fixture: &'f Fixture) -> Self {
        Self {
            before: fixture.state(),
            fixture,
            failures: String::new(),
            failed: 0,
            sent: 0,
        }
    }

    /// Records the answer (or the transport failure) to a bad request.
    fn check(&mut self, case: &str, answer: Result<Response, String>, field: Option<&str>) {
        self.sent += 1;
        let failure = match answer {
            Ok(response) => {
                let found = problems(&response, field);
                (!found.is_empty()).then(|| {
                    format!(
                        "{case}: {}: {}",
                        shorten(&response.request),
                        shorten(&found.join("; "))
                    )
                })
            }
            Err(error) => Some(format!("{case}: no answer: {}", shorten(&error))),
        };
        if let Some(failure) = failure {
            self.fail(&failure);
        }
    }

    fn fail(&mut self, failure: &str) {
        self.failed += 1;
        if self.failed <= LISTED {
            let _ = writeln!(self.failures, "- {failure}");
        }
    }

    /// Sends `body` (any bytes) to a body route, sized.
    fn send(
        &mut self,
        case: &str,
        route: &BodyRoute,
        path: &str,
        body: &[u8],
        field: Option<&str>,
    ) {
        let answer = self
            .fixture
            .raw(route.method, path, Some(body), Framing::Sized);
        self.check(case, answer, field);
    }

    /// Sends a JSON value to a body route.
    fn send_json(&mut self, case: &str, route: &BodyRoute, body: &Value, field: Option<&str>) {
        self.send(
            case,
            route,
            &route.path(),
            body.to_string().as_bytes(),
            field,
        );
    }

    fn finish(self) {
        let after = self.fixture.state();
        let mut failures = self.failures;
        if self.failed > LISTED {
            let _ = writeln!(failures, "- … and {} more", self.failed - LISTED);
        }
        if after != self.before {
            let changes: Vec<String> = self
                .before
                .iter()
                .zip(&after)
                .filter(|(b, a)| b != a)
                .map(|(b, a)| format!("  before: {}\n  after:  {}", shorten(b), shorten(a)))
                .collect();
            let _ = writeln!(
                failures,
                "- bad requests wrote to the database:\n{}",
                changes.join("\n")
            );
        }
        assert!(
            failures.is_empty(),
            "{} bad requests sent, {} not refused as they should be:\n{failures}",
            self.sent,
            self.failed
        );
    }
}

/// A string cut for messages: bodies and ids can be megabytes long.
fn shorten(text: &str) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

/// `value` with the field at `pointer` replaced by `new` (created if absent).
fn with_field(value: &Value, pointer: &str, new: Value) -> Value {
    let mut value = value.clone();
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = if parent.is_empty() {
        Some(&mut value)
    } else {
        value.pointer_mut(parent)
    };
    match target {
        Some(Value::Object(object)) => {
            object.insert(key.to_owned(), new);
        }
        Some(Value::Array(items)) => {
            let index: usize = key.parse().expect("an array index");
            items[index] = new;
        }
        _ => panic!("no object at {parent} in {value}"),
    }
    value
}

/// Bodies that are not JSON, or not JSON of the right kind, on every route
/// that reads one: 400 naming `body` for those that are not JSON at all.
fn malformed_json_is_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let not_json: [(&str, &[u8]); 12] = [
        ("truncated", br#"{"name": "#),
        ("truncated string", br#"{"name": "abc"#),
        ("trailing garbage", br#"{"name": "x"} trailing"#),
        ("two documents", br#"{"name": "x"}{"name": "y"}"#),
        ("NaN", br#"{"name": NaN}"#),
        ("Infinity", br#"{"name": Infinity}"#),
        ("single quotes", br#"{'name': 'x'}"#),
        ("trailing comma", br#"{"name": "x",}"#),
        ("comment", br#"{"name": "x" /* no */}"#),
        ("byte order mark", b"\xef\xbb\xbf{\"name\": \"x\"}"),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}"),
        ("bare word", b"hello"),
    ];
    for route in fixture.body_routes() {
        for (case, body) in not_json {
            report.send(case, &route, &route.path(), body, Some("body"));
        }
        // Empty is "no reason" for a revocation, where the body is optional.
        if route.json_reader {
            report.send("empty body", &route, &route.path(), b"", Some("body"));
            report.send("whitespace", &route, &route.path(), b"  \n ", Some("body"));
        }
        for (case, body) in [
            ("a bare string", json!("a bare string")),
            ("a number", json!(42)),
            ("null", Value::Null),
            ("true", json!(true)),
            ("an array of numbers", json!([1, 2, 3])),
        ] {
            report.send_json(case, &route, &body, None);
        }
        if !route.all_optional() {
            report.send_json("an empty object", &route, &json!({}), None);
        }
    }
    report.finish();
}

/// A 20 MB body (over the default 16 MiB `MAX_BODY_BYTES`), streamed, and
/// sized for one route of each kind of body reader (a sized one is drained,
/// about a second each), on the bare paths and aliases; 10,000 levels of
/// nesting and 40 levels (over `MAX_JSON_DEPTH`, under the parser's own
/// limit) everywhere.
fn huge_and_deeply_nested_bodies_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let mut huge = Vec::with_capacity(20 * 1024 * 1024 + 32);
    huge.extend_from_slice(br#"{"name": ""#);
    huge.resize(20 * 1024 * 1024, b'a');
    huge.extend_from_slice(br#""}"#);
    let deep_arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let deep_field = format!(
        "{{\"name\": {}\"x\"{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mut forty = json!("x");
    for _ in 0..40 {
        forty = json!([forty]);
    }
    for route in fixture.body_routes() {
        let path = route.path();
        // A sized body over the limit is drained by the server (about a
        // second for 20 MB in a debug build): sized once per kind of body
        // reader, streamed on every bare path and alias.
        let sized = path == "/issuers"
            || path == "/auth/login"
            || (path.ends_with("/revoke") && !route.versioned());
        let framings: &[Framing] = if route.versioned() {
            &[]
        } else if sized {
            &[Framing::Sized, Framing::Chunked]
        } else {
            &[Framing::Chunked]
        };
        for framing in framings {
            let answer = fixture.raw(route.method, &path, Some(&huge), *framing);
            // 413 or 400 naming the body.
            let field = answer
                .as_ref()
                .ok()
                .filter(|r| r.status == 400)
                .map(|_| "body");
            report.check(&format!("20 MB body, {framing:?}"), answer, field);
        }
        for (case, body) in [
            ("10,000 nested arrays", &deep_arrays),
            ("10,000 nested objects", &deep_objects),
            ("a field nesting 10,000 arrays", &deep_field),
        ] {
            report.send(case, &route, &path, body.as_bytes(), Some("body"));
        }
        // In a field the route reads: the bounded reader refuses the body,
        // revocation (whose reader is the parser's own) the field.
        let (pointer, _) = &route.fields[0];
        let body = with_field(&route.body, pointer, forty.clone());
        let field = route.json_reader.then_some("body");
        report.send_json("a field nesting 40 arrays", &route, &body, field);
    }
    report.finish();
}

/// Each field of each body, replaced by values of the JSON types it does
/// not take (and `null` where it is required), on the bare paths and their
/// aliases (`/v2` and `/v3` share their handlers).
fn wrong_types_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    for route in fixture.body_routes().into_iter().filter(|r| !r.versioned()) {
        for (pointer, kind) in &route.fields {
            // In a partial update `{}` merges into the stored value and
            // changes nothing (RFC 7396): not a wrong value there.
            let wrong = wrong_values(*kind)
                .into_iter()
                .filter(|(name, _)| !(route.merges() && *name == "empty object"));
            for (name, value) in wrong {
                let body = with_field(&route.body, pointer, value);
                report.send_json(&format!("{pointer} = {name}"), &route, &body, None);
            }
        }
    }
    report.finish();
}

/// Ids in paths that are not UUIDs, in many disguises, on every route that
/// takes one (with an otherwise valid body): 404, or 431 for an id of a
/// million characters.
fn invalid_ids_in_paths_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let huge = "a".repeat(1_000_000);
    let bad_ids = [
        "not-a-uuid".to_owned(),
        "12345".to_owned(),
        format!("{}x", fixture.issuer),
        fixture.issuer[..35].to_owned(),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%2e%2e".to_owned(),
        "%00".to_owned(),
        "%2500".to_owned(),
        "%ZZ".to_owned(),
        format!("%E2%80%AE{}", fixture.issuer),
        "%F0%9F%8E%93".to_owned(),
        "%ED%A0%80".to_owned(),
        "'%20OR%20'1'='1".to_owned(),
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
        "%7B%7B7*7%7D%7D".to_owned(),
        "$%7Bjndi:ldap:%2F%2Fx%7D".to_owned(),
        huge,
    ];
    for route in fixture.body_routes().into_iter().filter(|r| r.id.is_some()) {
        let body = route.body.to_string();
        for id in &bad_ids {
            report.send(
                &format!("id {}", shorten(id)),
                &route,
                &route.path_with(id),
                body.as_bytes(),
                None,
            );
        }
        // Not normalised by the client: a path that climbs out.
        report.send(
            "../../etc/passwd",
            &route,
            &route.path_with("../../etc/passwd"),
            body.as_bytes(),
            None,
        );
    }
    for route in fixture
        .plain_routes()
        .into_iter()
        .filter(|r| r.id.is_some())
    {
        for id in bad_ids
            .iter()
            .map(String::as_str)
            .chain(["../../etc/passwd"])
        {
            let path = route.template.replace("{id}", id);
            let answer = fixture.raw(route.method, &path, None, Framing::Sized);
            report.check(&format!("id {}", shorten(id)), answer, None);
        }
    }
    report.finish();
}

/// References in bodies and queries that name nothing or are not
/// references at all: 400 naming the field.
fn invalid_references_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let server = fixture.base_url();
    let bad = [
        "not-a-uuid".to_owned(),
        "".to_owned(),
        "../../etc/passwd".to_owned(),
        "\u{0}".to_owned(),
        "urn:uuid:not-a-uuid".to_owned(),
        format!("urn:uuid:{}x", fixture.issuer),
        format!("{server}/issuers/../../etc/passwd"),
        format!("{server}/v4/issuers/{}", fixture.issuer),
        format!("https://elsewhere.example.org/issuers/{}", fixture.issuer),
        format!("{}\u{202e}", fixture.issuer),
        "'; DROP TABLE issuers; --".to_owned(),
        "a".repeat(1_000_000),
    ];
    for route in fixture.body_routes() {
        let mut references = Vec::new();
        for (key, pointer) in [
            ("issuer", "/issuer"),
            ("badge", "/badge"),
            ("credentialSubject", "/credentialSubject/achievement"),
            ("credentials", "/credentials/0/badge"),
        ] {
            if route.body.get(key).is_some() {
                references.push(pointer);
            }
        }
        if route.template == "/api-keys" {
            references.extend(["/issuerId", "/userId"]);
        }
        for pointer in &references {
            for reference in &bad {
                let body = with_field(&route.body, pointer, json!(reference));
                report.send_json(
                    &format!("{pointer} = {}", shorten(reference)),
                    &route,
                    &body,
                    None,
                );
            }
        }
        // An achievement's issuer given as an achievement's URL, and the
        // other way round: the right shape, the wrong kind.
        if route.template.ends_with("/achievements") && route.method == "POST" {
            let body = with_field(
                &route.body,
                "/issuer",
                json!(format!("{server}/achievements/{}", fixture.issuer)),
            );
            report.send_json(
                "issuer given as an achievement URL",
                &route,
                &body,
                Some("issuer"),
            );
        }
        if route.template.ends_with("/credentials") && route.body.get("badge").is_some() {
            let body = with_field(
                &route.body,
                "/badge",
                json!(format!("{server}/issuers/{}", fixture.badge)),
            );
            report.send_json("badge given as an issuer URL", &route, &body, Some("badge"));
        }
    }
    for p in PREFIXES {
        for (path, parameter, field) in [
            ("achievements", "issuer", "issuer"),
            ("credentials", "issuer", "issuer"),
            ("credentials", "achievement", "achievement"),
            ("assertions", "badge", "achievement"),
        ] {
            for value in [
                "not-a-uuid",
                "..%2F..%2Fetc",
                "%27%3B%20DROP%20TABLE%20issuers%3B%20--",
                "%00",
            ] {
                let target = format!("{p}/{path}?{parameter}={value}");
                let answer = fixture.raw("GET", &target, None, Framing::Sized);
                report.check("query reference", answer, Some(field));
            }
        }
    }
    for value in ["not-a-uuid", "%00", "%3Cscript%3E"] {
        let answer = fixture.raw(
            "GET",
            &format!("/api-keys?userId={value}"),
            None,
            Framing::Sized,
        );
        report.check("query userId", answer, Some("userId"));
    }
    report.finish();
}

/// Dates that are not RFC 3339 instants of at most microsecond precision,
/// in every date field: 400 naming the field.
fn invalid_dates_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let bad = [
        json!("2024-13-45"),
        json!("2024-13-45T00:00:00Z"),
        json!("2024-02-30T00:00:00Z"),
        json!("2024-05-01T25:00:00Z"),
        json!("yesterday"),
        json!(""),
        json!(" "),
        json!(1e20),
        json!(1_714_564_800),
        json!("2024-05-01"),
        json!("2024-05-01T12:00:00"),
        json!("2024-05-01T12:00:00+25:00"),
        json!("2024-05-01T12:00:00.123456789Z"),
        json!("+275760-09-13T00:00:00Z"),
        json!("0000-00-00T00:00:00Z"),
        json!(" 2024-05-01T12:00:00Z"),
        json!("2024-05-01T12:00:00Z\u{0}"),
        json!("２０２４-05-01T12:00:00Z"),
    ];
    for route in fixture.body_routes() {
        let fields: Vec<(&str, &str)> = if route.template == "/api-keys" {
            vec![("/expiresAt", "expiresAt")]
        } else if route.template.ends_with("/batch") {
            vec![
                ("/credentials/0/issuedOn", "credentials[0].issuedOn"),
                ("/credentials/0/expires", "credentials[0].expires"),
            ]
        } else if route.body.get("recipient").is_some() {
            vec![("/issuedOn", "issuedOn"), ("/expires", "expires")]
        } else if route.body.get("credentialSubject").is_some() {
            vec![("/validFrom", "validFrom"), ("/validUntil", "validUntil")]
        } else {
            Vec::new()
        };
        for (pointer, field) in fields {
            for value in &bad {
                let body = with_field(&route.body, pointer, value.clone());
                report.send_json(&format!("{pointer} = {value}"), &route, &body, Some(field));
            }
        }
        // In the past, or before the start.
        if route.template == "/api-keys" {
            let body = with_field(&route.body, "/expiresAt", json!("2000-01-01T00:00:00Z"));
            report.send_json("expiresAt in the past", &route, &body, Some("expiresAt"));
        }
        if route.body.get("recipient").is_some() {
            let body = with_field(&route.body, "/expires", json!("2024-04-30T12:00:00Z"));
            report.send_json("expires before issuedOn", &route, &body, Some("expires"));
        }
    }
    report.finish();
}

/// `limit` and `offset` out of range or not numbers, on every list.
fn bad_pagination_is_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let limits = [
        "-1",
        "0",
        "501",
        "1e30",
        "abc",
        "",
        "1.5",
        "%201",
        "0x10",
        "4294967297",
        "18446744073709551616",
        "%00",
        "1;DROP%20TABLE%20issuers",
    ];
    let offsets = [
        "-1",
        "18446744073709551616",
        "18446744073709551615",
        "9223372036854775808",
        "abc",
        "1e3",
        "",
        "%2B-1",
    ];
    for route in fixture.plain_routes().into_iter().filter(|r| r.list) {
        let path = route.path();
        let joiner = if path.contains('?') { '&' } else { '?' };
        for limit in limits {
            let answer = fixture.raw(
                "GET",
                &format!("{path}{joiner}limit={limit}"),
                None,
                Framing::Sized,
            );
            report.check(&format!("limit={limit}"), answer, Some("limit"));
        }
        for offset in offsets {
            let answer = fixture.raw(
                "GET",
                &format!("{path}{joiner}offset={offset}"),
                None,
                Framing::Sized,
            );
            report.check(&format!("offset={offset}"), answer, Some("offset"));
        }
    }
    // The largest offset accepted answers an empty page, on both backends.
    for route in fixture.plain_routes().into_iter().filter(|r| r.list) {
        let response = fixture.get_as(
            &fixture.admin,
            &format!("{}?offset=9223372036854775807&limit=500", route.path()),
        );
        if response.status != 200 || response.body != json!([]) {
            report.fail(&format!(
                "the largest offset: {}: {} {}",
                response.request,
                response.status,
                shorten(&response.text)
            ));
        }
    }
    report.finish();
}

/// Text fields with characters they do not take: NUL and other control
/// characters, lone surrogates (as JSON escapes), strings one character too
/// long; usernames with emoji, direction overrides or combining marks.
fn unicode_edge_cases_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let names = [
        ("NUL", "a\u{0}b".to_owned()),
        ("ESC", "a\u{1b}[31mred".to_owned()),
        ("DEL", "a\u{7f}".to_owned()),
        ("NEL", "a\u{85}b".to_owned()),
        ("newline in a one-line field", "two\nlines".to_owned()),
        ("only spaces", "   ".to_owned()),
        ("256 characters", "x".repeat(256)),
        ("256 four-byte emoji", "🎓".repeat(256)),
    ];
    for route in fixture.body_routes() {
        let pointer = if route.body.get("name").is_some() {
            "/name"
        } else if route.body.get("username").is_some() {
            "/username"
        } else {
            continue;
        };
        for (case, value) in &names {
            let body = with_field(&route.body, pointer, json!(value));
            report.send_json(&format!("{pointer}: {case}"), &route, &body, None);
        }
        // Lone surrogates exist only as JSON escapes: the parser refuses them.
        let body = with_field(&route.body, pointer, json!("@@SURROGATE@@")).to_string();
        for escape in [r"\ud800", r"\udc00", r"\ud800\u0041", r"x\udfff"] {
            let raw = body.replace("@@SURROGATE@@", escape);
            report.send(
                &format!("{pointer}: lone surrogate {escape}"),
                &route,
                &route.path(),
                raw.as_bytes(),
                Some("body"),
            );
        }
    }
    // NUL in every string field: PostgreSQL cannot store it as text.
    // (Passwords are only ever hashed: any character goes.)
    for route in fixture.body_routes() {
        for (pointer, kind) in &route.fields {
            let text = matches!(
                kind,
                Kind::Str | Kind::StrRequired | Kind::StrOrObject | Kind::StrOrObjectRequired
            );
            if text && !pointer.ends_with("assword") {
                let body = with_field(&route.body, pointer, json!("nul\u{0}inside"));
                report.send_json(&format!("{pointer} with NUL"), &route, &body, None);
            }
        }
    }
    for route in fixture.body_routes() {
        let too_long: Vec<(&str, String)> = match route.template.as_str() {
            t if t.ends_with("/issuers") || t.ends_with("/issuers/{id}") => vec![
                ("/description", "d".repeat(20_001)),
                ("/url", format!("https://example.org/{}", "u".repeat(2_048))),
                ("/email", format!("{}@example.org", "e".repeat(65))),
                (
                    "/image",
                    format!("data:image/png;base64,{}", "A".repeat(2 * 1024 * 1024)),
                ),
            ],
            t if t.contains("achievements") || t.contains("badge-classes") => vec![
                ("/tags/0", "t".repeat(101)),
                ("/version", "v".repeat(101)),
                ("/alignment/0/targetName", "n".repeat(256)),
            ],
            "/users" => vec![
                ("/username", "u".repeat(65)),
                ("/username", "ab".to_owned()),
                ("/username", "emoji🎓".to_owned()),
                ("/username", "rtl\u{202e}override".to_owned()),
                ("/username", "combining\u{301}".to_owned()),
                ("/username", "zero\u{200d}width".to_owned()),
                ("/username", "space here".to_owned()),
                ("/password", "p".repeat(1_025)),
                ("/password", "short".to_owned()),
                ("/email", "not an email".to_owned()),
            ],
            _ => Vec::new(),
        };
        for (pointer, value) in &too_long {
            let body = with_field(&route.body, pointer, json!(value));
            report.send_json(
                &format!("{pointer}: {} characters", value.chars().count()),
                &route,
                &body,
                None,
            );
        }
    }
    report.finish();
}

/// Strings that look like injections where they cannot be valid values:
/// in URLs, e-mail addresses, usernames, roles, permissions, types. (Where
/// they are valid text, they are stored as given: see
/// [`valid_unusual_strings_are_stored_exactly`].)
fn injection_looking_input_is_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let injections = [
        "'; DROP TABLE issuers; --",
        "\" OR \"1\"=\"1",
        "<script>alert(1)</script>",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "javascript:alert(1)",
        "../../etc/passwd",
        "$(rm -rf /)",
    ];
    for route in fixture.body_routes() {
        let pointers: &[&str] = match route.template.as_str() {
            t if t.ends_with("/issuers") || t.ends_with("/issuers/{id}") => {
                &["/url", "/email", "/image"]
            }
            t if route.body.get("achievementType").is_some() && !t.ends_with("/revoke") => &[
                "/achievementType",
                "/image",
                "/criteria/id",
                "/alignment/0/targetUrl",
            ],
            _ if route.body.get("recipient").is_some() => &[
                "/recipient/type",
                "/recipient/identity",
                "/evidence/0/id",
                "/image",
            ],
            "/users" => &["/username", "/email", "/role"],
            "/users/{id}" => &["/email", "/role"],
            _ => &[],
        };
        for pointer in pointers {
            // `javascript:` is an absolute IRI, which image, criteria,
            // evidence and alignment URLs may be (only `url` is http(s)).
            let iri = [
                "/image",
                "/criteria/id",
                "/evidence/0/id",
                "/alignment/0/targetUrl",
            ]
            .contains(pointer);
            for injection in injections
                .iter()
                .filter(|i| !(iri && i.starts_with("javascript:")))
            {
                let body = with_field(&route.body, pointer, json!(injection));
                report.send_json(&format!("{pointer} = {injection}"), &route, &body, None);
            }
        }
        if route.template == "/api-keys" {
            for injection in injections {
                let body = with_field(&route.body, "/permissions", json!([injection]));
                report.send_json(
                    &format!("permissions = [{injection}]"),
                    &route,
                    &body,
                    Some("permissions"),
                );
            }
        }
    }
    // Logging in with injections is a failed login, nothing more.
    for injection in injections {
        let answer = fixture.send_raw(
            "POST",
            "/auth/login",
            &[],
            Some(
                json!({"usernameOrEmail": injection, "password": injection})
                    .to_string()
                    .as_bytes(),
            ),
        );
        report.check("login with an injection", answer, None);
        for header in ["X-API-Key", "Authorization"] {
            let value = if header == "Authorization" {
                format!("Bearer {injection}")
            } else {
                injection.to_owned()
            };
            let answer = fixture.send_raw("GET", "/credentials", &[(header, &value)], None);
            report.check(&format!("{header}: {injection}"), answer, None);
        }
    }
    report.finish();
}

/// Methods no route takes, on every route: a 4xx in the documented shape.
fn unknown_methods_are_refused(fixture: &Fixture) {
    let mut report = Report::new(fixture);
    let routes = fixture.body_routes();
    let mut paths: Vec<String> = routes.iter().map(BodyRoute::path).collect();
    paths.extend(fixture.plain_routes().iter().map(PlainRoute::path));
    paths.sort();
    paths.dedup();
    // Partial updates take `PATCH` (they are in the other scenarios).
    let patched: Vec<String> = routes
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(BodyRoute::path)
        .collect();
    for path in &paths {
        for method in ["PATCH", "OPTIONS", "TRACE", "PROPFIND"] {
            if method == "PATCH" && patched.contains(path) {
                continue;
            }
            let answer = fixture.raw(method, path, Some(b"{}"), Framing::Sized);
            report.check(method, answer, None);
        }
    }
    report.finish();
}

/// Strings that look like injections, or are unusual unicode, but are
/// valid text: stored with 201 and read back exactly, in both versions.
fn valid_unusual_strings_are_stored_exactly(fixture: &Fixture) {
    let values = [
        "'; DROP TABLE issuers; --".to_owned(),
        "Robert'); DROP TABLE students;--".to_owned(),
        "\" OR \"1\"=\"1".to_owned(),
        "<script>alert(1)</script>".to_owned(),
        "{{7*7}} ${7*7} #{7*7}".to_owned(),
        "${jndi:ldap://x}".to_owned(),
        "\\x00 \\u0000 %00 %s%n".to_owned(),
        "\u{202e}evil\u{202c} and \u{200f}rtl".to_owned(),
        "🎓 🏅 👩‍🎓 🏳️‍🌈".to_owned(),
        "e\u{301} a\u{300} n\u{303} Z\u{336}\u{337}".to_owned(),
        "Ünïcödé ß ﬁ 日本語 العربية".to_owned(),
        "\u{10ffff}\u{fffd}\u{feff}".to_owned(),
        "x".repeat(255),
        "🎓".repeat(255),
    ];
    let admin = &fixture.admin;
    let issuers_before = fixture.total_as(admin, "/issuers");
    for (n, value) in values.iter().enumerate() {
        let description = format!("{value}\nsecond line\ttab");
        let mut body = issuer_body(value);
        body["description"] = json!(description);
        let issuer = created(&fixture.post_as(admin, "/issuers", &body));
        let mut body = achievement_body(&issuer, value);
        body["description"] = json!(description);
        let tag: String = value.chars().take(100).collect();
        body["tags"] = json!([tag]);
        let badge = created(&fixture.post_as(admin, "/achievements", &body));
        let mut body = award_body(&badge, &format!("unusual{n}@recipients.example.org"));
        body["narrative"] = json!(description);
        let cred = created(&fixture.post_as(admin, "/credentials", &body));
        for p in ["/v2", "/v3"] {
            let doc = fixture.get_as(admin, &format!("{p}/issuers/{issuer}"));
            doc.assert_status(200);
            assert_eq!(
                doc.body["name"],
                json!(value),
                "{p} issuer name of {value:?}"
            );
            assert_eq!(
                doc.body["description"],
                json!(description),
                "{p} issuer description"
            );
            let doc = fixture.get_as(admin, &format!("{p}/achievements/{badge}"));
            doc.assert_status(200);
            assert_eq!(
                doc.body["name"],
                json!(value),
                "{p} achievement name of {value:?}"
            );
            let tags = doc.body.get("tags").or_else(|| doc.body.get("tag"));
            assert_eq!(
                tags,
                Some(&json!([tag])),
                "{p} tags of {value:?}: {}",
                doc.text
            );
        }
        let doc = fixture.get_as(admin, &format!("/v2/credentials/{cred}"));
        assert_eq!(
            doc.body["narrative"],
            json!(description),
            "narrative of {value:?}"
        );
        // As a filter it matches nothing, and breaks nothing.
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let response = fixture.get_as(admin, &format!("/credentials?recipient={encoded}"));
        response.assert_status(200);
        assert_eq!(response.body, json!([]), "recipient filter {value:?}");
    }
    assert_eq!(
        fixture.total_as(admin, "/issuers"),
        issuers_before + values.len() as u64,
        "every issuer is there, the table too"
    );
    // Usernames of letters of any script are valid and log in.
    let id = fixture.create_user(
        admin,
        "Zoë-日本語_ünï.çødé",
        "unicode-user-password",
        "viewer",
    );
    let token = fixture.login("Zoë-日本語_ünï.çødé", "unicode-user-password");
    assert_eq!(
        fixture.get_as(&token, "/auth/profile").body["user"]["id"],
        json!(id)
    );
    // An injection-looking password is just a password.
    let password = "'; DROP TABLE users; -- <script>{{7*7}}";
    fixture.create_user(admin, "injector", password, "viewer");
    fixture.login("injector", password);
    fixture
        .try_login("injector", "' OR '1'='1")
        .assert_status(401);
}
