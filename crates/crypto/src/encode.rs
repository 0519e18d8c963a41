//! Unambiguous byte encodings shared by the AAD and wrap builders.
//!
//! Every variable-length component is written as a big-endian `u32` length followed
//! by the bytes, so two different component lists can never encode to the same
//! bytes (no `"ab" + "c"` vs `"a" + "bc"` confusion). Every encoding starts with a
//! length-prefixed domain-separation label naming its purpose, so bytes built for
//! one purpose can never be accepted as another's.

use crate::CryptoError;

/// Appends `u32 BE length ‖ bytes`. Components longer than `u32::MAX` bytes are
/// refused (none of ours come close: they are table names, ids, owner strings).
pub(crate) fn push_lp(buf: &mut Vec<u8>, bytes: &[u8]) -> Result<(), CryptoError> {
    let len = u32::try_from(bytes.len()).map_err(|_| CryptoError::Malformed)?;
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
    Ok(())
}

/// Encoded size of a list of length-prefixed components.
pub(crate) fn lp_len(parts: &[&[u8]]) -> usize {
    parts
        .iter()
        .map(|p| p.len().saturating_add(4))
        .fold(0usize, usize::saturating_add)
}

/// Reads a big-endian `u32` from exactly four bytes.
pub(crate) fn be_u32(bytes: &[u8]) -> Result<u32, CryptoError> {
    let arr: [u8; 4] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
    Ok(u32::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefix_is_unambiguous() {
        let mut a = Vec::new();
        push_lp(&mut a, b"ab").unwrap();
        push_lp(&mut a, b"c").unwrap();
        let mut b = Vec::new();
        push_lp(&mut b, b"a").unwrap();
        push_lp(&mut b, b"bc").unwrap();
        assert_ne!(a, b);
        assert_eq!(a, b"\0\0\0\x02ab\0\0\0\x01c");
        assert_eq!(lp_len(&[b"ab", b"c"]), a.len());
    }

    #[test]
    fn be_u32_needs_four_bytes() {
        assert_eq!(be_u32(&[0, 0, 1, 2]), Ok(258));
        assert_eq!(be_u32(&[0, 1, 2]), Err(CryptoError::Malformed));
    }
}
