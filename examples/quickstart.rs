//! Quickstart: call Gipity functions from Rust.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With no setup it starts the embedded emulator (a local Gipity API on 127.0.0.1) with the
//! demo app `p_demo`, and walks through: a public call, a call that needs a signed-in user, the
//! `LOGIN_REQUIRED` answer, a sign-in through the client's auth handler, the automatic retry,
//! and a typed error. With `GIPITY_API_BASE` and `GIPITY_APP` set it runs against that API
//! instead (the auth handler then prints the login URL rather than signing in).

use std::process::ExitCode;

use gipity_emulator::Emulator;
use gipity_runtime::{AuthOutcome, Challenge, Client, CookieJar, Credentials, Error, Result, User};
use serde::Deserialize;

/// What `echo` sends back.
#[derive(Debug, Deserialize)]
struct Echoed {
    message: String,
}

/// Returns its body.
#[gipity_runtime::function(auth = "public")]
async fn echo(message: &str) -> Result<Echoed>;

/// Adds two numbers.
#[gipity_runtime::function(auth = "public")]
async fn add(a: f64, b: f64) -> Result<f64>;

/// The signed-in user.
#[gipity_runtime::function(auth = "user")]
async fn whoami() -> Result<User>;

/// Always throws.
#[gipity_runtime::function(auth = "public")]
async fn boom() -> Result<()>;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("quickstart failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let remote = std::env::var("GIPITY_API_BASE")
        .ok()
        .zip(std::env::var("GIPITY_APP").ok());
    // Keep the emulator alive for the whole run.
    let emulator;
    let (base, app) = match remote {
        Some((base, app)) => {
            emulator = None;
            println!("using the Gipity API at {base}, app {app}");
            (base, app)
        }
        None => {
            let emu = Emulator::builder().demo(true).start().await?;
            println!("started the embedded emulator at {}", emu.base_url());
            let base = emu.base_url();
            emulator = Some(emu);
            (base, "p_demo".to_owned())
        }
    };

    // The session credential keeps the user's session cookie in this jar; the auth handler
    // puts the cookie there once the user has signed in.
    let jar = CookieJar::new();
    let handler_jar = jar.clone();
    let handler_emulator = emulator.clone();
    Client::builder(app)
        .base_url(base)
        .credentials(Credentials::session_with_jar(jar))
        .on_auth_required(move |challenge: Challenge| {
            let jar = handler_jar.clone();
            let emulator = handler_emulator.clone();
            async move { sign_in(challenge, emulator, jar) }
        })
        .build()?
        // The stubs below call through this client from now on.
        .install()?;

    println!("\n1. public function `echo`");
    let echoed = echo("hello from Rust").await?;
    println!("   -> {:?}", echoed.message);

    println!("\n2. public function `add`");
    let sum = add(2.0, 3.5).await?;
    println!("   -> 2 + 3.5 = {sum}");

    println!("\n3. `whoami` needs a signed-in user");
    let me = whoami().await?;
    println!("   -> signed in as {} ({})", me.display_name, me.guid);

    println!("\n4. `boom` throws: the error is typed");
    match boom().await {
        Err(error @ Error::Http { .. }) => println!(
            "   -> status {:?}, code {:?}: {error}",
            error.status(),
            error.code()
        ),
        other => return Err(format!("expected a typed HTTP error, got {other:?}").into()),
    }

    println!("\ndone");
    Ok(())
}

/// The auth handler: what the app does when a call meets `LOGIN_REQUIRED`/`CONSENT_REQUIRED`.
/// A desktop app would open `challenge.url()` in the browser; here the emulator stands in for
/// the user completing the login page.
fn sign_in(challenge: Challenge, emulator: Option<Emulator>, jar: CookieJar) -> AuthOutcome {
    println!("   <- {:?} required: {}", challenge.kind(), challenge.url());
    let Some(emulator) = emulator else {
        println!("   open that URL in a browser to sign in, then run again");
        return AuthOutcome::NotHandled;
    };
    let user = emulator.create_user("Demo User");
    match emulator.complete_login(challenge.url().as_str(), &user) {
        Ok(cookie) => {
            jar.add(&format!("{cookie}; Path=/"), challenge.url());
            println!(
                "   <- signed in as {}; retrying the call",
                user.display_name
            );
            AuthOutcome::Completed
        }
        Err(error) => {
            println!("   <- sign-in failed: {error}");
            AuthOutcome::Denied
        }
    }
}
