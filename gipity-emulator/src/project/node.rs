//! The Node.js process that runs a project's functions: one long-lived process (so that a
//! warm call costs a message, not a start-up), restarted when it crashes or a function runs
//! past its timeout.
//!
//! Messages are JSON lines (`runner.mjs` has the protocol): calls go in on stdin, results come
//! out on stdout; the process's stderr is kept (its last lines) to explain a crash.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

use crate::model::ConsoleLine;

/// The runner script, written beside the emulator's scratch files at start.
const RUNNER: &str = include_str!("runner.mjs");

/// The oldest Node.js that runs the functions: 20.19 (and 22.7 on the 22 line) are the first
/// to load a `.js` file with `export` as an ES module without a `package.json` saying so.
pub(crate) const MIN_NODE: &str = "20.19";

/// Whether Node.js `major.minor` loads functions as the platform does.
fn recent_enough(major: u32, minor: u32) -> bool {
    match major {
        20 => minor >= 19,
        22 => minor >= 7,
        21 => false,
        major => major > 22,
    }
}

/// How long a new process may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The lines of stderr kept to explain a crash.
const STDERR_LINES: usize = 20;

/// What a function's run came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// It returned this value.
    Returned(Value),
    /// It threw; `service` when the error came from a service the emulator refuses or lacks.
    Threw {
        name: String,
        message: String,
        service: bool,
    },
}

/// One run: its outcome and what it printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) outcome: Outcome,
    pub(crate) console: Vec<ConsoleLine>,
}

/// Why a run has no outcome.
#[derive(Debug)]
pub(crate) enum RunError {
    /// It ran longer than its timeout; the process was restarted.
    Timeout(Duration),
    /// The process died during the run (or could not be started); the text says why.
    Crashed(String),
}

/// A database request from a running function (`services.db.query(sql, params)`).
#[derive(Debug)]
pub(crate) struct DbRequest {
    /// The function that asks.
    pub(crate) function: String,
    pub(crate) sql: String,
    pub(crate) params: Vec<Option<String>>,
}

/// Answers database requests; given to [`Node::start`].
pub(crate) type DbHandler = Arc<
    dyn Fn(DbRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>
        + Send
        + Sync,
>;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Run, RunError>>>>>;

/// A running process.
struct Process {
    /// Which process this is: an answer or a kill meant for an earlier one is dropped.
    generation: u64,
    child: Child,
    /// Lines for its stdin, written by a task of their own: nothing awaits a full pipe while
    /// holding the lock.
    lines: mpsc::UnboundedSender<String>,
    pending: Pending,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Set when its stdout ends, before the calls waiting on it are failed: the next call
    /// starts a new process rather than writing to this one.
    dead: Arc<AtomicBool>,
}

/// The runner, and the process when one is running.
pub(crate) struct Node {
    program: PathBuf,
    script: PathBuf,
    process: AsyncMutex<Option<Process>>,
    ids: AtomicU64,
    generations: AtomicU64,
    db: DbHandler,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("program", &self.program)
            .finish_non_exhaustive()
    }
}

/// The Node.js to run: `GIPITY_NODE`, else `node` on the `PATH`; checked to be recent enough.
pub(crate) async fn find() -> io::Result<PathBuf> {
    let program =
        std::env::var_os("GIPITY_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let output = Command::new(&program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "Node.js {MIN_NODE} or newer is needed to run the project's functions, and \
                     `{}` could not be run ({e}): install Node.js (https://nodejs.org, or your \
                     package manager's `nodejs`), or point GIPITY_NODE at it",
                    program.display()
                ),
            )
        })?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let mut parts = version
        .strip_prefix('v')
        .unwrap_or_default()
        .split('.')
        .map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) if recent_enough(major, minor) => Ok(program),
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "Node.js {MIN_NODE} or newer (22.7 or newer on the 22 line) is needed to run \
                 the project's functions; `{}` is `{version}`: install a newer one, or point \
                 GIPITY_NODE at it",
                program.display()
            ),
        )),
    }
}

