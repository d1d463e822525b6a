//! Java properties files, and the walk of a mounted Secret's directory:
//! odd file names, `..data` links, and the variables made of their keys.
#![no_main]

use connect_operator::render::variables::{jaas_credentials, parse_properties, variable_name, Variables};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(props) = parse_properties(data) {
        for (key, value) in &props {
            let _ = variable_name(key);
            let _ = jaas_credentials(value);
        }
    }
    // The first line names up to three files (separated by `|`); the rest is each file's text.
    let text = String::from_utf8_lossy(data);
    let (names, body) = text.split_once('\n').unwrap_or((&text, ""));
    let Ok(dir) = tempfile::tempdir() else { return };
    let root = dir.path().join("secret");
    let _ = std::fs::create_dir(&root);
    for name in names.split('|').take(3) {
        let name: String = name.chars().filter(|c| *c != '/' && *c != '\0').take(100).collect();
        if name.is_empty() || name == "." || name == ".." {
            continue;
        }
        if name.starts_with("..") {
            // As kubelet lays a Secret out: the real files behind a `..data` link.
            let _ = std::fs::create_dir(root.join(&name));
            let _ = std::fs::write(root.join(&name).join("x.properties"), body);
            let _ = std::os::unix::fs::symlink(&name, root.join("..data"));
        } else {
            let _ = std::fs::write(root.join(&name), body);
        }
    }
    let variables = Variables::load(dir.path(), std::iter::empty());
    let _ = variables.secret_values().count();
});
