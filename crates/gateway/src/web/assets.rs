//! The client's files, compiled into the binary: path (under `/assets/{build}/`),
//! content type, bytes. A file missing here is a 404 in the browser, and the test
//! below finds any module that imports one.

pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The HTML shell, served at `/` with `{build}` replaced by the build id.
pub const SHELL: &str = include_str!("assets/index.html");

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        pub const ASSETS: &[Asset] = &[
            $(Asset {
                path: $path,
                content_type: content_type($path),
                bytes: include_bytes!(concat!("assets/", $path)),
            }),*
        ];
    };
}

const fn content_type(path: &str) -> &'static str {
    let b = path.as_bytes();
    match b {
        [.., b'.', b'c', b's', b's'] => "text/css; charset=utf-8",
        [.., b'.', b'j', b's'] => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

assets!(
    "app.css",
    "app.js",
    "report.css",
    "screens.js",
    "lib/api.js",
    "lib/attachments.js",
    "lib/break-glass.js",
    "lib/conversations.js",
    "lib/directory.js",
    "lib/format.js",
    "lib/icons.js",
    "lib/labels.js",
    "lib/store.js",
    "lib/stream.js",
    "lib/ui.js",
    "screens/account.js",
    "screens/aci.js",
    "screens/conversation.js",
    "screens/cpts.js",
    "screens/directory.js",
    "screens/login.js",
    "screens/messages.js",
    "screens/new-conversation.js",
    "screens/new-patient.js",
    "screens/notifications.js",
    "screens/patient-file.js",
    "screens/patient-rights.js",
    "screens/patient-team.js",
    "screens/patient-threads.js",
    "screens/patient.js",
    "screens/patients.js",
    "vendor/hooks.js",
    "vendor/htm.js",
    "vendor/preact.js",
    // Campaigns (issue 15)
    "lib/campaigns.js",
    "screens/campaigns.js",
    "screens/campaign-counter.js",
    "screens/campaign-dashboard.js",
    "screens/new-campaign.js",
    // Waiting list (issue 14)
    "screens/waiting-list.js",
    "screens/waiting-request.js",
    "screens/gp-capacity.js",
    // Pathways, care plans and tasks (issue 12)
    "screens/patient-plan.js",
    "screens/tasks.js",
    "screens/pathways.js",
    // Case conferences (issue 13)
    "screens/conferences.js",
);

pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `import … from './x.js'` targets, resolved against the importing module.
    fn imports(from: &str, source: &str) -> Vec<String> {
        let dir: Vec<&str> = from.split('/').collect();
        let dir = &dir[..dir.len() - 1];
        // Static imports (`from '…'`) and the screens fetched when opened (`import('…')`).
        ["from", "import("]
            .iter()
            .flat_map(|marker| source.split(marker).skip(1))
            .filter_map(|rest| {
                let rest = rest.trim_start();
                let quote = rest.chars().next()?;
                if quote != '\'' && quote != '"' {
                    return None;
                }
                let end = rest[1..].find(quote)?;
                let target = &rest[1..=end];
                target.starts_with('.').then(|| target.to_string())
            })
            .map(|target| {
                let mut parts: Vec<&str> = dir.to_vec();
                for seg in target.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                parts.join("/")
            })
            .collect()
    }

    #[test]
    fn every_module_a_module_imports_is_served() {
        let lazy = imports("screens.js", "lazy(() => import('./screens/tasks.js'))");
        assert_eq!(lazy, ["screens/tasks.js"], "dynamic imports are read too");
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let source = std::str::from_utf8(a.bytes).unwrap();
            for target in imports(a.path, source) {
                assert!(
                    find(&target).is_some(),
                    "{} imports {target}, not in ASSETS",
                    a.path
                );
            }
        }
    }

    #[test]
    fn no_module_evaluates_strings_or_reaches_another_host() {
        for a in ASSETS {
            let text = std::str::from_utf8(a.bytes).unwrap();
            for banned in [
                "eval(",
                "new Function",
                "localStorage",
                "sessionStorage",
                "indexedDB",
            ] {
                assert!(!text.contains(banned), "{} contains {banned}", a.path);
            }
            // preact names the SVG and MathML namespaces; those are not fetched.
            if !a.path.starts_with("vendor/") {
                assert!(
                    !text.contains("http://") && !text.contains("https://"),
                    "{}",
                    a.path
                );
            }
        }
    }
}
