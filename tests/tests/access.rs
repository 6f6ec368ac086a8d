//! Who may do what (issue 4), end to end on both backends: the
//! authorization matrix of every route that writes or lists private data,
//! public reads, ownership-filtered lists, logins and API keys as a fresh
//! install, the command line and the old server's configured keys use them.
//!
//! The matrix is a table in [`ROWS`]: each row a route with the status
//! expected for each caller of [`CALLERS`]. Every cell is sent; a refused
//! write must leave what the row watches unchanged and an allowed one must
//! change it. On any mismatch the whole table is printed with the failures.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use openbadges_e2e::{
    achievement_body, award_body, issuer_body, on_both_backends, uuid_of, Backend, Caller,
    OnBothBackends, Response, Server, Storage, ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

on_both_backends!(
    authorization_matrix,
    versioned_paths_refuse_as_the_bare_ones,
    public_documents_need_no_credentials,
    credential_lists_show_only_what_the_caller_may_read,
    profile_names_the_credential,
    roles_are_read_afresh,
    forged_and_malformed_credentials_are_refused,
    crafted_tokens_expired_or_foreign_are_refused,
    fresh_install_logs_in_creates_a_key_and_issues,
    cli_admin_create_then_login,
    cli_api_key_create_prints_a_working_key,
    configured_keys_work_as_x_api_key_and_bearer,
    restart_keeps_a_changed_password_and_other_secrets_refuse_tokens,
    self_service_password_change_needs_the_current_password,
    key_use_is_recorded_without_a_write_per_request,
    a_read_only_key_learns_nothing_about_the_password,
    a_new_password_ends_earlier_tokens,
    logout_all_ends_every_earlier_token,
    viewers_manage_their_own_account,
);

/// Exit code of a refused configuration.
const CONFIG_REFUSED: i32 = 2;

// ---------------------------------------------------------------------------
// The fixture: three users, their issuers, achievements, credentials and keys.
// ---------------------------------------------------------------------------

/// A user made through the API, logged in.
struct Account {
    id: String,
    username: &'static str,
    password: &'static str,
    token: Caller,
}

/// A server with authentication on, an administrator, two issuer-role users
/// (alice owns A1 and A2, bob owns B1) and a viewer, each with a credential
/// issued under their issuers and API keys of every kind.
struct World {
    server: Server,
    _storage: Storage,
    admin: Caller,
    alice: Account,
    bob: Account,
    viewer: Account,
    /// alice's current login token: a password change in the matrix ends
    /// the one before, so it is renewed then.
    alice_session: std::sync::Mutex<Caller>,
    a1: String,
    a2: String,
    b1: String,
    a1_badge: String,
    a1_cred: String,
    a2_cred: String,
    b1_cred: String,
    /// alice's key with her role's permissions (read, write).
    alice_key: Caller,
    alice_key_id: String,
    /// alice's key limited to A1.
    alice_scoped_a1: Caller,
    /// alice's key limited to A2.
    alice_scoped_a2: Caller,
    /// alice's key with `read` only.
    alice_read: Caller,
    /// alice's key, revoked.
    alice_revoked: Caller,
    /// bob's key.
    bob_key: Caller,
}

impl std::ops::Deref for World {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

/// The UUID of a created document; panics with the answer otherwise.
#[track_caller]
fn created(response: &Response) -> String {
    response.assert_status(201);
    uuid_of(&response.body)
}

impl OnBothBackends for World {
    fn on(backend: Backend) -> Self {
        let storage = Storage::create(backend);
        let server = storage.launch_with_auth().start();
        let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
        let account = |username: &'static str, password: &'static str, role: &str| {
            let id = server.create_user(&admin, username, password, role);
            Account {
                id,
                username,
                password,
                token: server.login(username, password),
            }
        };
        let alice = account("alice", "alice-password-1", "issuer");
        let bob = account("bob", "bob-password-12", "issuer");
        let viewer = account("victor", "victor-password", "viewer");

        let a1 = created(&server.post_as(&alice.token, "/issuers", &issuer_body("A1")));
        let a2 = created(&server.post_as(&alice.token, "/issuers", &issuer_body("A2")));
        let b1 = created(&server.post_as(&bob.token, "/issuers", &issuer_body("B1")));
        let badge = |owner: &Caller, issuer: &str, name: &str| {
            created(&server.post_as(owner, "/achievements", &achievement_body(issuer, name)))
        };
        let a1_badge = badge(&alice.token, &a1, "A1 badge");
        let a2_badge = badge(&alice.token, &a2, "A2 badge");
        let b1_badge = badge(&bob.token, &b1, "B1 badge");
        let award = |owner: &Caller, badge: &str, email: &str| {
            created(&server.post_as(owner, "/credentials", &award_body(badge, email)))
        };
        let a1_cred = award(&alice.token, &a1_badge, "a1@recipients.example.org");
        let a2_cred = award(&alice.token, &a2_badge, "a2@recipients.example.org");
        let b1_cred = award(&bob.token, &b1_badge, "b1@recipients.example.org");

        let key = |owner: &Caller, body: Value| server.create_api_key(owner, &body);
        let (alice_key_id, alice_key) = key(&alice.token, json!({"name": "alice"}));
        let (_, alice_scoped_a1) = key(&alice.token, json!({"name": "A1 only", "issuerId": a1}));
        let (_, alice_scoped_a2) = key(&alice.token, json!({"name": "A2 only", "issuerId": a2}));
        let (_, alice_read) = key(
            &alice.token,
            json!({"name": "read", "permissions": ["read"]}),
        );
        let (revoked_id, alice_revoked) = key(&alice.token, json!({"name": "revoked"}));
        server
            .post_as(
                &alice.token,
                &format!("/api-keys/{revoked_id}/revoke"),
                &json!({}),
            )
            .assert_status(200);
        let (_, bob_key) = key(&bob.token, json!({"name": "bob"}));
        Self {
            _storage: storage,
            admin,
            alice_session: std::sync::Mutex::new(alice.token.clone()),
            alice,
            bob,
            viewer,
            a1,
            a2,
            b1,
            a1_badge,
            a1_cred,
            a2_cred,
            b1_cred,
            alice_key: Caller::Key(alice_key),
            alice_key_id,
            alice_scoped_a1: Caller::Key(alice_scoped_a1),
            alice_scoped_a2: Caller::Key(alice_scoped_a2),
            alice_read: Caller::Key(alice_read),
            alice_revoked: Caller::Key(alice_revoked),
            bob_key: Caller::Key(bob_key),
            server,
        }
    }
}

// ---------------------------------------------------------------------------
// The matrix.
// ---------------------------------------------------------------------------

/// The callers of the matrix, in the order of the columns of [`ROWS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    GarbageKey,
    MalformedBearer,
    RevokedKey,
    OtherIssuersKey,
    Viewer,
    ReadOnlyKey,
    KeyScopedElsewhere,
    KeyScopedHere,
    OwnerToken,
    OwnerKey,
    Admin,
}

const CALLERS: [Who; 12] = [
    Who::Anonymous,
    Who::GarbageKey,
    Who::MalformedBearer,
    Who::RevokedKey,
    Who::OtherIssuersKey,
    Who::Viewer,
    Who::ReadOnlyKey,
    Who::KeyScopedElsewhere,
    Who::KeyScopedHere,
    Who::OwnerToken,
    Who::OwnerKey,
    Who::Admin,
];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::GarbageKey => "garbage key",
            Self::MalformedBearer => "malformed Bearer",
            Self::RevokedKey => "A's revoked key",
            Self::OtherIssuersKey => "B's key (other issuer)",
            Self::Viewer => "viewer (token)",
            Self::ReadOnlyKey => "A's read-only key",
            Self::KeyScopedElsewhere => "A's key scoped to A2",
            Self::KeyScopedHere => "A's key scoped to A1",
            Self::OwnerToken => "A (owner) token",
            Self::OwnerKey => "A (owner) key",
            Self::Admin => "admin (token)",
        }
    }

    fn caller(self, world: &World) -> Caller {
        match self {
            Self::Anonymous => Caller::Anonymous,
            Self::GarbageKey => Caller::Key(format!("obk_{}", "0".repeat(64))),
            Self::MalformedBearer => Caller::Authorization("Bearer not.a.jwt".to_owned()),
            Self::RevokedKey => world.alice_revoked.clone(),
            Self::OtherIssuersKey => world.bob_key.clone(),
            Self::Viewer => world.viewer.token.clone(),
            Self::ReadOnlyKey => world.alice_read.clone(),
            Self::KeyScopedElsewhere => world.alice_scoped_a2.clone(),
            Self::KeyScopedHere => world.alice_scoped_a1.clone(),
            Self::OwnerToken => world.alice_session.lock().expect("alice's session").clone(),
            Self::OwnerKey => world.alice_key.clone(),
            Self::Admin => world.admin.clone(),
        }
    }
}

