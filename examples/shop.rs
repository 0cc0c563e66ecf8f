//! The grouped form: one trait binds a project's functions as methods of `Client`.
//!
//! ```text
//! cargo run --example shop
//! ```
//!
//! Starts the embedded emulator with a small shop app (`get-items`, `add-to-cart`,
//! `checkout`), signs a player in with app-player credentials, and shops. With
//! `GIPITY_API_BASE` and `GIPITY_APP` set it runs against that API instead (the project must
//! have those functions).

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use gipity_emulator::{Auth, Call, Emulator, FnError};
use gipity_runtime::{Client, Credentials, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One thing the shop sells.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Item {
    id: u64,
    name: String,
    price_cents: u64,
}

/// What `checkout` returns.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    order_id: String,
    total_cents: u64,
    items: usize,
}

/// The shop's functions; keys are sent in `camelCase`. Their auth levels are written once,
/// in `examples/gipity.yaml`: `get-items` is public, the others need a signed-in user.
#[gipity_runtime::functions(rename_all = "camelCase")]
trait Shop {
    /// The items of one category, cheapest first.
    #[gipity(name = "get-items")]
    async fn get_items(&self, category: &str, max_price_cents: Option<u64>) -> Result<Vec<Item>>;

    /// Adds an item to the signed-in player's cart; returns the cart size.
    #[gipity(name = "add-to-cart")]
    async fn add_to_cart(&self, item_id: u64, quantity: u32) -> Result<u32>;

    /// Buys what is in the cart.
    #[gipity(timeout = "10s")]
    async fn checkout(&self, coupon: Option<&str>) -> Result<Receipt>;
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shop failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let remote = std::env::var("GIPITY_API_BASE")
        .ok()
        .zip(std::env::var("GIPITY_APP").ok());
    let _emulator;
    let (base, app) = match remote {
        Some(remote) => {
            _emulator = None;
            remote
        }
        None => {
            let emu = Emulator::start().await?;
            open_shop(&emu);
            println!("started the embedded emulator at {}", emu.base_url());
            let base = emu.base_url();
            _emulator = Some(emu);
            (base, "p_shop".to_owned())
        }
    };

    // A native game or tool signs its player in with a device secret: no browser needed.
    let client = Client::builder(app)
        .base_url(base)
        .credentials(Credentials::player_named(
            "example-device-secret-0123456789abcdef",
            "Shopper",
        ))
        .build()?;

    let books = client.get_items("books", Some(2_000)).await?;
    println!("books under $20:");
    for item in &books {
        println!(
            "  #{} {} (${:.2})",
            item.id,
            item.name,
            cents(item.price_cents)
        );
    }
    for item in &books {
        let size = client.add_to_cart(item.id, 1).await?;
        println!("added {} -> {size} in the cart", item.name);
    }
    let receipt = client.checkout(Some("WELCOME")).await?;
    println!(
        "order {}: {} items, ${:.2}",
        receipt.order_id,
        receipt.items,
        cents(receipt.total_cents)
    );
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
fn cents(cents: u64) -> f64 {
    cents as f64 / 100.0
}

/// The shop's functions, as the project's `functions/*.js` would implement them.
fn open_shop(emu: &Emulator) {
    let catalogue = vec![
        (1, "Dune", "books", 1_299),
        (2, "Emma", "books", 899),
        (3, "Middlemarch", "books", 2_499),
        (4, "Go board", "games", 4_999),
    ];
    let carts: Arc<Mutex<HashMap<String, Vec<u64>>>> = Arc::default();
    let app = emu.app("p_shop");

    let items = catalogue.clone();
    app.function("get-items", Auth::Public, move |call: Call| {
        let category = call.body["category"]
            .as_str()
            .ok_or_else(|| FnError::new("`category` is required"))?;
        let max = call.body["maxPriceCents"].as_u64().unwrap_or(u64::MAX);
        let mut found: Vec<Value> = items
            .iter()
            .filter(|(_, _, c, price)| *c == category && *price <= max)
            .map(|(id, name, _, price)| json!({"id": id, "name": name, "price_cents": price}))
            .collect();
        found.sort_by_key(|item| item["price_cents"].as_u64());
        Ok(Value::Array(found))
    });

    let cart = Arc::clone(&carts);
    app.function("add-to-cart", Auth::User, move |call: Call| {
        let user = call.user.ok_or_else(|| FnError::new("not signed in"))?;
        let id = call.body["itemId"]
            .as_u64()
            .ok_or_else(|| FnError::new("`itemId` is required"))?;
        let quantity = call.body["quantity"].as_u64().unwrap_or(1);
        let mut carts = cart.lock().map_err(|_| FnError::new("cart unavailable"))?;
        let items = carts.entry(user.guid).or_default();
        items.extend(std::iter::repeat_n(
            id,
            usize::try_from(quantity).unwrap_or(0),
        ));
        Ok(json!(items.len()))
    });

    app.function("checkout", Auth::User, move |call: Call| {
        let user = call.user.ok_or_else(|| FnError::new("not signed in"))?;
        let mut carts = carts.lock().map_err(|_| FnError::new("cart unavailable"))?;
        let items = carts.remove(&user.guid).unwrap_or_default();
        let mut total: u64 = items
            .iter()
            .filter_map(|id| catalogue.iter().find(|(i, ..)| i == id))
            .map(|(.., price)| price)
            .sum();
        if call.body["coupon"] == json!("WELCOME") {
            total = total * 9 / 10;
        }
        Ok(json!({"orderId": format!("o_{}", items.len()), "totalCents": total, "items": items.len()}))
    });
}
