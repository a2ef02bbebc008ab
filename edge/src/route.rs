//! State routing: which Durable Object owns a session, read from the session id alone.
//!
//! The Worker in front of the objects keeps no table: an object prefixes every id it mints
//! (session ids, socket ids) with its own name, so a polling request or a WebSocket
//! upgrade reaches its owner in one hop, and a room member's owner is known from the
//! member's id.
//!
//! ```
//! use sio_cloudflare::route::{mint, owner, pick, RouteError};
//!
//! // A handshake: object 3 of a pool of 4, picked from a random number, mints the sid.
//! let object = pick(4, 7);
//! let sid = mint(&object, "q1Zx8w");
//! assert_eq!(sid, "o3-q1Zx8w");
//! // Every later request of the session goes to the object its sid names.
//! assert_eq!(owner(&sid, 4), Ok("o3"));
//! assert_eq!(owner("o9-q1Zx8w", 4), Err(RouteError::NoObject));
//! ```

use thiserror::Error;

/// Separates the owning object's name from the random part of an id. Object names never
/// contain it, so the first one ends the name; ids stay in the URL-safe base64 alphabet
/// that clients and the reference's tests expect of a sid.
pub const SEPARATOR: char = '-';

/// Why an id routes nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouteError {
    /// The id was not minted by an object of the pool: no object prefix, a malformed one,
    /// or an object beyond the pool's size.
    #[error("the id names no object of the pool")]
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

/// The object of a pool of `objects` that minted `id`. Only names of the pool pass, so a
/// forged id never brings a new object into being.
pub fn owner(id: &str, objects: u32) -> Result<&str, RouteError> {
    let (name, rest) = id.split_once(SEPARATOR).ok_or(RouteError::NoObject)?;
    let index = name.strip_prefix('o').filter(|n| n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()));
    let index = index.and_then(|n| n.parse::<u32>().ok()).ok_or(RouteError::NoObject)?;
    (index < objects.max(1) && !rest.is_empty() && name == object_name(index))
        .then_some(name)
        .ok_or(RouteError::NoObject)
}

/// The length of the random part of a minted id: 16 bytes in unpadded base64.
pub const RANDOM_LEN: usize = 22;

/// The owner of `room` when it is a minted id (each socket is alone in the room named by
/// its id), so that an operation on one socket asks only its owner. A room that merely
/// looks like one would need an object's prefix and 22 random characters.
pub fn id_owner(room: &str, objects: u32) -> Option<&str> {
    let owner = owner(room, objects).ok()?;
    let random = &room[owner.len() + 1..];
    (random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then_some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_name_their_owner() {
        let id = mint(&pick(4, 7), "AbC-_x");
        assert_eq!(id, "o3-AbC-_x");
        assert_eq!(owner(&id, 4), Ok("o3"));
    }

    #[test]
    fn foreign_ids_have_no_owner() {
        for id in ["", "abc", "-x", "o1-", "O1-x", "o-x", "o01-x", "o4-x", "o99999-x", "x1-x", "nope"] {
            assert_eq!(owner(id, 4), Err(RouteError::NoObject), "{id:?}");
        }
    }

    #[test]
    fn only_minted_ids_are_socket_rooms() {
        assert_eq!(id_owner("o2-AAAAAAAAAAAAAAAAAAAAAA", 3), Some("o2"));
        assert_eq!(id_owner("o2-lobby", 3), None);
        assert_eq!(id_owner("lobby", 3), None);
        assert_eq!(id_owner("o2-AAAAAAAAAAAAAAAAAAAA.A", 3), None);
    }

    #[test]
    fn a_pool_of_none_is_a_pool_of_one() {
        assert_eq!(pick(0, 5), "o0");
    }
}
