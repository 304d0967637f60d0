//! Behaviour tests: the real `deps-update` binary against fakes on 127.0.0.1 and local git
//! repositories, with `HOME`, git config and the cache isolated per test.

mod audit;
mod audit_issues;
mod branches;
mod cache;
mod check_git;
mod check_github;
mod check_npm;
mod commits;
mod cooldown;
mod demo;
mod docs;
mod generated;
mod gitea;
mod gitlab;
mod gitlab_merge;
mod hostile;
mod init;
mod layering;
mod layout;
mod local;
mod node_fidelity;
mod page;
mod patches;
mod provenance;
mod publish;
mod registry;
mod sbom;
mod support;
mod three_way;
mod tokens;
mod update;
mod update_sources;
mod versioned;
