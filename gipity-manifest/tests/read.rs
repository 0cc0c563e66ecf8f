//! Reading `gipity.yaml`: what is read, what is ignored, and where errors point.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use gipity_manifest::{Auth, Billing, Declared, Error, Location, Manifest, discover};

fn parse(text: &str) -> Manifest {
    match Manifest::parse(text, None) {
        Ok(manifest) => manifest,
        Err(e) => panic!("{e}"),
    }
}

/// The error's line, column and message.
fn invalid(text: &str) -> (usize, usize, String) {
    match Manifest::parse(text, Some(Path::new("app/gipity.yaml"))) {
        Ok(manifest) => panic!("parsed: {manifest:?}"),
        Err(Error::Invalid { path, at, message }) => {
            assert_eq!(path.as_deref(), Some(Path::new("app/gipity.yaml")));
            (at.line, at.column, message)
        }
        Err(other) => panic!("{other}"),
    }
}

/// Shaped like the manifests of Gipity's own app templates, template placeholders included.
const APP: &str = r##"version: 1
# comments are fine
auth_branding:
  app_name: My App
  primary_color: "#f26522"
deploy:
  phases:
    - name: files
      type: static
      source: src
    - name: database
      type: sql
      source: migrations
      database: {{DATABASE}}
    - name: functions
      type: functions
      source: functions
      function_definitions:
        - name: get-items
          auth: public
          tables: [items]
          description: "Items of one category"
        - name: my-todos
          auth: user
          tables:
            - todos
          services: ['llm']
          fetch_domains: [api.example.com]
          timeout_ms: 30_000
        - name: leaderboard-player-deleted
          auth: member
          hooks:
            - user_deleted
          limits:
            max_rows_affected: 100000
        - { name: submit-score, auth_level: user }
        - name: no-auth
    - name: records
      type: records
      tables:
        - { table: incidents, auth_level: public }
        - comments
    - name: realtime
      type: realtime
      rooms:
        - { room_type: state, auth_level: public }
        - { name: lobby, room_type: state, auth_level: user }
    - name: jobs
      type: jobs
      job_definitions:
        - name: render
          handler: jobs/render/main.js
          timeout_ms: 1800000
          on_complete: my-todos
    - name: services
      type: services
      service_definitions:
        - service: llm
          billing_mode: owner_pays
      tts: user_pays
      some_future_key: { nested: [1, 2] }
    - name: workflows
      type: workflows
      source: workflows
"##;

#[test]
fn reads_functions_tables_rooms_jobs_and_services() {
    let manifest = parse(APP);
    let names: Vec<&str> = manifest.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "get-items",
            "my-todos",
            "leaderboard-player-deleted",
            "submit-score",
            "no-auth"
        ]
    );
    let items = manifest.function("get-items").expect("get-items");
    assert_eq!(items.auth, Some(Auth::Public));
    assert_eq!(items.tables, ["items"]);
    assert_eq!(items.description.as_deref(), Some("Items of one category"));
    assert_eq!(items.source, "functions");
    assert_eq!(
        items.at,
        Location {
            line: 19,
            column: 11
        }
    );
    let todos = manifest.function("my-todos").expect("my-todos");
    assert_eq!(todos.auth, Some(Auth::User));
    assert_eq!(todos.services, ["llm"]);
    assert_eq!(todos.fetch_domains, ["api.example.com"]);
    assert_eq!(todos.timeout_ms, Some(30_000));
    let hook = manifest
        .function("leaderboard-player-deleted")
        .expect("hook");
    assert_eq!(hook.hooks, ["user_deleted"]);
    assert_eq!(hook.auth, Some(Auth::Member));
    assert_eq!(
        manifest.function("submit-score").and_then(|f| f.auth),
        Some(Auth::User)
    );
    let no_auth = manifest.function("no-auth").expect("no-auth");
    assert_eq!(
        (no_auth.auth, no_auth.effective_auth()),
        (None, Auth::Public)
    );
    assert_eq!(manifest.function_sources, ["functions"]);

    let tables: Vec<(&str, Option<Auth>)> = manifest
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.auth))
        .collect();
    assert_eq!(
        tables,
        [("incidents", Some(Auth::Public)), ("comments", None)]
    );
    assert_eq!(manifest.rooms.len(), 2);
    assert_eq!(manifest.rooms[0].name, None);
    assert_eq!(manifest.rooms[1].name.as_deref(), Some("lobby"));
    assert_eq!(manifest.rooms[1].auth, Some(Auth::User));
    assert_eq!(manifest.jobs[0].name, "render");
    assert_eq!(manifest.jobs[0].on_complete.as_deref(), Some("my-todos"));
    assert_eq!(manifest.jobs[0].timeout_ms, Some(1_800_000));
    assert_eq!(manifest.billing("llm"), Some(Billing::OwnerPays));
    assert_eq!(manifest.billing("tts"), Some(Billing::UserPays));
    assert_eq!(manifest.billing("image"), None);
    assert_eq!(manifest.services.len(), 2);
}

