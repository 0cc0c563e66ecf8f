//! `--project DIR`: a Gipity app's own functions, `DIR/functions/<name>.js` (or
//! `<name>/index.js`), run under Node.js with the auth levels its `gipity.yaml` declares.

pub(crate) mod db;
pub(crate) mod node;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gipity_manifest::Manifest;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::model::{Auth, Call, Caller, ConsoleLine, permissions};
use crate::state::{Handler, HandlerFuture, Shared};
use node::{Node, Outcome, RunError};

/// The app GUID a project answers for unless told otherwise.
pub const DEFAULT_PROJECT_APP: &str = "p_local";

/// A function's timeout when its entry gives no `timeout_ms`.
pub const DEFAULT_FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The file of local secrets and environment, beside `gipity.yaml`.
pub const LOCAL_FILE: &str = "gipity.local.json";

/// One function of the project.
#[derive(Debug, Clone)]
pub(crate) struct ProjectFunction {
    pub(crate) name: String,
    pub(crate) file: PathBuf,
    pub(crate) auth: Auth,
    pub(crate) timeout: Duration,
    pub(crate) fetch_domains: Vec<String>,
    pub(crate) tables: Vec<String>,
}

/// A loaded project: its manifest, its functions and its local secrets.
#[derive(Debug)]
pub(crate) struct Project {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) functions: Vec<ProjectFunction>,
    secrets: Map<String, Value>,
    env: Map<String, Value>,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl Project {
    /// Reads `dir/gipity.yaml`, finds every function's file, and reads `dir/gipity.local.json`.
    pub(crate) fn load(dir: &Path) -> io::Result<Self> {
        let path = dir.join(gipity_manifest::FILE_NAME);
        let manifest = Manifest::from_path(&path).map_err(|e| match e {
            gipity_manifest::Error::Read { source, .. } => io::Error::new(
                source.kind(),
                format!(
                    "no {} in {}: {source}",
                    gipity_manifest::FILE_NAME,
                    dir.display()
                ),
            ),
            other => invalid(other.to_string()),
        })?;
        let mut functions = Vec::new();
        for declared in &manifest.functions {
            let Some(file) = manifest.function_file(&declared.name) else {
                return Err(invalid(format!(
                    "{} declares function `{}`, but there is no {}/{}.js or {}/{}/index.js",
                    path.display(),
                    declared.name,
                    declared.source,
                    declared.name,
                    declared.source,
                    declared.name
                )));
            };
            functions.push(ProjectFunction {
                name: declared.name.clone(),
                file,
                auth: Auth::from_manifest(declared.effective_auth()),
                timeout: declared
                    .timeout_ms
                    .map_or(DEFAULT_FUNCTION_TIMEOUT, Duration::from_millis),
                fetch_domains: declared.fetch_domains.clone(),
                tables: declared.tables.clone(),
            });
        }
        // Files the manifest does not list: the platform deploys them as public functions.
        for source in &manifest.function_sources {
            for name in undeclared_files(&dir.join(source))? {
                if manifest.function(&name).is_some() {
                    continue;
                }
                if let Some(file) = manifest.function_file(&name) {
                    functions.push(ProjectFunction {
                        name,
                        file,
                        auth: Auth::Public,
                        timeout: DEFAULT_FUNCTION_TIMEOUT,
                        fetch_domains: Vec::new(),
                        tables: Vec::new(),
                    });
                }
            }
        }
        let (secrets, env) = local(&dir.join(LOCAL_FILE))?;
        Ok(Self {
            dir: dir.to_owned(),
            manifest: Arc::new(manifest),
            functions,
            secrets,
            env,
        })
    }

    /// Whether it has a database: SQL to apply, or a function that lists tables.
    pub(crate) fn wants_database(&self) -> bool {
        self.dir.join("migrations").is_dir()
            || self.dir.join("seed").is_dir()
            || self
                .functions
                .iter()
                .any(|function| !function.tables.is_empty())
    }

    /// Starts the project's database and answers its functions' queries from it.
    pub(crate) async fn database(&self, scratch: &Path) -> io::Result<node::DbHandler> {
        let tables: Vec<(String, Vec<String>)> = self
            .functions
            .iter()
            .map(|function| (function.name.clone(), function.tables.clone()))
            .collect();
        let database = Arc::new(db::Database::start(&self.dir, scratch, &tables).await?);
        Ok(Arc::new(move |request: node::DbRequest| {
            let database = Arc::clone(&database);
            Box::pin(async move {
                database
                    .query(&request.function, &request.sql, request.params)
                    .await
            })
        }))
    }

    /// The call's other fields for the runner: name, secrets, env, fetch domains.
    fn extra(&self, function: &ProjectFunction, version: u64) -> Map<String, Value> {
        let mut extra = Map::new();
        extra.insert("name".to_owned(), json!(function.name));
        extra.insert("secrets".to_owned(), Value::Object(self.secrets.clone()));
        extra.insert("env".to_owned(), Value::Object(self.env.clone()));
        extra.insert("fetchDomains".to_owned(), json!(function.fetch_domains));
        extra.insert("version".to_owned(), json!(version));
        extra
    }
}

