//! `deps-update list`: the registry as a table, or as JSON for a CI matrix.

use serde_json::json;

use super::{Outcome, load_manifest, table};
use crate::cli::{GlobalArgs, ListArgs};
use crate::manifest::Tracking;
use crate::printer::Printer;

pub fn run(
    global: &GlobalArgs,
    args: &ListArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    if args.json {
        let entries: Vec<_> = manifest
            .deps
            .iter()
            .map(|dep| {
                let mut entry = json!({
                    "name": dep.name,
                    "path": dep.path.to_string_lossy(),
                    "source": dep.source.kind(),
                    "upstream": dep.source.location(),
                    "version": dep.tracking.recorded(),
                    "group": dep.group,
                });
                if let Tracking::Branch { branch, .. } = &dep.tracking {
                    entry["branch"] = json!(branch);
                }
                entry
            })
            .collect();
        printer.data(&format!("{}\n", serde_json::Value::Array(entries)));
        return Ok(Outcome::Success);
    }
    let grouped = manifest.deps.iter().any(|d| d.group.is_some());
    let mut rows = vec![vec![
        "NAME".into(),
        "SOURCE".into(),
        "UPSTREAM".into(),
        "VERSION".into(),
        "PATH".into(),
    ]];
    if grouped {
        rows[0].push("GROUP".into());
    }
    for dep in &manifest.deps {
        let upstream = match &dep.tracking {
            Tracking::Branch { branch, .. } => {
                format!("{} ({branch})", dep.source.location())
            }
            Tracking::Releases { .. } => dep.source.location().to_owned(),
        };
        let version = match (dep.tracking.recorded(), &dep.version_file) {
            (Some(v), _) => v,
            (None, Some(vf)) => format!("(from {})", vf.path.display()),
            (None, None) => "-".into(),
        };
        let mut row = vec![
            dep.name.clone(),
            dep.source.kind().into(),
            upstream,
            version,
            dep.path.display().to_string(),
        ];
        if grouped {
            row.push(dep.group.clone().unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    printer.data(&table(&rows));
    Ok(Outcome::Success)
}
