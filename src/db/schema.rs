// Matches migrations/sqlite and migrations/postgres; both are changed as a pair.

diesel::table! {
    log_entries (seq) {
        seq -> BigInt,
        recorded_at -> Timestamp,
        kind -> Text,
        actor -> Text,
        canonical -> Text,
    }
}

diesel::table! {
    merkle_nodes (level, node_index) {
        level -> Integer,
        node_index -> BigInt,
        hash_hex -> Text,
    }
}

diesel::table! {
    checkpoints (tree_size) {
        tree_size -> BigInt,
        root_hex -> Text,
        note -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    postings (seq, posting_index) {
        seq -> BigInt,
        posting_index -> Integer,
        account -> Text,
        currency -> Text,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    balances (account, currency) {
        account -> Text,
        currency -> Text,
        balance_minor -> BigInt,
        last_seq -> BigInt,
    }
}

diesel::table! {
    api_keys (key_id) {
        key_id -> Text,
        party_id -> Text,
        role -> Text,
        label -> Text,
        secret_sha256_hex -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    log_entries,
    merkle_nodes,
    checkpoints,
    postings,
    balances,
    api_keys
);
