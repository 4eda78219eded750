//! GitHub App authentication: the app signs a short-lived JWT (RS256, with its private key) to
//! ask GitHub for an installation access token, which is what API calls then carry. The token is
//! kept until five minutes before it expires and minted again on demand, so a long-running
//! scheduler never holds an expired one. The private key and tokens are [`Secret`]s: never
//! printed, and errors name what failed, not the key.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

use crate::rest::{Client, Error, Limits, Method, TokenSource};
use crate::{Secret, encode_segment};

/// Which installation of the app the token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installation {
    /// Known by id (shown on the installation's settings page).
    Id(u64),
    /// The app's installation on this organisation, looked up with `GET /orgs/{org}/installation`.
    Org(String),
}

/// Renewal margin: a token this close to its expiry is replaced first.
const MARGIN: Duration = Duration::from_secs(300);

/// Reads an RSA private key in PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands out) or
/// PKCS#8 (`BEGIN PRIVATE KEY`).
pub fn parse_private_key(pem: &Secret) -> Result<RsaKeyPair, Error> {
    let text = pem.expose();
    let body = |label: &str| -> Option<Vec<u8>> {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let start = text.find(&begin)? + begin.len();
        let stop = start + text[start..].find(&end)?;
        let b64: String = text[start..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD.decode(b64).ok()
    };
    let invalid = |why: &str| Error::Invalid(format!("the GitHub App private key {why}"));
    if let Some(der) = body("RSA PRIVATE KEY") {
        return RsaKeyPair::from_der(&der)
            .map_err(|e| invalid(&format!("is not a usable RSA key ({e})")));
    }
    if let Some(der) = body("PRIVATE KEY") {
        return RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| invalid(&format!("is not a usable RSA key ({e})")));
    }
    Err(invalid(
        "is not PEM (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)",
    ))
}

/// Signs the app's JWTs.
struct Jwt {
    app_id: u64,
    key: Arc<RsaKeyPair>,
}

impl Jwt {
    /// A JWT valid from a minute ago (clock drift) for nine minutes (GitHub allows ten).
    fn sign(&self, now: u64) -> Result<Secret, Error> {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = b64(
            json!({"iat": now - 60, "exp": now + 540, "iss": self.app_id.to_string()})
                .to_string()
                .as_bytes(),
        );
        let message = format!("{header}.{claims}");
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::Invalid("cannot sign the GitHub App JWT".into()))?;
        Ok(Secret::new(format!("{message}.{}", b64(&signature))))
    }
}

impl TokenSource for Jwt {
    fn token(&self) -> std::pin::Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + '_>> {
        Box::pin(async move { self.sign(epoch_secs()) })
    }
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A GitHub App's installation tokens, minted on demand and renewed before they expire.
pub struct GitHubApp {
    /// Calls made as the app (with a JWT): finding the installation, minting tokens.
    as_app: Client,
    installation: Installation,
    /// (token, expiry).
    current: tokio::sync::Mutex<Option<(Secret, SystemTime)>>,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp")
            .field("api", &self.as_app.base())
            .field("installation", &self.installation)
            .finish_non_exhaustive()
    }
}

impl GitHubApp {
    /// The app `app_id` with its private key (PEM), at the API `base`, for `installation`.
    pub fn new(
        base: &str,
        app_id: u64,
        private_key: &Secret,
        installation: Installation,
        headers: Vec<(&'static str, String)>,
        limits: Limits,
    ) -> Result<GitHubApp, Error> {
        let key = Arc::new(parse_private_key(private_key)?);
        let as_app =
            Client::with_token_source(base, Arc::new(Jwt { app_id, key }), headers, limits)?;
        Ok(GitHubApp {
            as_app,
            installation,
            current: tokio::sync::Mutex::new(None),
        })
    }

    async fn mint(&self) -> Result<(Secret, SystemTime), Error> {
        let id = match &self.installation {
            Installation::Id(id) => *id,
            Installation::Org(org) => {
                let v: Value = self
                    .as_app
                    .get_json(&format!("/orgs/{}/installation", encode_segment(org)))
                    .await?;
                v.get("id").and_then(Value::as_u64).ok_or_else(|| {
                    Error::Invalid(format!("the app's installation on {org} has no id"))
                })?
            }
        };
        let path = format!("/app/installations/{id}/access_tokens");
        let v = self
            .as_app
            .send_json(Method::POST, &path, &json!({}))
            .await?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Invalid(format!("{path}: the answer has no token")))?;
        // GitHub's tokens last an hour; an unreadable expiry is taken as the shortest safe one.
        let expires = v
            .get("expires_at")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| u64::try_from(t.timestamp()).ok())
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
            .unwrap_or_else(|| SystemTime::now() + MARGIN);
        Ok((Secret::new(token), expires))
    }
}

impl TokenSource for GitHubApp {
    fn token(&self) -> std::pin::Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + '_>> {
        Box::pin(async move {
            // Held across the mint: concurrent requests wait for one token, not mint several.
            let mut current = self.current.lock().await;
            if let Some((token, expires)) = current.as_ref()
                && SystemTime::now() + MARGIN < *expires
            {
                return Ok(token.clone());
            }
            let (token, expires) = self.mint().await?;
            *current = Some((token.clone(), expires));
            Ok(token)
        })
    }
}
