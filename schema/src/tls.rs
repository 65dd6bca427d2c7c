//! `sslrootcert=system` for the libpq built into Lamella.
//!
//! libpq and OpenSSL are linked into the binary (no shared libraries to load and relocate at
//! every start: about 1 ms of each command). That OpenSSL looks for "the system's trusted
//! roots" in its own build directory, `/usr/local/ssl`, which distributions leave empty. So a
//! PostgreSQL URL that asks for the system roots — `sslrootcert=system`, in the URL or in
//! `PGSSLROOTCERT` — is handed the system's CA bundle by path, found where the distributions
//! put it (`SSL_CERT_FILE` first). As libpq does for `system`, the server's certificate and
//! name are then verified (`sslmode=verify-full`) unless the URL or `PGSSLMODE` names a mode.
//! Every other URL goes to libpq unchanged.

use std::borrow::Cow;
use std::path::PathBuf;

/// The connection string to hand libpq for `url`: `url` itself, or `url` with the system CA
/// bundle's path in place of `sslrootcert=system`. An error (a message naming what to do)
/// when the system roots are asked for and no bundle is found.
pub(crate) fn conninfo(url: &str) -> Result<Cow<'_, str>, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    with_system_roots(
        url,
        env("PGSSLROOTCERT").as_deref(),
        env("PGSSLMODE").as_deref(),
        || openssl_probe::probe().cert_file,
    )
}

fn with_system_roots<'u>(
    url: &'u str,
    env_rootcert: Option<&str>,
    env_sslmode: Option<&str>,
    bundle: impl FnOnce() -> Option<PathBuf>,
) -> Result<Cow<'u, str>, String> {
    let params = parameters(url);
    let last = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if last("sslrootcert").or(env_rootcert) != Some("system") {
        return Ok(Cow::Borrowed(url));
    }
    let Some(path) = bundle() else {
        return Err(
            "sslrootcert=system: no CA bundle was found on this system; set \
                    SSL_CERT_FILE to one, or give sslrootcert=/path/to/root.crt"
                .into(),
        );
    };
    let path = path.to_string_lossy();
    let add_mode = last("sslmode").or(env_sslmode).is_none();
    // libpq keeps the last value of a parameter given twice, so appending overrides.
    let mut out = url.to_string();
    if is_uri(url) {
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in [("sslrootcert", &*path), ("sslmode", "verify-full")] {
            if k == "sslmode" && !add_mode {
                continue;
            }
            out.push(sep);
            out.push_str(k);
            out.push('=');
            out.push_str(&percent_encode(v));
            sep = '&';
        }
    } else {
        out.push_str(" sslrootcert='");
        out.push_str(&path.replace('\\', "\\\\").replace('\'', "\\'"));
        out.push('\'');
        if add_mode {
            out.push_str(" sslmode=verify-full");
        }
    }
    Ok(Cow::Owned(out))
}

fn is_uri(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The parameters `url` sets, in order: a URI's query (percent-decoded), or the
/// `keyword = value` pairs of a libpq keyword/value string (quotes and escapes removed).
fn parameters(url: &str) -> Vec<(String, String)> {
    if is_uri(url) {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let query = query.split('#').next().unwrap_or_default();
        return query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
    }
    let mut out = Vec::new();
    let mut chars = url.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        if key.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let quoted = chars.next_if_eq(&'\'').is_some();
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.extend(chars.next()),
                '\'' if quoted => break,
                c if !quoted && c.is_whitespace() => break,
                c => value.push(c),
            }
        }
        out.push((key, value));
    }
    out
}

fn decode(s: &str) -> String {
    crate::db::percent_decode(s).unwrap_or_else(|()| s.to_string())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> Option<PathBuf> {
        Some(PathBuf::from("/etc/ssl/certs/ca certificates.crt"))
    }

    #[test]
    fn other_urls_go_to_libpq_unchanged() {
        for url in [
            "postgres://u:p@h:5432/db",
            "postgresql://u@h/db?sslmode=require&sslrootcert=/ca.pem",
            "host=h dbname=db sslrootcert='/my ca.pem'",
            "host=h sslrootcert=system sslrootcert=/ca.pem",
        ] {
            let got = with_system_roots(url, None, None, || panic!("no probe")).unwrap();
            assert!(matches!(got, Cow::Borrowed(u) if u == url), "{url}");
        }
        // `PGSSLROOTCERT=system` does not apply where the URL names a file.
        let url = "postgres://h/db?sslrootcert=/ca.pem";
        let got = with_system_roots(url, Some("system"), None, || panic!("no probe")).unwrap();
        assert_eq!(got, url);
    }

    #[test]
    fn system_roots_are_given_by_path_and_verified() {
        let got = with_system_roots("postgres://u:p@h/db?sslrootcert=system", None, None, bundle)
            .unwrap();
        assert_eq!(
            got,
            "postgres://u:p@h/db?sslrootcert=system\
             &sslrootcert=/etc/ssl/certs/ca%20certificates.crt&sslmode=verify-full"
        );
        let got = with_system_roots("postgresql://h/db", Some("system"), None, bundle).unwrap();
        assert_eq!(
            got,
            "postgresql://h/db?sslrootcert=/etc/ssl/certs/ca%20certificates.crt\
             &sslmode=verify-full"
        );
        // A mode the user chose is kept, from the URL or from PGSSLMODE.
        let got = with_system_roots(
            "host=h sslmode = verify-ca sslrootcert = 'system'",
            None,
            None,
            bundle,
        )
        .unwrap();
        assert_eq!(
            got,
            "host=h sslmode = verify-ca sslrootcert = 'system' \
             sslrootcert='/etc/ssl/certs/ca certificates.crt'"
        );
        let got = with_system_roots("host=h", Some("system"), Some("require"), || {
            Some(PathBuf::from("/x/it's.pem"))
        })
        .unwrap();
        assert_eq!(got, r"host=h sslrootcert='/x/it\'s.pem'");
    }

    #[test]
    fn keyword_values_are_read_as_libpq_reads_them() {
        assert_eq!(
            parameters(r"host = h  password='a b\'c' sslrootcert=sys\tem"),
            [
                ("host".into(), "h".into()),
                ("password".into(), "a b'c".into()),
                ("sslrootcert".into(), "system".into()),
            ]
        );
        assert_eq!(
            parameters("postgres://h/db?sslrootcert=%73ystem&x#frag"),
            [("sslrootcert".to_string(), "system".to_string())]
        );
    }

    #[test]
    fn no_bundle_is_an_error_naming_the_fix() {
        let e = with_system_roots("postgres://h/db?sslrootcert=system", None, None, || None)
            .unwrap_err();
        assert!(
            e.contains("SSL_CERT_FILE") && e.contains("sslrootcert="),
            "{e}"
        );
    }
}
