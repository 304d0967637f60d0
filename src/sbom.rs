//! Software bills of materials of the vendored dependencies, from `deps.toml` and the tree
//! alone (no network): CycloneDX 1.6 JSON and SPDX 2.3 JSON.
//!
//! Each dependency becomes one component (CycloneDX) or package (SPDX) with its name, the
//! vendored version (as [`crate::check::current_version`] reads it), a package URL
//! (`pkg:github/owner/repo@tag`, `pkg:npm/...`, else `pkg:generic/...` with the download or
//! VCS address as a qualifier), the archive's SHA-256 from the registry, its VCS and download
//! addresses, its `license` (an SPDX expression, validated when the registry is loaded) and,
//! in CycloneDX, the local patch queue as `pedigree.patches`. What is nested inside a
//! dependency (npm packages under its `node_modules`, libraries `init`'s catalog recognises
//! in its sub-folders, registry entries with `parent`) is described under it: CycloneDX
//! `components` of its component, SPDX packages it `CONTAINS`. The output is deterministic: the
//! registry's order, ids derived from the content, and one timestamp, `SOURCE_DATE_EPOCH` when
//! set; so the file can be committed and diffed.

use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::check::{DependencyError, current_version};
use crate::manifest::{Dependency, Manifest, Patches};
use crate::source::{SourceContext, SourceSpec};

/// Which document to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON (`*.cdx.json`)
    Cyclonedx,
    /// SPDX 2.3 JSON (`*.spdx.json`)
    Spdx,
}

impl SbomFormat {
    /// The file name written by default, as OpenSSF Scorecard looks for it.
    pub fn default_file(self) -> &'static str {
        match self {
            Self::Cyclonedx => "sbom.cdx.json",
            Self::Spdx => "sbom.spdx.json",
        }
    }
}

/// Why a dependency could not be described.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("cannot read the vendored version of `{name}`")]
    Version {
        name: String,
        #[source]
        source: Box<DependencyError>,
    },
    #[error("cannot list the patch queue `{}` of `{name}`", path.display())]
    Patches {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SbomError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Version { source, .. } => source.hint(),
            Self::Patches { .. } => Some("check `patches` in `deps.toml`".into()),
        }
    }
}

/// One vendored dependency, as an SBOM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub sha256: Option<String>,
    pub license: Option<String>,
    /// The upstream repository.
    pub vcs: Option<String>,
    /// Where the vendored archive is downloaded from, when known without asking upstream.
    pub download: Option<String>,
    /// The patch queue's files, relative to the repository root, in order.
    pub patches: Vec<String>,
    /// The upstream commit the vendored version comes from, when the registry records it
    /// (`archive-commit`, or a tracked branch's commit).
    pub commit: Option<String>,
    /// The build steps run over the upstream code (`after`).
    pub steps: Vec<String>,
    /// The vendored folder, relative to the repository root.
    pub path: String,
    /// Whether it is an entry of the registry (not a package found inside one).
    pub entry: bool,
    /// What is vendored inside it: registry entries with it as `parent`, then the packages
    /// found in its folder.
    pub nested: Vec<Component>,
}

impl Component {
    /// It and everything nested in it, at any depth, parents first.
    pub fn all(&self) -> Vec<&Component> {
        std::iter::once(self)
            .chain(self.nested.iter().flat_map(Component::all))
            .collect()
    }
}

