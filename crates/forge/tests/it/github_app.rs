//! GitHub App authentication against recorded responses on loopback: the JWT the app signs
//! (checked with the key's public half), the installation found by organisation, the
//! installation token used for API calls and kept until near its expiry, and a bad key refused
//! without showing it.

use base64::Engine;
use forge::github::GitHub;
use forge::github_app::{Installation, parse_private_key};
use forge::testing::{Fake, Reply};
use forge::{Limits, Secret};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

fn key() -> Secret {
    Secret::new(
        std::fs::read_to_string(forge::testing::fixtures().join("github/app-test-key.pem"))
            .unwrap(),
    )
}

fn token_reply(token: &str, expires_in: i64) -> Reply {
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(expires_in))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut r = Reply::json(
        201,
        &serde_json::json!({
            "token": token, "expires_at": expires,
            "permissions": {"contents": "read", "metadata": "read", "pull_requests": "write"},
            "repository_selection": "all"
        })
        .to_string(),
    );
    r.status = 201;
    r
}

async fn app_fake(token: &str, expires_in: i64) -> Fake {
    let fake = Fake::start().await;
    fake.github_acme();
    fake.route(
        "GET",
        "/orgs/acme/installation",
        Reply::json(200, r#"{"id": 4711, "account": {"login": "acme"}, "app_id": 99, "target_type": "Organization"}"#),
    );
    fake.route(
        "POST",
        "/app/installations/4711/access_tokens",
        token_reply(token, expires_in),
    );
    fake
}

#[tokio::test]
async fn an_app_signs_a_jwt_and_calls_with_its_installation_token() {
    let fake = app_fake("ghs_installation", 3600).await;
    let gh = GitHub::with_app(
        Some(&fake.base),
        99,
        &key(),
        Installation::Org("acme".into()),
        Limits::default(),
    )
    .unwrap();
    assert!(!format!("{gh:?}").contains("PRIVATE KEY"));
    let repos = gh.org_repos("acme").await.unwrap();
    assert_eq!(repos.items.len(), 4);
    gh.languages("acme/storefront").await.unwrap();
    let reqs = fake.requests();
    let paths: Vec<(&str, &str)> = reqs.iter().map(|r| (r.method.as_str(), r.path())).collect();
    assert_eq!(
        paths[..3],
        [
            ("GET", "/orgs/acme/installation"),
            ("POST", "/app/installations/4711/access_tokens"),
            ("GET", "/orgs/acme/repos"),
        ]
    );
    assert_eq!(reqs.len(), 5, "one token for every call: {paths:?}");
    // The JWT: RS256 over header.claims, signed by the app's key, issued by the app.
    let jwt = reqs[0]
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap();
    assert_eq!(
        reqs[1].header("authorization"),
        reqs[0].header("authorization")
    );
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], "99");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 600);
    assert!(iat <= chrono::Utc::now().timestamp() - 59);
    let pair = parse_private_key(&key()).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref())
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .expect("the JWT is signed with the app's key");
    for r in &reqs[2..] {
        assert_eq!(r.header("authorization"), Some("Bearer ghs_installation"));
    }
}

#[tokio::test]
async fn a_token_near_its_expiry_is_minted_again() {
    let fake = app_fake("ghs_short", 60).await;
    let gh = GitHub::with_app(
        Some(&fake.base),
        99,
        &key(),
        Installation::Id(4711),
        Limits::default(),
    )
    .unwrap();
    gh.languages("acme/storefront").await.unwrap();
    gh.languages("acme/storefront").await.unwrap();
    let minted = fake
        .requests()
        .iter()
        .filter(|r| r.path() == "/app/installations/4711/access_tokens")
        .count();
    assert_eq!(
        minted, 2,
        "a token expiring within five minutes is not reused"
    );
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path() == "/orgs/acme/installation"),
        "a known installation id is not looked up"
    );
}

#[tokio::test]
async fn a_bad_key_or_a_missing_installation_is_a_clear_error() {
    let e = GitHub::with_app(
        None,
        1,
        &Secret::new(
            "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n",
        ),
        Installation::Id(1),
        Limits::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not a usable RSA key") && !e.contains("bm90IGEga2V5"),
        "{e}"
    );
    let e = GitHub::with_app(
        None,
        1,
        &Secret::new("hello"),
        Installation::Id(1),
        Limits::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("is not PEM"), "{e}");

    let fake = Fake::start().await;
    fake.github_acme();
    let gh = GitHub::with_app(
        Some(&fake.base),
        99,
        &key(),
        Installation::Org("acme".into()),
        Limits::default(),
    )
    .unwrap();
    let e = gh.org_repos("acme").await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("/orgs/acme/installation"), "{e}");
}
