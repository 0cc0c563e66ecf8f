//! Chat: stream an answer of the LLM service to the terminal as it arrives.
//!
//! ```text
//! cargo run --example chat -- "Why is the sky blue?"
//! ```
//!
//! With no setup it starts the embedded emulator, whose demo app bills its LLM use to its users
//! (`user_pays`, the platform's default): the first request meets `LOGIN_REQUIRED`, the auth
//! handler signs in (and grants AI use), and the answer streams in, event by event. The
//! emulator's model answers with the prompt reversed, a few characters an event. With
//! `GIPITY_API_BASE` and `GIPITY_APP` set it runs against that API instead (the auth handler
//! then prints the login URL rather than signing in).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use gipity_emulator::Emulator;
use gipity_runtime::llm::{ChatEvent, ChatRequest, Message};
use gipity_runtime::{AuthOutcome, Challenge, Client, CookieJar, Credentials};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Stream me a sentence, one piece at a time.".to_owned());
    let remote = std::env::var("GIPITY_API_BASE")
        .ok()
        .zip(std::env::var("GIPITY_APP").ok());
    let emulator;
    let (base, app) = match remote {
        Some((base, app)) => {
            emulator = None;
            println!("using the Gipity API at {base}, app {app}");
            (base, app)
        }
        None => {
            let emu = Emulator::builder().demo(true).start().await?;
            // Slow enough to watch the answer arrive.
            emu.app("p_demo")
                .set_llm_stream(3, Duration::from_millis(40));
            println!("started the embedded emulator at {}", emu.base_url());
            let base = emu.base_url();
            emulator = Some(emu);
            (base, "p_demo".to_owned())
        }
    };

    let jar = CookieJar::new();
    let handler_jar = jar.clone();
    let client = Client::builder(app)
        .base_url(base)
        .credentials(Credentials::session_with_jar(jar))
        .on_auth_required(move |challenge: Challenge| {
            let (jar, emulator) = (handler_jar.clone(), emulator.clone());
            async move { sign_in(&challenge, emulator.as_ref(), &jar) }
        })
        .build()?;

    let request = ChatRequest::new()
        .message(Message::system("Answer briefly."))
        .message(Message::user(prompt));
    println!("\n> streaming the answer");
    let mut stream = client.llm().stream(&request).await?;
    let mut stdout = std::io::stdout();
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::Delta { text } => {
                print!("{text}");
                stdout.flush()?;
            }
            ChatEvent::Done {
                finish_reason,
                credits_used,
                ..
            } => println!(
                "\n\n(finished: {}; {} credits)",
                finish_reason.as_deref().unwrap_or("?"),
                credits_used.map_or("?".to_owned(), |c| c.to_string())
            ),
            _ => {}
        }
    }
    Ok(())
}

/// The auth handler: a terminal app would open `challenge.url()` in a browser; here the
/// emulator stands in for the user signing in and allowing AI use.
fn sign_in(challenge: &Challenge, emulator: Option<&Emulator>, jar: &CookieJar) -> AuthOutcome {
    println!(
        "< {:?} required for the `{}` service",
        challenge.kind(),
        challenge.service().unwrap_or("?")
    );
    println!(
        "  (the app bills its users: `user_pays`) {}",
        challenge.url()
    );
    let Some(emulator) = emulator else {
        println!("  open that URL in a browser to sign in, then run again");
        return AuthOutcome::NotHandled;
    };
    let user = emulator.create_user("Chat User");
    match emulator.complete_login(challenge.url().as_str(), &user) {
        Ok(cookie) => {
            jar.add(&format!("{cookie}; Path=/"), challenge.url());
            println!("< signed in as {}; sending again", user.display_name);
            AuthOutcome::Completed
        }
        Err(error) => {
            println!("< sign-in failed: {error}");
            AuthOutcome::Denied
        }
    }
}
