<?php

declare(strict_types=1);

namespace ChinaUms\Internal;

use ChinaUms\Exception\AnswerGoneException;
use ChinaUms\Exception\ConfigException;
use ChinaUms\Exception\GatewayRejectedException;
use ChinaUms\Exception\InternalException;
use ChinaUms\Exception\LibraryException;
use ChinaUms\Exception\NotificationException;
use ChinaUms\Exception\OperationFailedException;
use ChinaUms\Exception\OutcomeUnknownException;
use ChinaUms\Exception\PendingException;
use ChinaUms\Exception\TlsException;
use ChinaUms\Exception\TransportException;
use ChinaUms\Exception\UmsException;
use ChinaUms\Exception\ValidationException;

/**
 * Loads libums through FFI once per process and runs its calls.
 *
 * @internal not part of the public API; use ChinaUms\Client and ChinaUms\Notify.
 */
final class Library
{
    /** The binding speaks the 0.1 ABI: any 0.1.x library will do. */
    public const EXPECTED_VERSION = '0.1';

    /**
     * First output buffer. A bigger result costs one more library call: for
     * an operation, ums_take_answer of the answer the library kept (the
     * request is never sent again); for a local export, the same call again.
     */
    public const DEFAULT_BUFFER = 65536;

    /**
     * UMS_MIN_OUT_CAP: an operation export given a smaller buffer sends
     * nothing, so operations always get at least this much.
     */
    public const MIN_OUT_CAP = 256;