/// The components of `deps`, in registry order, each with what is nested in it; an entry
/// whose `parent` is among `deps` is under it. `context` gives the forges' and the npm
/// registry's addresses as configured; nothing is asked of the network.
pub fn components(
    manifest: &Manifest,
    context: &SourceContext,
    deps: &[&Dependency],
) -> Result<Vec<Component>, SbomError> {
    let found = crate::audit::nested::on_disk(&manifest.root, &manifest.deps, deps);
    let mut built: Vec<Option<Component>> = Vec::with_capacity(deps.len());
    for dep in deps {
        let mut own = component(manifest, context, dep)?;
        // One whose version is unknown is listed by `audit` as a gap, not as a component.
        for package in found
            .iter()
            .filter(|p| p.parent == dep.name && p.versioned())
        {
            let nested = package.dependency(dep);
            let mut item = component_at(manifest, context, &nested, package.version.clone())?;
            item.entry = false;
            own.nested.push(item);
        }
        built.push(Some(own));
    }
    // Innermost first, so each entry is complete when it moves under its parent.
    let depth = |dep: &Dependency| {
        std::iter::successors(dep.parent.as_ref(), |p| {
            deps.iter().find(|d| &d.name == *p)?.parent.as_ref()
        })
        .count()
    };
    let mut order: Vec<usize> = (0..deps.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(depth(deps[i])));
    for i in order {
        let Some(parent) = deps[i].parent.as_ref() else {
            continue;
        };
        let Some(p) = deps.iter().position(|d| &d.name == parent) else {
            continue;
        };
        if let Some(child) = built[i].take()
            && let Some(outer) = built[p].as_mut()
        {
            // Entries before the packages found in the folder, in registry order.
            let at = outer.nested.iter().take_while(|c| c.entry).count();
            outer.nested.insert(at, child);
        }
    }
    Ok(built.into_iter().flatten().collect())
}

fn component(
    manifest: &Manifest,
    context: &SourceContext,
    dep: &Dependency,
) -> Result<Component, SbomError> {
    let (current, _) = current_version(dep, &crate::vendored::VendoredTree::disk(&manifest.root))
        .map_err(|source| SbomError::Version {
        name: dep.name.clone(),
        source: Box::new(source),
    })?;
    component_at(manifest, context, dep, current.to_string())
}

/// `dep`'s component at the vendored `version`.
fn component_at(
    manifest: &Manifest,
    context: &SourceContext,
    dep: &Dependency,
    version: String,
) -> Result<Component, SbomError> {
    let tag = dep.tag_of(&version).unwrap_or_else(|| version.clone());
    // The same placeholders an update fills in, as far as the registry alone knows them.
    let target = crate::source::Target {
        version: &version,
        tag: Some(&tag),
        candidate: None,
    };
    let vars = crate::apply::archive_vars(dep, &target);
    // A template that needs what only upstream knows (`{year}` of a page) stays unrendered.
    let rendered = |template: &crate::template::Template| {
        Some(template.render(&vars)).filter(|url| !url.contains('{'))
    };
    let asset = dep.apply.asset.as_ref().and_then(rendered);
    let archive = dep.apply.archive.as_ref().and_then(rendered);
    let npm_registry = context.npm_registry.as_str();
    let (purl, vcs, download) = match &dep.source {
        SourceSpec::Release { forge, repo } | SourceSpec::Tag { forge, repo } => {
            // The forge as configured: a self-hosted one's own addresses.
            let site = context.site(*forge);
            let web = site.repo_page(&context.http, repo);
            let download = archive.or_else(|| forge.public_download(&web, &tag, asset.as_deref()));
            let purl = forge
                .package_url(&site.web(&context.http), repo, &tag)
                .unwrap_or_else(|| {
                    generic(&dep.name, &version, "vcs_url", &format!("git+{web}@{tag}"))
                });
            (purl, Some(web), download)
        }
        SourceSpec::Git { url } => {
            let shown =
                url::Url::parse(url).map_or_else(|_| url.clone(), |u| crate::http::redact(&u));
            let purl = generic(
                &dep.name,
                &version,
                "vcs_url",
                &format!("git+{shown}@{version}"),
            );
            (purl, Some(shown), archive)
        }
        SourceSpec::Npm { package } => {
            let base = package.rsplit('/').next().unwrap_or(package);
            let download = archive.or_else(|| {
                Some(format!(
                    "{}/{package}/-/{base}-{version}.tgz",
                    npm_registry.trim_end_matches('/')
                ))
            });
            let purl = match package.split_once('/') {
                Some((scope, name)) => format!(
                    "pkg:npm/{}/{}@{}",
                    escape(scope),
                    escape(name),
                    escape(&version)
                ),
                None => format!("pkg:npm/{}@{}", escape(package), escape(&version)),
            };
            (purl, None, download)
        }
        SourceSpec::Url { .. } => {
            let purl = match &archive {
                Some(url) => generic(&dep.name, &version, "download_url", url),
                None => format!("pkg:generic/{}@{}", escape(&dep.name), escape(&version)),
            };
            (purl, None, archive)
        }
    };
    Ok(Component {
        name: dep.name.clone(),
        version,
        purl,
        sha256: dep.apply.sha256.clone(),
        license: dep.license.clone(),
        vcs,
        download,
        patches: patch_files(manifest, dep)?,
        commit: dep
            .apply
            .archive_commit
            .clone()
            .or_else(|| match &dep.source {
                SourceSpec::Git { .. }
                    if matches!(dep.tracking, crate::manifest::Tracking::Branch { .. }) =>
                {
                    dep.tracking.recorded()
                }
                _ => None,
            }),
        steps: dep
            .apply
            .after
            .iter()
            .map(|step| step.run.clone())
            .collect(),
        path: dep.path.display().to_string().replace('\\', "/"),
        entry: true,
        nested: Vec::new(),
    })
}