#[test]
fn lookup_says_what_a_name_is() {
    let manifest = parse(APP);
    assert!(
        matches!(manifest.lookup("my-todos"), Some(Declared::Function(f)) if f.name == "my-todos")
    );
    assert!(matches!(
        manifest.lookup("incidents"),
        Some(Declared::Table(_))
    ));
    assert!(matches!(manifest.lookup("render"), Some(Declared::Job(_))));
    assert!(matches!(manifest.lookup("lobby"), Some(Declared::Room(_))));
    assert_eq!(manifest.lookup("nothing"), None);
}

#[test]
fn files_without_functions_are_empty_manifests() {
    for text in [
        "",
        "# only a comment\n",
        "version: 1\n",
        "---\n...\n",
        "deploy:\n",
        "deploy:\n  phases:\n",
    ] {
        assert_eq!(parse(text), Manifest::default(), "{text:?}");
    }
    let static_only = parse("deploy:\n  phases:\n    - name: files\n      type: static\n");
    assert!(static_only.functions.is_empty());
    let empty_phase =
        parse("deploy:\n  phases:\n    - type: functions\n      function_definitions:\n");
    assert!(empty_phase.functions.is_empty());
    assert_eq!(empty_phase.function_sources, ["functions"]);
}

#[test]
fn merge_keys_fill_what_the_entry_leaves_unset() {
    let manifest = parse(
        "defaults: &user\n  auth: user\n  tables: [todos]\ndeploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          <<: *user\n        - name: b\n          <<: *user\n          auth: public\n",
    );
    let a = manifest.function("a").expect("a");
    assert_eq!(
        (a.auth, a.tables.as_slice()),
        (Some(Auth::User), ["todos".to_owned()].as_slice())
    );
    assert_eq!(
        manifest.function("b").and_then(|b| b.auth),
        Some(Auth::Public)
    );
}

#[test]
fn errors_name_the_file_line_and_column() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          auth: admin\n",
            (6, 17),
            "unknown `auth` value `admin`; expected `public`, `user` or `member`",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions: 3\n",
            (4, 29),
            "`function_definitions` must be a list, found a scalar",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - auth: user\n",
            (5, 11),
            "a function definition without a `name`",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          tables: {items: 1}\n",
            (6, 19),
            "`tables` must be a list, found a mapping",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          timeout_ms: soon\n",
            (6, 23),
            "`timeout_ms` must be a whole number of milliseconds, not `soon`",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n        - name: a\n",
            (6, 11),
            "function `a` is declared twice (first at line 5)",
        ),
        (
            "deploy:\n  phases:\n    - type: services\n      llm: owner-pays\n",
            (4, 12),
            "unknown billing mode `owner-pays` for `llm`; expected `owner_pays` or `user_pays`",
        ),
        (
            "deploy:\n  phases:\n    - type: services\n      service_definitions:\n        - service: llm\n          billing_mode: free\n",
            (6, 25),
            "unknown `billing_mode` value `free`; expected `owner_pays` or `user_pays`",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          hooks: [[x]]\n",
            (6, 19),
            "`hooks` must be a string, found a list",
        ),
        (
            "deploy: [1, 2]\n",
            (1, 9),
            "expected `deploy` (a mapping), found a list",
        ),
        (
            "- a\n- b\n",
            (1, 1),
            "expected the manifest (a mapping), found a list",
        ),
        (
            "deploy:\n  phases: {}\n  phases: []\n",
            (3, 3),
            "duplicate key `phases` (first at line 2)",
        ),
        (
            "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          auth: user\n          auth_level: public\n",
            (5, 11),
            "`auth: user` and `auth_level: public` disagree; keep one",
        ),
    ];
    for (text, (line, column), message) in cases {
        assert_eq!(
            invalid(text),
            (*line, *column, (*message).to_owned()),
            "{text}"
        );
    }
}

#[test]
fn lenient_where_the_platform_is() {
    let manifest = parse(
        "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: a\n          hooks: user_deleted\n          tables: items\n          timeout_ms: \"5000\"\n    - type: services\n      service_definitions:\n        - service: llm\n      tts: owner_pays\n      color: blue\n",
    );
    let a = manifest.function("a").expect("a");
    assert_eq!(a.hooks, ["user_deleted"]);
    assert_eq!(a.tables, ["items"]);
    assert_eq!(a.timeout_ms, Some(5000));
    // An entry without a billing mode leaves the default; unknown keys are ignored.
    assert_eq!(manifest.billing("llm"), None);
    assert_eq!(manifest.billing("tts"), Some(Billing::OwnerPays));
    assert_eq!(manifest.services.len(), 1);
}

