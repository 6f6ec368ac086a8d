//! Conflicts (409) read the same on both backends (issue 13): the stores
//! report what happened as structured errors and the server words them,
//! so a taken username or an issuer with awards answers with one text
//! whichever database is underneath.

use openbadges_e2e::{
    award_body, on_both_backends, uuid_of, Response, Storage, ADMIN_PASSWORD, ADMIN_USERNAME,
};
use serde_json::json;

on_both_backends!(every_conflict_reads_the_same_on_both_backends);

/// 409 with exactly `message`.
#[track_caller]
fn assert_conflict(response: &Response, message: &str) {
    response.assert_status(409);
    assert_eq!(
        response.body,
        json!({"error": "Conflict", "message": message}),
        "{}",
        response.text
    );
}

fn every_conflict_reads_the_same_on_both_backends(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);

    // Deleting an issuer or an achievement that has awards.
    let (issuer, badge) = server.issuer_with_badge(&admin, "Busy issuer", "Busy badge");
    for email in ["one@example.org", "two@example.org"] {
        server
            .post_as(&admin, "/credentials", &award_body(&badge, email))
            .assert_status(201);
    }
    assert_conflict(
        &server.delete_as(&admin, &format!("/issuers/{issuer}")),
        &format!(
            "issuer {issuer} still has awarded credentials (2); revoke or delete them first, \
             or delete with cascade"
        ),
    );
    assert_conflict(
        &server.delete_as(&admin, &format!("/v3/achievements/{badge}?cascade=false")),
        &format!(
            "badge class {badge} still has awarded credentials (2); revoke or delete them \
             first, or delete with cascade"
        ),
    );

    // A taken username or e-mail address, on creation and on update.
    server.create_user(&admin, "alice", "alice-password-long", "viewer");
    let bob = server.create_user(&admin, "bob", "bob-password-long", "viewer");
    let user = |username: &str, email: &str| {
        json!({
            "username": username,
            "email": email,
            "password": "another-password-long",
            "role": "viewer",
        })
    };
    assert_conflict(
        &server.post_as(&admin, "/users", &user("alice", "new@users.example.org")),
        "user with this username already exists",
    );
    assert_conflict(
        &server.post_as(&admin, "/users", &user("carol", "alice@users.example.org")),
        "user with this email already exists",
    );
    assert_conflict(
        &server.put_as(
            &admin,
            &format!("/users/{bob}"),
            &json!({"email": "alice@users.example.org"}),
        ),
        "user with this email already exists",
    );
    // Nothing was changed by the refusals.
    let read = server.get_as(&admin, &format!("/users/{bob}"));
    read.assert_status(200);
    assert_eq!(
        read.body["email"],
        json!("bob@users.example.org"),
        "{}",
        read.text
    );
    assert_eq!(uuid_of(&read.body), bob);
}
