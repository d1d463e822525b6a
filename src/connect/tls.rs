//! TLS for Connect: a private CA, a client certificate, and verification
//! turned off only where a clusters file spells it out. The private-CA part
//! also serves the Kubernetes API server (`wait-for-predecessors`).

use std::path::PathBuf;

use anyhow::{Context, Result};

/// A PEM certificate chain and its private key, for mutual TLS.
#[derive(Debug, Clone)]
pub struct ClientCert {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// TLS with a private CA and/or a client certificate. Certificates and host
/// names are verified unless a clusters file says `insecureSkipVerify` for
/// that one cluster (with a warning).
pub fn tls(
    ca: Option<&std::path::Path>,
    client: Option<&ClientCert>,
    insecure_skip_verify: bool,
) -> Result<ureq::tls::TlsConfig> {
    let mut builder = ureq::tls::TlsConfig::builder().disable_verification(insecure_skip_verify);
    if let Some(ca) = ca {
        builder = builder.root_certs(roots(ca, "CONNECT_CA_FILE")?);
    }
    if let Some(ClientCert { cert, key }) = client {
        let chain = certificates(cert, "CONNECT_CLIENT_CERT_FILE")?;
        let pem =
            std::fs::read(key).with_context(|| format!("cannot read CONNECT_CLIENT_KEY_FILE {}", key.display()))?;
        let key = ureq::tls::PrivateKey::from_pem(&pem)
            .with_context(|| format!("CONNECT_CLIENT_KEY_FILE {} holds no PEM private key", key.display()))?;
        builder = builder.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    Ok(builder.build())
}

/// The CA certificates of a PEM file, the only roots trusted; `what` names
/// the file in errors (the variable or setting that gave it).
pub fn roots(path: &std::path::Path, what: &str) -> Result<ureq::tls::RootCerts> {
    Ok(ureq::tls::RootCerts::new_with_certs(&certificates(path, what)?))
}

/// The certificates of a PEM file, named after the variable that gave it.
fn certificates(path: &std::path::Path, variable: &str) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {variable} {}", path.display()))?;
    let certs = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{variable} {} is not valid PEM", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{variable} {} holds no certificate", path.display());
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["connect.example".into()]).unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, ca.cert.pem()).unwrap();
        assert!(tls(Some(&good), None, false).is_ok());
        let key_only = dir.path().join("key.pem");
        std::fs::write(&key_only, ca.signing_key.serialize_pem()).unwrap();
        assert!(format!("{:#}", tls(Some(&key_only), None, false).unwrap_err()).contains("holds no certificate"));
        let missing = format!("{:#}", tls(Some(&dir.path().join("nope.pem")), None, false).unwrap_err());
        assert!(missing.contains("cannot read CONNECT_CA_FILE"), "{missing}");
        assert!(tls(None, Some(&ClientCert { cert: good.clone(), key: key_only.clone() }), false).is_ok());
        let no_key =
            format!("{:#}", tls(None, Some(&ClientCert { cert: good.clone(), key: good.clone() }), false).unwrap_err());
        assert!(no_key.contains("CONNECT_CLIENT_KEY_FILE"), "{no_key}");
    }
}