/// `pkg:generic/NAME@VERSION?KEY=VALUE`.
fn generic(name: &str, version: &str, key: &str, value: &str) -> String {
    format!(
        "pkg:generic/{}@{}?{key}={}",
        escape(name),
        escape(version),
        escape(value)
    )
}

/// Percent-encodes everything but unreserved characters (as package URLs want).
fn escape(text: &str) -> String {
    crate::template::percent_encode(text, b"")
}

/// The patch queue's files, relative to the repository root.
fn patch_files(manifest: &Manifest, dep: &Dependency) -> Result<Vec<String>, SbomError> {
    let shown = |p: &std::path::Path| p.display().to_string().replace('\\', "/");
    match &dep.apply.patches {
        None => Ok(Vec::new()),
        Some(Patches::Files(files)) => Ok(files.iter().map(|f| shown(f)).collect()),
        Some(Patches::Folder(folder)) => {
            let error = |source| SbomError::Patches {
                name: dep.name.clone(),
                path: folder.clone(),
                source,
            };
            let mut names: Vec<String> = crate::confine::resolve(&manifest.root, folder)
                .and_then(std::fs::read_dir)
                .map_err(error)?
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".patch"))
                .collect();
            names.sort();
            Ok(names.iter().map(|n| shown(&folder.join(n))).collect())
        }
    }
}

