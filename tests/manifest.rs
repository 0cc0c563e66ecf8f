//! Stubs that take their auth level from `gipity.yaml` (`manifest = ".."`), over HTTP: the
//! level the manifest declares is the one the call enforces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{APP, builder, emulator, signed_in_client};
use gipity_runtime::{Credentials, Error, Result};
use serde_json::{Value, json};

/// `auth: user` in the manifest.
#[gipity_runtime::function(manifest = "fixtures/gipity.yaml")]
pub async fn whoami() -> Result<Value>;

/// The same function with its level written out, agreeing with the manifest.
#[gipity_runtime::function(name = "whoami", manifest = "fixtures/gipity.yaml", auth = "user")]
pub async fn whoami_written() -> Result<Value>;

/// The same function without a manifest (none is found above this crate): its level is not
/// known, so the client sends what it has.
#[gipity_runtime::function(name = "whoami")]
pub async fn whoami_unchecked() -> Result<Value>;

/// The app's functions, checked against the manifest as a group.
#[gipity_runtime::functions(manifest = "fixtures/gipity.yaml")]
pub trait App {
    /// `auth: public`.
    async fn echo(&self, word: &str) -> Result<Value>;
    /// `auth: member`.
    async fn secret(&self) -> Result<Value>;
}

#[tokio::test]
async fn a_stub_without_auth_takes_the_manifests_and_fails_closed() {
    let emu = emulator().await;
    let anonymous = builder(&emu)
        .credentials(Credentials::anonymous())
        .build()
        .unwrap();
    // `auth: user` from the manifest: nothing is sent without a credential.
    let err = anonymous.scope(whoami()).await.unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    let err = anonymous.scope(whoami_written()).await.unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "whoami"), 0);
    // Without the manifest the same call is sent, and refused by the server.
    let err = anonymous.scope(whoami_unchecked()).await.unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    assert_eq!(emu.calls(APP, "whoami"), 1);
    // `auth: member` through the trait: the same.
    let err = anonymous.secret().await.unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "secret"), 0);
    // `auth: public`: called anonymously.
    assert_eq!(anonymous.echo("hi").await.unwrap(), json!({"word": "hi"}));
    assert_eq!(emu.calls(APP, "echo"), 1);
}

#[tokio::test]
async fn a_signed_in_user_calls_the_manifests_user_function() {
    let emu = emulator().await;
    let (client, user) = signed_in_client(&emu);
    let me = client.scope(whoami()).await.unwrap();
    assert_eq!(me["guid"], json!(user.guid));
}
