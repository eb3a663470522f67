//! The integrator's own shared token store, through C callbacks
//! (`ums_client_new_with_token_store`): the core's `TokenStore` over three
//! function pointers and a `userdata`.

use chinaums::secret::Secret;
use chinaums::store::{valid_token_text, SharedToken, StoreError, TokenStore};
use std::ffi::{c_char, c_int, c_void, CString};
use std::time::Duration;

/// The largest token a `UmsTokenStore` `get` callback may return, in bytes:
/// the size of the buffer the library passes it.
pub const UMS_TOKEN_MAX_LEN: usize = 1024;

/// `get` of a `UmsTokenStore`: copies the shared token's bytes (no NUL
/// needed) into `buf` (`cap` = `UMS_TOKEN_MAX_LEN` bytes), its length into
/// `*len` and the instant after which it must not be used (Unix
/// milliseconds, as given to `put`) into `*expires_at_unix_ms`. Returns 0
/// when a token was found, 1 when there is none, a negative value on
/// failure.
pub type UmsTokenStoreGet = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        buf: *mut c_char,
        cap: usize,
        len: *mut usize,
        expires_at_unix_ms: *mut i64,
    ) -> c_int,
>;

/// `put` of a `UmsTokenStore`: stores `token` (NUL-terminated, printable
/// ASCII, valid only during the call) for every process, replacing any
/// other, until `expires_at_unix_ms` (Unix milliseconds; it already
/// includes the library's safety margin before the gateway's expiry, so use
/// it as the entry's expiry). Returns 0 (or any non-negative value) on
/// success, a negative value on failure.
pub type UmsTokenStorePut = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        token: *const c_char,
        expires_at_unix_ms: i64,
    ) -> c_int,
>;

/// `invalidate` of a `UmsTokenStore`: compare-and-delete. Deletes the
/// stored token ONLY IF it is still `token` (the one the gateway refused;
/// NUL-terminated, valid only during the call); a different token another
/// process stored meanwhile must stay, or a late refusal would evict a
/// fresh token and make the fleet fetch again. Do it atomically where the
/// cache allows (a Lua script, a compare-and-swap). Returns 0 (or any
/// non-negative value) whether or not it deleted, a negative value on
/// failure.
pub type UmsTokenStoreInvalidate =
    Option<unsafe extern "C" fn(userdata: *mut c_void, token: *const c_char) -> c_int>;

/// A shared token store of the integrator's (memcached, a database, an
/// APCu segment shared by php-fpm workers ...) for
/// `ums_client_new_with_token_store`: `userdata` and three callbacks, none
/// of them NULL. One store serves one appId.
///
/// The library copies the struct: it need not outlive the call. `userdata`
/// is passed back as given, never dereferenced, and must stay valid, with
/// what the callbacks use, until `ums_client_free` of that client has
/// returned.
///
/// The callbacks are called from any thread that uses the client, possibly
/// from several at once: they must be thread-safe. They run while a call
/// waits for its token, so they should answer within a fraction of a
/// second; they must not call exports of the same client (the call waits
/// for the token they are fetching), nor free it. No library lock is held
/// while they run.
///
/// A callback that fails (a negative return, a `get` whose token is empty,
/// longer than `cap`, not printable ASCII, or of a non-positive expiry)
/// never fails a payment call: the client works alone (its own token
/// cache) and tries the store again after a few seconds, with one warning
/// through the log callback.
///
/// There is no fleet-wide lock through callbacks: processes that find no
/// token at the same moment may each fetch one (each then stores its own;
/// all stay valid as long as fewer than ten appear at once). Redis
/// (`"tokenStore":"redis://..."`) has the lock.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct UmsTokenStore {
    pub userdata: *mut c_void,
    pub get: UmsTokenStoreGet,
    pub put: UmsTokenStorePut,
    pub invalidate: UmsTokenStoreInvalidate,
}

/// The core's view of a `UmsTokenStore`.
pub struct CallbackStore {
    userdata: usize,
    get: unsafe extern "C" fn(*mut c_void, *mut c_char, usize, *mut usize, *mut i64) -> c_int,
    put: unsafe extern "C" fn(*mut c_void, *const c_char, i64) -> c_int,
    invalidate: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
}

impl CallbackStore {
    /// The store of `store`, or the name of its NULL callback.
    pub fn new(store: &UmsTokenStore) -> Result<CallbackStore, &'static str> {
        Ok(CallbackStore {
            userdata: store.userdata as usize,
            get: store.get.ok_or("`store->get` is NULL")?,
            put: store.put.ok_or("`store->put` is NULL")?,
            invalidate: store.invalidate.ok_or("`store->invalidate` is NULL")?,
        })
    }

    fn userdata(&self) -> *mut c_void {
        self.userdata as *mut c_void
    }
}

impl TokenStore for CallbackStore {
    fn describe(&self) -> String {
        "callback".to_string()
    }

    fn get(&self, _limit: Duration) -> Result<Option<SharedToken>, StoreError> {
        let mut buf = vec![0u8; UMS_TOKEN_MAX_LEN];
        let mut len = usize::MAX;
        let mut expires = 0i64;
        // SAFETY: the integrator promised a valid callback and userdata;
        // buf has `cap` writable bytes.
        let rc = unsafe {
            (self.get)(
                self.userdata(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut expires,
            )
        };
        let result = match rc {
            1 => Ok(None),
            0 if len == 0 || len > buf.len() => Err(StoreError(format!(
                "the get callback gave a token length of {len} (1 to {UMS_TOKEN_MAX_LEN})"
            ))),
            0 if expires <= 0 => Err(StoreError(
                "the get callback gave no expiry (expires_at_unix_ms <= 0)".into(),
            )),
            0 => match std::str::from_utf8(&buf[..len]) {
                Ok(text) if valid_token_text(text) => Ok(Some(SharedToken {
                    value: Secret::new(text),
                    use_until_unix_ms: expires,
                })),
                _ => Err(StoreError(
                    "the get callback gave a token that is not printable ASCII".into(),
                )),
            },
            rc => Err(StoreError(format!("the get callback returned {rc}"))),
        };
        // The buffer held a token: overwritten before it is freed.
        wipe_bytes(&mut buf);
        result
    }

    fn put(&self, token: &SharedToken, _limit: Duration) -> Result<(), StoreError> {
        let text = CString::new(token.value.expose())
            .map_err(|_| StoreError("the token holds a NUL byte".into()))?;
        // SAFETY: as for `get`; `text` lives through the call.
        let rc = unsafe { (self.put)(self.userdata(), text.as_ptr(), token.use_until_unix_ms) };
        wipe_bytes(&mut text.into_bytes());
        if rc < 0 {
            return Err(StoreError(format!("the put callback returned {rc}")));
        }
        Ok(())
    }

    fn invalidate(&self, token: &str, _limit: Duration) -> Result<(), StoreError> {
        let text =
            CString::new(token).map_err(|_| StoreError("the token holds a NUL byte".into()))?;
        // SAFETY: as for `get`; `text` lives through the call.
        let rc = unsafe { (self.invalidate)(self.userdata(), text.as_ptr()) };
        wipe_bytes(&mut text.into_bytes());
        if rc < 0 {
            return Err(StoreError(format!("the invalidate callback returned {rc}")));
        }
        Ok(())
    }
}

/// Overwrites bytes that held a token, in a way the optimiser keeps.
fn wipe_bytes(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: a plain write to an owned byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}