/// What a row needs created afresh for each cell, as `{fresh}` (owned by
/// alice, under A1 where it applies): a destructive request can run once
/// per caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    Nothing,
    Issuer,
    Achievement,
    Credential,
    User,
    Key,
}

/// The request body of a row; `n` makes each cell's values distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    Issuer,
    Achievement,
    Award,
    Batch,
    Reason,
    NewUser,
    Email,
    Password,
    NewKey,
}

/// One route of the matrix.
struct Row {
    method: &'static str,
    /// With `{a1}`, `{a1_badge}`, `{a1_cred}`, `{alice}`, `{alice_key}`, `{fresh}`.
    path: &'static str,
    fresh: Fresh,
    body: Body,
    /// What the request could change, read by the admin before and after:
    /// `doc:<path>` (status and body) or `count:<path>` (`X-Total-Count`).
    watch: &'static [&'static str],
    /// Whether an allowed request must change what is watched.
    writes: bool,
    /// The status for each of [`CALLERS`].
    expected: [u16; 12],
}

impl Row {
    /// Whether the route exists under `/v2` and `/v3` too (the account
    /// routes exist only bare).
    fn versioned(&self) -> bool {
        !["/auth", "/users", "/api-keys"]
            .iter()
            .any(|bare| self.path.starts_with(bare))
    }
}

const U: u16 = 401;
const F: u16 = 403;
const N: u16 = 404;

#[rustfmt::skip]
const fn row(
    method: &'static str, path: &'static str, fresh: Fresh, body: Body,
    watch: &'static [&'static str], writes: bool, expected: [u16; 12],
) -> Row {
    Row { method, path, fresh, body, watch, writes, expected }
}

