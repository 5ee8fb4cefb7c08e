//! Hashing functions.

use super::{Arity, FunctionDef, FunctionKind::Scalar, def};

/// The hashing family.
pub const FUNCTIONS: &[FunctionDef] = &[
    def(
        "md5",
        Scalar,
        Arity::exactly(1),
        "md5(str)",
        "MD5 digest as lowercase hex",
        "fields md5(@message)",
    ),
    def(
        "sha256",
        Scalar,
        Arity::exactly(1),
        "sha256(str)",
        "SHA-256 digest as lowercase hex",
        "fields sha256(@message)",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_take_one_argument() {
        let err = crate::compile("fields sha256(a, b)").unwrap_err();
        assert_eq!(
            err.message(),
            "function `sha256` expects 1 argument(s), found 2"
        );
    }
}
