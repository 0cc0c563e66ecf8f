//! No secret (app token, player token, cookie, API key, bearer, device secret) ever appears in
//! `Debug` or `Display` of anything the runtime hands out, nor in its logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{APP, builder, emulator, login_handler};
use gipity_emulator::{Fault, Target, Times};
use gipity_runtime::{
    AuthOutcome, Challenge, Client, CookieJar, Credentials, Error, Permissions, RemoteFunction,
};
use serde_json::{Value, json};

/// Collects everything the `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Collects every `log` record (dependencies such as cookie stores log through `log`, and
/// with `tracing`'s `log-always` feature, which this package turns on, so does the runtime).
struct LogCapture(Arc<Mutex<Vec<String>>>);

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0.lock().unwrap().push(format!(
            "{} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

#[tokio::test]
async fn no_secret_in_debug_display_or_trace_output() {
    let log_records = Arc::new(Mutex::new(Vec::new()));
    log::set_boxed_logger(Box::new(LogCapture(Arc::clone(&log_records)))).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    log::info!("the log capture is on");
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator().await;
    let user = emu.create_user("Ivy");
    emu.grant_consent(&user, APP, 1);
    let cookie = emu.sign_in(&user);
    let api_key = emu.app(APP).api_key();
    let account_token = emu.account_token(&user);
    let device_secret = "device-secret-0123456789-abcdefghijklmnop".to_owned();

    let mut formatted = Vec::new();
    let mut record = |what: &str, debug: String, display: Option<String>| {
        formatted.push(format!("{what}: {debug}"));
        if let Some(display) = display {
            formatted.push(format!("{what}: {display}"));
        }
    };

    // Every credential type, and every client built from one.
    let jar = CookieJar::new();
    let credentials = [
        Credentials::session().with_cookies(cookie.clone()),
        Credentials::session_with_jar(jar.clone()).with_cookies(cookie.clone()),
        Credentials::player(device_secret.clone()),
        Credentials::player_named(device_secret.clone(), "P"),
        Credentials::api_key(api_key.clone()),
        Credentials::bearer(account_token.clone()),
        Credentials::anonymous(),
    ];
    let mut clients = Vec::new();
    for creds in credentials {
        record("credentials", format!("{creds:?}"), None);
        let b = builder(&emu).credentials(creds);
        record("builder", format!("{b:?}"), None);
        let client = b
            .on_auth_required(|_: Challenge| async { AuthOutcome::Denied })
            .build()
            .unwrap();
        record("client", format!("{client:?}"), None);
        clients.push(client);
    }
    record("jar", format!("{jar:?}"), None);

    // A full run: calls that succeed, refresh, and fail in every way the emulator can make.
    let mut errors: Vec<Error> = Vec::new();
    for client in &clients {
        for name in ["echo", "whoami", "secret", "ai", "boom", "missing"] {
            if let Err(e) = client.call::<Value>(name, &json!({"k": "v"})).await {
                errors.push(e);
            }
        }
    }
    let session = &clients[0];
    emu.expire_tokens();
    let _: Value = session.call("echo", &json!(1)).await.unwrap();
    let faults = [
        Fault::ExpiredToken,
        Fault::HtmlBadGateway,
        Fault::MalformedJson,
        Fault::Truncated,
        Fault::ResetConnection,
        Fault::RateLimited {
            retry_after: Some(3600),
        },
        Fault::LargeBody(32 * 1024 * 1024),
        Fault::Status {
            status: 500,
            code: "X".into(),
            message: "y".into(),
        },
        Fault::SoftError("soft".into()),
        Fault::Redirect {
            status: 307,
            location: "http://127.0.0.1:9/elsewhere".into(),
        },
    ];
    for fault in faults {
        emu.inject(Target::function(APP, "echo"), fault, Times::Always);
        let function = RemoteFunction::new("echo").soft_errors(true);
        if let Err(e) = session.call_function::<Value>(&function, &json!({})).await {
            errors.push(e);
        }
        emu.clear_faults();
    }
    emu.inject(
        Target::function(APP, "echo"),
        Fault::Delay(Duration::from_millis(500)),
        Times::Once,
    );
    let slow = RemoteFunction::new("echo").timeout(Duration::from_millis(50));
    errors.push(
        session
            .call_function::<Value>(&slow, &json!({}))
            .await
            .unwrap_err(),
    );
    emu.inject(Target::Token, Fault::HtmlBadGateway, Times::Always);
    session.clear_tokens();
    errors.push(
        session
            .call::<Value>("whoami", &json!({}))
            .await
            .unwrap_err(),
    );
    emu.clear_faults();
    errors.push(
        Client::builder("p_x")
            .credentials(Credentials::api_key("p_x"))
            .build()
            .unwrap_err(),
    );
    errors.push(session.call::<Value>("../x", &json!({})).await.unwrap_err());
    errors.push(Client::current().unwrap_err());
    let not_json: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
    errors.push(session.call::<Value>("echo", &not_json).await.unwrap_err());

    // A sign-in the auth handler completes (the session cookie the login sets goes into the
    // jar), the auth state and the user, as a signed-in session client sees them.
    let login_jar = CookieJar::new();
    let signed_in = builder(&emu)
        .credentials(Credentials::session_with_jar(login_jar.clone()))
        .on_auth_required(login_handler(
            &emu,
            login_jar.clone(),
            emu.create_user("Jon"),
            Arc::new(AtomicUsize::new(0)),
        ))
        .build()
        .unwrap();
    let _: Value = signed_in.call("whoami", &json!({})).await.unwrap();
    record("jar after login", format!("{login_jar:?}"), None);
    for permissions in [
        Permissions::IDENTITY,
        Permissions::IDENTITY | Permissions::AI,
    ] {
        let status = signed_in.auth_status(permissions).await.unwrap();
        record("auth status", format!("{status:?}"), None);
    }
    let me = signed_in.me().await.unwrap();
    record("me", format!("{me:?}"), None);

    // Every credential that went over the wire: app tokens, player tokens, keys, cookies.
    let mut wire_secrets: Vec<String> = Vec::new();
    for (name, value) in emu.requests().into_iter().flat_map(|r| r.headers) {
        match name.as_str() {
            "x-app-token" | "x-api-key" => wire_secrets.push(value),
            "authorization" => {
                wire_secrets.extend(value.strip_prefix("Bearer ").map(str::to_owned));
            }
            "cookie" => wire_secrets.extend(
                value
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(_, v)| v.trim().to_owned()),
            ),
            _ => {}
        }
    }
    wire_secrets.sort();
    wire_secrets.dedup();

    // A server that echoes them back in its errors: they are redacted from the error too.
    for secret in &wire_secrets {
        for body in [
            json!({"error": {"code": secret, "message": "m"}}).to_string(),
            json!({"error": {"code": "X", "message": format!("bad session={secret}")}}).to_string(),
            json!({"error": {"code": "X", "message": format!("Authorization: Bearer {secret}")}})
                .to_string(),
            format!("<html><p>token {secret}</p></html>"),
        ] {
            emu.inject(
                Target::function(APP, "echo"),
                Fault::Json { status: 500, body },
                Times::Once,
            );
            errors.push(session.call::<Value>("echo", &json!({})).await.unwrap_err());
        }
        // As the code of a 401, which the client answers by refreshing its token (and logs).
        emu.inject(
            Target::function(APP, "echo"),
            Fault::Json {
                status: 401,
                body: json!({"error": {"code": secret, "message": "m"}}).to_string(),
            },
            Times::N(2),
        );
        errors.push(session.call::<Value>("echo", &json!({})).await.unwrap_err());
        // As a soft error, the function's own words.
        emu.inject(
            Target::function(APP, "echo"),
            Fault::SoftError(format!("card declined; token {secret}")),
            Times::Once,
        );
        let soft = RemoteFunction::new("echo").soft_errors(true);
        let error = session
            .call_function::<Value>(&soft, &json!({}))
            .await
            .unwrap_err();
        let Error::Function { message, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(message.starts_with("card declined; token"), "{message}");
        errors.push(error);
    }

    let mut kinds = std::collections::BTreeSet::new();
    for error in &errors {
        kinds.insert(
            format!("{error:?}")
                .split(['(', ' ', '{'])
                .next()
                .unwrap()
                .to_owned(),
        );
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(s) = source {
            chain.push_str(&format!(" <- {s} / {s:?}"));
            source = s.source();
        }
        record("error", format!("{error:?}"), Some(chain));
        if let Some(challenge) = error.challenge() {
            record(
                "challenge",
                format!("{challenge:?}"),
                Some(challenge.url().to_string()),
            );
        }
    }
    for expected in [
        "Transport",
        "Encode",
        "Timeout",
        "Http",
        "Decode",
        "BodyTooLarge",
        "Redirected",
        "LoginRequired",
        "ConsentRequired",
        "RateLimited",
        "CredentialUnavailable",
        "Function",
        "InvalidConfig",
        "InvalidRequest",
        "NoClient",
    ] {
        assert!(
            kinds.contains(expected),
            "variant {expected} was produced: {kinds:?}"
        );
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("gipity.call"), "the run was traced");
    let session_value = cookie.split_once('=').unwrap().1.to_owned();
    assert!(
        wire_secrets.iter().any(|t| t.starts_with("eyJ")),
        "app tokens were sent"
    );
    assert!(
        wire_secrets.len() >= 6,
        "app and player tokens, key, account token, cookies: {}",
        wire_secrets.len()
    );
    let mut secrets = vec![session_value, api_key, account_token, device_secret];
    secrets.extend(wire_secrets);
    let log_records = log_records.lock().unwrap().join("\n");
    assert!(log_records.contains("the log capture is on"));
    assert!(
        log_records.contains("gipity_runtime"),
        "the runtime's events reached `log` too"
    );
    let everything = format!("{}\n{}\n{}", formatted.join("\n"), logs, log_records);
    for secret in &secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret leaked: {}...",
            &secret[..6]
        );
    }
}

#[test]
fn a_builder_shows_no_raw_setting() {
    let builder = Client::builder("gip_at_secretaccounttoken0123456789")
        .base_url("http://user:hunter2pass@127.0.0.1:1/")
        .return_url("https://app.gipity.ai/a/b/?session=cookievalue0123456789");
    let shown = format!("{builder:?}");
    for secret in ["secretaccounttoken", "hunter2pass", "cookievalue"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("(invalid)") && shown.contains("base_url_set: true"),
        "{shown}"
    );
    let shown = format!("{:?}", Client::builder("p_abc123"));
    assert!(shown.contains("p_abc123"), "a valid GUID is shown: {shown}");
}