impl Node {
    /// Writes the runner into `scratch` and prepares to start it on the first call.
    pub(crate) fn new(program: PathBuf, scratch: &Path, db: DbHandler) -> io::Result<Self> {
        let script = scratch.join("gipity-runner.mjs");
        std::fs::write(&script, RUNNER)?;
        Ok(Self {
            program,
            script,
            process: AsyncMutex::new(None),
            ids: AtomicU64::new(0),
            generations: AtomicU64::new(0),
            db,
        })
    }

    /// Runs the function in `file` with `ctx`; `extra` holds the call's other fields
    /// (`name`, `secrets`, `env`, `fetchDomains`, `version`).
    pub(crate) async fn run(
        self: &Arc<Self>,
        file: &Path,
        ctx: Value,
        mut extra: serde_json::Map<String, Value>,
        timeout: Duration,
    ) -> Result<Run, RunError> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = oneshot::channel();
        extra.insert("type".to_owned(), json!("call"));
        extra.insert("id".to_owned(), json!(id));
        extra.insert("file".to_owned(), json!(file));
        extra.insert("ctx".to_owned(), ctx);
        let mut line = Value::Object(extra).to_string();
        line.push('\n');
        let generation = {
            let mut guard = self.process.lock().await;
            if guard.as_mut().is_some_and(|process| {
                process.dead.load(Ordering::Acquire)
                    || process.child.try_wait().ok().flatten().is_some()
            }) {
                *guard = None;
            }
            if guard.is_none() {
                *guard = Some(self.spawn().await?);
            }
            let Some(process) = guard.as_mut() else {
                return Err(RunError::Crashed("the function process is gone".to_owned()));
            };
            process
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, tx);
            if process.lines.send(line).is_err() {
                *guard = None;
                return Err(RunError::Crashed(
                    "the function process stopped taking calls".to_owned(),
                ));
            }
            process.generation
        };
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RunError::Crashed(
                "the function process went away".to_owned(),
            )),
            Err(_) => {
                // A function that hangs (or loops) cannot be stopped inside the process; the
                // process it ran in is restarted, unless that happened already.
                let mut guard = self.process.lock().await;
                if guard
                    .as_ref()
                    .is_some_and(|process| process.generation == generation)
                    && let Some(mut process) = guard.take()
                {
                    let _ = process.child.start_kill();
                    fail_all(
                        &process.pending,
                        "the function process was restarted: another call ran past its timeout",
                    );
                }
                Err(RunError::Timeout(timeout))
            }
        }
    }

    async fn spawn(self: &Arc<Self>) -> Result<Process, RunError> {
        let crashed = |what: String| RunError::Crashed(what);
        // Functions see no more of the machine's environment than on the platform (their
        // `services.env` is `gipity.local.json`'s), and dates in UTC.
        let mut child = Command::new(&self.program)
            .arg(&self.script)
            .env_clear()
            .env("TZ", "UTC")
            .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| crashed(format!("cannot start `{}`: {e}", self.program.display())))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(crashed("the function process has no pipes".to_owned()));
        };
        let pending: Pending = Arc::default();
        let kept: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let mut lines = BufReader::new(stdout).lines();
        // The first message says the runner is ready.
        let ready = async {
            loop {
                match lines.next_line().await {
                    Ok(Some(line)) if line.is_empty() => {}
                    other => return other,
                }
            }
        };
        match tokio::time::timeout(READY_TIMEOUT, ready).await {
            Ok(Ok(Some(line))) if line.contains("\"ready\"") => {}
            other => {
                let _ = child.start_kill();
                return Err(crashed(format!(
                    "the function process did not start: {other:?}"
                )));
            }
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_lines(stdin, receiver));
        let stderr_task = tokio::spawn(keep_stderr(stderr, Arc::clone(&kept)));
        let dead = Arc::new(AtomicBool::new(false));
        tokio::spawn(read_results(
            lines,
            Reader {
                generation,
                dead: Arc::clone(&dead),
                pending: Arc::clone(&pending),
                kept: Arc::clone(&kept),
                stderr_task,
                node: Arc::downgrade(self),
            },
        ));
        Ok(Process {
            generation,
            child,
            lines: sender,
            pending,
            stderr: kept,
            dead,
        })
    }

    /// Sends the answer of a database request to its function, if the process that asked is
    /// still the running one.
    async fn db_result(&self, generation: u64, seq: u64, result: Result<Value, String>) {
        let message = match result {
            Ok(result) => json!({"type": "db-result", "seq": seq, "result": result}),
            Err(error) => json!({"type": "db-result", "seq": seq, "error": error}),
        };
        let mut line = message.to_string();
        line.push('\n');
        let guard = self.process.lock().await;
        if let Some(process) = guard
            .as_ref()
            .filter(|process| process.generation == generation)
        {
            let _ = process.lines.send(line);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let tail: Vec<String> = self
            .stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        if !tail.is_empty() {
            tracing::debug!(stderr = %tail.join("\n"), "function process stopped");
        }
    }
}

