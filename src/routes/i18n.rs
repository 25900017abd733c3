//! The page languages: string catalogs in `web/i18n/<code>.json`, one flat object of keys to
//! strings per language, read once at start-up from the embedded files.
//!
//! The server-rendered pages and the scripts use the same catalogs (a page embeds its
//! language's catalog for its script), so adding a language is adding one file. A key missing
//! from a catalog falls back to English. The language comes from the `sajin_lang` cookie the
//! page's switcher sets, else the best match in `Accept-Language`, else English.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::HttpRequest;

use super::assets::WebFiles;
use super::web_session::cookie;

/// The cookie the language switcher sets.
pub const LANG_COOKIE: &str = "sajin_lang";
/// The language every other falls back to.
const FALLBACK: &str = "en";

/// One language's strings.
#[derive(Debug)]
pub struct Catalog {
    /// The language code, e.g. `ko`.
    pub code: String,
    strings: BTreeMap<String, String>,
    /// The catalog as JSON, with English filled in for missing keys, for the page scripts.
    pub json: String,
}

impl Catalog {
    fn new(code: String, strings: BTreeMap<String, String>) -> Self {
        let json = serde_json::to_string(&strings).unwrap_or_else(|_| "{}".into());
        Self {
            code,
            strings,
            json,
        }
    }

    /// The string for `key`; the key itself when no catalog has it.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map_or(key, String::as_str)
    }

    /// The string for `key` with each `{name}` replaced by its value.
    pub fn format(&self, key: &str, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.t(key).to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

/// Every language the binary carries.
#[derive(Debug)]
pub struct Catalogs {
    languages: BTreeMap<String, Catalog>,
    /// The English catalog, also kept apart so that a lookup always has an answer.
    fallback: Catalog,
}

/// Why the catalogs could not be read; only a broken build has this.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("web/i18n/{0}.json is not a JSON object of strings: {1}")]
    Malformed(String, String),
    #[error("web/i18n/{FALLBACK}.json is missing")]
    NoFallback,
}

impl Catalogs {
    /// Reads every embedded catalog.
    pub fn load() -> Result<Self, CatalogError> {
        let mut raw = BTreeMap::new();
        for path in WebFiles::iter() {
            let Some(code) = path
                .strip_prefix("i18n/")
                .and_then(|name| name.strip_suffix(".json"))
            else {
                continue;
            };
            let file = WebFiles::get(&path).ok_or(CatalogError::NoFallback)?;
            let strings: BTreeMap<String, String> = serde_json::from_slice(&file.data)
                .map_err(|err| CatalogError::Malformed(code.to_string(), err.to_string()))?;
            raw.insert(code.to_string(), strings);
        }
        let english = raw.get(FALLBACK).cloned().ok_or(CatalogError::NoFallback)?;
        let languages = raw
            .into_iter()
            .map(|(code, own)| {
                let mut strings = english.clone();
                strings.extend(own);
                (code.clone(), Catalog::new(code, strings))
            })
            .collect();
        Ok(Self {
            languages,
            fallback: Catalog::new(FALLBACK.to_string(), english),
        })
    }

    /// The languages, by code, each with its own name for itself.
    pub fn names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.languages
            .iter()
            .map(|(code, catalog)| (code.as_str(), catalog.t("language.name")))
    }

    /// The catalog for a request: its cookie, else its `Accept-Language`, else English.
    pub fn for_request(&self, req: &HttpRequest) -> &Catalog {
        let from_cookie = cookie(req, LANG_COOKIE).and_then(|code| self.languages.get(&code));
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        from_cookie
            .or_else(|| self.best_accepted(accept))
            .unwrap_or_else(|| self.fallback())
    }

    fn fallback(&self) -> &Catalog {
        &self.fallback
    }

    /// The carried language `Accept-Language` likes most (by primary subtag: `ko-KR` is `ko`).
    fn best_accepted(&self, accept: &str) -> Option<&Catalog> {
        let mut ranked: Vec<(f32, &str)> = accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|param| param.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                Some((quality, tag))
            })
            .filter(|(quality, _)| *quality > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.into_iter().find_map(|(_, tag)| {
            let primary = tag.split('-').next()?.to_ascii_lowercase();
            self.languages.get(&primary)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn accept_language_picks_the_best_carried_language() {
        let catalogs = Catalogs::load().expect("the catalogs load");
        let cases = [
            ("ko-KR,ko;q=0.9,en;q=0.8", "ko"),
            ("fr-FR,ko;q=0.5,en;q=0.7", "en"),
            ("fr, ko;q=0.1", "ko"),
            ("en;q=0, ko;q=0.2", "ko"),
            ("", "en"),
            ("de", "en"),
        ];
        for (accept, expected) in cases {
            let picked = catalogs
                .best_accepted(accept)
                .unwrap_or(catalogs.fallback());
            assert_eq!(picked.code, expected, "{accept:?}");
        }
    }

    #[test]
    fn every_catalog_has_every_english_key_and_no_other() {
        let catalogs = Catalogs::load().expect("the catalogs load");
        let english = WebFiles::get("i18n/en.json").expect("English");
        let english: HashMap<String, String> =
            serde_json::from_slice(&english.data).expect("English parses");
        for (code, _) in catalogs.names() {
            let own = WebFiles::get(&format!("i18n/{code}.json")).expect("the file");
            let own: HashMap<String, String> = serde_json::from_slice(&own.data).expect("JSON");
            let mut missing: Vec<_> = english.keys().filter(|k| !own.contains_key(*k)).collect();
            let mut extra: Vec<_> = own.keys().filter(|k| !english.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty(), "{code} lacks {missing:?}");
            assert!(extra.is_empty(), "{code} has unknown keys {extra:?}");
        }
    }

    #[test]
    fn every_key_the_pages_and_scripts_name_is_in_the_english_catalog() {
        let catalogs = Catalogs::load().expect("the catalogs load");
        let english = catalogs.fallback();
        let mut named = Vec::new();
        for path in WebFiles::iter() {
            let text =
                String::from_utf8_lossy(&WebFiles::get(&path).expect("a file").data).into_owned();
            for opener in ["t(\"", "{{t:"] {
                for (at, _) in text.match_indices(opener) {
                    let before = text[..at].chars().next_back().unwrap_or(' ');
                    if before.is_ascii_alphanumeric() || before == '_' {
                        continue;
                    }
                    let key: String = text[at + opener.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || "._".contains(*c))
                        .collect();
                    named.push((path.to_string(), key));
                }
            }
        }
        assert!(named.len() > 20, "the scan found too few keys: {named:?}");
        for (path, key) in named {
            assert!(english.strings.contains_key(&key), "{path} names {key:?}");
        }
    }
}
