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
        created_by -> Text,
    }
}

diesel::joinable!(postings -> log_entries (seq));

diesel::allow_tables_to_appear_in_same_query!(
    log_entries,
    merkle_nodes,
    checkpoints,
    postings,
    balances,
    api_keys
);

diesel::table! {
    parties (party_id) {
        party_id -> Text,
        role -> Text,
        name -> Text,
        tax_id -> Nullable<Text>,
        public_key -> Nullable<Text>,
        key_id -> Nullable<Text>,
        status -> Text,
        registered_seq -> BigInt,
        iban -> Nullable<Text>,
        bic -> Nullable<Text>,
        requested_iban -> Nullable<Text>,
        requested_bic -> Nullable<Text>,
        requested_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    programs (program_id) {
        program_id -> Text,
        retailer_id -> Text,
        funder_id -> Text,
        currency -> Text,
        advance_rate -> Text,
        discount_rate -> Text,
        day_count -> Text,
        tenor_min_days -> Integer,
        tenor_max_days -> Integer,
        grace_days -> Integer,
        late_rate -> Text,
        default_days -> Integer,
        recourse -> Bool,
        program_limit_minor -> BigInt,
        retailer_limit_minor -> BigInt,
        supplier_limit_fixed_minor -> Nullable<BigInt>,
        supplier_limit_multiple -> Nullable<Text>,
        created_seq -> BigInt,
        allocation -> Text,
        funders -> Text,
        early_payment_budget_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    invoices (invoice_id) {
        invoice_id -> Text,
        program_id -> Text,
        supplier_id -> Text,
        retailer_id -> Text,
        funder_id -> Text,
        invoice_number -> Text,
        issue_date -> Date,
        due_date -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        credited_minor -> BigInt,
        paid_minor -> BigInt,
        status -> Text,
        fingerprint -> Text,
        registered_seq -> BigInt,
        settled_on -> Nullable<Date>,
        defaulted_on -> Nullable<Date>,
        creditor_reference -> Nullable<Text>,
    }
}

diesel::table! {
    advances (invoice_id) {
        invoice_id -> Text,
        program_id -> Text,
        supplier_id -> Text,
        retailer_id -> Text,
        funder_id -> Text,
        currency -> Text,
        principal_minor -> BigInt,
        fee_minor -> BigInt,
        net_minor -> BigInt,
        value_date -> Date,
        due_date -> Date,
        principal_outstanding_minor -> BigInt,
        late_fee_unpaid_minor -> BigInt,
        late_accrued_through -> Date,
        accepted_seq -> BigInt,
    }
}

diesel::table! {
    advance_shares (invoice_id, funder_id) {
        invoice_id -> Text,
        funder_id -> Text,
        rank -> Integer,
        program_id -> Text,
        supplier_id -> Text,
        retailer_id -> Text,
        currency -> Text,
        principal_minor -> BigInt,
        fee_minor -> BigInt,
        net_minor -> BigInt,
        principal_outstanding_minor -> BigInt,
        late_fee_unpaid_minor -> BigInt,
        late_fee_paid_minor -> BigInt,
    }
}

diesel::table! {
    payouts (payout_id) {
        payout_id -> Text,
        party_id -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        invoice_id -> Nullable<Text>,
        status -> Text,
        created_seq -> BigInt,
        batch_id -> Nullable<Text>,
        confirmed_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    payout_batches (batch_id) {
        batch_id -> Text,
        currency -> Text,
        total_minor -> BigInt,
        payout_count -> Integer,
        debtor_iban -> Text,
        requested_execution_date -> Date,
        status -> Text,
        confirmed_minor -> BigInt,
        created_seq -> BigInt,
        proposed_by -> Text,
        approved_by -> Nullable<Text>,
        instructed_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    exposures (program_id, party_id) {
        program_id -> Text,
        party_id -> Text,
        principal_outstanding_minor -> BigInt,
    }
}

diesel::table! {
    supplier_debts (debt_id) {
        debt_id -> Text,
        supplier_id -> Text,
        funder_id -> Text,
        currency -> Text,
        invoice_id -> Text,
        amount_minor -> BigInt,
        recovered_minor -> BigInt,
        created_seq -> BigInt,
    }
}

diesel::table! {
    decision_disclosures (seq) {
        seq -> BigInt,
        document -> Text,
    }
}

diesel::table! {
    program_members (program_id, supplier_id) {
        program_id -> Text,
        supplier_id -> Text,
        enrolled_seq -> BigInt,
    }
}

diesel::table! {
    entry_parties (party_id, seq) {
        party_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    invoice_entries (invoice_id, seq) {
        invoice_id -> Text,
        seq -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    parties,
    programs,
    invoices,
    advances,
    advance_shares,
    payouts,
    payout_batches,
    exposures,
    supplier_debts,
    program_members,
    entry_parties,
    invoice_entries,
    log_entries
);

diesel::table! {
    idempotency_keys (scope, idempotency_key) {
        scope -> Text,
        idempotency_key -> Text,
        request_sha256 -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (subscription_id) {
        subscription_id -> Text,
        party_id -> Text,
        url -> Text,
        created_at -> Timestamp,
        active -> Bool,
    }
}

diesel::table! {
    webhook_deliveries (delivery_id) {
        delivery_id -> Text,
        subscription_id -> Text,
        seq -> BigInt,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (delivery_id, attempt) {
        delivery_id -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    users (email) {
        email -> Text,
        party_id -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        disabled -> Bool,
        created_by -> Text,
    }
}

diesel::table! {
    sessions (session_sha256_hex) {
        session_sha256_hex -> Text,
        email -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(users, sessions);

diesel::table! {
    bank_lines (line_id) {
        line_id -> Text,
        message_id -> Text,
        account -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        credit -> Bool,
        reversal -> Bool,
        booking_date -> Nullable<Date>,
        value_date -> Nullable<Date>,
        end_to_end_id -> Nullable<Text>,
        account_servicer_reference -> Nullable<Text>,
        structured_references -> Text,
        remittance -> Text,
        debtor_name -> Nullable<Text>,
        status -> Text,
        matched_by -> Nullable<Text>,
        match_rule -> Nullable<Text>,
        payment_seq -> Nullable<BigInt>,
        imported_seq -> BigInt,
        payment_information_id -> Nullable<Text>,
    }
}

diesel::table! {
    bank_statement_files (sha256) {
        sha256 -> Text,
        message_id -> Text,
        imported_at -> Timestamp,
        document -> Text,
    }
}

diesel::table! {
    ledger_head (id) {
        id -> Integer,
        epoch -> BigInt,
        tree_size -> BigInt,
        writer_name -> Text,
        writer_url -> Text,
        writer_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cosignatures (tree_size, witness) {
        tree_size -> BigInt,
        witness -> Text,
        line -> Text,
        cosigned_at -> BigInt,
        received_at -> Timestamp,
    }
}
