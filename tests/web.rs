//! The web pages' security without a browser: signed-out visitors are sent to
//! sign in, forms need the session's CSRF token, cookies are HttpOnly and
//! SameSite (and Secure behind TLS), sign-in is rate-limited, roles are kept apart.

mod common;

use chrono::NaiveDate;
use common::*;
use scfledger::domain::{PartyId, Role};

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn sign_in(
    base: &str,
    email: &str,
    password: &str,
    forwarded_https: bool,
) -> reqwest::blocking::Response {
    // The sign-in form's token, and the cookie that must carry the same.
    let page = client().get(format!("{base}/")).send().unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    let html = page.text().unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let mut request = client()
        .post(format!("{base}/sign-in"))
        .header("Cookie", cookie.split(';').next().unwrap())
        .form(&[("email", email), ("password", password), ("csrf", &token)]);
    if forwarded_https {
        request = request.header("X-Forwarded-Proto", "https");
    }
    request.send().unwrap()
}

fn session_cookie(response: &reqwest::blocking::Response) -> String {
    let header = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    header
}

#[test]
fn pages_are_guarded() {
    let db = TestDb::new("sqlite");
    let (base, operator) = spawn_app(
        &db,
        scfledger::services::clock::Clock::fixed_at(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
    );
    // A web user belongs to a registered party.
    let (status, body) = Client::new(&base, &operator).post(
        "/api/v1/parties",
        &serde_json::json!({"party_id": "sup-acme", "role": "supplier", "name": "Acme", "tax_id": "DE1"}),
    );
    assert_eq!(status, 201, "{body}");
    let mut connection = db.connect();
    scfledger::services::users::create(
        &mut connection,
        "sup@acme.example",
        "a long enough password",
        &PartyId::parse("sup-acme").unwrap(),
        Role::Supplier,
    )
    .unwrap();
    assert!(scfledger::services::users::create(
        &mut connection,
        "short@acme.example",
        "too short",
        &PartyId::parse("sup-acme").unwrap(),
        Role::Supplier
    )
    .is_err());

    // Signed out: every page sends you to sign in.
    for path in [
        "/supplier/",
        "/supplier/invoices",
        "/supplier/statement.csv",
        "/retailer/",
        "/operator/",
    ] {
        let response = client().get(format!("{base}{path}")).send().unwrap();
        assert_eq!(
            (
                response.status().as_u16(),
                response.headers()["location"].to_str().unwrap()
            ),
            (303, "/"),
            "{path}"
        );
    }

    // The cookie: HttpOnly and SameSite=Lax; Secure only behind TLS.
    let response = sign_in(&base, "sup@acme.example", "a long enough password", false);
    assert_eq!(response.status().as_u16(), 303);
    let cookie = session_cookie(&response);
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let secure = session_cookie(&sign_in(
        &base,
        "sup@acme.example",
        "a long enough password",
        true,
    ));
    assert!(secure.contains("Secure"), "{secure}");
    let session = cookie.split(';').next().unwrap().to_string();

    // A form without the session's CSRF token is refused and writes nothing.
    let entries_before = scfledger::db::log::entry_count(&mut db.connect()).unwrap();
    let forged = client()
        .post(format!("{base}/supplier/invoices"))
        .header("Cookie", &session)
        .form(&[
            ("csrf", "0000"),
            ("program_id", "x"),
            ("invoice_number", "N"),
            ("issue_date", "2026-01-01"),
            ("due_date", "2026-02-01"),
            ("amount", "1.00"),
        ])
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(forged.text().unwrap().contains("the form is stale"));
    assert_eq!(
        scfledger::db::log::entry_count(&mut db.connect()).unwrap(),
        entries_before
    );

    // A supplier may not open the retailer's or the operator's pages.
    for path in ["/retailer/", "/operator/"] {
        let response = client()
            .get(format!("{base}{path}"))
            .header("Cookie", &session)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
    assert_eq!(
        client()
            .get(format!("{base}/supplier/"))
            .header("Cookie", &session)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    // Signing out ends the session on the server too.
    let page = client()
        .get(format!("{base}/supplier/"))
        .header("Cookie", &session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let out = client()
        .post(format!("{base}/sign-out"))
        .header("Cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    assert_eq!(
        client()
            .get(format!("{base}/supplier/"))
            .header("Cookie", &session)
            .send()
            .unwrap()
            .status()
            .as_u16(),
        303
    );

    // A sign-in posted from elsewhere, without the form's token and cookie,
    // opens no session (login CSRF).
    let forged_sign_in = client()
        .post(format!("{base}/sign-in"))
        .form(&[
            ("email", "sup@acme.example"),
            ("password", "a long enough password"),
        ])
        .send()
        .unwrap();
    assert_eq!(forged_sign_in.status().as_u16(), 403);
    assert!(forged_sign_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| !c.to_str().unwrap().starts_with("scf_session")));
    assert!(forged_sign_in
        .text()
        .unwrap()
        .contains("This sign-in form has expired"));

    // Five wrong passwords, then even the right one waits.
    for _ in 0..5 {
        assert_eq!(
            sign_in(&base, "sup@acme.example", "wrong password", false)
                .status()
                .as_u16(),
            401
        );
    }
    let blocked = sign_in(&base, "sup@acme.example", "a long enough password", false);
    assert_eq!(blocked.status().as_u16(), 429);
    assert!(blocked.text().unwrap().contains("Too many failed attempts"));
}

/// The CSRF token of a signed-in page's forms.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

fn get_page(base: &str, cookie: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{base}{path}"))
        .header("Cookie", cookie)
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// Posts a row's button: a form with the CSRF token only.
fn post_button(base: &str, cookie: &str, path: &str, csrf: &str) -> (u16, String) {
    let response = client()
        .post(format!("{base}{path}"))
        .header("Cookie", cookie)
        .form(&[("csrf", csrf)])
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// The text between `start` and the next `end`.
fn between(html: &str, start: &str, end: &str) -> String {
    html.split(start)
        .nth(1)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        .split(end)
        .next()
        .unwrap()
        .to_string()
}

/// Text without its tags, white space collapsed.
fn text_of(fragment: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The cells' text of each body row of the table in the section headed `heading_id`.
fn table_rows(html: &str, heading_id: &str) -> Vec<Vec<String>> {
    let section = between(
        html,
        &format!("<section aria-labelledby=\"{heading_id}\">"),
        "</section>",
    );
    let body = between(&section, "<tbody>", "</tbody>");
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| text_of(&cell[cell.find('>').unwrap() + 1..]))
                .collect()
        })
        .collect()
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

/// The operator's set-up page picks parties and programmes by name, lists
/// the demo's web users and API keys; a disabled user cannot sign in and
/// loses the open session until enabled again, and a revoked key is refused
/// at once.
#[test]
fn the_operator_disables_users_and_revokes_api_keys() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let clock = scfledger::services::clock::Clock::system();
        let (ledger, writer) = start(&db);
        let seeded = scfledger::services::demo::seed(
            &mut db.connect(),
            &ledger,
            db.folder.path(),
            clock.today(),
        )
        .unwrap();
        drop(ledger);
        writer.join().unwrap();
        let demo_token = std::fs::read_to_string(seeded.api_key_file.unwrap())
            .unwrap()
            .trim()
            .to_string();
        let (base, tests_token) = spawn_app(&db, clock);
        let key_id = |token: &str| token.split('_').nth(1).unwrap().to_string();
        let (demo_key, tests_key) = (key_id(demo_token.as_str()), key_id(tests_token.as_str()));
        // Users and keys are created now.
        let created = scfledger::web::pages::date(chrono::Utc::now().date_naive());
        let created = created.as_str();

        // Anna is signed in before she is disabled.
        let anna = session_cookie(&sign_in(
            &base,
            "anna@acme-textiles.example",
            "demo-supplier-2026",
            false,
        ))
        .split(';')
        .next()
        .unwrap()
        .to_string();
        assert_eq!(get_page(&base, &anna, "/supplier/").0, 200, "{backend}");
        let signed_in = sign_in(
            &base,
            "treasury@scfledger.example",
            "demo-operator-2026",
            false,
        );
        assert_eq!(signed_in.status().as_u16(), 303, "{backend}");
        let operator = session_cookie(&signed_in)
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let (status, html) = get_page(&base, &operator, "/operator/");
        assert_eq!(status, 200, "{backend}");
        let csrf = csrf_of(&html);

        // Parties and programmes are picked by name, only those that fit the field.
        for select in [
            "<select id=\"retailer_id\" name=\"retailer_id\" required><option value=\"ret-hansa\">Hansa Retail AG</option></select>",
            "<select id=\"funder_id\" name=\"funder_id\" required><option value=\"fund-nord\">Nordbank Capital</option></select>",
            "<select id=\"enrol_program\" name=\"program_id\" required><option value=\"prog-hansa-eu\">Hansa Retail AG, EUR</option></select>",
            "<select id=\"enrol_supplier\" name=\"supplier_id\" required><option value=\"sup-acme\">Acme Textiles GmbH</option><option value=\"sup-baltic\">Baltic Furniture OÜ</option><option value=\"sup-cobalt\">Cobalt Ceramics S.r.l.</option></select>",
            "<option value=\"ret-hansa\">Hansa Retail AG (retailer)</option>",
            "<option value=\"op-treasury\">scfledger Treasury (operator)</option>",
        ] {
            assert!(html.contains(select), "{backend}: {select}");
        }

        // The demo's users by e-mail; the keys newest first, never their secrets.
        assert_eq!(
            table_rows(&html, "users"),
            vec![
                cells(&[
                    "anna@acme-textiles.example",
                    "Acme Textiles GmbH",
                    "supplier",
                    created,
                    "Active",
                    "Disable"
                ]),
                cells(&[
                    "credit@nordbank.example",
                    "Nordbank Capital",
                    "funder",
                    created,
                    "Active",
                    "Disable"
                ]),
                cells(&[
                    "payables@hansa-retail.example",
                    "Hansa Retail AG",
                    "retailer",
                    created,
                    "Active",
                    "Disable"
                ]),
                cells(&[
                    "payments@scfledger.example",
                    "scfledger Treasury",
                    "operator",
                    created,
                    "Active",
                    "Disable"
                ]),
                cells(&[
                    "treasury@scfledger.example",
                    "scfledger Treasury",
                    "operator",
                    created,
                    "Active",
                    "This is you"
                ]),
            ],
            "{backend}"
        );
        assert_eq!(
            table_rows(&html, "keys"),
            vec![
                cells(&[
                    tests_key.as_str(),
                    "tests",
                    "scfledger Treasury",
                    "operator",
                    created,
                    "Active",
                    "Revoke"
                ]),
                cells(&[
                    demo_key.as_str(),
                    "demo operator key",
                    "scfledger Treasury",
                    "operator",
                    created,
                    "Active",
                    "Revoke"
                ]),
            ],
            "{backend}"
        );
        for token in [&demo_token, &tests_token] {
            let secret = token.split('_').nth(2).unwrap();
            assert!(!html.contains(secret), "{backend}: a secret is shown");
        }

        // An operator cannot disable itself; a forged form changes nothing.
        let (status, page) = post_button(
            &base,
            &operator,
            "/operator/users/treasury@scfledger.example/disable",
            &csrf,
        );
        assert_eq!(
            (status, between(&page, "<p class=\"error\" role=\"alert\">", "</p>")),
            (
                422,
                "You cannot disable your own account (treasury@scfledger.example): you are signed in with it. Another operator can disable it."
                    .to_string()
            ),
            "{backend}"
        );
        let (status, _) = post_button(
            &base,
            &operator,
            "/operator/users/anna@acme-textiles.example/disable",
            "0000",
        );
        assert_eq!(status, 403, "{backend}");
        assert_eq!(get_page(&base, &anna, "/supplier/").0, 200, "{backend}");

        // Disabling Anna ends her session; she cannot sign in.
        let disable = "/operator/users/anna@acme-textiles.example/disable";
        assert!(html.contains(&format!("action=\"{disable}\"")), "{backend}");
        let (status, page) = post_button(&base, &operator, disable, &csrf);
        assert_eq!(
            (
                status,
                between(&page, "<p class=\"notice\" role=\"status\">", "</p>")
            ),
            (
                200,
                "anna@acme-textiles.example can no longer sign in; their open sessions were ended."
                    .to_string()
            ),
            "{backend}"
        );
        assert_eq!(
            table_rows(&page, "users")[0],
            cells(&[
                "anna@acme-textiles.example",
                "Acme Textiles GmbH",
                "supplier",
                created,
                "Disabled",
                "Enable"
            ]),
            "{backend}"
        );
        assert_eq!(get_page(&base, &anna, "/supplier/").0, 303, "{backend}");
        assert_eq!(
            sign_in(
                &base,
                "anna@acme-textiles.example",
                "demo-supplier-2026",
                false
            )
            .status()
            .as_u16(),
            401,
            "{backend}"
        );

        // Enabled again, she signs in.
        let (status, page) = post_button(
            &base,
            &operator,
            "/operator/users/anna@acme-textiles.example/enable",
            &csrf,
        );
        assert_eq!(
            (
                status,
                between(&page, "<p class=\"notice\" role=\"status\">", "</p>")
            ),
            (
                200,
                "anna@acme-textiles.example can sign in again.".to_string()
            ),
            "{backend}"
        );
        assert_eq!(
            table_rows(&page, "users")[0],
            cells(&[
                "anna@acme-textiles.example",
                "Acme Textiles GmbH",
                "supplier",
                created,
                "Active",
                "Disable"
            ]),
            "{backend}"
        );
        let again = sign_in(
            &base,
            "anna@acme-textiles.example",
            "demo-supplier-2026",
            false,
        );
        assert_eq!(
            (
                again.status().as_u16(),
                again.headers()["location"].to_str().unwrap()
            ),
            (303, "/supplier/"),
            "{backend}"
        );

        // A revoked key is refused at once; the other keeps working.
        let demo = Client::new(&base, &demo_token);
        assert_eq!(demo.get("/api/v1/invoices").0, 200, "{backend}");
        let revoke = format!("/operator/api-keys/{demo_key}/revoke");
        assert!(html.contains(&format!("action=\"{revoke}\"")), "{backend}");
        let (status, page) = post_button(&base, &operator, &revoke, &csrf);
        assert_eq!(
            (status, between(&page, "<p class=\"notice\" role=\"status\">", "</p>")),
            (
                200,
                format!("API key {demo_key} (demo operator key) of scfledger Treasury is revoked; requests with it are refused from now on.")
            ),
            "{backend}"
        );
        let revoked_on = format!("Revoked on {created}");
        assert_eq!(
            table_rows(&page, "keys")[1],
            cells(&[
                demo_key.as_str(),
                "demo operator key",
                "scfledger Treasury",
                "operator",
                created,
                revoked_on.as_str(),
                ""
            ]),
            "{backend}"
        );
        assert_eq!(demo.get("/api/v1/invoices").0, 401, "{backend}");
        assert_eq!(
            Client::new(&base, &tests_token).get("/api/v1/invoices").0,
            200,
            "{backend}"
        );
        let (status, page) = post_button(&base, &operator, &revoke, &csrf);
        assert_eq!(
            (
                status,
                between(&page, "<p class=\"error\" role=\"alert\">", "</p>")
            ),
            (
                422,
                format!("There is no active API key {demo_key}; it may have been revoked already.")
            ),
            "{backend}"
        );
    }
}

/// The demo seeded into a fresh database on `backend`, served by the app:
/// (the database, the base URL, an operator API key).
fn demo_app(backend: &str) -> (TestDb, String, String) {
    let db = TestDb::new(backend);
    let clock = scfledger::services::clock::Clock::system();
    let (ledger, writer) = start(&db);
    scfledger::services::demo::seed(&mut db.connect(), &ledger, db.folder.path(), clock.today())
        .unwrap();
    drop(ledger);
    writer.join().unwrap();
    let (base, token) = spawn_app(&db, clock);
    (db, base, token)
}

/// Signs in and returns the session cookie, as a request header value.
fn signed_in(base: &str, email: &str, password: &str) -> String {
    session_cookie(&sign_in(base, email, password, false))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Posts a form; returns the status and the redirect's target, or the page.
fn post_form(base: &str, cookie: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = client()
        .post(format!("{base}{path}"))
        .header("Cookie", cookie)
        .form(fields)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    match response.headers().get("location") {
        Some(location) => (status, location.to_str().unwrap().to_string()),
        None => (status, response.text().unwrap()),
    }
}

fn notice_of(html: &str) -> String {
    text_of(&between(
        html,
        "<p class=\"notice\" role=\"status\"",
        "</p>",
    ))
    .trim_start_matches('>')
    .trim()
    .replace("&#39;", "'")
    .replace("&quot;", "\"")
}

/// A supplier gives a new bank account on the web; its payouts are held
/// until treasury approves the change. A payout batch is proposed by one
/// treasury user and approved by another: the proposer cannot approve it,
/// and only an approved batch has a pain.001 file.
#[test]
fn bank_details_wait_for_approval_and_payouts_need_four_eyes() {
    for backend in backends() {
        let (db, base, token) = demo_app(backend);

        // Anna asks to be paid to another account; the page says it waits.
        let anna = signed_in(&base, "anna@acme-textiles.example", "demo-supplier-2026");
        let (_, html) = get_page(&base, &anna, "/supplier/bank-account");
        assert!(
            html.contains("DE44 5001 0517 5407 3249 31"),
            "{backend}: {html}"
        );
        let csrf = csrf_of(&html);
        let (status, page) = post_form(
            &base,
            &anna,
            "/supplier/bank-account",
            &[("csrf", &csrf), ("iban", "DE12 3456"), ("bic", "")],
        );
        assert_eq!(status, 422, "{backend}: a wrong IBAN is refused: {page}");
        assert!(
            page.contains("value=\"DE12 3456\""),
            "{backend}: the form keeps it"
        );
        let (status, location) = post_form(
            &base,
            &anna,
            "/supplier/bank-account",
            &[
                ("csrf", &csrf),
                ("iban", "DE02 1203 0000 0000 2020 51"),
                ("bic", ""),
            ],
        );
        assert_eq!(
            (status, location.as_str()),
            (303, "/supplier/bank-account?requested=1"),
            "{backend}"
        );
        let (_, html) = get_page(&base, &anna, &location);
        assert!(
            notice_of(&html).starts_with("Thank you. Our treasury checks the new account"),
            "{backend}: {html}"
        );
        assert!(
            text_of(&between(&html, "data-testid=\"waiting\"", "</p>")).contains(
                "to be paid to DE02 1203 0000 0000 2020 51. Our treasury checks every change of bank account before paying to it; until then your payouts are held and nothing goes to the old account."
            ),
            "{backend}: {html}"
        );
        // The demo's batch was approved by a second user: Anna's payouts read "instructed".
        let (_, dashboard) = get_page(&base, &anna, "/supplier/");
        let arrivals = between(
            &dashboard,
            "<section aria-labelledby=\"arrivals\">",
            "</section>",
        );
        assert!(
            arrivals.contains("instructed to the bank"),
            "{backend}: money paid out but not yet arrived is due to arrive: {arrivals}"
        );
        let (_, advances) = get_page(&base, &anna, "/supplier/advances");
        assert!(
            advances.contains("Instructed to the bank, not yet seen leaving our account"),
            "{backend}: {advances}"
        );

        // Treasury sees both changes, oldest first, and decides.
        let treasury = signed_in(&base, "treasury@scfledger.example", "demo-operator-2026");
        let (_, html) = get_page(&base, &treasury, "/operator/");
        let rows = table_rows(&html, "bank-requests");
        assert_eq!(
            rows.iter().map(|r| r[..3].to_vec()).collect::<Vec<_>>(),
            vec![
                cells(&[
                    "Cobalt Ceramics S.r.l.",
                    "none yet",
                    "IT60 X054 2811 1010 0000 0123 456"
                ]),
                cells(&[
                    "Acme Textiles GmbH",
                    "DE44 5001 0517 5407 3249 31",
                    "DE02 1203 0000 0000 2020 51"
                ]),
            ],
            "{backend}"
        );
        let csrf = csrf_of(&html);
        let seqs: Vec<String> = html
            .split("name=\"request_seq\" value=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_string())
            .collect();
        let (status, location) = post_form(
            &base,
            &treasury,
            "/operator/bank-accounts/sup-cobalt/approval",
            &[("csrf", &csrf), ("request_seq", &seqs[0])],
        );
        assert_eq!(status, 303, "{backend}: {location}");
        let (_, html) = get_page(&base, &treasury, &location);
        assert_eq!(
            notice_of(&html),
            "Cobalt Ceramics S.r.l.'s new bank account is approved: its held payouts go into the next batch, paid there.",
            "{backend}"
        );
        let (status, location) = post_form(
            &base,
            &treasury,
            "/operator/bank-accounts/sup-acme/decline",
            &[
                ("csrf", &csrf),
                ("request_seq", &seqs[2]),
                ("reason", "Not confirmed by phone"),
            ],
        );
        assert_eq!(status, 303, "{backend}: {location}");
        let (_, html) = get_page(&base, &treasury, "/operator/");
        assert!(
            html.contains("No supplier waits for a change of bank account."),
            "{backend}"
        );
        // Anna reads why, and where her payouts go.
        let (_, html) = get_page(&base, &anna, "/supplier/bank-account");
        let day = scfledger::web::pages::date(chrono::Utc::now().date_naive());
        assert_eq!(
            text_of(&between(&html, "data-testid=\"declined\">", "</p>")),
            format!("Our treasury declined the account you gave on {day}: Not confirmed by phone. Your payouts go to the account above."),
            "{backend}"
        );

        // The preview shows Cobalt's payouts, now payable; treasury proposes them.
        let (_, preview) = get_page(
            &base,
            &treasury,
            "/treasury/payouts/preview?currency=EUR&requested_execution_date=2026-12-04",
        );
        let rows = table_rows(&preview, "payouts");
        assert!(!rows.is_empty(), "{backend}: {preview}");
        assert!(
            rows.iter()
                .all(|r| r[0] == "Cobalt Ceramics S.r.l."
                    && r[1] == "IT60 X054 2811 1010 0000 0123 456"),
            "{backend}: {rows:?}"
        );
        let total = text_of(&between(&preview, "<h2 id=\"figures\">", "</h2>"));
        let (status, location) = post_form(
            &base,
            &treasury,
            "/treasury/payouts/batches",
            &[
                ("csrf", &csrf),
                ("currency", "EUR"),
                ("requested_execution_date", "2026-12-04"),
            ],
        );
        assert_eq!(status, 303, "{backend}: {location}");
        let batch_id = location.rsplit('=').next().unwrap().to_string();
        let (_, html) = get_page(&base, &treasury, &location);
        assert_eq!(
            notice_of(&html),
            format!("Batch {batch_id} is proposed. Another treasury user must review and approve it; nothing is paid until then."),
            "{backend}"
        );
        let batch_page = format!("/treasury/payouts/batches/{batch_id}");
        let (_, html) = get_page(&base, &treasury, &batch_page);
        assert_eq!(
            text_of(&between(&html, "<h2 id=\"figures\">", "</h2>")),
            format!("{total} Awaiting approval"),
            "{backend}: the batch holds what the preview showed"
        );
        assert!(
            !html.contains("/approval\""),
            "{backend}: no approve button for the proposer"
        );
        let (status, page) = post_form(
            &base,
            &treasury,
            &format!("{batch_page}/approval"),
            &[("csrf", &csrf)],
        );
        assert_eq!(status, 422, "{backend}");
        assert!(
            page.contains(&format!(
                "you proposed batch {batch_id}; another treasury user must approve it"
            )),
            "{backend}: {page}"
        );
        assert_eq!(
            get_page(&base, &treasury, &format!("{batch_page}/pain001.xml")).0,
            404,
            "{backend}: no file before approval"
        );

        // The second treasury user approves it; the file names Cobalt's new account.
        let payments = signed_in(&base, "payments@scfledger.example", "demo-payments-2026");
        let (_, html) = get_page(&base, &payments, &batch_page);
        let csrf = csrf_of(&html);
        let seen = between(&html, "name=\"seen\" value=\"", "\"");
        // What is approved is what was seen: a bank account changed in between
        // (here by the operator's API) makes the approval refuse.
        let operator = Client::new(&base, &token);
        let (status, changed) = operator.post(
            "/api/v1/parties/sup-cobalt/bank-account",
            &serde_json::json!({"iban": "IT07 X054 2811 1010 0000 0654 321"}),
        );
        assert_eq!(status, 201, "{backend}: {changed}");
        let (status, page) = post_form(
            &base,
            &payments,
            &format!("{batch_page}/approval"),
            &[("csrf", &csrf), ("seen", &seen)],
        );
        assert_eq!(status, 422, "{backend}");
        assert!(
            page.contains("changed since you looked at it"),
            "{backend}: {page}"
        );
        let (_, html) = get_page(&base, &payments, &batch_page);
        assert!(
            html.contains("IT07 X054 2811 1010 0000 0654 321"),
            "{backend}: the page shows the new account"
        );
        let seen = between(&html, "name=\"seen\" value=\"", "\"");
        let (status, location) = post_form(
            &base,
            &payments,
            &format!("{batch_page}/approval"),
            &[("csrf", &csrf), ("seen", &seen)],
        );
        assert_eq!(
            (status, location.clone()),
            (303, format!("/treasury/payouts?approved={batch_id}")),
            "{backend}"
        );
        let (_, html) = get_page(&base, &payments, &batch_page);
        assert!(
            html.contains("Instructed")
                && html.contains("<dt>Approved by</dt><dd>payments@scfledger.example</dd>"),
            "{backend}: {html}"
        );
        let (status, file) = get_page(&base, &payments, &format!("{batch_page}/pain001.xml"));
        assert_eq!(status, 200, "{backend}");
        assert!(
            file.contains("<IBAN>IT07X0542811101000000654321</IBAN>"),
            "{backend}: {file}"
        );

        // The bank's debit comes without the batch's references: it waits in
        // suspense, and treasury picks the batch it paid from a list.
        let amount = total
            .split(", ")
            .nth(1)
            .unwrap()
            .trim_end_matches(" EUR")
            .replace(',', "");
        let day = chrono::Utc::now().date_naive().to_string();
        let statement = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
             <GrpHdr><MsgId>WEB-DEBIT</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>WEB-DEBIT-S</Id>\
             <CreDtTm>{day}T18:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\
             <Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>WEB-D1</AcctSvcrRef>\
             <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\
             <NtryDtls><TxDtls><RmtInf><Ustrd>SAMMELUEBERWEISUNG</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"
        );
        let response = reqwest::blocking::Client::new()
            .post(format!("{base}/api/v1/bank-statements"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("web-debit-{backend}"))
            .header("Content-Type", "application/xml")
            .body(statement)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{backend}");
        let (_, html) = get_page(&base, &payments, "/treasury/lines");
        let section = between(
            &html,
            "<section aria-labelledby=\"suspense\">",
            "</section>",
        );
        let options: Vec<&str> = section.split("<option value=\"").skip(1).collect();
        assert_eq!(
            options.len(),
            1,
            "{backend}: one batch or payout has this amount: {section}"
        );
        let value = options[0].split('"').next().unwrap().to_string();
        let words = text_of(&options[0][options[0].find('>').unwrap() + 1..]);
        assert!(
            words.starts_with(&format!("Batch {batch_id}: "))
                || words.starts_with("The payout of "),
            "{backend}: {words}"
        );
        let line_id = between(&section, "action=\"/treasury/lines/", "/match\"");
        let (status, location) = post_form(
            &base,
            &payments,
            &format!("/treasury/lines/{line_id}/match"),
            &[("csrf", &csrf), ("payout_ids", &value)],
        );
        assert_eq!(status, 303, "{backend}");
        let (_, html) = get_page(&base, &payments, &location);
        let shown_amount = total.split(", ").nth(1).unwrap().to_string();
        let shown_day = scfledger::web::pages::date(chrono::Utc::now().date_naive());
        assert_eq!(
            notice_of(&html),
            format!("The debit of {shown_amount} on {shown_day} is explained (matched by hand); it left the lists that wait for you."),
            "{backend}"
        );
        let (_, html) = get_page(&base, &payments, &batch_page);
        assert!(
            html.contains("Paid, confirmed by the bank"),
            "{backend}: {html}"
        );
        assert_consistent(&db);
    }
}

/// The invoices' numbers in a list page, in order.
fn listed_numbers(html: &str) -> Vec<String> {
    table_rows(html, "list")
        .into_iter()
        .map(|row| row[0].clone())
        .collect()
}

/// The supplier's invoices and the retailer's payables: search by number
/// or name, filters by status and due date, pages of 50, newest first, and
/// words when nothing matches.
#[test]
fn invoice_lists_search_filter_and_page() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let clock = scfledger::services::clock::Clock::system();
        let today = clock.today();
        let (ledger, writer) = start(&db);
        scfledger::services::demo::seed(&mut db.connect(), &ledger, db.folder.path(), today)
            .unwrap();
        let acme = scfledger::services::common::Actor {
            party: PartyId::parse("sup-acme").unwrap(),
            role: Role::Supplier,
        };
        let (issued, due) = (
            (today - chrono::Duration::days(5)).to_string(),
            (today + chrono::Duration::days(30)).to_string(),
        );
        for n in 1..=55 {
            let number = format!("LIST-{n:03}");
            let fields = scfledger::services::invoice::InvoiceFields {
                program_id: "prog-hansa-eu",
                supplier_id: "sup-acme",
                invoice_number: &number,
                issue_date: &issued,
                due_date: &due,
                currency: "EUR",
                amount: "100.00",
                channel: "form",
                document_sha256: None,
            };
            ledger
                .submit_blocking(
                    scfledger::services::invoice::RegisterInvoice::parse(acme.clone(), &fields)
                        .unwrap(),
                )
                .unwrap();
        }
        drop(ledger);
        writer.join().unwrap();
        let (base, _) = spawn_app(&db, clock);
        let anna = signed_in(&base, "anna@acme-textiles.example", "demo-supplier-2026");

        // Pages of 50, newest first; the older page follows on.
        let (_, html) = get_page(&base, &anna, "/supplier/invoices");
        let first = listed_numbers(&html);
        assert_eq!(first.len(), 50, "{backend}");
        assert_eq!(
            (first[0].as_str(), first[49].as_str()),
            ("LIST-055", "LIST-006"),
            "{backend}"
        );
        let older = between(&html, "<nav class=\"pager\"", "</nav>");
        let older = between(&older, "href=\"", "\"").replace("&amp;", "&");
        assert!(
            older.starts_with("/supplier/invoices?before="),
            "{backend}: {older}"
        );
        let (_, html) = get_page(&base, &anna, &older);
        let second = listed_numbers(&html);
        assert_eq!(
            second[..5],
            cells(&["LIST-005", "LIST-004", "LIST-003", "LIST-002", "LIST-001"]),
            "{backend}"
        );
        assert!(
            second.len() > 5,
            "{backend}: the demo's invoices follow: {second:?}"
        );
        assert!(html.contains(">Newest</a>"), "{backend}");

        // Search by a part of the number, then by status and due date.
        let (_, html) = get_page(&base, &anna, "/supplier/invoices?q=list-01");
        assert_eq!(
            listed_numbers(&html),
            (10..=19)
                .rev()
                .map(|n| format!("LIST-{n:03}"))
                .collect::<Vec<_>>(),
            "{backend}: case does not matter"
        );
        assert!(
            html.contains("value=\"list-01\""),
            "{backend}: the form keeps the search"
        );
        let (_, html) = get_page(&base, &anna, "/supplier/invoices?status=confirmed");
        let confirmed = table_rows(&html, "list");
        assert!(!confirmed.is_empty(), "{backend}");
        assert!(
            confirmed
                .iter()
                .all(|r| r[5] == "confirmed" && !r[0].starts_with("LIST")),
            "{backend}: {confirmed:?}"
        );
        let (_, html) = get_page(
            &base,
            &anna,
            &format!("/supplier/invoices?q=LIST&due_to={}", today),
        );
        assert!(
            html.contains("No invoice matches this search."),
            "{backend}: the LIST invoices fall due in 30 days"
        );
        let (_, html) = get_page(&base, &anna, "/supplier/invoices?due_from=soon");
        assert_eq!(
            text_of(&between(
                &html,
                "<p class=\"error\" role=\"alert\">",
                "</p>"
            ))
            .replace("&#34;", "\""),
            "Due from \"soon\" is not a date",
            "{backend}"
        );

        // The retailer searches its payables by the supplier's name.
        let hansa = signed_in(&base, "payables@hansa-retail.example", "demo-retailer-2026");
        let (_, html) = get_page(&base, &hansa, "/retailer/?q=baltic");
        let section = between(&html, "<tbody>", "</tbody>");
        let suppliers: Vec<String> = section
            .split("data-label=\"Supplier\">")
            .skip(1)
            .map(|cell| cell.split('<').next().unwrap().to_string())
            .collect();
        assert!(!suppliers.is_empty(), "{backend}");
        assert!(
            suppliers.iter().all(|s| s == "Baltic Furniture OÜ"),
            "{backend}: {suppliers:?}"
        );
    }
}

/// An entry that concerns a party but holds other parties' figures is
/// listed for it, in its own words, but its body and proof are not: a payout
/// batch with other payees for a supplier, an advance for the buyer. On the
/// web, in the API's receipts and event feed, and in webhooks.
#[test]
fn entries_with_other_parties_figures_are_withheld() {
    for backend in backends() {
        let (db, base, token) = demo_app(backend);
        let batch = scfledger::db::payouts::all_batches(&mut db.connect())
            .unwrap()
            .into_iter()
            .find(|b| b.instructed_seq.is_some())
            .unwrap();
        let seq = batch.instructed_seq.unwrap();
        let operator = Client::new(&base, &token);
        let key = |party: &str, role: &str| {
            let (status, answer) = operator.post(
                "/api/v1/api-keys",
                &serde_json::json!({"party_id": party, "role": role, "label": "t"}),
            );
            assert_eq!(status, 201, "{answer}");
            Client::new(&base, answer["token"].as_str().unwrap())
        };

        // Anna reads the batch in her words; Baltic's account is not on the page.
        let anna = signed_in(&base, "anna@acme-textiles.example", "demo-supplier-2026");
        let (status, html) = get_page(&base, &anna, &format!("/receipts/{seq}"));
        assert_eq!(status, 200, "{backend}");
        assert!(
            html.contains("holds other parties&#39; figures")
                || html.contains("holds other parties' figures"),
            "{backend}: {html}"
        );
        assert!(
            !html.contains("EE58") && !html.contains("Baltic"),
            "{backend}: {html}"
        );
        assert_eq!(
            get_page(&base, &anna, &format!("/receipts/{seq}.json")).0,
            404,
            "{backend}"
        );
        let acme = key("sup-acme", "supplier");
        let (status, refused) = acme.get(&format!("/api/v1/receipts/{seq}"));
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("forbidden")),
            "{backend}: {refused}"
        );
        let (_, feed) = acme.get(&format!("/api/v1/events?after_seq={}&limit=1", seq - 1));
        let event = &feed["data"][0];
        assert_eq!(
            (
                event["seq"].as_i64(),
                event["kind"].as_str(),
                event.get("entry")
            ),
            (Some(seq), Some("payout.batch_created"), None),
            "{backend}: {feed}"
        );
        assert!(event["withheld"].is_string(), "{backend}: {feed}");

        // The buyer's feed lists an advance on its invoice without its price.
        let hansa = key("ret-hansa", "retailer");
        let (_, feed) = hansa.get("/api/v1/events?limit=200");
        let advances: Vec<&serde_json::Value> = feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "advance.accepted")
            .collect();
        assert!(!advances.is_empty(), "{backend}");
        assert!(
            advances
                .iter()
                .all(|e| e.get("entry").is_none() && e["withheld"].is_string()),
            "{backend}: {advances:?}"
        );
        // Webhooks carry whole entries: the buyer's hook gets its invoice's
        // registration and confirmation, not the advance on it.
        std::env::set_var("SCFLEDGER_WEBHOOK_ALLOW_PRIVATE", "true");
        let (status, hook) = hansa.post(
            "/api/v1/webhooks",
            &serde_json::json!({"url": "http://127.0.0.1:9/never"}),
        );
        assert_eq!(status, 201, "{backend}: {hook}");
        let today = chrono::Utc::now().date_naive();
        let (status, registered) = acme.post(
            "/api/v1/invoices",
            &serde_json::json!({"program_id": "prog-hansa-eu", "invoice_number": "HOOK-1",
                "issue_date": today.to_string(), "due_date": (today + chrono::Duration::days(40)).to_string(),
                "currency": "EUR", "amount": "1000.00"}),
        );
        assert_eq!(status, 201, "{backend}: {registered}");
        let invoice_id = registered["id"].as_str().unwrap().to_string();
        let (status, confirmed) = hansa.post(
            &format!("/api/v1/invoices/{invoice_id}/confirm"),
            &serde_json::json!({}),
        );
        assert_eq!(status, 201, "{backend}: {confirmed}");
        let (status, advanced) = acme.post(
            &format!("/api/v1/invoices/{invoice_id}/advance"),
            &serde_json::json!({}),
        );
        assert_eq!(status, 201, "{backend}: {advanced}");
        let (_, deliveries) = hansa.get(&format!(
            "/api/v1/webhooks/{}/deliveries",
            hook["subscription_id"].as_str().unwrap()
        ));
        let delivered: Vec<i64> = deliveries["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["seq"].as_i64().unwrap())
            .collect();
        let seq_of = |answer: &serde_json::Value| answer["receipt"]["seq"].as_i64().unwrap();
        assert!(
            delivered.contains(&seq_of(&registered)) && delivered.contains(&seq_of(&confirmed)),
            "{backend}: {deliveries}"
        );
        assert!(
            !delivered.contains(&seq_of(&advanced)),
            "{backend}: {deliveries}"
        );

        // The supplier reads its own advances whole.
        let (_, feed) = acme.get("/api/v1/events?limit=200");
        assert!(
            feed["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "advance.accepted")
                .all(|e| e["entry"]["body"]["supplier_id"] == "sup-acme"),
            "{backend}: {feed}"
        );
    }
}

/// Treasury creates a programme shared by two funders, and one the retailer
/// funds from its own cash, on its page (issue 17); a syndicate of one
/// funder is refused in words.
#[test]
fn treasury_creates_syndicated_and_buyer_funded_programmes_on_its_page() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let clock = scfledger::services::clock::Clock::system();
        let (ledger, writer) = start(&db);
        scfledger::services::demo::seed(
            &mut db.connect(),
            &ledger,
            db.folder.path(),
            clock.today(),
        )
        .unwrap();
        ledger
            .submit_blocking(
                scfledger::services::party::RegisterParty::parse(
                    &scfledger::domain::PartyId::parse("op-treasury").unwrap(),
                    "fund-sud",
                    "funder",
                    "Südbank AG",
                    None,
                    None,
                )
                .unwrap(),
            )
            .unwrap();
        drop(ledger);
        writer.join().unwrap();
        let (base, _) = spawn_app(&db, clock);
        let signed_in = sign_in(
            &base,
            "treasury@scfledger.example",
            "demo-operator-2026",
            false,
        );
        let operator = session_cookie(&signed_in)
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let (_, html) = get_page(&base, &operator, "/operator/");
        let csrf = csrf_of(&html);
        let terms = |program_id: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("program_id", program_id.to_string()),
                ("retailer_id", "ret-hansa".into()),
                ("currency", "EUR".into()),
                ("advance_rate", "90".into()),
                ("discount_rate", "10".into()),
                ("day_count", "ACT/360".into()),
                ("tenor_min_days", "10".into()),
                ("tenor_max_days", "120".into()),
                ("grace_days", "5".into()),
                ("late_rate", "15".into()),
                ("default_days", "30".into()),
                ("program_limit", "1,000,000.00".into()),
                ("retailer_limit", "1,000,000.00".into()),
                ("supplier_limit_fixed", "100,000.00".into()),
            ]
        };
        let post = |fields: Vec<(&str, String)>| {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(&base, &operator, "/operator/programs", &fields)
        };
        let mut club = terms("prog-club");
        club.extend([
            ("funding", "pro_rata".to_string()),
            ("funder_id", "fund-nord".into()),
            ("commitment_1", "600,000.00".into()),
            ("funder_2", "fund-sud".into()),
            ("commitment_2", "400,000.00".into()),
            ("funder_3", "".into()),
            ("commitment_3", "".into()),
        ]);
        let (status, page) = post(club);
        assert_eq!(status, 200, "{backend}: {page}");
        assert!(
            page.contains("Programme prog-club is created"),
            "{backend}: {page}"
        );
        let program = scfledger::db::financing::program(&mut db.connect(), "prog-club")
            .unwrap()
            .unwrap();
        assert_eq!(
            (program.allocation.as_str(), program.funders.as_str()),
            (
                "pro_rata",
                r#"[{"funder_id":"fund-nord","commitment_minor":60000000},{"funder_id":"fund-sud","commitment_minor":40000000}]"#
            ),
            "{backend}"
        );
        let mut early = terms("prog-early");
        early.extend([
            ("funding", "buyer_funded".to_string()),
            ("funder_id", "fund-nord".into()),
            ("early_payment_budget", "50,000.00".into()),
        ]);
        let (status, page) = post(early);
        assert_eq!(status, 200, "{backend}: {page}");
        let program = scfledger::db::financing::program(&mut db.connect(), "prog-early")
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                program.allocation.as_str(),
                program.funder_id.as_str(),
                program.advance_rate.as_str(),
                program.early_payment_budget_minor
            ),
            ("buyer_funded", "ret-hansa", "1", Some(5_000_000)),
            "{backend}"
        );
        let mut alone = terms("prog-alone");
        alone.extend([
            ("funding", "priority".to_string()),
            ("funder_id", "fund-nord".into()),
            ("commitment_1", "600,000.00".into()),
        ]);
        let (status, page) = post(alone);
        assert_eq!(status, 422, "{backend}");
        assert!(
            page.contains("a priority programme has 2-5 funders, got 1"),
            "{backend}: {page}"
        );
    }
}