/// The matrix. Columns: anonymous, garbage key, malformed Bearer, A's
/// revoked key | B's key, viewer, A's read-only key, A's key scoped to A2,
/// A's key scoped to A1 | A's token, A's key, admin.
#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Issuers: any issuer-role user may create one (and owns it).
    row("POST", "/issuers", Fresh::Nothing, Body::Issuer, &["count:/issuers"], true,
        [U, U, U, U, 201, F, F, F, F, 201, 201, 201]),
    row("PUT", "/issuers/{a1}", Fresh::Nothing, Body::Issuer, &["doc:/issuers/{a1}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    // A fresh issuer of A is not A1: the key scoped to A1 may not delete it.
    row("DELETE", "/issuers/{fresh}", Fresh::Issuer, Body::None, &["doc:/issuers/{fresh}", "count:/issuers"], true,
        [U, U, U, U, F, F, F, F, F, 204, 204, 204]),
    // Achievements of A1, and the deprecated alias.
    row("POST", "/achievements", Fresh::Nothing, Body::Achievement, &["count:/achievements"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("POST", "/badge-classes", Fresh::Nothing, Body::Achievement, &["count:/achievements"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("PUT", "/achievements/{a1_badge}", Fresh::Nothing, Body::Achievement, &["doc:/achievements/{a1_badge}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    row("PUT", "/badge-classes/{a1_badge}", Fresh::Nothing, Body::Achievement, &["doc:/achievements/{a1_badge}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    row("DELETE", "/achievements/{fresh}", Fresh::Achievement, Body::None, &["doc:/achievements/{fresh}", "count:/achievements"], true,
        [U, U, U, U, F, F, F, F, 204, 204, 204, 204]),
    row("DELETE", "/badge-classes/{fresh}", Fresh::Achievement, Body::None, &["doc:/achievements/{fresh}", "count:/achievements"], true,
        [U, U, U, U, F, F, F, F, 204, 204, 204, 204]),
    // Credentials of A1's achievement, and the deprecated alias.
    row("POST", "/credentials", Fresh::Nothing, Body::Award, &["count:/credentials"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("POST", "/assertions", Fresh::Nothing, Body::Award, &["count:/credentials"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("PUT", "/credentials/{a1_cred}", Fresh::Nothing, Body::Award, &["doc:/credentials/{a1_cred}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    row("PUT", "/assertions/{a1_cred}", Fresh::Nothing, Body::Award, &["doc:/credentials/{a1_cred}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    row("POST", "/credentials/batch", Fresh::Nothing, Body::Batch, &["count:/credentials"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("POST", "/assertions/batch", Fresh::Nothing, Body::Batch, &["count:/credentials"], true,
        [U, U, U, U, F, F, F, F, 201, 201, 201, 201]),
    row("POST", "/credentials/{fresh}/revoke", Fresh::Credential, Body::Reason, &["doc:/credentials/{fresh}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    row("POST", "/assertions/{fresh}/revoke", Fresh::Credential, Body::Reason, &["doc:/credentials/{fresh}"], true,
        [U, U, U, U, F, F, F, F, 200, 200, 200, 200]),
    // Lists of credentials carry recipient data: never anonymous. Issuer-role
    // callers see their own (tested in detail below); naming someone else's
    // issuer or achievement is refused, not answered with an empty list.
    row("GET", "/credentials", Fresh::Nothing, Body::None, &["count:/credentials"], false,
        [U, U, U, U, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("GET", "/assertions", Fresh::Nothing, Body::None, &["count:/credentials"], false,
        [U, U, U, U, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("GET", "/credentials?issuer={a1}", Fresh::Nothing, Body::None, &["count:/credentials"], false,
        [U, U, U, U, F, 200, 200, F, 200, 200, 200, 200]),
    row("GET", "/achievements/{a1_badge}/credentials", Fresh::Nothing, Body::None, &["count:/credentials"], false,
        [U, U, U, U, F, 200, 200, F, 200, 200, 200, 200]),
    // Accounts. The profile is anyone's own.
    row("GET", "/auth/profile", Fresh::Nothing, Body::None, &[], false,
        [U, U, U, U, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("POST", "/users", Fresh::Nothing, Body::NewUser, &["count:/users"], true,
        [U, U, U, U, F, F, F, F, F, F, F, 201]),
    row("GET", "/users", Fresh::Nothing, Body::None, &["count:/users"], false,
        [U, U, U, U, F, F, F, F, F, F, F, 200]),
    row("GET", "/users/{alice}", Fresh::Nothing, Body::None, &["doc:/users/{alice}"], false,
        [U, U, U, U, F, F, 200, 200, 200, 200, 200, 200]),
    // Changing the account needs a write-capable credential of its user
    // (docs/security.md): not a read-only key; a scoped key may.
    row("PUT", "/users/{alice}", Fresh::Nothing, Body::Email, &["doc:/users/{alice}"], true,
        [U, U, U, U, F, F, F, 200, 200, 200, 200, 200]),
    row("POST", "/users/{alice}/change-password", Fresh::Nothing, Body::Password, &["doc:/users/{alice}"], true,
        [U, U, U, U, F, F, F, 204, 204, 204, 204, 204]),
    row("DELETE", "/users/{fresh}", Fresh::User, Body::None, &["doc:/users/{fresh}", "count:/users"], true,
        [U, U, U, U, F, F, F, F, F, F, F, 204]),
    // Keys for alice: a read-only key must not mint a read-write one, and a
    // scoped key makes no keys.
    row("POST", "/api-keys", Fresh::Nothing, Body::NewKey, &["count:/api-keys?userId={alice}"], true,
        [U, U, U, U, F, F, F, F, F, 201, 201, 201]),
    row("GET", "/api-keys?userId={alice}", Fresh::Nothing, Body::None, &["count:/api-keys?userId={alice}"], false,
        [U, U, U, U, F, F, 200, 200, 200, 200, 200, 200]),
    // Someone else's key is reported missing (404), so ids cannot be probed.
    // Revoking or deleting one's keys changes the account: not with a
    // read-only key.
    row("GET", "/api-keys/{alice_key}", Fresh::Nothing, Body::None, &["count:/api-keys?userId={alice}"], false,
        [U, U, U, U, N, N, 200, 200, 200, 200, 200, 200]),
    row("POST", "/api-keys/{fresh}/revoke", Fresh::Key, Body::None, &["doc:/api-keys/{fresh}"], true,
        [U, U, U, U, N, N, F, 200, 200, 200, 200, 200]),
    row("DELETE", "/api-keys/{fresh}", Fresh::Key, Body::None, &["doc:/api-keys/{fresh}"], true,
        [U, U, U, U, N, N, F, 204, 204, 204, 204, 204]),
];

/// What a watched path showed.
fn probe(world: &World, probe: &str) -> String {
    if let Some(path) = probe.strip_prefix("count:") {
        let response = world.get_as(&world.admin, path);
        format!(
            "{} X-Total-Count {}",
            response.status,
            response.header("x-total-count").unwrap_or("-")
        )
    } else {
        let path = probe.strip_prefix("doc:").unwrap_or(probe);
        let response = world.get_as(&world.admin, path);
        format!("{} {}", response.status, response.text)
    }
}

fn make_fresh(world: &World, fresh: Fresh, n: usize) -> String {
    let owner = &Who::OwnerToken.caller(world);
    match fresh {
        Fresh::Nothing => String::new(),
        Fresh::Issuer => {
            created(&world.post_as(owner, "/issuers", &issuer_body(&format!("Fresh {n}"))))
        }
        Fresh::Achievement => created(&world.post_as(
            owner,
            "/achievements",
            &achievement_body(&world.a1, &format!("Fresh {n}")),
        )),
        Fresh::Credential => created(&world.post_as(
            owner,
            "/credentials",
            &award_body(&world.a1_badge, &format!("fresh{n}@recipients.example.org")),
        )),
        Fresh::User => world.create_user(
            &world.admin,
            &format!("fresh-{n}"),
            "fresh-user-password",
            "viewer",
        ),
        Fresh::Key => {
            world
                .create_api_key(owner, &json!({"name": format!("fresh {n}")}))
                .0
        }
    }
}

fn body(world: &World, body: Body, n: usize) -> Option<Value> {
    let award = || award_body(&world.a1_badge, &format!("cell{n}@recipients.example.org"));
    Some(match body {
        Body::None => return None,
        Body::Issuer => issuer_body(&format!("Issuer of cell {n}")),
        Body::Achievement => achievement_body(&world.a1, &format!("Achievement of cell {n}")),
        Body::Award => award(),
        Body::Batch => json!([award()]),
        Body::Reason => json!({"reason": format!("revoked in cell {n}")}),
        Body::NewUser => json!({
            "username": format!("cell-{n}"),
            "password": "cell-user-password",
            "role": "viewer",
        }),
        Body::Email => json!({"email": format!("alice+{n}@users.example.org")}),
        Body::Password => json!({
            "currentPassword": world.alice.password,
            "newPassword": world.alice.password,
        }),
        Body::NewKey => json!({"name": format!("key of cell {n}"), "userId": world.alice.id}),
    })
}

fn fill(world: &World, template: &str, fresh: &str) -> String {
    template
        .replace("{a1_badge}", &world.a1_badge)
        .replace("{a1_cred}", &world.a1_cred)
        .replace("{a1}", &world.a1)
        .replace("{alice_key}", &world.alice_key_id)
        .replace("{alice}", &world.alice.id)
        .replace("{fresh}", fresh)
}

/// Checks the body of an error answer: the documented shape.
fn error_shape_problem(response: &Response) -> Option<String> {
    let expected_error = match response.status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => return None,
    };
    let body = &response.body;
    let fine = body["error"] == json!(expected_error)
        && body["message"].as_str().is_some_and(|m| !m.is_empty())
        && body.as_object().map(|o| o.len()) == Some(2);
    if !fine {
        return Some(format!(
            "error body not in the documented shape: {}",
            response.text
        ));
    }
    if response.status == 401 && response.header("www-authenticate") != Some("Bearer") {
        return Some(format!(
            "401 without WWW-Authenticate: Bearer; headers {:?}",
            response.headers
        ));
    }
    None
}

/// One cell's outcome.
struct Cell {
    status: u16,
    problems: Vec<String>,
}

/// Runs `rows` under each of `prefixes` for every caller; returns the
/// table and whether every cell was as expected.
fn run_matrix(world: &World, rows: &[&Row], prefixes: &[&str], callers: &[Who]) -> (String, bool) {
    let mut n = 0;
    let mut table = String::new();
    let mut details = String::new();
    let mut all_fine = true;
    let _ = writeln!(
        table,
        "| route | {} |\n|---|{}",
        CALLERS.map(Who::label).join(" | "),
        "---|".repeat(CALLERS.len())
    );
    for prefix in prefixes {
        for row in rows {
            let mut cells = Vec::new();
            for (column, who) in CALLERS.iter().enumerate() {
                if !callers.contains(who) {
                    cells.push(None);
                    continue;
                }
                n += 1;
                let expected = row.expected[column];
                let fresh = make_fresh(world, row.fresh, n);
                let path = format!("{prefix}{}", fill(world, row.path, &fresh));
                let watched: Vec<String> =
                    row.watch.iter().map(|w| fill(world, w, &fresh)).collect();
                let before: Vec<String> = watched.iter().map(|w| probe(world, w)).collect();
                let request_body = body(world, row.body, n);
                let response =
                    world.send_as(&who.caller(world), row.method, &path, request_body.as_ref());
                let after: Vec<String> = watched.iter().map(|w| probe(world, w)).collect();
                let mut problems = Vec::new();
                if response.status != expected {
                    problems.push(format!(
                        "expected {expected}, got {}: {}",
                        response.status, response.text
                    ));
                }
                if let Some(problem) = error_shape_problem(&response) {
                    problems.push(problem);
                }
                let success = (200..300).contains(&response.status);
                if success && row.body == Body::Password {
                    // A new password (even the same one) ends alice's tokens.
                    *world.alice_session.lock().expect("alice's session") =
                        world.login(world.alice.username, world.alice.password);
                }
                if success && row.writes && before == after {
                    problems.push(format!(
                        "answered {} but changed nothing watched",
                        response.status
                    ));
                }
                if !(success && row.writes) && before != after {
                    problems.push(format!(
                        "answered {} yet changed what it must not: before {before:?} after {after:?}",
                        response.status
                    ));
                }
                if !problems.is_empty() {
                    all_fine = false;
                    let _ = writeln!(
                        details,
                        "- {} {path} as {}: {}",
                        row.method,
                        who.label(),
                        problems.join("; ")
                    );
                }
                cells.push(Some(Cell {
                    status: response.status,
                    problems,
                }));
            }
            let rendered: Vec<String> = cells
                .iter()
                .zip(row.expected)
                .map(|(cell, expected)| match cell {
                    None => "–".to_owned(),
                    Some(cell) if cell.problems.is_empty() => expected.to_string(),
                    Some(cell) if cell.status == expected => format!("**{expected} (!)**"),
                    Some(cell) => format!("**{expected}≠{}**", cell.status),
                })
                .collect();
            let _ = writeln!(
                table,
                "| {} {prefix}{} | {} |",
                row.method,
                row.path,
                rendered.join(" | ")
            );
        }
    }
    if !all_fine {
        let _ = write!(table, "\nFailures (expected≠actual):\n{details}");
    }
    (table, all_fine)
}

/// Every route that writes or lists private data, for every caller: the
/// exact status, the documented error shape, and no change when refused.
fn authorization_matrix(world: &World) {
    let rows: Vec<&Row> = ROWS.iter().collect();
    let (table, fine) = run_matrix(world, &rows, &[""], &CALLERS);
    assert!(fine, "the authorization matrix does not hold:\n{table}");
    // The fixture's own documents are still there.
    for path in [
        format!("/issuers/{}", world.a1),
        format!("/issuers/{}", world.b1),
        format!("/achievements/{}", world.a1_badge),
        format!("/credentials/{}", world.b1_cred),
    ] {
        world.fetch(&path).assert_status(200);
    }
}

/// The resource routes under `/v2` and `/v3` answer as the bare ones, for
/// the callers that tell the rules apart.
fn versioned_paths_refuse_as_the_bare_ones(world: &World) {
    let rows: Vec<&Row> = ROWS.iter().filter(|row| row.versioned()).collect();
    // The callers that tell the rules apart; the bare matrix has them all.
    let callers = [
        Who::Anonymous,
        Who::OtherIssuersKey,
        Who::Viewer,
        Who::KeyScopedElsewhere,
        Who::OwnerKey,
        Who::Admin,
    ];
    let (table, fine) = run_matrix(world, &rows, &["/v2", "/v3"], &callers);
    assert!(
        fine,
        "the authorization matrix under /v2 and /v3 does not hold:\n{table}"
    );
}

/// Documents by id, the lists of issuers and achievements, health and the
/// API description answer 200 without credentials; lists of credentials
/// answer 401.
fn public_documents_need_no_credentials(world: &World) {
    world.fetch("/health").assert_status(200);
    for prefix in ["", "/v2", "/v3"] {
        for path in [
            "/issuers".to_owned(),
            format!("/issuers/{}", world.a1),
            format!("/issuers/{}/achievements", world.a1),
            "/achievements".to_owned(),
            format!("/achievements/{}", world.a1_badge),
            "/badge-classes".to_owned(),
            format!("/badge-classes/{}", world.a1_badge),
            format!("/credentials/{}", world.a1_cred),
            format!("/assertions/{}", world.b1_cred),
        ] {
            world.fetch(&format!("{prefix}{path}")).assert_status(200);
        }
        for path in [
            format!("/issuers/{}", world.b1),
            format!("/achievements/{}", world.a1_badge),
            format!("/credentials/{}", world.a2_cred),
        ] {
            world
                .send("HEAD", &format!("{prefix}{path}"), &[], None)
                .assert_status(200);
        }
        for path in [
            "/credentials".to_owned(),
            "/assertions".to_owned(),
            format!("/credentials?issuer={}", world.a1),
            format!("/achievements/{}/credentials", world.a1_badge),
            format!("/badge-classes/{}/credentials", world.a1_badge),
        ] {
            let response = world.fetch(&format!("{prefix}{path}"));
            response.assert_status(401);
            assert_eq!(error_shape_problem(&response), None);
        }
    }
    world.fetch("/openapi.json").assert_status(200);
    // Public lists show everyone's issuers to anyone.
    let issuers = world.fetch("/issuers");
    assert_eq!(
        issuers.expect_header("x-total-count"),
        "3",
        "{}",
        issuers.text
    );
}

/// The ids of the credentials in a list answer.
#[track_caller]
fn credential_ids(response: &Response) -> BTreeSet<String> {
    response.assert_status(200);
    response
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{}: not an array: {}", response.request, response.text))
        .iter()
        .map(uuid_of)
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

/// An issuer-role user sees their issuers' credentials only, and is refused
/// another's issuer; a key scoped to an issuer sees that issuer's; viewers
/// and administrators see all.
fn credential_lists_show_only_what_the_caller_may_read(world: &World) {
    let all = set(&[&world.a1_cred, &world.a2_cred, &world.b1_cred]);
    let alices = set(&[&world.a1_cred, &world.a2_cred]);
    for prefix in ["", "/v2", "/v3"] {
        let list = |caller: &Caller, query: &str| {
            world.get_as(caller, &format!("{prefix}/credentials{query}"))
        };
        assert_eq!(credential_ids(&list(&world.alice.token, "")), alices);
        assert_eq!(credential_ids(&list(&world.alice_key, "")), alices);
        assert_eq!(credential_ids(&list(&world.alice_read, "")), alices);
        assert_eq!(
            credential_ids(&list(&world.bob.token, "")),
            set(&[&world.b1_cred])
        );
        assert_eq!(
            credential_ids(&list(&world.bob_key, "")),
            set(&[&world.b1_cred])
        );
        assert_eq!(
            credential_ids(&list(&world.alice_scoped_a1, "")),
            set(&[&world.a1_cred])
        );
        assert_eq!(
            credential_ids(&list(&world.alice_scoped_a2, "")),
            set(&[&world.a2_cred])
        );
        assert_eq!(credential_ids(&list(&world.viewer.token, "")), all);
        assert_eq!(credential_ids(&list(&world.admin, "")), all);
        let a1 = format!("?issuer={}", world.a1);
        let b1 = format!("?issuer={}", world.b1);
        assert_eq!(
            credential_ids(&list(&world.alice.token, &a1)),
            set(&[&world.a1_cred])
        );
        assert_eq!(
            credential_ids(&list(&world.viewer.token, &b1)),
            set(&[&world.b1_cred])
        );
        assert_eq!(
            credential_ids(&list(&world.admin, &b1)),
            set(&[&world.b1_cred])
        );
        for (caller, query) in [
            (&world.alice.token, &b1),
            (&world.alice_key, &b1),
            (&world.bob.token, &a1),
            (&world.bob_key, &a1),
            (&world.alice_scoped_a2, &a1),
            (&world.alice_scoped_a1, &format!("?issuer={}", world.a2)),
        ] {
            let response = list(caller, query);
            response.assert_status(403);
            assert_eq!(error_shape_problem(&response), None);
        }
        // X-Total-Count counts what the caller may see, not everything.
        assert_eq!(
            list(&world.bob.token, "").expect_header("x-total-count"),
            "1"
        );
    }
}

/// `GET /auth/profile` says who the credentials belong to and how they
/// authenticated.
fn profile_names_the_credential(world: &World) {
    let profile = |caller: &Caller| {
        let response = world.get_as(caller, "/auth/profile");
        response.assert_status(200);
        response.body
    };
    let admin = profile(&world.admin);
    assert_eq!(admin["role"], "admin");
    assert_eq!(admin["authenticatedWith"], "token");
    assert_eq!(admin["user"]["username"], ADMIN_USERNAME);
    let alice = profile(&world.alice_key);
    assert_eq!(alice["authenticatedWith"], "api-key");
    assert_eq!(alice["user"]["id"], json!(world.alice.id));
    assert_eq!(alice["role"], "issuer");
    assert_eq!(alice["permissions"], json!(["read", "write"]));
    assert_eq!(profile(&world.alice_read)["permissions"], json!(["read"]));
    let scoped = profile(&world.alice_scoped_a1);
    assert!(
        scoped["issuerId"]
            .as_str()
            .is_some_and(|id| id.ends_with(&world.a1)),
        "{scoped}"
    );
    // The same key as a bearer credential.
    let Caller::Key(key) = &world.alice_key else {
        unreachable!("alice's key is an X-API-Key caller")
    };
    assert_eq!(
        profile(&Caller::BearerKey(key.clone()))["authenticatedWith"],
        "api-key"
    );
    let viewer = profile(&world.viewer.token);
    assert_eq!(viewer["role"], "viewer");
    assert_eq!(viewer["user"]["username"], world.viewer.username);
    assert_eq!(
        profile(&world.bob.token)["user"]["username"],
        world.bob.username
    );
}

/// A demotion or a deletion takes effect at once, for tokens and keys
/// issued before it.
fn roles_are_read_afresh(world: &World) {
    let carol_id = world.create_user(&world.admin, "carol", "carol-password", "issuer");
    let carol_token = world.login("carol", "carol-password");
    let carol_key = Caller::Key(
        world
            .create_api_key(&carol_token, &json!({"name": "carol"}))
            .1,
    );
    created(&world.post_as(&carol_token, "/issuers", &issuer_body("Carol's")));
    world
        .put_as(
            &world.admin,
            &format!("/users/{carol_id}"),
            &json!({"role": "viewer"}),
        )
        .assert_status(200);
    let issuers = world.total_as(&world.admin, "/issuers");
    for caller in [&carol_token, &carol_key] {
        world
            .post_as(caller, "/issuers", &issuer_body("After the demotion"))
            .assert_status(403);
    }
    assert_eq!(world.total_as(&world.admin, "/issuers"), issuers);
    // A user cannot promote themself.
    world
        .put_as(
            &carol_token,
            &format!("/users/{carol_id}"),
            &json!({"role": "admin"}),
        )
        .assert_status(403);
    assert_eq!(
        world
            .get_as(&world.admin, &format!("/users/{carol_id}"))
            .body["role"],
        "viewer"
    );
    world
        .delete_as(&world.admin, &format!("/users/{carol_id}"))
        .assert_status(204);
    for caller in [&carol_token, &carol_key] {
        world.get_as(caller, "/auth/profile").assert_status(401);
    }
    // The administrator cannot delete their own account.
    let admin_id = world.get_as(&world.admin, "/auth/profile").body["user"]["id"]
        .as_str()
        .expect("the admin's id")
        .to_owned();
    world
        .delete_as(&world.admin, &format!("/users/{admin_id}"))
        .assert_status(409);
}

/// Every malformed or forged credential is a 401 with `WWW-Authenticate`,
/// on a write and on a private list, and nothing is written.
fn forged_and_malformed_credentials_are_refused(world: &World) {
    let Caller::Token(token) = &world.alice.token else {
        unreachable!("alice logged in")
    };
    let Caller::Key(key) = &world.alice_key else {
        unreachable!("alice's key is an X-API-Key caller")
    };
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let forged: Vec<(&str, Caller)> = vec![
        (
            "Bearer without a value",
            Caller::Authorization("Bearer".to_owned()),
        ),
        (
            "Bearer and a space",
            Caller::Authorization("Bearer ".to_owned()),
        ),
        (
            "Basic credentials",
            Caller::Authorization("Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQtMQ==".to_owned()),
        ),
        (
            "another scheme",
            Caller::Authorization(format!("Token {key}")),
        ),
        (
            "three dots",
            Caller::Authorization("Bearer a.b.c".to_owned()),
        ),
        ("tampered signature", Caller::Token(tampered)),
        ("token with a suffix", Caller::Token(format!("{token}x"))),
        ("key with a suffix", Caller::Key(format!("{key}0"))),
        (
            "key cut short",
            Caller::Key(key[..key.len() - 1].to_owned()),
        ),
        ("key in upper case", Caller::Key(key.to_uppercase())),
        ("empty key", Caller::Key(String::new())),
        ("revoked key as Bearer", {
            let Caller::Key(revoked) = &world.alice_revoked else {
                unreachable!("an X-API-Key caller")
            };
            Caller::BearerKey(revoked.clone())
        }),
        (
            "garbage key as Bearer",
            Caller::BearerKey(format!("obk_{}", "f".repeat(64))),
        ),
        ("a token as X-API-Key", Caller::Key(token.clone())),
    ];
    let issuers = world.total_as(&world.admin, "/issuers");
    let mut failures = Vec::new();
    for (label, caller) in &forged {
        for response in [
            world.post_as(caller, "/issuers", &issuer_body("Forged")),
            world.get_as(caller, "/credentials"),
        ] {
            if response.status != 401 || error_shape_problem(&response).is_some() {
                failures.push(format!(
                    "{label}: {} {} {}",
                    response.request, response.status, response.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "forged credentials were not refused with 401:\n{}",
        failures.join("\n")
    );
    assert_eq!(world.total_as(&world.admin, "/issuers"), issuers);
    // The revoked key says so.
    let response = world.get_as(&world.alice_revoked, "/auth/profile");
    response.assert_status(401);
    assert!(response.text.contains("revoked"), "{}", response.text);
}

// ---------------------------------------------------------------------------
// Crafted login tokens: HS256 by hand, so that expiry needs no waiting.
// ---------------------------------------------------------------------------

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A compact JWS of `claims` with `header`, signed with `secret` (HS256).
fn jwt(header: &Value, claims: &Value, secret: &str) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = base64url(&hmac_sha256(secret.as_bytes(), signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Tokens signed by hand: one like the server's is accepted (so the
/// crafting is right), and an expired one, one of another secret, one
/// without a signature, one of another issuer or for an unknown user are
/// refused; a role claimed in a token grants nothing.
fn crafted_tokens_expired_or_foreign_are_refused(world: &World) {
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let claims = |sub: &str, exp: i64| json!({"sub": sub, "role": "issuer", "iss": "openbadges-server", "iat": now() - 5, "exp": exp});
    let alice = &world.alice.id;
    let profile = |token: String| world.get_as(&Caller::Token(token), "/auth/profile");
    let valid = profile(jwt(&hs256, &claims(alice, now() + 600), JWT_SECRET));
    valid.assert_status(200);
    assert_eq!(valid.body["user"]["username"], "alice");

    let unknown_user = uuid::Uuid::new_v4().to_string();
    let mut other_issuer = claims(alice, now() + 600);
    other_issuer["iss"] = json!("someone-else");
    let mut not_yet = claims(alice, now() + 600);
    not_yet["nbf"] = json!(now() + 300);
    let mut ended = claims(alice, now() + 600);
    ended["gen"] = json!(1);
    let refused = [
        (
            "not valid before five minutes from now",
            jwt(&hs256, &not_yet, JWT_SECRET),
        ),
        (
            "of a later session generation",
            jwt(&hs256, &ended, JWT_SECRET),
        ),
        (
            "expired a second ago",
            jwt(&hs256, &claims(alice, now() - 1), JWT_SECRET),
        ),
        (
            "expired an hour ago",
            jwt(&hs256, &claims(alice, now() - 3600), JWT_SECRET),
        ),
        (
            "signed with another secret",
            jwt(
                &hs256,
                &claims(alice, now() + 600),
                "another-secret-0123456789abcdef-xyz",
            ),
        ),
        ("of another issuer", jwt(&hs256, &other_issuer, JWT_SECRET)),
        (
            "for an unknown user",
            jwt(&hs256, &claims(&unknown_user, now() + 600), JWT_SECRET),
        ),
        (
            "subject not a user id",
            jwt(&hs256, &claims("alice", now() + 600), JWT_SECRET),
        ),
        ("alg none", {
            let unsigned = jwt(
                &json!({"alg": "none", "typ": "JWT"}),
                &claims(alice, now() + 600),
                JWT_SECRET,
            );
            let cut = unsigned.rfind('.').map_or(unsigned.len(), |i| i + 1);
            unsigned[..cut].to_owned()
        }),
        (
            "HS512 header",
            jwt(
                &json!({"alg": "HS512", "typ": "JWT"}),
                &claims(alice, now() + 600),
                JWT_SECRET,
            ),
        ),
    ];
    for (label, token) in refused {
        let response = profile(token);
        assert_eq!(
            response.status, 401,
            "a token {label} was accepted: {}",
            response.text
        );
        assert_eq!(error_shape_problem(&response), None);
    }
    // A valid signature over claims that say "admin" grants alice nothing:
    // the role is read from the database.
    let mut boastful = claims(alice, now() + 600);
    boastful["role"] = json!("admin");
    let token = Caller::Token(jwt(&hs256, &boastful, JWT_SECRET));
    world.get_as(&token, "/users").assert_status(403);
    assert_eq!(world.get_as(&token, "/auth/profile").body["role"], "issuer");
}

// ---------------------------------------------------------------------------
// Fresh installs, the command line, configured keys, restarts.
// ---------------------------------------------------------------------------

/// The issue's "done when": a fresh install logs in as the bootstrap
/// administrator, creates an API key and issues with it.
fn fresh_install_logs_in_creates_a_key_and_issues(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    assert!(
        server.output().contains("created administrator admin"),
        "{}",
        server.output()
    );
    // Nothing can be written before logging in.
    server
        .post("/issuers", &issuer_body("Too early"))
        .assert_status(401);
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let response = server.post_as(&admin, "/api-keys", &json!({"name": "automation"}));
    response.assert_status(201);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let key = response.body["key"]
        .as_str()
        .expect("the key, shown once")
        .to_owned();
    assert!(key.starts_with("obk_"), "{key}");
    // Shown once: listing and reading it never show the key again.
    let key_id = response.body["id"].as_str().expect("an id").to_owned();
    for path in ["/api-keys".to_owned(), format!("/api-keys/{key_id}")] {
        let listed = server.get_as(&admin, &path);
        listed.assert_status(200);
        assert!(
            !listed.text.contains(&key),
            "{path} shows the key: {}",
            listed.text
        );
    }
    for caller in [Caller::Key(key.clone()), Caller::BearerKey(key.clone())] {
        let issuer =
            created(&server.post_as(&caller, "/issuers", &issuer_body("Fresh University")));
        let badge = created(&server.post_as(
            &caller,
            "/achievements",
            &achievement_body(&issuer, "First badge"),
        ));
        let credential = created(&server.post_as(
            &caller,
            "/credentials",
            &award_body(&badge, "first@recipients.example.org"),
        ));
        server
            .fetch(&format!("/credentials/{credential}"))
            .assert_status(200);
        server
            .fetch(&format!("/v2/credentials/{credential}"))
            .assert_status(200);
        let listed =
            credential_ids(&server.get_as(&caller, &format!("/credentials?issuer={issuer}")));
        assert_eq!(listed, set(&[&credential]));
    }
}

/// The first line of `output` that is a key of this server.
fn printed_key(output: &str) -> Option<String> {
    output
        .lines()
        .map(str::trim)
        .find(|line| {
            line.strip_prefix("obk_")
                .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .map(str::to_owned)
}

/// `openbadges-server admin create` reads the password from stdin; the new
/// administrator can log in, and a second create of the same name changes
/// nothing.
fn cli_admin_create_then_login(storage: &Storage) {
    let password = "operator-password-from-stdin";
    storage
        .launch()
        .args([
            "admin",
            "create",
            "--username",
            "operator",
            "--email",
            "ops@example.org",
        ])
        .stdin(format!("{password}\n"))
        .run()
        .assert_success()
        .assert_output_contains(&["created administrator operator"])
        .assert_hidden(password);
    // The name is taken: refused, and the password stays.
    let outcome = storage
        .launch()
        .args(["admin", "create", "--username", "operator"])
        .stdin("another-password-entirely\n")
        .run();
    assert_eq!(outcome.code(), Some(1), "{}", outcome.output);
    outcome.assert_hidden("another-password-entirely");
    // Too short a password: refused.
    let outcome = storage
        .launch()
        .args(["admin", "create", "--username", "shorty"])
        .stdin("short\n")
        .run();
    assert_ne!(outcome.code(), Some(0), "{}", outcome.output);
    outcome.assert_output_contains(&["password"]);

    let server = storage.launch_with_auth().start();
    server
        .try_login("operator", "another-password-entirely")
        .assert_status(401);
    server.try_login("shorty", "short").assert_status(401);
    let operator = server.login("operator", password);
    let profile = server.get_as(&operator, "/auth/profile").body;
    assert_eq!(profile["role"], "admin");
    assert_eq!(profile["user"]["email"], "ops@example.org");
    server.get_as(&operator, "/users").assert_status(200);
    // Logging in by e-mail works too.
    server.login("ops@example.org", password);
}

/// `openbadges-server api-key create` prints a key once on stdout; it
/// authenticates as its user with the permissions and scope asked for.
fn cli_api_key_create_prints_a_working_key(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "deployer", "deployer-password", "issuer");
    let deployer = server.login("deployer", "deployer-password");
    let issuer = created(&server.post_as(&deployer, "/issuers", &issuer_body("Deployer's")));

    let cli = |args: &[&str]| {
        storage
            .launch()
            .args(["api-key", "create"])
            .args(args.iter().copied())
            .run()
    };
    let outcome = cli(&["--user", "deployer", "--name", "ci"]);
    outcome.assert_success();
    let key = printed_key(&outcome.output)
        .unwrap_or_else(|| panic!("no key printed:\n{}", outcome.output));
    let caller = Caller::Key(key.clone());
    let profile = server.get_as(&caller, "/auth/profile").body;
    assert_eq!(profile["user"]["username"], "deployer");
    assert_eq!(profile["authenticatedWith"], "api-key");
    assert_eq!(profile["permissions"], json!(["read", "write"]));
    created(&server.post_as(
        &caller,
        "/achievements",
        &achievement_body(&issuer, "From CI"),
    ));
    created(&server.post_as(&Caller::BearerKey(key), "/issuers", &issuer_body("From CI")));

    let outcome = cli(&[
        "--user",
        "deployer",
        "--name",
        "reader",
        "--permissions",
        "read",
    ]);
    outcome.assert_success();
    let reader = Caller::Key(printed_key(&outcome.output).expect("a key"));
    server
        .post_as(&reader, "/issuers", &issuer_body("Nope"))
        .assert_status(403);
    server.get_as(&reader, "/credentials").assert_status(200);

    let outcome = cli(&[
        "--user", "deployer", "--name", "scoped", "--issuer", &issuer,
    ]);
    outcome.assert_success();
    let scoped = Caller::Key(printed_key(&outcome.output).expect("a key"));
    assert!(server.get_as(&scoped, "/auth/profile").body["issuerId"]
        .as_str()
        .is_some_and(|id| id.ends_with(&issuer)));
    server
        .post_as(&scoped, "/issuers", &issuer_body("Nope"))
        .assert_status(403);

    // Refusals print no key.
    for args in [
        &["--user", "nobody", "--name", "x"][..],
        &[
            "--user",
            "deployer",
            "--name",
            "x",
            "--permissions",
            "admin",
        ],
        &["--user", "deployer", "--name", "x", "--permissions", "root"],
        &[
            "--user",
            "deployer",
            "--name",
            "x",
            "--expires",
            "2000-01-01T00:00:00Z",
        ],
        &[
            "--user",
            "deployer",
            "--name",
            "x",
            "--issuer",
            "not-a-uuid",
        ],
    ] {
        let outcome = cli(args);
        assert_ne!(
            outcome.code(),
            Some(0),
            "{args:?} succeeded:\n{}",
            outcome.output
        );
        assert_eq!(
            printed_key(&outcome.output),
            None,
            "{args:?}:\n{}",
            outcome.output
        );
    }
}

/// `AUTH_API_KEY_<NAME>=<key>:<userId>:<description>`, the old server's
/// way: as `X-API-Key` and as `Authorization: Bearer`. A user id of ours
/// acts as that user; any other text as an administrator.
fn configured_keys_work_as_x_api_key_and_bearer(storage: &Storage) {
    let ci_key = "ci-configured-key-0123456789abcdef";
    let server = storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_CI",
            format!("{ci_key}:ci-bot:Deploy bot: with a colon"),
        )
        .start();
    assert!(!server.output().contains(ci_key), "{}", server.output());
    for caller in [
        Caller::Key(ci_key.to_owned()),
        Caller::BearerKey(ci_key.to_owned()),
    ] {
        let profile = server.get_as(&caller, "/auth/profile");
        profile.assert_status(200);
        assert_eq!(profile.body["authenticatedWith"], "configured-key");
        assert_eq!(profile.body["role"], "admin");
        server.get_as(&caller, "/users").assert_status(200);
        created(&server.post_as(&caller, "/issuers", &issuer_body("By the CI key")));
    }
    server
        .get_as(&Caller::Key(format!("{ci_key}x")), "/auth/profile")
        .assert_status(401);
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let deployer_id = server.create_user(&admin, "deployer", "deployer-password", "issuer");
    drop(server);

    let deploy_key = "deploy-configured-key-0123456789";
    let ghost_key = "ghost-configured-key-0123456789ab";
    let server = storage
        .launch_with_auth()
        .env(
            "AUTH_API_KEY_DEPLOY",
            format!("{deploy_key}:{deployer_id}:deploys"),
        )
        .env(
            "AUTH_API_KEY_GHOST",
            format!(
                "{ghost_key}:{}:a user that does not exist",
                uuid::Uuid::new_v4()
            ),
        )
        .start();
    for caller in [
        Caller::Key(deploy_key.to_owned()),
        Caller::BearerKey(deploy_key.to_owned()),
    ] {
        let profile = server.get_as(&caller, "/auth/profile").body;
        assert_eq!(profile["user"]["username"], "deployer", "{profile}");
        assert_eq!(profile["role"], "issuer");
        server.get_as(&caller, "/users").assert_status(403);
        created(&server.post_as(&caller, "/issuers", &issuer_body("By the deploy key")));
    }
    server
        .get_as(&Caller::Key(ghost_key.to_owned()), "/auth/profile")
        .assert_status(401);
    drop(server);

    // A malformed one refuses to start, without echoing the value.
    let outcome = storage
        .launch_with_auth()
        .env("AUTH_API_KEY_BAD", "tooShortKey1:ci:short")
        .run();
    outcome
        .assert_failure(CONFIG_REFUSED, &["AUTH_API_KEY_BAD"])
        .assert_hidden("tooShortKey1");
}

/// The administrator changes their password; a restart with the same
/// `AUTH_ADMIN_*` does not reset it. Tokens survive a restart with the same
/// `JWT_SECRET` and are refused by a server with another one.
fn restart_keeps_a_changed_password_and_other_secrets_refuse_tokens(storage: &Storage) {
    let new_password = "changed-admin-password";
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let admin_id = server.get_as(&admin, "/auth/profile").body["user"]["id"]
        .as_str()
        .expect("the admin's id")
        .to_owned();
    server
        .post_as(
            &admin,
            &format!("/users/{admin_id}/change-password"),
            &json!({"currentPassword": ADMIN_PASSWORD, "newPassword": new_password}),
        )
        .assert_status(204);
    // The new password ended the token it was changed with.
    server.get_as(&admin, "/users").assert_status(401);
    let admin = server.login(ADMIN_USERNAME, new_password);
    drop(server);

    let server = storage.launch_with_auth().start();
    assert!(
        !server.output().contains("created administrator"),
        "{}",
        server.output()
    );
    server
        .try_login(ADMIN_USERNAME, ADMIN_PASSWORD)
        .assert_status(401);
    server.login(ADMIN_USERNAME, new_password);
    // Same secret: the token from before the restart still works.
    server.get_as(&admin, "/users").assert_status(200);
    drop(server);

    let server = storage
        .launch_with_auth()
        .env("JWT_SECRET", "a-different-secret-for-this-server-0123")
        .start();
    let response = server.get_as(&admin, "/users");
    response.assert_status(401);
    let fresh = server.login(ADMIN_USERNAME, new_password);
    server.get_as(&fresh, "/users").assert_status(200);
}

/// Changing one's own password needs the current one; an administrator
/// resets someone else's without it; nobody else may.
fn self_service_password_change_needs_the_current_password(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let alice_id = server.create_user(&admin, "alice", "alice-password-1", "issuer");
    server.create_user(&admin, "bob", "bob-password-12", "issuer");
    let alice = server.login("alice", "alice-password-1");
    let bob = server.login("bob", "bob-password-12");
    let path = format!("/users/{alice_id}/change-password");
    let fields = |response: &Response| -> Vec<String> {
        response.assert_status(400);
        response.body["details"]
            .as_object()
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    };
    let missing = server.post_as(&alice, &path, &json!({"newPassword": "alice-password-2"}));
    assert_eq!(fields(&missing), ["currentPassword"]);
    let wrong = server.post_as(
        &alice,
        &path,
        &json!({"currentPassword": "not-her-password", "newPassword": "alice-password-2"}),
    );
    assert_eq!(fields(&wrong), ["currentPassword"]);
    let short = server.post_as(
        &alice,
        &path,
        &json!({"currentPassword": "alice-password-1", "newPassword": "short"}),
    );
    assert_eq!(fields(&short), ["newPassword"]);
    server.login("alice", "alice-password-1");
    server
        .post_as(
            &bob,
            &path,
            &json!({"currentPassword": "alice-password-1", "newPassword": "bob-chose-this"}),
        )
        .assert_status(403);
    server.login("alice", "alice-password-1");
    server
        .post_as(
            &alice,
            &path,
            &json!({"currentPassword": "alice-password-1", "newPassword": "alice-password-2"}),
        )
        .assert_status(204);
    server
        .try_login("alice", "alice-password-1")
        .assert_status(401);
    server.login("alice", "alice-password-2");
    // The administrator resets it without knowing it.
    server
        .post_as(&admin, &path, &json!({"newPassword": "reset-by-the-admin"}))
        .assert_status(204);
    server
        .try_login("alice", "alice-password-2")
        .assert_status(401);
    server.login("alice", "reset-by-the-admin");
}

/// A key without the `write` permission may not change its user's
/// password: 403 before any password is compared, so its answer says
/// nothing about whether `currentPassword` was right (it used to be 400
/// "does not match" for a wrong one, a guessing oracle).
fn a_read_only_key_learns_nothing_about_the_password(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let alice_id = server.create_user(&admin, "alice", "alice-password-1", "issuer");
    let alice = server.login("alice", "alice-password-1");
    let (_, read_only) =
        server.create_api_key(&alice, &json!({"name": "read", "permissions": ["read"]}));
    let read_only = Caller::Key(read_only);
    let path = format!("/users/{alice_id}/change-password");
    let answers: Vec<(u16, Value)> = [
        json!({"currentPassword": "a-wrong-guess-1", "newPassword": "taken-over-pw"}),
        json!({"currentPassword": "alice-password-1", "newPassword": "taken-over-pw"}),
        json!({"currentPassword": "a-wrong-guess-1", "newPassword": "short"}),
        json!({"newPassword": "taken-over-pw"}),
    ]
    .iter()
    .map(|body| {
        let response = server.post_as(&read_only, &path, body);
        (response.status, response.body["error"].clone())
    })
    .collect();
    assert!(
        answers.iter().all(|a| *a == (403, json!("Forbidden"))),
        "{answers:?}"
    );
    server.login("alice", "alice-password-1");
    server
        .try_login("alice", "taken-over-pw")
        .assert_status(401);
}

/// A new password ends every login token of the user issued before, the
/// one it was changed with too, whether the user changes it or an
/// administrator resets it; a login right after works, in the same second
/// too. API keys are not sessions and keep working.
fn a_new_password_ends_earlier_tokens(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let alice_id = server.create_user(&admin, "alice", "alice-password-1", "issuer");
    let first = server.login("alice", "alice-password-1");
    let second = server.login("alice", "alice-password-1");
    let (_, key) = server.create_api_key(&first, &json!({"name": "ci"}));
    let key = Caller::Key(key);
    let path = format!("/users/{alice_id}/change-password");
    server
        .post_as(
            &first,
            &path,
            &json!({"currentPassword": "alice-password-1", "newPassword": "alice-password-2"}),
        )
        .assert_status(204);
    for token in [&first, &second] {
        let response = server.get_as(token, "/auth/profile");
        response.assert_status(401);
        assert_eq!(response.body["error"], "Unauthorized", "{}", response.text);
    }
    server.get_as(&key, "/auth/profile").assert_status(200);
    let third = server.login("alice", "alice-password-2");
    server.get_as(&third, "/auth/profile").assert_status(200);

    server
        .post_as(&admin, &path, &json!({"newPassword": "reset-by-the-admin"}))
        .assert_status(204);
    server.get_as(&third, "/auth/profile").assert_status(401);
    server.get_as(&admin, "/auth/profile").assert_status(200);
    let fourth = server.login("alice", "reset-by-the-admin");
    server.get_as(&fourth, "/auth/profile").assert_status(200);
}

/// `POST /auth/logout-all` ends every login token of the caller's user
/// issued so far, on every instance; other users' tokens and a new login
/// work; a read-only key may not do it.
fn logout_all_ends_every_earlier_token(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let other = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    server.create_user(&admin, "alice", "alice-password-1", "issuer");
    let here = server.login("alice", "alice-password-1");
    let there = other.login("alice", "alice-password-1");
    let (_, read_only) =
        server.create_api_key(&here, &json!({"name": "read", "permissions": ["read"]}));
    server
        .post_as(&Caller::Key(read_only), "/auth/logout-all", &json!({}))
        .assert_status(403);
    server.get_as(&here, "/auth/profile").assert_status(200);
    server
        .post_as(&here, "/auth/logout-all", &json!({}))
        .assert_status(204);
    server.get_as(&here, "/auth/profile").assert_status(401);
    other.get_as(&there, "/auth/profile").assert_status(401);
    server.get_as(&admin, "/auth/profile").assert_status(200);
    let again = other.login("alice", "alice-password-1");
    server.get_as(&again, "/auth/profile").assert_status(200);
    server
        .post_as(&again, "/auth/logout-all", &json!(null))
        .assert_status(204);
    other.get_as(&again, "/auth/profile").assert_status(401);
}

/// A viewer writes no badges but manages their own account, as
/// docs/security.md says: e-mail, password, sessions and API keys, which
/// carry no more than the viewer's `read`. Not another's account, not a
/// role. A user demoted to viewer keeps keys made before, narrowed to
/// what a viewer may do.
fn viewers_manage_their_own_account(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let victor_id = server.create_user(&admin, "victor", "victor-password", "viewer");
    let alice_id = server.create_user(&admin, "alice", "alice-password-1", "issuer");
    let victor = server.login("victor", "victor-password");
    let me = format!("/users/{victor_id}");
    let changed = server.put_as(&victor, &me, &json!({"email": "victor@users.example.org"}));
    changed.assert_status(200);
    assert_eq!(changed.body["email"], "victor@users.example.org");
    assert_eq!(changed.body["role"], "viewer");
    server
        .put_as(&victor, &me, &json!({"role": "admin"}))
        .assert_status(403);
    server
        .put_as(
            &victor,
            &format!("/users/{alice_id}"),
            &json!({"email": "x@users.example.org"}),
        )
        .assert_status(403);

    let created = server.post_as(&victor, "/api-keys", &json!({"name": "victor's"}));
    created.assert_status(201);
    assert_eq!(
        created.body["permissions"],
        json!(["read"]),
        "{}",
        created.text
    );
    let key = Caller::Key(created.body["key"].as_str().expect("the key").to_owned());
    let profile = server.get_as(&key, "/auth/profile");
    profile.assert_status(200);
    assert_eq!(profile.body["permissions"], json!(["read"]));
    server.get_as(&key, "/credentials").assert_status(200);
    let refused = server.post_as(
        &victor,
        "/api-keys",
        &json!({"name": "more", "permissions": ["read", "write"]}),
    );
    assert!(
        [400, 403].contains(&refused.status),
        "a viewer's key with write: {}",
        refused.text
    );
    // The key is read-only, so it cannot change the account.
    server
        .put_as(&key, &me, &json!({"email": "by-the-key@users.example.org"}))
        .assert_status(403);
    server
        .post_as(&key, "/issuers", &issuer_body("Victor's"))
        .assert_status(403);

    server
        .post_as(
            &victor,
            &format!("{me}/change-password"),
            &json!({"currentPassword": "victor-password", "newPassword": "victor-password-2"}),
        )
        .assert_status(204);
    let victor = server.login("victor", "victor-password-2");
    server
        .post_as(&victor, "/auth/logout-all", &json!({}))
        .assert_status(204);

    // alice's read-write key, made as an issuer, after her demotion.
    let alice = server.login("alice", "alice-password-1");
    let (_, alice_key) = server.create_api_key(&alice, &json!({"name": "rw"}));
    let alice_key = Caller::Key(alice_key);
    server
        .put_as(
            &admin,
            &format!("/users/{alice_id}"),
            &json!({"role": "viewer"}),
        )
        .assert_status(200);
    let profile = server.get_as(&alice_key, "/auth/profile");
    assert_eq!(
        profile.body["permissions"],
        json!(["read"]),
        "{}",
        profile.text
    );
    server
        .put_as(
            &alice_key,
            &format!("/users/{alice_id}"),
            &json!({"email": "a@users.example.org"}),
        )
        .assert_status(403);
}

/// Polls `condition` until it holds or `limit` passes (the server records a
/// key's use in the background).
fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SQL `UPDATE`s of the `api_keys` table the server has logged.
fn key_updates(server: &Server) -> usize {
    server
        .output()
        .lines()
        .filter(|line| {
            line.contains("openbadges::sql") && line.contains("UPDATE") && line.contains("api_keys")
        })
        .count()
}

/// `lastUsedAt` is set once a key is used, and using it again soon after
/// writes nothing (observed in the SQL log: one `UPDATE` of `api_keys`).
fn key_use_is_recorded_without_a_write_per_request(storage: &Storage) {
    let server = storage
        .launch_with_auth()
        .env("DB_QUERY_LOGGING", "true")
        .start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let (id, key) = server.create_api_key(&admin, &json!({"name": "watched"}));
    let path = format!("/api-keys/{id}");
    let last_used = || server.get_as(&admin, &path).body["lastUsedAt"].clone();
    assert_eq!(last_used(), Value::Null);
    assert_eq!(key_updates(&server), 0, "{}", server.output());

    let key = Caller::Key(key);
    server.get_as(&key, "/auth/profile").assert_status(200);
    assert!(
        eventually(Duration::from_secs(10), || last_used().is_string()),
        "lastUsedAt was never set; output:\n{}",
        server.output()
    );
    let first = last_used();
    assert_eq!(key_updates(&server), 1, "{}", server.output());

    server.get_as(&key, "/auth/profile").assert_status(200);
    server.get_as(&key, "/credentials").assert_status(200);
    // Revoking writes the row in the request itself: after its answer,
    // any write the two uses above started would be logged before it.
    let revoked = server.post_as(&admin, &format!("{path}/revoke"), &json!({}));
    revoked.assert_status(200);
    assert_eq!(revoked.body["lastUsedAt"], first);
    assert_eq!(last_used(), first);
    assert_eq!(
        key_updates(&server),
        2,
        "one UPDATE for the first use, one for the revocation; output:\n{}",
        server.output()
    );
}

// ---------------------------------------------------------------------------
// Production mode.
// ---------------------------------------------------------------------------

/// `KEY_ENCRYPTION_KEY`, which production also requires: set, so that the
/// refusals below have the one cause they test.
const KEY_ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[test]
fn production_without_jwt_secret_refuses_to_start() {
    openbadges_e2e::Launch::new()
        .env("NODE_ENV", "production")
        .env("KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
        .run()
        .assert_failure(CONFIG_REFUSED, &["JWT_SECRET"]);
}

#[test]
fn production_with_authentication_off_refuses_to_start() {
    for secret in [Some(JWT_SECRET), None] {
        let mut launch = openbadges_e2e::Launch::new()
            .env("NODE_ENV", "production")
            .env("KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
            .env("AUTH_ENABLED", "false");
        if let Some(secret) = secret {
            launch = launch.env("JWT_SECRET", secret);
        }
        launch
            .run()
            .assert_failure(CONFIG_REFUSED, &["AUTH_ENABLED"])
            .assert_hidden(JWT_SECRET);
    }
}

#[test]
fn production_with_a_secret_starts_and_requires_credentials() {
    let server = openbadges_e2e::Launch::new()
        .env("NODE_ENV", "production")
        .env("KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
        .env("JWT_SECRET", JWT_SECRET)
        .start();
    server.assert_healthy("sqlite");
    server
        .post("/issuers", &issuer_body("Anonymous"))
        .assert_status(401);
    server.fetch("/credentials").assert_status(401);
    assert!(!server.output().contains(JWT_SECRET));
    assert!(!server.output().contains(KEY_ENCRYPTION_KEY));
}