/// The names of `<dir>/<name>.js` and `<dir>/<name>/index.js`, sorted.
fn undeclared_files(dir: &Path) -> io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let name = if path.is_dir() && path.join("index.js").is_file() {
            entry.file_name().to_string_lossy().into_owned()
        } else if path.extension().is_some_and(|ext| ext == "js") {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            continue;
        };
        if gipity_shared::check_function_name(&name).is_ok() {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// `{"secrets": {..}, "env": {..}}` from `path`, both optional; no file is none of either.
fn local(path: &Path) -> io::Result<(Map<String, Value>, Map<String, Value>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Map::new(), Map::new())),
        Err(e) => return Err(e),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    let section = |key: &str| -> io::Result<Map<String, Value>> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(map.clone()),
            Some(_) => Err(invalid(format!(
                "{}: `{key}` must be an object of strings",
                path.display()
            ))),
        }
    };
    Ok((section("secrets")?, section("env")?))
}

/// What a function's `ctx.auth` is for this call: `role` is `member` in a `member` function
/// (the caller passed as one), `user` otherwise.
fn auth_of(call: &Call, auth: Auth) -> Value {
    let role = if auth == Auth::Member {
        "member"
    } else {
        "user"
    };
    match (&call.user, call.caller) {
        (_, Caller::ApiKey) => json!({"via": "api_key", "apiKeyName": "default"}),
        (Some(user), caller) => {
            let identity = match caller {
                Caller::Player => json!({"provider": "guest", "id": user.guid}),
                _ => Value::Null,
            };
            json!({
                "userId": numeric_id(&user.guid),
                "userGuid": user.guid,
                "displayName": user.display_name,
                "role": role,
                "identity": identity,
            })
        }
        (None, _) => Value::Null,
    }
}

/// A user's numeric id (`ctx.auth.userId`): stable, and distinct from the `userGuid` that
/// functions should key on, so that code keyed on the wrong one shows up in tests. FNV-1a,
/// kept within JavaScript's safe integers.
fn numeric_id(guid: &str) -> u64 {
    let hash = guid.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % (1 << 53)
}

/// The `ctx` the platform gives a function.
fn ctx(call: &Call, auth: Auth) -> Value {
    let headers: BTreeMap<&str, &str> = call
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    json!({
        "body": call.body,
        "query": call.query,
        "headers": headers,
        "method": call.method,
        "auth": auth_of(call, auth),
        "isTest": false,
    })
}

/// Runs `function` for `call`; the outcome as the platform answers it.
pub(crate) async fn run(
    node: &Arc<Node>,
    project: &Project,
    function: &ProjectFunction,
    call: &Call,
) -> (Result<Value, crate::http::ApiError>, Vec<ConsoleLine>) {
    use crate::http::ApiError;
    use axum::http::StatusCode;
    let version = 0;
    let run = node
        .run(
            &function.file,
            ctx(call, function.auth),
            project.extra(function, version),
            function.timeout,
        )
        .await;
    match run {
        Ok(run) => {
            let result = match run.outcome {
                Outcome::Returned(value) => Ok(value),
                Outcome::Threw {
                    name,
                    message,
                    service,
                } => {
                    let message = if service || name == "Error" || name.is_empty() {
                        message
                    } else {
                        format!("{name}: {message}")
                    };
                    Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "FUNCTION_ERROR",
                        message,
                    ))
                }
            };
            (result, run.console)
        }
        Err(RunError::Timeout(timeout)) => (
            Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "FUNCTION_TIMEOUT",
                format!(
                    "function `{}` ran longer than its timeout ({} ms)",
                    function.name,
                    timeout.as_millis()
                ),
            )),
            Vec::new(),
        ),
        Err(RunError::Crashed(why)) => (
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "FUNCTION_CRASHED",
                format!("function `{}` crashed its process: {why}", function.name),
            )),
            Vec::new(),
        ),
    }
}

/// The database of a project run without one: every query fails, saying so.
pub(crate) fn no_database() -> node::DbHandler {
    Arc::new(|request: node::DbRequest| {
        Box::pin(async move {
            let statement: String = request
                .sql
                .split_whitespace()
                .take(4)
                .collect::<Vec<_>>()
                .join(" ");
            Err(format!(
                "services.db is not available: the emulator serves this project without a \
                 database, so `{statement} ..` ({} parameters) was not run",
                request.params.len()
            ))
        })
    })
}

/// Registers every function of `project` on `app`, run by `node`.
pub(crate) fn install(
    shared: &Arc<Shared>,
    app: &str,
    project: Arc<Project>,
    node: Arc<Node>,
    print: bool,
) {
    let handle = App {
        guid: app.to_owned(),
        shared: Arc::clone(shared),
    };
    for declared in &project.functions {
        let weak = Arc::downgrade(shared);
        let project = Arc::clone(&project);
        let node = Arc::clone(&node);
        let function = Arc::new(declared.clone());
        let handler: Handler = Arc::new(move |call: Call| -> HandlerFuture {
            let (project, node, function, weak) = (
                Arc::clone(&project),
                Arc::clone(&node),
                Arc::clone(&function),
                weak.clone(),
            );
            Box::pin(async move {
                let (result, console) = run(&node, &project, &function, &call).await;
                if let Some(shared) = weak.upgrade() {
                    if print {
                        for line in &console {
                            println!("[{}] {}: {}", function.name, line.level, line.message);
                        }
                    }
                    shared
                        .lock()
                        .console
                        .entry((call.app.clone(), function.name.clone()))
                        .or_default()
                        .extend(console);
                }
                result
            })
        });
        handle.register(
            &declared.name,
            declared.auth,
            permissions::IDENTITY,
            handler,
        );
    }
}
