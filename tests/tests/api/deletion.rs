//! Deleting issuers and achievements: refused with 409 while awards exist,
//! unless `?cascade=true`.

use serde_json::json;

use crate::support::*;

on_both_backends!(
    deleting_an_issuer_with_awards_needs_cascade,
    deleting_without_awards,
    deleting_an_achievement_with_awards_needs_cascade,
);

#[track_caller]
fn assert_conflict(response: &openbadges_e2e::Response) {
    response.assert_status(409);
    assert_eq!(
        response.body["error"],
        json!("Conflict"),
        "{}",
        response.text
    );
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        response.text
    );
}

/// 409 without cascade (nothing deleted); 204 with it, after which the
/// issuer, its achievements and their credentials are 404 everywhere,
/// and another issuer's are untouched.
fn deleting_an_issuer_with_awards_needs_cascade(api: &Api) {
    let doomed = uuid_of(&api.issuer("", "Doomed"));
    let first = uuid_of(&api.achievement("", &doomed, "First"));
    let second = uuid_of(&api.achievement("/v2", &doomed, "Second"));
    let unawarded = uuid_of(&api.achievement("", &doomed, "Never awarded"));
    let awards = [
        uuid_of(&api.award("", &first, "a@example.org")),
        uuid_of(&api.award("/v2", &first, "b@example.org")),
        uuid_of(&api.award("", &second, "c@example.org")),
    ];
    let (survivor, survivor_badge) = api.issuer_with_achievement();
    let survivor_award = uuid_of(&api.award("", &survivor_badge, "d@example.org"));

    for target in [
        format!("/issuers/{doomed}"),
        format!("/v2/issuers/{doomed}?cascade=false"),
        format!("/v3/issuers/{doomed}"),
    ] {
        assert_conflict(&api.delete(&target));
    }
    assert_validation(
        &api.delete(&format!("/issuers/{doomed}?cascade=maybe")),
        &["cascade"],
    );
    // Nothing was deleted.
    api.fetch(&format!("/issuers/{doomed}")).assert_status(200);
    for badge in [&first, &second, &unawarded] {
        api.fetch(&format!("/achievements/{badge}"))
            .assert_status(200);
    }
    for award in &awards {
        api.fetch(&format!("/credentials/{award}"))
            .assert_status(200);
    }

    let response = api.delete(&format!("/v3/issuers/{doomed}?cascade=true"));
    response.assert_status(204);
    assert_eq!(response.text, "");

    for prefix in PREFIXES {
        assert_not_found(&api.fetch(&format!("{prefix}/issuers/{doomed}")));
        assert_not_found(&api.fetch(&format!("{prefix}/issuers/{doomed}/achievements")));
        for badge in [&first, &second, &unawarded] {
            assert_not_found(&api.fetch(&format!("{prefix}/achievements/{badge}")));
            assert_not_found(&api.fetch(&format!("{prefix}/achievements/{badge}/credentials")));
        }
        for award in &awards {
            assert_not_found(&api.fetch(&format!("{prefix}/credentials/{award}")));
        }
    }
    assert_not_found(&api.delete(&format!("/issuers/{doomed}?cascade=true")));

    // The other issuer's resources are untouched, and lists agree.
    assert_eq!(api.total("/issuers"), 1);
    assert_eq!(api.total("/achievements"), 1);
    assert_eq!(api.total("/credentials"), 1);
    api.fetch(&format!("/issuers/{survivor}"))
        .assert_status(200);
    api.fetch(&format!("/credentials/{survivor_award}"))
        .assert_status(200);
}

/// An issuer without awards is deleted (204), with its unawarded
/// achievements; so is an unawarded achievement.
fn deleting_without_awards(api: &Api) {
    for prefix in PREFIXES {
        let lonely = uuid_of(&api.issuer(prefix, "Lonely"));
        let response = api.delete(&format!("{prefix}/issuers/{lonely}"));
        response.assert_status(204);
        assert_eq!(response.text, "");
        assert_not_found(&api.fetch(&format!("/issuers/{lonely}")));

        let issuer = uuid_of(&api.issuer(prefix, "With a badge"));
        let badge = uuid_of(&api.achievement(prefix, &issuer, "Unawarded"));
        api.delete(&format!("{prefix}/issuers/{issuer}"))
            .assert_status(204);
        assert_not_found(&api.fetch(&format!("/issuers/{issuer}")));
        assert_not_found(&api.fetch(&format!("/achievements/{badge}")));

        let issuer = uuid_of(&api.issuer(prefix, "Keeps its issuer"));
        let badge = uuid_of(&api.achievement(prefix, &issuer, "Unawarded"));
        let response = api.delete(&format!("{prefix}/achievements/{badge}"));
        response.assert_status(204);
        assert_not_found(&api.fetch(&format!("/achievements/{badge}")));
        assert_eq!(api.total(&format!("/issuers/{issuer}/achievements")), 0);
        api.fetch(&format!("/issuers/{issuer}")).assert_status(200);
    }
    assert_eq!(api.total("/issuers"), 3);
    assert_eq!(api.total("/achievements"), 0);
}

/// An awarded achievement: 409, then 204 with cascade, its credentials
/// gone, its issuer's other achievements kept.
fn deleting_an_achievement_with_awards_needs_cascade(api: &Api) {
    let (issuer, badge) = api.issuer_with_achievement();
    let kept = uuid_of(&api.achievement("", &issuer, "Kept"));
    let kept_award = uuid_of(&api.award("", &kept, "kept@example.org"));
    let award = uuid_of(&api.award("", &badge, "gone@example.org"));
    assert_conflict(&api.delete(&format!("/achievements/{badge}")));
    assert_conflict(&api.delete(&format!("/v2/badge-classes/{badge}")));
    api.fetch(&format!("/credentials/{award}"))
        .assert_status(200);

    api.delete(&format!("/achievements/{badge}?cascade=true"))
        .assert_status(204);
    assert_not_found(&api.fetch(&format!("/achievements/{badge}")));
    assert_not_found(&api.fetch(&format!("/v2/credentials/{award}")));
    api.fetch(&format!("/achievements/{kept}"))
        .assert_status(200);
    api.fetch(&format!("/credentials/{kept_award}"))
        .assert_status(200);
    assert_eq!(api.total("/credentials"), 1);

    // With its awards gone, the issuer can now be deleted only by cascade.
    assert_conflict(&api.delete(&format!("/issuers/{issuer}")));
}
