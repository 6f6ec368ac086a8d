//! Diesel table definitions, written by hand to match
//! `migrations-sqlite/*/up.sql` column for column. On SQLite every id,
//! timestamp and JSON column is `TEXT`; `rows` converts them.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        created_at -> Text,
        updated_at -> Text,
        session_generation -> Integer,
    }
}

diesel::table! {
    issuers (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        email -> Nullable<Text>,
        description -> Nullable<Text>,
        image -> Nullable<Text>,
        owner_id -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    badge_classes (id) {
        id -> Text,
        issuer_id -> Text,
        name -> Text,
        description -> Text,
        image -> Nullable<Text>,
        criteria_url -> Nullable<Text>,
        criteria_narrative -> Nullable<Text>,
        tags -> Text,
        alignments -> Text,
        version -> Nullable<Text>,
        achievement_type -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
        details -> Nullable<Text>,
        notify_recipients -> Bool,
    }
}

diesel::table! {
    assertions (id) {
        id -> Text,
        badge_class_id -> Text,
        issuer_id -> Text,
        recipient_type -> Text,
        recipient_identity -> Text,
        recipient_hashed -> Bool,
        recipient_salt -> Nullable<Text>,
        recipient_key -> Text,
        issued_on -> Text,
        expires -> Nullable<Text>,
        evidence -> Text,
        narrative -> Nullable<Text>,
        image -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        status_changed_at -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
        issued_credential -> Nullable<Binary>,
        status_list_id -> Nullable<Text>,
        status_index -> Nullable<Integer>,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        key_hash -> Text,
        prefix -> Text,
        permissions -> Text,
        issuer_scope -> Nullable<Text>,
        expires_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
        last_used_at -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> Text,
        issuer_id -> Text,
        algorithm -> Text,
        public_key -> Text,
        private_key -> Binary,
        status -> Text,
        created_at -> Text,
        retired_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    status_lists (id) {
        id -> Text,
        issuer_id -> Text,
        capacity -> Integer,
        allocated -> Integer,
        created_at -> Text,
    }
}

diesel::table! {
    endorsements (id) {
        id -> Text,
        subject_kind -> Text,
        subject_achievement_id -> Nullable<Text>,
        subject_issuer_id -> Nullable<Text>,
        subject_credential_id -> Nullable<Text>,
        endorser_issuer_id -> Nullable<Text>,
        endorser_iri -> Nullable<Text>,
        endorsement_comment -> Nullable<Text>,
        credential -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
        status_list_id -> Nullable<Text>,
        status_index -> Nullable<Integer>,
        created_at -> Text,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        assertion_id -> Nullable<Text>,
        learner_email_id -> Nullable<Text>,
        recipient -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Text,
        claimed_until -> Nullable<Text>,
        last_attempt_at -> Nullable<Text>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    held_credentials (id) {
        id -> Text,
        owner_id -> Text,
        issuer_key -> Text,
        credential_key -> Text,
        valid_from -> Nullable<Text>,
        format -> Text,
        text -> Text,
        source -> Text,
        assertion_id -> Nullable<Text>,
        client -> Nullable<Text>,
        platform_id -> Nullable<Text>,
        received_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    backpack_platforms (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        client_id -> Text,
        public_key -> Text,
        webhook_url -> Nullable<Text>,
        status -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    learner_emails (id) {
        id -> Text,
        user_id -> Text,
        email -> Text,
        lookup_key -> Text,
        verified_at -> Nullable<Text>,
        token_hash -> Nullable<Text>,
        token_nonce -> Nullable<Text>,
        token_expires_at -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    learner_profiles (user_id) {
        user_id -> Text,
        profile -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        secret_hash -> Text,
        client_name -> Text,
        client_uri -> Text,
        logo_uri -> Text,
        tos_uri -> Text,
        policy_uri -> Text,
        software_id -> Text,
        software_version -> Text,
        redirect_uris -> Text,
        contacts -> Text,
        scopes -> Text,
        refresh_grant -> Bool,
        created_at -> Text,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Text,
        scopes -> Text,
        created_at -> Text,
        last_used_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        code_challenge -> Text,
        grant_id -> Text,
        created_at -> Text,
        expires_at -> Text,
        redeemed_at -> Nullable<Text>,
    }
}

diesel::table! {
    oauth_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        kind -> Text,
        scopes -> Text,
        created_at -> Text,
        expires_at -> Text,
        used_at -> Nullable<Text>,
        revoked_at -> Nullable<Text>,
    }
}

diesel::joinable!(oauth_grants -> oauth_clients (client_id));
diesel::joinable!(oauth_tokens -> oauth_grants (grant_id));

diesel::table! {
    remote_hosts (id) {
        id -> Text,
        base_url -> Text,
        authorization_url -> Text,
        token_url -> Text,
        scope -> Text,
        client_id -> Text,
        client_secret -> Binary,
        registered_at -> Text,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        assertion_id -> Text,
        host_id -> Text,
        state -> Text,
        state_hash -> Nullable<Text>,
        code_verifier -> Nullable<Binary>,
        authorize_until -> Text,
        access_token -> Nullable<Binary>,
        refresh_token -> Nullable<Binary>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Text>,
        claimed_until -> Nullable<Text>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    platform_users (id) {
        id -> Text,
        platform_id -> Text,
        external_user_id -> Text,
        user_id -> Text,
        display_name -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::joinable!(deliveries -> remote_hosts (host_id));

diesel::table! {
    platform_assertions (held_id) {
        held_id -> Text,
        platform_user_id -> Text,
        assertion_id -> Text,
        status -> Text,
        metadata -> Nullable<Text>,
        added_at -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    remote_hosts,
    deliveries,
    oauth_clients,
    oauth_grants,
    oauth_codes,
    oauth_tokens,
    backpack_platforms,
    platform_users,
    platform_assertions,
    held_credentials,
    learner_emails,
    learner_profiles,
    mail_outbox,
    users,
    issuers,
    badge_classes,
    assertions,
    api_keys,
    signing_keys,
    status_lists,
    endorsements
);
