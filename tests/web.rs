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
