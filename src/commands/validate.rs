//! `deps-update validate`: the registry and every `version-file`, without the network.

use super::failures;
use super::{Outcome, load_manifest, table};
use crate::check::current_version;
use crate::cli::{GlobalArgs, ValidateArgs};
use crate::commands::report::hints;
use crate::printer::Printer;
use crate::suggest::count;
use serde_json::json;

pub fn run(
    global: &GlobalArgs,
    args: &ValidateArgs,
    printer: &Printer,
) -> Result<Outcome, crate::commands::report::CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let mut rows = vec![vec!["NAME".into(), "VERSION".into(), "STATUS".into()]];
    let mut failed = 0;
    let (mut entries, mut failures) = (Vec::new(), Vec::new());
    let tree = crate::vendored::VendoredTree::disk(&manifest.root);
    for dep in &deps {
        let stale = |current: &crate::check::Current| {
            crate::check::reference_problems(dep, &tree, &current.to_string())
        };
        match current_version(dep, &tree) {
            Ok((current, _)) if !stale(&current).is_empty() => {
                failed += 1;
                rows.push(vec![dep.name.clone(), current.to_string(), "error".into()]);
                entries.push(json!({"name": dep.name, "version": current.to_string(), "status": "error", "note": null}));
                for problem in stale(&current) {
                    let error = crate::check::ReferenceProblem(problem);
                    let hints = ["set the file to the vendored version, or fix `references`; the next update rewrites it".to_owned()];
                    failures.push(failures::json(Some(&dep.name), &error, &hints));
                    printer.error(&format!("`{}`", dep.name), &error, &hints);
                }
            }
            Ok((current, note)) => {
                let how = match (&dep.version_file, note) {
                    (_, Some(note)) => format!("ok ({note})"),
                    (Some(vf), None) => {
                        format!("ok (matches {})", dep.path.join(&vf.path).display())
                    }
                    (None, None) => "ok".into(),
                };
                entries.push(json!({"name": dep.name, "version": current.to_string(), "status": "ok", "note": how.strip_prefix("ok (").and_then(|n| n.strip_suffix(')'))}));
                rows.push(vec![dep.name.clone(), current.to_string(), how]);
            }
            Err(error) => {
                failed += 1;
                rows.push(vec![dep.name.clone(), "-".into(), "error".into()]);
                entries.push(json!({"name": dep.name, "version": dep.tracking.recorded(), "status": "error", "note": null}));
                failures.push(failures::json(Some(&dep.name), &error, &hints(&error)));
                printer.error(&format!("`{}`", dep.name), &error, &hints(&error));
            }
        }
    }
    if args.json {
        printer.data(&format!(
            "{}\n",
            json!({"dependencies": entries, "failures": failures})
        ));
    } else {
        printer.data(&table(&rows));
    }
    printer.status(&format!(
        "{} in `{}`: {} valid, {failed} failed",
        count(deps.len(), "dependency", "dependencies"),
        manifest.file.display(),
        deps.len() - failed
    ));
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}