fn fail_all(pending: &Pending, why: &str) {
    let waiting: Vec<_> = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain()
        .collect();
    for (_, tx) in waiting {
        let _ = tx.send(Err(RunError::Crashed(why.to_owned())));
    }
}

async fn write_lines(mut stdin: ChildStdin, mut lines: mpsc::UnboundedReceiver<String>) {
    while let Some(line) = lines.recv().await {
        if stdin.write_all(line.as_bytes()).await.is_err() {
            break;
        }
    }
}

async fn keep_stderr(stderr: tokio::process::ChildStderr, kept: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(line = %line, "function process stderr");
        let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() == STDERR_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
}

/// A message of the runner.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Message {
    Done {
        id: u64,
        ok: bool,
        #[serde(default)]
        value: Value,
        #[serde(default)]
        error: Option<Thrown>,
        #[serde(default)]
        console: Vec<ConsoleLine>,
    },
    Db {
        id: u64,
        #[serde(rename = "fn")]
        function: String,
        seq: u64,
        sql: String,
        #[serde(default)]
        params: Vec<Option<String>>,
    },
}

#[derive(Deserialize)]
struct Thrown {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    service: bool,
}

/// What the task reading a process's results holds.
struct Reader {
    generation: u64,
    dead: Arc<AtomicBool>,
    pending: Pending,
    kept: Arc<Mutex<VecDeque<String>>>,
    stderr_task: tokio::task::JoinHandle<()>,
    node: std::sync::Weak<Node>,
}

async fn read_results(
    mut lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    reader: Reader,
) {
    let Reader {
        generation,
        dead,
        pending,
        kept,
        stderr_task,
        node,
    } = reader;
    while let Ok(Some(line)) = lines.next_line().await {
        // Messages are framed by blank lines: what a function wrote to fd 1 itself stays
        // out of them.
        if line.is_empty() {
            continue;
        }
        let message = match serde_json::from_str::<Message>(&line) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "the function process wrote a line that is not a message");
                continue;
            }
        };
        match message {
            Message::Done {
                id,
                ok,
                value,
                error,
                console,
            } => {
                let outcome = if ok {
                    Outcome::Returned(value)
                } else {
                    let thrown = error.unwrap_or(Thrown {
                        name: "Error".to_owned(),
                        message: String::new(),
                        service: false,
                    });
                    Outcome::Threw {
                        name: thrown.name,
                        message: thrown.message,
                        service: thrown.service,
                    }
                };
                let tx = pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&id);
                if let Some(tx) = tx {
                    let _ = tx.send(Ok(Run { outcome, console }));
                }
            }
            Message::Db {
                id,
                function,
                seq,
                sql,
                params,
            } => {
                let Some(node) = node.upgrade() else { break };
                tracing::trace!(call = id, function = %function, "database request");
                let request = DbRequest {
                    function,
                    sql,
                    params,
                };
                tokio::spawn(async move {
                    let result = (node.db)(request).await;
                    node.db_result(generation, seq, result).await;
                });
            }
        }
    }
    // The process is gone: every call still waiting crashed with it, and its last words
    // explain why.
    dead.store(true, Ordering::Release);
    let _ = tokio::time::timeout(Duration::from_millis(500), stderr_task).await;
    let tail: Vec<String> = kept
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .cloned()
        .collect();
    let why = if tail.is_empty() {
        "the function process exited".to_owned()
    } else {
        format!("the function process exited:\n{}", tail.join("\n"))
    };
    fail_all(&pending, &why);
}
