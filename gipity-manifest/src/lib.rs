//! Reads a Gipity app's deploy manifest, `gipity.yaml`, into typed data.
//!
//! ```
//! use gipity_manifest::{Auth, Billing, Manifest};
//!
//! let manifest = Manifest::parse(
//!     r#"
//! version: 1
//! deploy:
//!   phases:
//!     - name: functions
//!       type: functions
//!       source: functions
//!       function_definitions:
//!         - name: get-items
//!           auth: public
//!           tables: [items]
//!         - name: my-todos
//!           auth: user
//!           tables: [todos]
//!     - name: services
//!       type: services
//!       llm: owner_pays
//! "#,
//!     None,
//! )?;
//! let todos = manifest.function("my-todos").expect("declared");
//! assert_eq!(todos.auth, Some(Auth::User));
//! assert_eq!(todos.tables, ["todos"]);
//! assert_eq!(manifest.billing("llm"), Some(Billing::OwnerPays));
//! # Ok::<(), gipity_manifest::Error>(())
//! ```
//!
//! What is read:
//!
//! - `deploy.phases[]` of `type: functions`: each of `function_definitions[]` with `name`,
//!   `auth` (`public`, `user` or `member`; `auth_level` is read too), `tables`, `services`,
//!   `hooks`, `fetch_domains`, `description` and `timeout_ms`, and the phase's `source`
//!   directory (`functions` when not given).
//! - `type: records`: `tables[]`, each a name or `{table, auth_level}`.
//! - `type: realtime`: `rooms[]` with `name`, `room_type` and `auth_level`.
//! - `type: jobs`: `job_definitions[]` with `name`, `on_complete`, `timeout_ms` and
//!   `description`.
//! - `type: services`: each service's billing mode, in either spelling:
//!   `service_definitions: [{service: llm, billing_mode: owner_pays}]` or `llm: owner_pays`.
//!
//! Keys this crate does not know, and phases of other types, are ignored: the platform adds
//! keys over time. A key it knows with a value of the wrong type is an [`Error`] that names
//! the file, line and column. YAML 1.2 is parsed by `saphyr-parser`; anchors, aliases and
//! `<<` merge keys work, and only the first document of the file is read.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

mod read;
mod yaml;

pub use yaml::Location;

/// The manifest's file name.
pub const FILE_NAME: &str = "gipity.yaml";

/// The functions phase's `source` when it does not give one.
pub const DEFAULT_FUNCTIONS_SOURCE: &str = "functions";

/// What a `gipity.yaml` declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    /// The file it was read from, if it was read from one.
    pub path: Option<PathBuf>,
    /// The functions of every `functions` phase, in file order.
    pub functions: Vec<Function>,
    /// The `source` directory of every `functions` phase, relative to the manifest's
    /// directory.
    pub function_sources: Vec<String>,
    /// The tables of every `records` phase.
    pub tables: Vec<Table>,
    /// The rooms of every `realtime` phase.
    pub rooms: Vec<Room>,
    /// The jobs of every `jobs` phase.
    pub jobs: Vec<Job>,
    /// The services of every `services` phase, with their billing mode.
    pub services: Vec<Service>,
}

/// One entry of `function_definitions`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Function {
    /// The remote name: `functions/<name>.js`, called at `POST /api/<app>/fn/<name>`.
    pub name: String,
    /// Who may call it; `None` when the entry does not say (the platform's default,
    /// `public`, applies).
    pub auth: Option<Auth>,
    /// The tables it may read and write.
    pub tables: Vec<String>,
    /// The app services it uses (`llm`, `notify`, ...).
    pub services: Vec<String>,
    /// The platform events that call it (`user_deleted`, ...); a function with hooks is
    /// called by the platform, not by clients.
    pub hooks: Vec<String>,
    /// The hosts its `fetch` may reach.
    pub fetch_domains: Vec<String>,
    /// Its `description`.
    pub description: Option<String>,
    /// Its `timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// The `source` directory of its phase.
    pub source: String,
    /// Where its entry starts.
    pub at: Location,
}

impl Function {
    /// Its auth level: the declared one, else `public`, the platform's default.
    pub fn effective_auth(&self) -> Auth {
        self.auth.unwrap_or(Auth::Public)
    }
}

/// A table of a `records` phase.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// Its `auth_level`, if given.
    pub auth: Option<Auth>,
    /// Where its entry starts.
    pub at: Location,
}

/// A room of a `realtime` phase.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Room {
    /// The room's name; the default room has none.
    pub name: Option<String>,
    /// `state` or `relay`.
    pub room_type: Option<String>,
    /// Its `auth_level`, if given.
    pub auth: Option<Auth>,
    /// Where its entry starts.
    pub at: Location,
}

/// A job of a `jobs` phase.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Job {
    /// The job's name.
    pub name: String,
    /// The function the platform calls when the job completes.
    pub on_complete: Option<String>,
    /// Its `timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// Its `description`.
    pub description: Option<String>,
    /// Where its entry starts.
    pub at: Location,
}