#[test]
fn syntax_errors_have_a_position_and_display_it() {
    let text = "deploy:\n  phases:\n    - type: functions\n      function_definitions: [\n";
    assert_eq!(
        invalid(text),
        (
            5,
            1,
            "while parsing a node, did not find expected node content".to_owned()
        )
    );
    let tab = "deploy:\n\tphases: []\n";
    let (line, column, _) = invalid(tab);
    assert_eq!((line, column), (2, 2));
    let Err(error) = Manifest::parse("a: [\n", Some(Path::new("x/gipity.yaml"))) else {
        panic!("parsed");
    };
    let shown = error.to_string();
    assert!(shown.starts_with("x/gipity.yaml:2:1: "), "{shown}");
    assert_eq!(error.location().map(|at| at.line), Some(2));
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let (_, _, message) = invalid(&text);
    assert!(message.contains("aliases expand to more than"), "{message}");
}

#[test]
fn aliases_to_nothing_or_to_themselves_are_errors() {
    let (line, column, _) = invalid("a: *nowhere\n");
    assert_eq!((line, column), (1, 4));
    assert_eq!(
        invalid("a: &x [1, *x]\n"),
        (1, 11, "an alias inside the node it refers to".to_owned())
    );
}

#[test]
fn a_merge_of_several_mappings_lets_the_first_win() {
    let manifest = parse(
        "a: &a {auth: user, tables: [x]}\nb: &b {auth: member, services: [llm]}\ndeploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: f\n          <<: [*a, *b]\n",
    );
    let f = manifest.function("f").expect("f");
    assert_eq!(f.auth, Some(Auth::User));
    assert_eq!(f.tables, ["x"]);
    assert_eq!(f.services, ["llm"]);
}

#[test]
fn aliasing_long_text_counts_against_the_budget() {
    let long = "x".repeat(100_000);
    let mut text = format!("big: &big \"{long}\"\nlist: [");
    for _ in 0..100 {
        text.push_str("*big, ");
    }
    text.push_str("]\n");
    let (_, _, message) = invalid(&text);
    assert!(
        message.starts_with("aliases expand to more than"),
        "{message}"
    );
}

#[test]
fn reading_a_missing_file_names_it() {
    let error = Manifest::from_path("/nonexistent/gipity.yaml").expect_err("missing");
    assert!(matches!(error, Error::Read { .. }));
    assert!(
        error
            .to_string()
            .starts_with("cannot read /nonexistent/gipity.yaml: "),
        "{error}"
    );
}

#[test]
fn function_files_and_discovery() {
    let root = std::env::temp_dir().join(format!("gipity-manifest-{}", std::process::id()));
    let nested = root.join("client").join("src");
    fs::create_dir_all(root.join("api").join("dir-fn")).expect("dirs");
    fs::create_dir_all(&nested).expect("dirs");
    fs::write(
        root.join("api").join("file-fn.js"),
        "export default async () => 1;\n",
    )
    .expect("js");
    fs::write(
        root.join("api").join("dir-fn").join("index.js"),
        "export default async () => 2;\n",
    )
    .expect("js");
    let path = root.join("gipity.yaml");
    fs::write(
        &path,
        "deploy:\n  phases:\n    - type: functions\n      source: api\n      function_definitions:\n        - name: declared\n",
    )
    .expect("yaml");

    assert_eq!(discover(&nested), Some(path.clone()));
    assert_eq!(discover(&root), Some(path.clone()));
    let manifest = Manifest::from_path(&path).expect("manifest");
    assert_eq!(manifest.path.as_deref(), Some(path.as_path()));
    assert_eq!(
        manifest.function_file("file-fn"),
        Some(root.join("api").join("file-fn.js"))
    );
    assert_eq!(
        manifest.function_file("dir-fn"),
        Some(root.join("api").join("dir-fn").join("index.js"))
    );
    assert_eq!(manifest.function_file("declared"), None);
    for sneaky in ["../gipity", "a/b", "", ".hidden", "dir-fn/index"] {
        assert_eq!(manifest.function_file(sneaky), None, "{sneaky}");
    }
    // Not read from a file: no directory to look in.
    let text = fs::read_to_string(&path).expect("read");
    assert_eq!(
        Manifest::parse(&text, None)
            .expect("parse")
            .function_file("file-fn"),
        None
    );
    fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    // The parser's own limit on flow collections.
    let (line, _, message) = invalid(&deep);
    assert_eq!((line, message.as_str()), (1, "recursion limit exceeded"));
    // Ours, on what the parser lets through.
    let flow = format!("a: {}{}\n", "[".repeat(129), "]".repeat(129));
    let (_, _, message) = invalid(&flow);
    assert_eq!(message, "lists and mappings nest deeper than 128 levels");
    let nested_maps: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let (_, _, message) = invalid(&nested_maps);
    assert_eq!(message, "lists and mappings nest deeper than 128 levels");
}
