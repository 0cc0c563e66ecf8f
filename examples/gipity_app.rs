//! A Gipity app's Rust client and its own JavaScript backend, together with no network.
//!
//! ```text
//! cargo run --example gipity_app
//! ```
//!
//! The stubs below are checked against `examples/gipity-app/gipity.yaml` when they compile
//! (their auth levels come from it), and the embedded emulator runs the app's real
//! `functions/*.js` under Node.js against a private PostgreSQL seeded from `seed/`.

use std::path::Path;
use std::process::ExitCode;

use gipity_emulator::Emulator;
use gipity_runtime::{Client, Credentials, Result};
use serde::Deserialize;

/// A row of `items`; `price` is a `numeric`, which arrives as a string.
#[derive(Debug, Deserialize)]
struct Item {
    id: u32,
    name: String,
    price: String,
}

#[derive(Debug, Deserialize)]
struct Count {
    count: u64,
}

#[derive(Debug, Deserialize)]
struct Todo {
    id: u32,
    title: String,
    done: bool,
}

#[derive(Debug, Deserialize)]
struct Todos {
    todos: Vec<Todo>,
}

/// The app's functions, as `gipity-app/gipity.yaml` declares them.
#[gipity_runtime::functions(manifest = "gipity-app/gipity.yaml")]
trait App {
    /// The items of one category.
    #[gipity(name = "list-items")]
    async fn list_items(&self, category: &str) -> Result<Vec<Item>>;

    /// How many items one category has.
    #[gipity(name = "count-items")]
    async fn count_items(&self, category: &str) -> Result<Count>;

    /// Adds a todo for the signed-in user.
    #[gipity(name = "add-todo")]
    async fn add_todo(&self, title: &str) -> Result<Todo>;

    /// The signed-in user's todos.
    #[gipity(name = "my-todos")]
    async fn my_todos(&self) -> Result<Todos>;
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gipity_app failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("gipity-app");
    let emulator = Emulator::builder().project(&project).start().await?;
    let app = emulator
        .project_app()
        .unwrap_or(gipity_emulator::DEFAULT_PROJECT_APP);
    println!(
        "serving {} as {app} at {}",
        project.display(),
        emulator.base_url()
    );

    // `list-items` and `count-items` are public: no sign-in needed.
    let client = Client::builder(app).base_url(emulator.base_url()).build()?;
    for item in client.list_items("books").await? {
        println!("#{} {} ({})", item.id, item.name, item.price);
    }
    println!("{} games", client.count_items("games").await?.count);

    // `add-todo` and `my-todos` are `auth: user`: sign a user in first.
    let user = emulator.create_user("Ada");
    emulator.grant_consent(&user, app, 1);
    let cookie = emulator.sign_in(&user);
    let signed_in = Client::builder(app)
        .base_url(emulator.base_url())
        .credentials(Credentials::session().with_cookies(cookie))
        .build()?;
    let todo = signed_in.add_todo("try the offline twin").await?;
    println!("added todo #{}: {}", todo.id, todo.title);
    for todo in signed_in.my_todos().await?.todos {
        println!("[{}] {}", if todo.done { "x" } else { " " }, todo.title);
    }
    Ok(())
}
