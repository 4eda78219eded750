//! Property test: whatever text a catalog file holds, processing it never panics and every
//! problem it reports names a line inside the file.

use crate::process::{Context, process_file};
use crate::settings::{CatalogSettings, LocationSpec};
use crate::source::UrlReader;
use proptest::prelude::*;

fn fragments() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("apiVersion: backstage.io/v1alpha1\n".to_string()),
        Just("kind: Component\n".to_string()),
        Just("kind: Location\n".to_string()),
        Just("metadata:\n  name: a\n".to_string()),
        Just("metadata: [1, 2]\n".to_string()),
        Just("spec:\n  owner: x\n  type: s\n  lifecycle: l\n".to_string()),
        Just("spec:\n  targets: [./x.yaml, ../../etc/passwd]\n".to_string()),
        Just("  definition:\n    $text: ./missing.txt\n".to_string()),
        Just("---\n".to_string()),
        Just("&a [*a]\n".to_string()),
        Just("{{{{\n".to_string()),
        Just("- - - -\n".to_string()),
        Just("key: \"unterminated\n".to_string()),
        "[ -~\n]{0,40}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn processing_any_text_never_panics(text in fragments()) {
        let settings = CatalogSettings::default();
        let urls = UrlReader::new(&settings);
        let location = LocationSpec::new("file", "/nonexistent/catalog-info.yaml");
        let ctx = Context { settings: &settings, urls: &urls, location: &location, origin: "file:/nonexistent/all.yaml", rules: &[], root_dir: Some(std::path::Path::new("/nonexistent")), runtime: None };
        let out = process_file(&ctx, &text);
        let lines = text.lines().count().max(1) + 1;
        for f in &out.failures {
            let line = f.error.line.unwrap_or(1);
            prop_assert!(line >= 1 && line <= lines, "line {} outside a {}-line file: {:?}", line, lines, f.error);
        }
        for e in &out.entities {
            prop_assert!(e.body.is_some());
        }
    }
}
