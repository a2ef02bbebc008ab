//! State routing: which Durable Object owns a session, read from the session id alone.
//!
//! The Worker in front of the objects keeps no table: an object prefixes every id it mints
//! (session ids, socket ids) with its own name, so a polling request or a WebSocket
//! upgrade reaches its owner in one hop, and a room member's owner is known from the
//! member's id.

use thiserror::Error;

/// Separates the owning object's name from the random part of an id. URL-safe, and never
/// part of an object name or of the URL-safe base64 of the random part.
pub const SEPARATOR: char = '.';

/// Object names are short: the id prefix travels in every request.
const MAX_NAME: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouteError {
    #[error("the id names no object")]
    NoObject,
}

/// The name of object number `index` of the pool sessions are spread over.
pub fn object_name(index: u32) -> String {
    format!("o{index}")
}

/// The object a new session goes to: `random` (any value) picks one of `objects`.
pub fn pick(objects: u32, random: u32) -> String {
    object_name(random % objects.max(1))
}

/// An id minted by object `object`.
pub fn mint(object: &str, random: &str) -> String {
    format!("{object}{SEPARATOR}{random}")
}

/// The object that minted `id`.
pub fn owner(id: &str) -> Result<&str, RouteError> {
    let (name, rest) = id.split_once(SEPARATOR).ok_or(RouteError::NoObject)?;
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !rest.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    valid.then_some(name).ok_or(RouteError::NoObject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_name_their_owner() {
        let id = mint(&pick(4, 7), "AbC-_x");
        assert_eq!(id, "o3.AbC-_x");
        assert_eq!(owner(&id), Ok("o3"));
    }

    #[test]
    fn foreign_ids_have_no_owner() {
        for id in ["", "abc", ".x", "o1.", "O1.x", "o/1.x", "a-b.x", "aaaaaaaaaaaaaaaaa.x"] {
            assert_eq!(owner(id), Err(RouteError::NoObject), "{id:?}");
        }
    }

    #[test]
    fn a_pool_of_none_is_a_pool_of_one() {
        assert_eq!(pick(0, 5), "o0");
    }
}
