//! OpenPGP detached signatures, checked in-process against a keyring kept in the repository
//! (armored or binary public keys, e.g. `gpg --export --armor KEYID > keys.asc`).
//!
//! The signing key is found by the signature's issuer (fingerprint or key id) among the
//! keyring's primary keys and subkeys; its self-signatures must be valid; then the archive is
//! streamed through the signature check, so memory does not grow with its size.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::{KeyDetails, VerifyingKey};

/// Why a signature was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("cannot read the keyring `{}`", path.display())]
    ReadKeyring {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the keyring `{}` holds no usable OpenPGP public key: {message}", path.display())]
    BadKeyring { path: PathBuf, message: String },
    #[error("`{url}` is not an OpenPGP signature: {message}")]
    Unreadable { url: String, message: String },
    #[error("the archive is signed by key {issuer}, which is not in the keyring `{}`", keyring.display())]
    UnknownKey { issuer: String, keyring: PathBuf },
    #[error("the key {fingerprint} in `{}` has invalid self-signatures: {message}", keyring.display())]
    InvalidKey {
        fingerprint: String,
        keyring: PathBuf,
        message: String,
    },
    /// The library's own reason (an internal assertion such as a hash prefix check) helps
    /// nobody: the archive is simply not what was signed.
    #[error(
        "the OpenPGP signature by key {fingerprint} does not match the archive: its bytes are not the ones that were signed"
    )]
    Mismatch { fingerprint: String },
    #[error("cannot read the downloaded archive")]
    ReadArchive(#[source] std::io::Error),
}

impl SignatureError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::UnknownKey { .. } => Some(
                "if upstream has a new release key, verify it out of band and add it to the keyring".into(),
            ),
            Self::Mismatch { .. } => Some("do not vendor this archive: it is not what the key holder signed".into()),
            Self::BadKeyring { .. } | Self::ReadKeyring { .. } => {
                Some("export the keys with `gpg --export --armor KEYID > keyring.asc`".into())
            }
            Self::Unreadable { .. } => Some("check `signature`: it must point at the archive's `.asc` or `.sig` file".into()),
            Self::InvalidKey { .. } | Self::ReadArchive(_) => None,
        }
    }
}

/// Checks `signature` (from `url`) over the file `data` against the keys in `keyring`
/// (read from `keyring_path`, shown in messages). Returns the signing key's primary
/// fingerprint, in uppercase hex.
pub fn verify_detached(
    signature: &[u8],
    url: &str,
    keyring: &[u8],
    keyring_path: &Path,
    data: &Path,
) -> Result<String, SignatureError> {
    let (signature, _) = DetachedSignature::from_reader_single(signature).map_err(|e| {
        SignatureError::Unreadable {
            url: url.to_owned(),
            message: e.to_string(),
        }
    })?;
    let bad_keyring = |message: String| SignatureError::BadKeyring {
        path: keyring_path.to_owned(),
        message,
    };
    let keys = read_keyring(keyring).map_err(|e| bad_keyring(e.to_string()))?;
    if keys.is_empty() {
        return Err(bad_keyring("no keys found".into()));
    }
    let signature = signature.signature;
    let issued_by = |key: &dyn KeyDetails| {
        signature
            .issuer_fingerprint()
            .iter()
            .any(|f| **f == key.fingerprint())
            || signature
                .issuer_key_id()
                .iter()
                .any(|id| **id == key.legacy_key_id())
    };
    for key in &keys {
        let fingerprint = format!("{:X}", key.fingerprint());
        let verify = |signer: &dyn VerifyingKeyDetails| -> Result<String, SignatureError> {
            key.verify_bindings()
                .map_err(|e| SignatureError::InvalidKey {
                    fingerprint: fingerprint.clone(),
                    keyring: keyring_path.to_owned(),
                    message: e.to_string(),
                })?;
            let file = File::open(data).map_err(SignatureError::ReadArchive)?;
            signer
                .verify_signature(&signature, BufReader::new(file))
                .map_err(|_| SignatureError::Mismatch {
                    fingerprint: fingerprint.clone(),
                })?;
            Ok(fingerprint.clone())
        };
        if issued_by(key) {
            return verify(key);
        }
        for subkey in &key.public_subkeys {
            if issued_by(&subkey.key) {
                return verify(&subkey.key);
            }
        }
    }
    let issuer = signature
        .issuer_fingerprint()
        .first()
        .map(|f| format!("{f:X}"))
        .or_else(|| {
            signature
                .issuer_key_id()
                .first()
                .map(|id| crate::download::hex(id.as_ref()).to_uppercase())
        })
        .unwrap_or_else(|| "(unnamed)".into());
    Err(SignatureError::UnknownKey {
        issuer,
        keyring: keyring_path.to_owned(),
    })
}

/// Every public key in a keyring: binary packets, or any number of armored blocks one after
/// the other (`cat a.asc b.asc > keyring.asc` is common).
fn read_keyring(bytes: &[u8]) -> pgp::errors::Result<Vec<SignedPublicKey>> {
    const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    let text = String::from_utf8_lossy(bytes);
    if !text.contains(BEGIN) {
        let (keys, _) = SignedPublicKey::from_reader_many(bytes)?;
        return keys.collect();
    }
    let mut keys = Vec::new();
    for block in text.split(BEGIN).skip(1) {
        let armored = format!("{BEGIN}{block}");
        let (parsed, _) = SignedPublicKey::from_armor_many(armored.as_bytes())?;
        for key in parsed {
            keys.push(key?);
        }
    }
    Ok(keys)
}

/// A key that can check a signature over a stream; implemented for primary keys and subkeys.
trait VerifyingKeyDetails {
    fn verify_signature(
        &self,
        signature: &pgp::packet::Signature,
        data: BufReader<File>,
    ) -> pgp::errors::Result<()>;
}

impl<K: VerifyingKey> VerifyingKeyDetails for K {
    fn verify_signature(
        &self,
        signature: &pgp::packet::Signature,
        data: BufReader<File>,
    ) -> pgp::errors::Result<()> {
        signature.verify(self, data)
    }
}
