//! deps-update keeps vendored third-party code up to date from one declarative registry.
//!
//! The pipeline: [`manifest`] loads `deps.toml` into validated dependencies; for each one,
//! [`check`] reads the vendored version (from the registry and its `version-file`), a
//! [`source`] discovers what upstream offers (a [`forge`]'s releases or tags: GitHub, GitLab,
//! Gitea; any git remote, npm, any page read by a regex) through the shared [`http`] client or [`vcs`], and
//! [`select`] picks the newest candidate the dependency allows, mapping tags to versions with
//! [`tag`] templates and ordering them with [`version`]. The source also says where the chosen
//! version's code is. [`apply`] then fetches it ([`download`]), verifies it (checksums, npm
//! integrity, [`signature`]), unpacks it safely ([`archive`]), lays out the new tree, applies
//! the project's [`patch`] queue, rewrites `deps.toml` ([`manifest::edit`]) and commits on the
//! update branch (one per dependency, or per `group`) through [`vcs`],
//! describing the change with [`diff`] in a plain [`summary`]. [`publish`] pushes that branch
//! and opens or refreshes its pull (merge) request through its [`forge`], with the body the
//! summary renders. Beside the pipeline, [`audit`] asks OSV and the forges' advisories about what is
//! vendored (and [`publish`] puts what an update fixes in its pull request), and [`sbom`]
//! writes CycloneDX and SPDX documents from the registry.
//! [`commands`] drive the pipeline for each subcommand and print through [`printer`];
//! [`commands::report`] maps failures to hints and exit codes; [`config`] resolves the
//! environment; [`retry`], [`template`], [`suggest`] and [`blocking`] are shared helpers.

pub mod advisory;
pub mod apply;
pub mod archive;
pub mod audit;
pub mod blocking;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod confine;
pub mod diff;
pub mod download;
pub mod forge;
pub mod http;
pub mod init;
pub mod manifest;
pub mod patch;
pub mod printer;
pub mod process;
pub mod publish;
pub mod retry;
pub mod sbom;
pub mod select;
pub mod signature;
pub mod source;
pub mod suggest;
pub mod summary;
pub mod tag;
pub mod template;
pub mod vcs;
pub mod vendored;
pub mod version;
pub mod write_hint;
