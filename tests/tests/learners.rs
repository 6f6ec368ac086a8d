//! Learners (issue 16), end to end on both backends: the learner role,
//! self-registration, verified e-mail identities, the backpack, and the
//! previous server's `/backpack` routes.

use openbadges_e2e::{
    achievement_body, award_body, issuer_body, on_both_backends, Storage, ADMIN_PASSWORD,
    ADMIN_USERNAME,
};
use serde_json::json;

on_both_backends!(a_learner_reaches_nothing_of_the_admin_api);

/// A learner logs in like anyone, but their token may not create issuers,
/// achievements or awards, read the lists of users or credentials, or
/// change anyone else; an admin's token still does all of it.
fn a_learner_reaches_nothing_of_the_admin_api(storage: &Storage) {
    let server = storage.launch_with_auth().start();
    let admin = server.login(ADMIN_USERNAME, ADMIN_PASSWORD);
    let learner_id = server.create_user(&admin, "lena", "lena-password-1", "learner");
    let other_id = server.create_user(&admin, "otto", "otto-password-1", "issuer");
    let lena = server.login("lena", "lena-password-1");
    let profile = server.get_as(&lena, "/auth/profile");
    profile.assert_status(200);
    assert_eq!(profile.body["role"], "learner", "{}", profile.text);

    // The admin's fixtures, so that every refused write has a target.
    let (issuer, badge) = server.issuer_with_badge(&admin, "Admin's issuer", "A badge");
    let award = server.post_as(&admin, "/credentials", &award_body(&badge, "r@example.org"));
    award.assert_status(201);

    for (method, path, body) in [
        ("POST", "/issuers".to_owned(), issuer_body("Lena's")),
        (
            "POST",
            "/achievements".to_owned(),
            achievement_body(&issuer, "Lena's badge"),
        ),
        (
            "POST",
            "/credentials".to_owned(),
            award_body(&badge, "me@example.org"),
        ),
        (
            "POST",
            "/users".to_owned(),
            json!({"username": "mallory", "password": "mallory-password", "role": "admin"}),
        ),
        ("GET", "/users".to_owned(), json!(null)),
        ("GET", "/credentials".to_owned(), json!(null)),
        ("GET", format!("/users/{other_id}"), json!(null)),
        ("DELETE", format!("/users/{other_id}"), json!(null)),
    ] {
        let response = if method == "GET" {
            server.get_as(&lena, &path)
        } else if method == "DELETE" {
            server.delete_as(&lena, &path)
        } else {
            server.post_as(&lena, &path, &body)
        };
        assert_eq!(response.status, 403, "{method} {path}: {}", response.text);
    }
    // Nothing was made or removed.
    assert_eq!(server.total_as(&admin, "/issuers"), 1);
    assert_eq!(server.total_as(&admin, "/credentials"), 1);
    server
        .get_as(&admin, &format!("/users/{other_id}"))
        .assert_status(200);
    // A learner cannot promote themself either.
    server
        .put_as(
            &lena,
            &format!("/users/{learner_id}"),
            &json!({"role": "admin"}),
        )
        .assert_status(403);
    let me = server.get_as(&admin, &format!("/users/{learner_id}"));
    assert_eq!(me.body["role"], "learner");
}