/// A UUID (version 5 layout) derived from `seed`: the same content, the same id.
fn derived_uuid(seed: &[u8]) -> String {
    let digest = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A timestamp in seconds as RFC 3339 (`2026-11-24T05:00:00Z`).
pub fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The CycloneDX 1.6 document.
pub fn cyclonedx(project: &str, components: &[Component], timestamp: i64) -> Value {
    let listed: Vec<Value> = components.iter().map(cyclonedx_component).collect();
    let body = serde_json::to_vec(&listed).unwrap_or_default();
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", derived_uuid(&body)),
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(timestamp),
            "tools": {"components": [{
                "type": "application",
                "name": "deps-update",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {"type": "application", "bom-ref": "project", "name": project},
        },
        "components": listed,
        "dependencies": [{
            "ref": "project",
            "dependsOn": components.iter().map(bom_ref).collect::<Vec<_>>(),
        }],
    })
}

/// A component's `bom-ref`: `dep:NAME` for a registry entry, `nested:PATH` for a package
/// found inside one (folders are unique, names are not).
fn bom_ref(c: &Component) -> String {
    if c.entry {
        format!("dep:{}", c.name)
    } else {
        format!("nested:{}", c.path)
    }
}

/// One CycloneDX component, with what is nested in it as its own `components`.
fn cyclonedx_component(c: &Component) -> Value {
    let mut item = json!({
        "type": "library",
        "bom-ref": bom_ref(c),
        "name": c.name,
        "version": c.version,
        "purl": c.purl,
    });
    if let Some(sha256) = &c.sha256 {
        item["hashes"] = json!([{"alg": "SHA-256", "content": sha256}]);
    }
    if let Some(license) = &c.license {
        item["licenses"] = json!([{"expression": license}]);
    }
    let mut references = Vec::new();
    if let Some(vcs) = &c.vcs {
        references.push(json!({"type": "vcs", "url": vcs}));
    }
    if let Some(download) = &c.download {
        let mut reference = json!({"type": "distribution", "url": download});
        if let Some(sha256) = &c.sha256 {
            reference["hashes"] = json!([{"alg": "SHA-256", "content": sha256}]);
        }
        references.push(reference);
    }
    if !references.is_empty() {
        item["externalReferences"] = Value::Array(references);
    }
    if !c.patches.is_empty() {
        let patches: Vec<Value> = c
            .patches
            .iter()
            .map(|p| json!({"type": "unofficial", "diff": {"url": p}}))
            .collect();
        item["pedigree"] = json!({"patches": patches});
    }
    if let Some(commit) = &c.commit {
        let mut entry = json!({"uid": commit});
        if let Some(vcs) = &c.vcs {
            entry["url"] = json!(vcs);
        }
        item["pedigree"]["commits"] = json!([entry]);
    }
    let mut properties = vec![json!({"name": "deps-update:path", "value": c.path})];
    for step in &c.steps {
        properties.push(json!({"name": "deps-update:build-step", "value": step}));
    }
    item["properties"] = Value::Array(properties);
    if !c.nested.is_empty() {
        item["components"] = c.nested.iter().map(cyclonedx_component).collect();
    }
    item
}

/// The SPDX 2.3 document.
pub fn spdx(project: &str, components: &[Component], timestamp: i64) -> Value {
    let id = |name: &str| {
        let clean: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("SPDXRef-Package-{clean}")
    };
    // Registry entries by name; packages found inside them by folder, kept unique.
    let mut ids: Vec<String> = Vec::new();
    let mut listed: Vec<(&Component, String)> = Vec::new();
    let mut contains: Vec<(String, String)> = Vec::new();
    let mut pending: Vec<(&Component, Option<String>)> =
        components.iter().rev().map(|c| (c, None)).collect();
    while let Some((c, parent)) = pending.pop() {
        let wanted = if c.entry {
            id(&c.name)
        } else {
            id(&c.path).replacen("SPDXRef-Package-", "SPDXRef-Nested-", 1)
        };
        let mut unique = wanted.clone();
        let mut n = 2;
        while ids.contains(&unique) {
            unique = format!("{wanted}-{n}");
            n += 1;
        }
        ids.push(unique.clone());
        if let Some(parent) = parent {
            contains.push((parent, unique.clone()));
        }
        pending.extend(c.nested.iter().rev().map(|n| (n, Some(unique.clone()))));
        listed.push((c, unique));
    }
    let packages: Vec<Value> = listed
        .iter()
        .map(|(c, spdx_id)| {
            let mut package = json!({
                "SPDXID": spdx_id,
                "name": c.name,
                "versionInfo": c.version,
                "downloadLocation": c.download.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "filesAnalyzed": false,
                "licenseConcluded": c.license.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "licenseDeclared": c.license.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "copyrightText": "NOASSERTION",
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": c.purl,
                }],
            });
            if let Some(sha256) = &c.sha256 {
                package["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": sha256}]);
            }
            if let Some(vcs) = &c.vcs {
                package["homepage"] = json!(vcs);
            }
            if let Some(commit) = &c.commit {
                package["sourceInfo"] = json!(format!("built from upstream commit {commit}"));
            }
            if !c.patches.is_empty() {
                package["comment"] = json!(format!(
                    "Vendored in {} with local patches: {}",
                    c.path,
                    c.patches.join(", ")
                ));
            } else {
                package["comment"] = json!(format!("Vendored in {}", c.path));
            }
            package
        })
        .collect();
    let body = serde_json::to_vec(&packages).unwrap_or_default();
    let mut relationships = vec![];
    for (c, spdx_id) in &listed {
        if c.entry && !contains.iter().any(|(_, child)| child == spdx_id) {
            relationships.push(json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id,
            }));
        }
    }
    for (parent, child) in contains {
        relationships.push(json!({
            "spdxElementId": parent,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": child,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{project} vendored dependencies"),
        "documentNamespace": format!(
            "https://spdx.org/spdxdocs/deps-update/{}-{}",
            escape(project),
            derived_uuid(&body)
        ),
        "creationInfo": {
            "created": rfc3339(timestamp),
            "creators": [format!("Tool: deps-update-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times_are_stable() {
        assert_eq!(derived_uuid(b"x"), derived_uuid(b"x"));
        let uuid = derived_uuid(b"x");
        assert_eq!(&uuid[14..15], "5");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(escape("@types/node"), "%40types%2Fnode");
    }
}