/// A service of a `services` phase and who pays for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// The service: `llm`, `tts`, `image`, ...
    pub name: String,
    /// Who pays.
    pub billing: Billing,
    /// Where it is declared.
    pub at: Location,
}

/// Who may call a function (or use a table or room).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Auth {
    /// Anyone.
    Public,
    /// A signed-in Gipity user.
    User,
    /// A member of the project.
    Member,
}

impl Auth {
    /// Every level, as written in `gipity.yaml`.
    pub const NAMES: [&'static str; 3] = ["public", "user", "member"];

    /// As written in `gipity.yaml`: `public`, `user` or `member`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::User => "user",
            Self::Member => "member",
        }
    }
}

impl FromStr for Auth {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Self::Public),
            "user" => Ok(Self::User),
            "member" => Ok(Self::Member),
            _ => Err(UnknownValue(s.to_owned())),
        }
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who pays for an app's use of a service.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Billing {
    /// The app's owner, from their credits.
    OwnerPays,
    /// Each signed-in user, from their own credits.
    UserPays,
}

impl Billing {
    /// As written in `gipity.yaml`: `owner_pays` or `user_pays`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OwnerPays => "owner_pays",
            Self::UserPays => "user_pays",
        }
    }
}

impl FromStr for Billing {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner_pays" => Ok(Self::OwnerPays),
            "user_pays" => Ok(Self::UserPays),
            _ => Err(UnknownValue(s.to_owned())),
        }
    }
}

impl fmt::Display for Billing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value [`Auth`] or [`Billing`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownValue(pub String);

/// What a name declared in the manifest is, from [`Manifest::lookup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Declared<'a> {
    /// A function of `function_definitions`.
    Function(&'a Function),
    /// A table of a `records` phase.
    Table(&'a Table),
    /// A job of a `jobs` phase.
    Job(&'a Job),
    /// A room of a `realtime` phase.
    Room(&'a Room),
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is not valid YAML, or a key holds a value of the wrong type.
    #[error("{}{}:{}: {message}", path.as_ref().map(|p| format!("{}:", p.display())).unwrap_or_default(), at.line, at.column)]
    Invalid {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Where in the file, for [`Error::Invalid`].
    pub fn location(&self) -> Option<Location> {
        match self {
            Self::Invalid { at, .. } => Some(*at),
            Self::Read { .. } => None,
        }
    }
}

impl Manifest {
    /// Reads and parses the file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] when the file cannot be read, [`Error::Invalid`] when it is not a
    /// valid manifest.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, Some(path))
    }

    /// Parses `text`; `path` (if any) is the file it came from, named in errors and used to
    /// find function files ([`Manifest::function_file`]).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when `text` is not valid YAML or a known key has a value of the
    /// wrong type.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Self, Error> {
        let invalid = |at: Location, message: String| Error::Invalid {
            path: path.map(Path::to_owned),
            at,
            message,
        };
        let root = yaml::parse(text).map_err(|e| invalid(e.at, e.message))?;
        let mut manifest = read::manifest(root.as_ref()).map_err(|e| invalid(e.at, e.message))?;
        manifest.path = path.map(Path::to_owned);
        Ok(manifest)
    }

    /// The function called `name`, if `function_definitions` declares it.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|function| function.name == name)
    }

    /// What `name` is: a function, else a records table, a job or a realtime room.
    pub fn lookup(&self, name: &str) -> Option<Declared<'_>> {
        if let Some(function) = self.function(name) {
            return Some(Declared::Function(function));
        }
        if let Some(table) = self.tables.iter().find(|table| table.name == name) {
            return Some(Declared::Table(table));
        }
        if let Some(job) = self.jobs.iter().find(|job| job.name == name) {
            return Some(Declared::Job(job));
        }
        self.rooms
            .iter()
            .find(|room| room.name.as_deref() == Some(name))
            .map(Declared::Room)
    }

    /// Who pays for `service`, if a `services` phase says.
    pub fn billing(&self, service: &str) -> Option<Billing> {
        self.services
            .iter()
            .find(|declared| declared.name == service)
            .map(|declared| declared.billing)
    }

    /// The file of function `name` in a functions phase's `source` directory,
    /// `<source>/<name>.js` or `<source>/<name>/index.js`, if it exists. The platform deploys
    /// such a file as a `public` function even when `function_definitions` does not list it.
    ///
    /// `None` for a manifest not read from a file, or a name that is not a plain file name.
    pub fn function_file(&self, name: &str) -> Option<PathBuf> {
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && !name.contains(['/', '\\', '\0'])
            && !name.contains("..");
        if !plain {
            return None;
        }
        let dir = self.path.as_deref()?.parent()?;
        self.function_sources.iter().find_map(|source| {
            let source = dir.join(source);
            [
                source.join(format!("{name}.js")),
                source.join(name).join("index.js"),
            ]
            .into_iter()
            .find(|file| file.is_file())
        })
    }
}

/// The nearest `gipity.yaml` in `start` or one of its ancestors.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}