    /**
     * A hand copy of the declarations of include/ums.h (FFI::cdef cannot read
     * the header itself: it has preprocessor lines). tests/run.php ("drift:")
     * compares every function and typedef with the header's text, white space
     * normalised, and fails on any other difference than these two:
     * `struct UmsClient` is written `UmsClient` (the typedef), and
     * `const uint8_t *body` is declared `const char *body`: the same ABI,
     * and it lets PHP pass a string without copying it. NAMES and CLASSES
     * below are checked against the header's statuses the same way.
     */
    public const CDEF = <<<'C'
typedef struct UmsClient UmsClient;
typedef int32_t UmsStatus;
typedef int (*UmsTokenStoreGet)(void *userdata, char *buf, size_t cap, size_t *len, int64_t *expires_at_unix_ms);
typedef int (*UmsTokenStorePut)(void *userdata, const char *token, int64_t expires_at_unix_ms);
typedef int (*UmsTokenStoreInvalidate)(void *userdata, const char *token);
typedef struct UmsTokenStore { void *userdata; UmsTokenStoreGet get; UmsTokenStorePut put; UmsTokenStoreInvalidate invalidate; } UmsTokenStore;
typedef void (*UmsLogCallback)(void *userdata, int32_t level, const char *message);

const char *ums_version(void);
const char *ums_status_str(UmsStatus status);
UmsStatus ums_client_new(const char *config_json, UmsClient **out_client, char *out_buf, size_t out_cap, size_t *out_len);
void ums_client_free(UmsClient *client);
UmsStatus ums_update_qrcode(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_call(const UmsClient *client, const char *service_path, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_get_qrcode(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_close_qrcode(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_query_bill(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_refund(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_query_qrcode_info(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_preauth_complete(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_preauth_cancel(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_secure_cancel(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_secure_complete(const UmsClient *client, const char *request_json, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_prepare(const UmsClient *client, const char *operation, const char *request_json, const char *timestamp, const char *nonce, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_new_id(const UmsClient *client, char *out_buf, size_t out_cap, size_t *out_len);
const char *ums_notify_reply(int32_t handled);
UmsStatus ums_verify_notify(const char *notify_key, const char *body, size_t body_len, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_sign_body(const UmsClient *client, const char *body, size_t body_len, const char *timestamp, const char *nonce, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_token_request(const UmsClient *client, const char *timestamp, const char *nonce, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_set_log_callback(UmsLogCallback callback, void *userdata, int32_t max_level);
UmsStatus ums_take_answer(const UmsClient *client, const char *answer_id, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_client_verify_notify(const UmsClient *client, const char *body, size_t body_len, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_client_new_with_token_store(const char *config_json, const struct UmsTokenStore *store, UmsClient **out_client, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_notify_claim(const UmsClient *client, const char *notify_id, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_notify_release(const UmsClient *client, const char *notify_id, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_resolve(const UmsClient *client, const char *json_in, char *out_buf, size_t out_cap, size_t *out_len);
UmsStatus ums_journal_pending(const UmsClient *client, char *out_buf, size_t out_cap, size_t *out_len);
C;

    public const OK = 0;
    public const BUFFER_TOO_SMALL = 4;
    public const PENDING = 18;
    public const OPERATION_FAILED = 19;
    public const ANSWER_GONE = 20;
    public const INTERNAL = 98;

    /** Status names, for documents that lack one. */
    private const NAMES = [
        0 => 'UMS_OK',
        1 => 'UMS_ERR_NULL_POINTER',
        2 => 'UMS_ERR_INVALID_UTF8',
        3 => 'UMS_ERR_INVALID_JSON',
        4 => 'UMS_ERR_BUFFER_TOO_SMALL',
        5 => 'UMS_ERR_INVALID_ARGUMENT',
        6 => 'UMS_ERR_CONFIG',
        7 => 'UMS_ERR_VALIDATION',
        8 => 'UMS_ERR_CONNECT',
        9 => 'UMS_ERR_TLS',
        10 => 'UMS_ERR_GATEWAY_REJECTED',
        11 => 'UMS_ERR_OUTCOME_UNKNOWN',
        12 => 'UMS_ERR_TOKEN_REJECTED',
        13 => 'UMS_ERR_NOTIFY_BAD_SIGNATURE',
        14 => 'UMS_ERR_NOTIFY_MISSING_SIGN',
        15 => 'UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE',
        16 => 'UMS_ERR_NOTIFY_DUPLICATE_FIELD',
        17 => 'UMS_ERR_NOTIFY_MALFORMED',
        18 => 'UMS_ERR_PENDING',
        19 => 'UMS_ERR_OPERATION_FAILED',
        20 => 'UMS_ERR_ANSWER_GONE',
        98 => 'UMS_ERR_INTERNAL',
        99 => 'UMS_ERR_PANIC',
    ];

    /** Exception class by status; anything else is an InternalException. */
    private const CLASSES = [
        1 => ValidationException::class,
        2 => ValidationException::class,
        3 => ValidationException::class,
        5 => ValidationException::class,
        6 => ConfigException::class,
        7 => ValidationException::class,
        8 => TransportException::class,
        9 => TlsException::class,
        10 => GatewayRejectedException::class,
        11 => OutcomeUnknownException::class,
        12 => GatewayRejectedException::class,
        13 => NotificationException::class,
        14 => NotificationException::class,
        15 => NotificationException::class,
        16 => NotificationException::class,
        17 => NotificationException::class,
        18 => PendingException::class,
        19 => OperationFailedException::class,
        20 => AnswerGoneException::class,
    ];

    /**
     * The FFI scope preload.php loads libums under (opcache.preload): every
     * process of the SAPI then finds it with FFI::scope(), which works with
     * the default ffi.enable=preload (FFI::cdef at run time does not).
     */
    public const SCOPE = 'ums';

    /** What path() says when the library came from the preloaded scope. */
    public const PRELOADED = "FFI::scope('ums') (opcache.preload)";

    private static ?\FFI $ffi = null;
    private static ?string $path = null;
    /** @var array{0: \FFI\CData, 1: int, 2: \FFI\CData, 3: \FFI\CData}|null run()'s kept buffer, its capacity, the length and a pointer to it */
    private static ?array $kept = null;

    /**
     * The loaded library (loaded on first use, then kept for the process:
     * libums must never be unloaded, and PHP's FFI never dlcloses it): the
     * scope preload.php loaded when there is one, else the first of
     * candidates().
     */
    public static function ffi(): \FFI
    {
        if (self::$ffi === null) {
            [self::$ffi, self::$path] = self::preloaded() ?? self::load(self::candidates());
        }
        return self::$ffi;
    }

    /**
     * The library preload.php loaded under the scope "ums" (opcache.preload),
     * version-checked; null when nothing was preloaded in this SAPI.
     *
     * @return array{0: \FFI, 1: string}|null
     */
    private static function preloaded(): ?array
    {
        if (!extension_loaded('ffi')) {
            return null;
        }
        try {
            $ffi = \FFI::scope(self::SCOPE);
        } catch (\FFI\Exception) {
            return null;
        }
        self::checkVersion($ffi, self::PRELOADED);
        return [$ffi, self::PRELOADED];
    }

    /**
     * For opcache.preload (preload.php calls it, once every class of the
     * package is preloaded). Returns how the SAPI's processes reach libums:
     *
     * - "scope": the FFI scope "ums" exists, made at start-up by
     *   `ffi.preload=<the header of ffiHeader()>`, or here by FFI::load of
     *   that header (written to a temporary file: FFI_LIB needs the
     *   library's absolute path, known only now);
     * - "per-process": PHP refuses FFI::load while preloading (PHP 8.2
     *   started as root preloads in a child process that runs as
     *   opcache.preload_user, and FFI state made there is lost); each
     *   process then loads libums on first use with FFI::cdef, which
     *   ffi.enable=preload allows to preloaded code such as this binding.
     *
     * Either way the library is found and version-checked now, so a missing
     * or wrong one stops the SAPI at start-up with the reason.
     *
     * @throws LibraryException when no library could be loaded
     */
    public static function preload(): string
    {
        if (self::preloaded() !== null) {
            return 'scope';
        }
        self::checkFfiAvailable();
        $tried = [];
        foreach (self::candidates() as $candidate) {
            $library = self::ffiLibName($candidate, $why);
            $ffi = $library === null ? null : self::loadScope($library, $why);
            if ($ffi !== null) {
                self::checkVersion($ffi, $candidate);
                return 'scope';
            }
            if (str_contains((string) $why, 'opcache.preload_user')) {
                self::load(self::candidates());
                return 'per-process';
            }
            $tried[] = $candidate . ' (' . $why . ')';
        }
        throw self::libraryError('libums could not be preloaded; looked at: ' . implode('; ', $tried), $tried);
    }

    /**
     * The header FFI::load and `ffi.preload` take: the declarations of CDEF
     * under `#define FFI_SCOPE "ums"` and `#define FFI_LIB "$library"`.
     */
    public static function ffiHeader(string $library): string
    {
        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n#define FFI_LIB \"" . $library . "\"\n" . self::CDEF . "\n";
    }

    /**
     * A candidate as FFI_LIB can name it: an existing file by its absolute
     * path, or a bare name for the dynamic loader; null (and $why) if not.
     */
    public static function ffiLibName(string $candidate, ?string &$why): ?string
    {
        $why = null;
        if (!str_contains($candidate, '/')) {
            return $candidate;
        }
        $library = realpath($candidate);
        if ($library === false || !is_file($library)) {
            $why = 'no such file';
            return null;
        }
        if (strpbrk($library, "\"\\\n\r") !== false) {
            $why = 'a name FFI_LIB cannot hold';
            return null;
        }
        return $library;
    }

    /** FFI::load of a temporary header naming $library; null (and $why) when it fails. */
    private static function loadScope(string $library, ?string &$why): ?\FFI
    {
        $header = tempnam(sys_get_temp_dir(), 'ums-ffi-');
        if ($header === false) {
            throw self::libraryError('preload: cannot create a temporary header file in ' . sys_get_temp_dir(), [$library]);
        }
        try {
            file_put_contents($header, self::ffiHeader($library));
            // While preloading, a library that fails to load is a warning and
            // a null result; otherwise an FFI\Exception.
            $ffi = @\FFI::load($header);
            $why = $ffi === null ? ((error_get_last()['message'] ?? null) ?: 'FFI::load failed') : null;
            return $ffi;
        } catch (\FFI\Exception $e) {
            $why = $e->getMessage();
            return null;
        } finally {
            @unlink($header);
        }
    }

    /** Where the loaded library came from (a path or a name the dynamic loader resolved). */
    public static function path(): string
    {
        self::ffi();
        return (string) self::$path;
    }

    /**
     * The places to look, in order: $UMS_LIBRARY alone when set; else next to
     * the package (bindings/php/lib/, then a source checkout's
     * target/release/); else the system's library path.
     *
     * @return list<string> paths (with a "/") and bare names for dlopen
     */
    public static function candidates(): array
    {
        $env = getenv('UMS_LIBRARY');
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $package = dirname(__DIR__, 2);
        $file = PHP_OS_FAMILY === 'Darwin' ? 'libums.dylib' : 'libums.so';
        return [
            $package . '/lib/' . $file,
            dirname($package, 2) . '/target/release/' . $file,
            PHP_OS_FAMILY === 'Darwin' ? 'libums.0.dylib' : self::soname(),
            $file,
        ];
    }

    /**
     * The SONAME of the libums this binding speaks: libums.so.0.MINOR for
     * 0.x (each 0.x minor may break the ABI), libums.so.MAJOR from 1.0 on.
     */
    public static function soname(): string
    {
        [$major, $minor] = explode('.', self::EXPECTED_VERSION);
        return 'libums.so.' . ($major === '0' ? "0.$minor" : $major);
    }

    /**
     * Loads the first candidate that exists and checks its version.
     *
     * @param list<string> $candidates
     * @return array{0: \FFI, 1: string}
     * @throws LibraryException
     */
    public static function load(array $candidates): array
    {
        self::checkFfiAvailable();
        $tried = [];
        foreach ($candidates as $candidate) {
            $isPath = str_contains($candidate, '/');
            if ($isPath && !is_file($candidate)) {
                $tried[] = $candidate . ' (no such file)';
                continue;
            }
            try {
                $ffi = \FFI::cdef(self::CDEF, $candidate);
            } catch (\FFI\Exception $e) {
                if (str_contains($e->getMessage(), 'restricted')) {
                    throw self::libraryError(
                        'FFI is restricted by ffi.enable=' . (string) ini_get('ffi.enable')
                        . ' in the ' . PHP_SAPI . ' SAPI: preload the binding with opcache.preload=' . dirname(__DIR__, 2) . '/preload.php'
                        . ' (ffi.enable=preload allows FFI only in the CLI and in preloaded code), or set ffi.enable=1',
                        [$candidate]
                    );
                }
                $tried[] = $candidate . ($isPath ? ' (' . $e->getMessage() . ')' : ' (not found by the dynamic loader)');
                continue;
            }
            self::checkVersion($ffi, $candidate);
            return [$ffi, $candidate];
        }
        $hint = getenv('UMS_LIBRARY') ? 'UMS_LIBRARY points at no loadable library' : 'set UMS_LIBRARY to the path of libums.so (built by `make lib`)';
        throw self::libraryError('libums not found: ' . $hint . '; looked at: ' . implode('; ', $tried), $tried);
    }

    /**
     * Runs one library call with the output-buffer protocol.
     *
     * A local export (no request sent: ums_client_new, ums_prepare,
     * ums_new_id, ...) gets a buffer of $capacity bytes and, on
     * UMS_ERR_BUFFER_TOO_SMALL, the very same call once more with the size
     * the library asked for.
     *
     * An operation export (one that may send a request: ums_update_qrcode,
     * ums_refund, ums_call, ...) is run with $client, its client handle: it
     * gets at least UMS_MIN_OUT_CAP bytes, and on UMS_ERR_BUFFER_TOO_SMALL it
     * is NEVER called again (that would send a new request): the answer the
     * library kept is taken by the answerId of the small document, with
     * ums_take_answer.
     *
     * @param \Closure(\FFI\CData, int, \FFI\CData): int $call receives (out_buf, out_cap, &out_len)
     * @param \FFI\CData|null $client the client handle when $call is an operation export
     * @return array{0: int, 1: string} the status and the document text
     */
    public static function run(\Closure $call, int $capacity = self::DEFAULT_BUFFER, ?\FFI\CData $client = null): array
    {
        $capacity = $capacity > 0 ? $capacity : 1;
        if ($client !== null && $capacity < self::MIN_OUT_CAP) {
            $capacity = self::MIN_OUT_CAP;
        }
        // The first buffer, the length and a pointer to it are kept between
        // calls: a fresh zero-filled char[65536] per call cost more than the
        // call itself. Taken while in use, so a call made meanwhile (from a
        // log callback) makes its own.
        $kept = self::$kept;
        self::$kept = null;
        if ($kept === null || $kept[1] !== $capacity) {
            $ffi = self::ffi();
            $length = $ffi->new('size_t');
            $kept = [$ffi->new("char[$capacity]"), $capacity, $length, \FFI::addr($length)];
        }
        [$buffer, , $length, $lengthPointer] = $kept;
        try {
            $status = $call($buffer, $capacity, $lengthPointer);
            if ($status === self::BUFFER_TOO_SMALL) {
                if ($client !== null) {
                    // Never call the operation again: take what the library kept.
                    return self::takeKept($client, self::nulTerminated($buffer, $capacity), $length->cdata);
                }
                $capacity = $length->cdata + 1;
                $buffer = self::ffi()->new("char[$capacity]");
                $status = $call($buffer, $capacity, $lengthPointer);
                if ($status === self::BUFFER_TOO_SMALL) {
                    throw new InternalException(self::INTERNAL, self::NAMES[self::INTERNAL], 'libums asked for a bigger buffer twice', []);
                }
            }
            $size = $length->cdata;
            if ($size >= $capacity) {
                throw new InternalException(self::INTERNAL, self::NAMES[self::INTERNAL], 'libums reported a document longer than its buffer', []);
            }
            return [$status, $size === 0 ? '' : \FFI::string($buffer, $size)];
        } finally {
            self::$kept = $kept;
        }
    }

    /**
     * Runs a call and returns the result text, or throws the exception its
     * error document describes.
     *
     * @param \Closure(\FFI\CData, int, \FFI\CData): int $call
     * @param \FFI\CData|null $client the client handle when $call is an operation export (see run())
     */
    public static function runOrThrow(\Closure $call, int $capacity = self::DEFAULT_BUFFER, ?\FFI\CData $client = null): string
    {
        [$status, $text] = self::run($call, $capacity, $client);
        if ($status !== self::OK) {
            throw self::exception($status, $text);
        }
        return $text;
    }

    /**
     * ums_take_answer: the status and document the library kept under
     * $answerId (removing it), with a buffer of at least $capacity bytes,
     * grown while the library answers UMS_ERR_BUFFER_TOO_SMALL for the same
     * id. Never sends anything. An unknown, expired or already taken id gives
     * UMS_ERR_ANSWER_GONE (returned, not thrown).
     *
     * @return array{0: int, 1: string} the kept status and document
     */
    public static function takeAnswer(\FFI\CData $client, string $answerId, int $capacity = self::MIN_OUT_CAP): array
    {
        $ffi = self::ffi();
        $capacity = max($capacity, self::MIN_OUT_CAP);
        $length = $ffi->new('size_t');
        for ($attempt = 0; $attempt < 4; $attempt++) {
            $buffer = $ffi->new("char[$capacity]");
            $status = $ffi->ums_take_answer($client, $answerId, $buffer, $capacity, \FFI::addr($length));
            $size = $length->cdata;
            if ($status !== self::BUFFER_TOO_SMALL) {
                if ($size >= $capacity) {
                    throw self::unreadable($answerId, 'libums reported a kept answer longer than its buffer');
                }
                return [$status, $size === 0 ? '' : \FFI::string($buffer, $size)];
            }
            // Still kept under the same id: grow to what the library asks for.
            $small = Json::decodeObjectOrNull(self::nulTerminated($buffer, $capacity)) ?? [];
            if (isset($small['answerId']) && $small['answerId'] !== $answerId) {
                throw self::unreadable($answerId, 'libums named another answerId while taking a kept answer');
            }
            $needed = max($size + 1, is_int($small['needed'] ?? null) ? $small['needed'] : 0);
            if ($needed <= $capacity) {
                throw self::unreadable($answerId, 'libums asked for a bigger buffer than ' . $capacity . ' bytes but needs no more');
            }
            $capacity = $needed;
        }
        throw self::unreadable($answerId, 'libums asked for a bigger buffer four times');
    }

    /**
     * After an operation's UMS_ERR_BUFFER_TOO_SMALL: takes the kept answer
     * named by the small document
     * {"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":N,"answerId":"…","answerStatus":"…"}.
     *
     * @return array{0: int, 1: string}
     */
    private static function takeKept(\FFI\CData $client, string $small, int $length): array
    {
        $document = Json::decodeObjectOrNull($small) ?? [];
        $answerId = $document['answerId'] ?? null;
        if (!is_string($answerId) || $answerId === '' || str_contains($answerId, "\0")) {
            throw self::unreadable(null, 'libums answered UMS_ERR_BUFFER_TOO_SMALL without an answerId');
        }
        $needed = is_int($document['needed'] ?? null) ? $document['needed'] : 0;
        return self::takeAnswer($client, $answerId, max($needed, $length + 1));
    }

    /**
     * The exception for an answer the binding could not read back: the
     * request reached the gateway (or may have) and was not resent, so its
     * outcome is unknown to the caller. An AnswerGoneException (an
     * OutcomeUnknownException), so money-safety handlers catch it.
     */
    private static function unreadable(?string $answerId, string $why): AnswerGoneException
    {
        $message = $why . ': the request was not sent again and its outcome is unknown; query before deciding, do not resend';
        $document = [
            'status' => self::NAMES[self::ANSWER_GONE],
            'kind' => 'answer_gone',
            'message' => $message,
            'outcomeUnknown' => true,
            'nothingSent' => false,
            'phase' => 'sent',
        ];
        if ($answerId !== null) {
            $document['answerId'] = $answerId;
        }
        return new AnswerGoneException(self::ANSWER_GONE, self::NAMES[self::ANSWER_GONE], $message, $document);
    }

    /** The NUL-terminated text at the start of a buffer of $capacity bytes. */
    private static function nulTerminated(\FFI\CData $buffer, int $capacity): string
    {
        $text = \FFI::string($buffer, $capacity);
        $end = strpos($text, "\0");
        return $end === false ? $text : substr($text, 0, $end);
    }

    /** The exception for a failed call: class by status, details from the error document. */
    public static function exception(int $status, string $documentText): UmsException
    {
        $document = Json::decodeObjectOrNull($documentText) ?? [];
        $name = is_string($document['status'] ?? null) ? $document['status'] : (self::NAMES[$status] ?? 'UMS_ERR_UNKNOWN');
        $message = is_string($document['message'] ?? null) ? $document['message'] : self::statusString($status);
        $class = self::CLASSES[$status] ?? InternalException::class;
        return new $class($status, $name, $message, $document, $documentText);
    }

    /** The library's static description of a status. */
    public static function statusString(int $status): string
    {
        return self::cstring(self::ffi()->ums_status_str($status));
    }

    /** The library's version, e.g. "0.1.0". */
    public static function version(): string
    {
        return self::cstring(self::ffi()->ums_version());
    }

    /** PHP's FFI turns `const char *` results into strings; be safe if it does not. */
    public static function cstring(mixed $value): string
    {
        if (is_string($value)) {
            return $value;
        }
        if ($value instanceof \FFI\CData) {
            return \FFI::string($value);
        }
        return '';
    }

    private static function checkFfiAvailable(): void
    {
        if (!extension_loaded('ffi')) {
            throw self::libraryError('the PHP FFI extension is not loaded: install and enable it (Debian: php-ffi is part of php8.2-common; check `php -m | grep FFI`)', []);
        }
        $mode = strtolower(trim((string) ini_get('ffi.enable')));
        if (in_array($mode, ['', '0', 'off', 'false', 'no'], true)) {
            throw self::libraryError('FFI is disabled (ffi.enable=' . $mode . '): set ffi.enable=1, or ffi.enable=preload for CLI-only use', []);
        }
    }

    private static function checkVersion(\FFI $ffi, string $where): void
    {
        $version = self::cstring($ffi->ums_version());
        if (!preg_match('/^(\d+)\.(\d+)\.\d+/', $version, $m) || $m[1] . '.' . $m[2] !== self::EXPECTED_VERSION) {
            throw self::libraryError(
                'libums at ' . $where . ' is version "' . $version . '"; this binding needs ' . self::EXPECTED_VERSION . '.x',
                [$where]
            );
        }
    }

    /** @param list<string> $searched */
    private static function libraryError(string $message, array $searched): LibraryException
    {
        return new LibraryException(self::INTERNAL, self::NAMES[self::INTERNAL], $message, [
            'status' => self::NAMES[self::INTERNAL],
            'kind' => 'library_unavailable',
            'message' => $message,
            'searched' => $searched,
        ]);
    }
}
