//! `deps-update sbom`: a CycloneDX or SPDX document of the vendored dependencies.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{Outcome, load_manifest};
use crate::cli::{GlobalArgs, SbomArgs};
use crate::commands::report::CommandError;
use crate::printer::Printer;
use crate::sbom::{SbomFormat, components, cyclonedx, spdx};

pub fn run(
    global: &GlobalArgs,
    args: &SbomArgs,
    printer: &Printer,
) -> Result<Outcome, CommandError> {
    let manifest = load_manifest(global)?;
    let deps = manifest.select(&args.names)?;
    let context = super::source_context(global, &manifest, printer, super::Answers::Cached)?;
    let components = match components(&manifest, &context, &deps) {
        Ok(components) => components,
        // A partial bill of materials would be worse than none: nothing is written.
        Err(error) => {
            let hints: Vec<String> = error.hint().into_iter().collect();
            printer.error("", &error, &hints);
            if args.json {
                printer.data(&format!(
                    "{}\n",
                    serde_json::json!({
                        "file": null,
                        "format": args.format.to_possible_value().map(|v| v.get_name().to_owned()),
                        "dependencies": 0,
                        "failures": [super::failures::json(None, &error, &hints)],
                    })
                ));
            }
            return Ok(Outcome::SomeFailed);
        }
    };
    let project = manifest.settings.repository.clone().unwrap_or_else(|| {
        manifest
            .root
            .canonicalize()
            .ok()
            .and_then(|root| root.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "project".into())
    });
    let timestamp = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(super::now);
    let document = match args.format {
        SbomFormat::Cyclonedx => cyclonedx(&project, &components, timestamp),
        SbomFormat::Spdx => spdx(&project, &components, timestamp),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("JSON values serialize");
    text.push('\n');
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| manifest.root.join(args.format.default_file()));
    if output.as_os_str() == "-" {
        printer.data(&text);
        return Ok(Outcome::Success);
    }
    std::fs::write(&output, text).map_err(|source| CommandError::Write {
        path: output.clone(),
        source,
    })?;
    if args.json {
        printer.data(&format!(
            "{}\n",
            serde_json::json!({
                "file": shown(&output),
                "format": args.format.to_possible_value().map(|v| v.get_name().to_owned()),
                "dependencies": deps.len(),
                "failures": [],
            })
        ));
    }
    printer.status(&format!(
        "wrote `{}`: {}",
        shown(&output),
        crate::suggest::count(deps.len(), "dependency", "dependencies")
    ));
    Ok(Outcome::Success)
}

/// A path as the user would write it: relative to the current folder, without `./`.
fn shown(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let relative = path.strip_prefix(&cwd).unwrap_or(path);
    relative
        .strip_prefix(".")
        .map(PathBuf::from)
        .unwrap_or_else(|_| relative.to_owned())
        .display()
        .to_string()
}
