//! `--json` on every command a script calls: one document on stdout, of a stable shape,
//! failures included (`dependency`, `kind`, `message`, `hint`).

use serde_json::Value;

use crate::support::{Project, github_dep};

fn registry() -> String {
    [
        github_dep("alpha", "github-release", "o/alpha", "1.0.0", ""),
        github_dep("beta", "github-tag", "o/beta", "2.0.0", ""),
    ]
    .join("\n")
}

/// The failure shape: every key present, of its type.
fn assert_failure(failure: &Value, dependency: Option<&str>, kind: &str) {
    assert_eq!(failure["dependency"].as_str(), dependency, "{failure}");
    assert_eq!(failure["kind"], kind, "{failure}");
    assert!(
        failure["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{failure}"
    );
    assert!(
        failure["hint"].is_string() || failure["hint"].is_null(),
        "{failure}"
    );
    let mut keys: Vec<&str> = failure
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["dependency", "hint", "kind", "message"]);
}

#[test]
fn validate_json() {
    let project = Project::new();
    project.manifest(&registry());
    let run = project.run(&["validate", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["dependencies"][0]["name"], "alpha");
    assert_eq!(doc["dependencies"][0]["version"], "1.0.0");
    assert_eq!(doc["dependencies"][0]["status"], "ok");
    assert_eq!(doc["failures"], serde_json::json!([]));
}

#[test]
fn a_whole_command_failure_is_a_json_document() {
    let project = Project::new();
    for args in [
        &["validate", "--json"][..],
        &["check", "--json"],
        &["update", "--all", "--json"],
        &["verify", "--json"],
        &["sbom", "--json"],
    ] {
        let run = project.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_failure(&run.json()["error"], None, "not-found");
    }
    project.manifest(&registry());
    let run = project.run(&["verify", "--json", "gamma"]);
    assert_eq!(run.code, 2);
    let doc = run.json();
    assert_failure(&doc["error"], None, "unknown-dependency");
    assert_eq!(doc["error"]["hint"], "known dependencies: alpha, beta");
}

#[test]
fn audit_json_when_osv_is_down() {
    let project = Project::new();
    project.manifest(&registry());
    let run = project.run(&["audit", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "{doc}"
    );
    assert!(doc["error"]["kind"].is_string());
}

#[test]
fn update_json_reports_each_failure() {
    let mut project = Project::new();
    project.manifest(&registry());
    project.commit_all("registry");
    let run = project.run(&["update", "--all", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    let entry = &doc["dependencies"][1];
    assert_eq!(entry["name"], "beta");
    assert_eq!(entry["from"], "2.0.0");
    assert_eq!(entry["result"], "failed");
    for key in ["to", "branch", "commit", "pull_request", "note"] {
        assert!(entry[key].is_null(), "{key}: {entry}");
    }
    assert_eq!(entry["pushed"], false);
    assert_failure(&doc["failures"][0], Some("alpha"), "unreachable");
    assert_failure(&doc["failures"][1], Some("beta"), "unreachable");
    // The short form takes it too.
    let run = project.run(&["alpha", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["dependencies"][0]["result"], "failed");
}

#[test]
fn verify_json_reports_each_failure() {
    let project = Project::new();
    project.manifest(&registry());
    let run = project.run(&["verify", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["dependencies"][0]["status"], "failed");
    assert_eq!(doc["dependencies"][0]["edits"], serde_json::json!([]));
    assert_failure(&doc["failures"][0], Some("alpha"), "unreachable");
}

#[test]
fn patch_json_without_a_queue() {
    let project = Project::new();
    project.manifest(&registry());
    let run = project.run(&["patch", "alpha", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["dependency"], "alpha");
    assert!(doc["patch"].is_null());
    assert_eq!(doc["files"], 0);
    assert_failure(&doc["failure"], Some("alpha"), "no-queue");
}

#[test]
fn sbom_json_summarises_what_was_written() {
    let project = Project::new();
    project.manifest(&registry());
    let run = project.run(&["sbom", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["file"], "sbom.cdx.json");
    assert_eq!(doc["format"], "cyclonedx");
    assert_eq!(doc["dependencies"], 2);
    assert_eq!(doc["failures"], serde_json::json!([]));
    assert!(project.root().join("sbom.cdx.json").exists());
    assert!(run.stderr.contains("2 dependencies"), "{}", run.stderr);
}

#[test]
fn init_json_check() {
    let project = Project::new();
    project.manifest(&registry());
    project.write("deps/alpha/README", "alpha\n");
    project.write("deps/zeta/README", "zeta\n");
    let run = project.run(&["init", "--check", "--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let doc = run.json();
    assert_eq!(doc["missing"], serde_json::json!(["deps/zeta"]));
    assert!(doc["vendored"].as_u64().unwrap() >= 1, "{doc}");
}
