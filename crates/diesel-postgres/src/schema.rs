//! Diesel table definitions, matching `migrations-postgres/`.

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        email -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        session_generation -> Integer,
    }
}

diesel::table! {
    issuers (id) {
        id -> Uuid,
        name -> Text,
        url -> Text,
        email -> Nullable<Text>,
        description -> Nullable<Text>,
        image -> Nullable<Text>,
        owner_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        details -> Nullable<Jsonb>,
    }
}

diesel::table! {
    badge_classes (id) {
        id -> Uuid,
        issuer_id -> Uuid,
        name -> Text,
        description -> Text,
        image -> Nullable<Text>,
        criteria_url -> Nullable<Text>,
        criteria_narrative -> Nullable<Text>,
        tags -> Jsonb,
        alignments -> Jsonb,
        version -> Nullable<Text>,
        achievement_type -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        details -> Nullable<Jsonb>,
        notify_recipients -> Bool,
    }
}

diesel::table! {
    assertions (id) {
        id -> Uuid,
        badge_class_id -> Uuid,
        issuer_id -> Uuid,
        recipient_type -> Text,
        recipient_identity -> Text,
        recipient_hashed -> Bool,
        recipient_salt -> Nullable<Text>,
        recipient_key -> Text,
        issued_on -> Timestamptz,
        expires -> Nullable<Timestamptz>,
        evidence -> Jsonb,
        narrative -> Nullable<Text>,
        image -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        status_changed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        issued_credential -> Nullable<Bytea>,
        status_list_id -> Nullable<Uuid>,
        status_index -> Nullable<Int4>,
        details -> Nullable<Jsonb>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        key_hash -> Text,
        prefix -> Text,
        permissions -> Jsonb,
        issuer_scope -> Nullable<Uuid>,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> Uuid,
        issuer_id -> Uuid,
        algorithm -> Text,
        public_key -> Text,
        private_key -> Bytea,
        status -> Text,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    status_lists (id) {
        id -> Uuid,
        issuer_id -> Uuid,
        capacity -> Int4,
        allocated -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    endorsements (id) {
        id -> Uuid,
        subject_kind -> Text,
        subject_achievement_id -> Nullable<Uuid>,
        subject_issuer_id -> Nullable<Uuid>,
        subject_credential_id -> Nullable<Uuid>,
        endorser_issuer_id -> Nullable<Uuid>,
        endorser_iri -> Nullable<Text>,
        endorsement_comment -> Nullable<Text>,
        credential -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
        status_list_id -> Nullable<Uuid>,
        status_index -> Nullable<Int4>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Uuid,
        kind -> Text,
        assertion_id -> Nullable<Uuid>,
        learner_email_id -> Nullable<Uuid>,
        recipient -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamptz,
        claimed_until -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    backpack_platforms (id) {
        id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        client_id -> Text,
        public_key -> Text,
        webhook_url -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    held_credentials (id) {
        id -> Uuid,
        owner_id -> Uuid,
        issuer_key -> Text,
        credential_key -> Text,
        valid_from -> Nullable<Timestamptz>,
        format -> Text,
        text -> Text,
        source -> Text,
        assertion_id -> Nullable<Uuid>,
        client -> Nullable<Text>,
        platform_id -> Nullable<Uuid>,
        received_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    learner_emails (id) {
        id -> Uuid,
        user_id -> Uuid,
        email -> Text,
        lookup_key -> Text,
        verified_at -> Nullable<Timestamptz>,
        token_hash -> Nullable<Text>,
        token_nonce -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    learner_profiles (user_id) {
        user_id -> Uuid,
        profile -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Uuid,
        secret_hash -> Text,
        client_name -> Text,
        client_uri -> Text,
        logo_uri -> Text,
        tos_uri -> Text,
        policy_uri -> Text,
        software_id -> Text,
        software_version -> Text,
        redirect_uris -> Jsonb,
        contacts -> Jsonb,
        scopes -> Text,
        refresh_grant -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Uuid,
        client_id -> Uuid,
        user_id -> Uuid,
        scopes -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    oauth_codes (code_hash) {
        code_hash -> Text,
        client_id -> Uuid,
        user_id -> Uuid,
        redirect_uri -> Text,
        scopes -> Text,
        code_challenge -> Text,
        grant_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        redeemed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    oauth_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Uuid,
        kind -> Text,
        scopes -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(oauth_grants -> oauth_clients (client_id));
diesel::joinable!(oauth_tokens -> oauth_grants (grant_id));

diesel::table! {
    remote_hosts (id) {
        id -> Uuid,
        base_url -> Text,
        authorization_url -> Text,
        token_url -> Text,
        scope -> Text,
        client_id -> Text,
        client_secret -> Bytea,
        registered_at -> Timestamptz,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        assertion_id -> Uuid,
        host_id -> Uuid,
        state -> Text,
        state_hash -> Nullable<Text>,
        code_verifier -> Nullable<Bytea>,
        authorize_until -> Timestamptz,
        access_token -> Nullable<Bytea>,
        refresh_token -> Nullable<Bytea>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamptz>,
        claimed_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    platform_users (id) {
        id -> Uuid,
        platform_id -> Uuid,
        external_user_id -> Text,
        user_id -> Uuid,
        display_name -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(deliveries -> remote_hosts (host_id));

diesel::table! {
    platform_assertions (held_id) {
        held_id -> Uuid,
        platform_user_id -> Uuid,
        assertion_id -> Uuid,
        status -> Text,
        metadata -> Nullable<Jsonb>,
        added_at -> Timestamptz,
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
