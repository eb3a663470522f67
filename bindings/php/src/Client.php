<?php

declare(strict_types=1);

namespace ChinaUms;

use ChinaUms\Exception\ClientClosedException;
use ChinaUms\Exception\UmsException;
use ChinaUms\Exception\ValidationException;
use ChinaUms\Internal\Json;
use ChinaUms\Internal\Library;

/**
 * A ChinaUMS Open Platform client (one libums handle).
 *
 * Requests are PHP arrays (encoded with JSON_UNESCAPED_UNICODE |
 * JSON_UNESCAPED_SLASHES) or JSON strings (sent as given). Answers are the
 * gateway's JSON answer decoded to an associative array; callRaw() gives the
 * exact text. Failures throw a ChinaUms\Exception\UmsException subclass.
 *
 * PHP arrays cannot tell [] from {}: an empty top-level request is sent as {},
 * but a nested empty object must be written `new \stdClass()` or `(object) []`
 * (or pass the request as a JSON string). In answers, an empty JSON object
 * decodes to [].
 */
final class Client
{
    /**
     * The operation methods and the libums export each one calls: exactly the
     * operation exports of include/ums.h (ums_update_qrcode ..
     * ums_secure_complete; tests/run.php checks the list against the header).
     * Each method looks itself up here by name.
     */
    public const OPERATIONS = [
        'getQrcode' => 'ums_get_qrcode',
        'updateQrcode' => 'ums_update_qrcode',
        'closeQrcode' => 'ums_close_qrcode',
        'queryBill' => 'ums_query_bill',
        'refund' => 'ums_refund',
        'queryQrcodeInfo' => 'ums_query_qrcode_info',
        'preauthComplete' => 'ums_preauth_complete',
        'preauthCancel' => 'ums_preauth_cancel',
        'secureCancel' => 'ums_secure_cancel',
        'secureComplete' => 'ums_secure_complete',
    ];

    private ?\FFI\CData $handle = null;
    /** @var array<string, mixed> */
    private array $info;
    private int $bufferSize;

    /**
     * @param array<string, mixed>|string $config the configuration object (camelCase keys,
     *        see the README). `environment`, `appId` and `appKey` are required: e.g.
     *        ['environment' => 'production', 'appId' => ..., 'appKey' => ..., 'mid' => ..., 'tid' => ...],
     *        or, against the ums-sandbox simulator, 'environment' => the URL it prints
     *        ('http://127.0.0.1:PORT') with its demo app. There is no default environment.
     * @param int $initialBufferSize first output buffer in bytes (advanced; operations
     *        use at least 256, UMS_MIN_OUT_CAP). A bigger result costs one more
     *        library call, never a resend: an operation's answer is taken from the
     *        library (ums_take_answer), not asked for again
     * @throws Exception\ConfigException when a key or value is wrong or missing (getField() names it)
     */
    public function __construct(array|string $config, int $initialBufferSize = Library::DEFAULT_BUFFER)
    {
        $this->bufferSize = max(1, $initialBufferSize);
        $ffi = Library::ffi();
        $json = self::text(Json::encodeObject($config, 'the configuration'), 'config');
        $slot = $ffi->new('UmsClient*');
        [$status, $text] = Library::run(
            static fn ($buf, $cap, $len) => $ffi->ums_client_new($json, \FFI::addr($slot), $buf, $cap, $len),
            $this->bufferSize
        );
        if ($status !== Library::OK || \FFI::isNull($slot)) {
            throw Library::exception($status, $text);
        }
        $this->handle = $slot;
        $this->info = Json::decodeObjectOrNull($text) ?? [];
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * Frees the library handle. Idempotent; later calls throw
     * ClientClosedException (a ValidationException: kind "client_closed",
     * nothing sent).
     */
    public function close(): void
    {
        if ($this->handle !== null) {
            $handle = $this->handle;
            $this->handle = null;
            Library::ffi()->ums_client_free($handle);
        }
    }

    public function isClosed(): bool
    {
        return $this->handle === null;
    }

    /**
     * What the library says about this client (environment, auth, ...; no secrets).
     *
     * @return array<string, mixed>
     */
    public function info(): array
    {
        return $this->info;
    }

    /** The libums version, e.g. "0.1.0". */
    public static function libraryVersion(): string
    {
        return Library::version();
    }

    /** `bills/get-qrcode`: creates a QR code. @return array<string, mixed> */
    public function getQrcode(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/update-qrcode`: binds a new bill to a code. @return array<string, mixed> */
    public function updateQrcode(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/close-qrcode`: closes a code. @return array<string, mixed> */
    public function closeQrcode(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/query`: a bill's status; use it after an OutcomeUnknownException. @return array<string, mixed> */
    public function queryBill(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /**
     * `bills/refund`: give every refund its own refundOrderId (see newId()).
     * Returns only when the refund is done; refundStatus PROCESSING or UNKNOWN
     * throws PendingException (query until final, never resend), FAIL throws
     * OperationFailedException (nothing moved).
     *
     * @return array<string, mixed>
     */
    public function refund(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/query-qrcode-info`: the bill a code carries. @return array<string, mixed> */
    public function queryQrcodeInfo(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/preauthed`: completes a pre-authorisation. @return array<string, mixed> */
    public function preauthComplete(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `bills/preauth-cancel`: cancels a pre-authorisation. @return array<string, mixed> */
    public function preauthCancel(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `secure-cancel`: cancels a guaranteed trade. @return array<string, mixed> */
    public function secureCancel(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /** `secure-complete`: completes a guaranteed trade. @return array<string, mixed> */
    public function secureComplete(array|string $request): array
    {
        return $this->operation(__FUNCTION__, $request);
    }

    /**
     * Any `/v1/...` service path. A request that is exactly ['data' => [...]]
     * is the official SDKs' needDataTag envelope: the inner object is checked
     * and it is sent wrapped.
     *
     * @return array<string, mixed>
     */
    public function call(string $servicePath, array|string $request): array
    {
        return Json::decodeObject($this->callRaw($servicePath, $request));
    }

    /** Like call(), but returns the gateway's answer text exactly as received. */
    public function callRaw(string $servicePath, array|string $request): string
    {
        $handle = $this->handle();
        $path = self::text($servicePath, 'servicePath');
        $json = self::request($request);
        return Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_call($handle, $path, $json, $buf, $cap, $len),
            $this->bufferSize,
            $handle
        );
    }

    /**
     * Verifies a payment notification with this client's configured
     * `notifyKey` and
     * `notifySignTypes` (["SHA256"] refuses MD5-signed notifications). The key
     * stays in the library: PHP never holds it. Pass the body exactly as
     * received (file_get_contents('php://input')).
     *
     * @return array{valid: bool, signType: string, notifyId: mixed, fields: array<string, mixed>}
     * @throws Exception\NotificationException forged, damaged, or signed with a refused
     *         signType (getReason(): bad_signature, missing_sign, unknown_sign_type, ...)
     * @throws Exception\ConfigException no notifyKey configured (getField() is "notifyKey")
     */
    public function verifyNotify(string $rawBody): array
    {
        $handle = $this->handle();
        $length = strlen($rawBody);
        // The body goes as a pointer plus its length: any bytes, no copy.
        /** @var array{valid: bool, signType: string, notifyId: mixed, fields: array<string, mixed>} */
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_client_verify_notify($handle, $rawBody, $length, $buf, $cap, $len),
            $this->bufferSize
        ));
    }

    /**
     * Claims a verified notification (its `notifyId`) for processing, across
     * every receiver sharing the client's `claimStore` (a Redis URL; default
     * the `tokenStore`'s Redis, else this process's memory).
     *
     * true: process it, then answer SUCCESS; if processing fails call
     * releaseNotification($notifyId) and answer FAILED (ChinaUMS resends).
     * false: another receiver (or an earlier delivery) handled or is handling
     * it: answer SUCCESS without processing. A claim lives 25 h. When Redis
     * cannot be reached this process's own claims answer (at worst processed
     * twice, never lost: keep recording the notifyId with your state change).
     *
     * @throws Exception\ValidationException $notifyId is not 1 to 128 printable
     *         ASCII characters without spaces
     */
    public function claimNotification(string $notifyId): bool
    {
        $doc = $this->claimCall('ums_notify_claim', $notifyId);
        return ($doc['claimed'] ?? false) === true;
    }

    /**
     * Releases a claim made by claimNotification() (processing failed), so
     * that ChinaUMS's next resend is processed, here or by another receiver.
     * When Redis cannot be reached the release is sent once it answers again.
     */
    public function releaseNotification(string $notifyId): void
    {
        $this->claimCall('ums_notify_release', $notifyId);
    }

    /** @return array<string, mixed> */
    private function claimCall(string $function, string $notifyId): array
    {
        $handle = $this->handle();
        $id = self::text($notifyId, 'notifyId');
        // Below UMS_MIN_OUT_CAP the library claims nothing: never offer less.
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->$function($handle, $id, $buf, $cap, $len),
            max($this->bufferSize, Library::MIN_OUT_CAP)
        ));
    }

    /**
     * What became of a money-moving call whose outcome is unknown
     * (ums_resolve), from read-only queries: it never resends. $outcome is
     * the UmsException the call threw (its document carries `resolveWith`),
     * an array such as ['operation' => 'refund', 'request' => [...]], or an
     * entry of journalPending(). Returns ['verdict' => 'applied' |
     * 'not_applied' | 'pending' | 'cannot_tell', 'safeToResend' => bool,
     * 'message', 'evidence', 'retryAfter', ...].
     *
     * @return array<string, mixed>
     */
    public function resolve(UmsException|array|string $outcome): array
    {
        $handle = $this->handle();
        $document = $outcome instanceof UmsException ? $outcome->getDocument() : $outcome;
        $json = self::text(Json::encodeObject($document, 'the outcome'), 'outcome');
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_resolve($handle, $json, $buf, $cap, $len),
            max($this->bufferSize, Library::MIN_OUT_CAP),
            $handle
        ));
    }

    /**
     * The open entries of the client's journal (config "journal";
     * ums_journal_pending), oldest first: calls whose outcome is not known
     * yet. Each is a valid input of resolve().
     *
     * @return list<array<string, mixed>>
     * @throws Exception\ConfigException the client has no journal
     */
    public function journalPending(): array
    {
        $handle = $this->handle();
        $doc = Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_journal_pending($handle, $buf, $cap, $len),
            max($this->bufferSize, Library::MIN_OUT_CAP),
            $handle
        ));
        return array_values($doc['pending'] ?? []);
    }

    /**
     * Advanced: takes an answer the library kept for this client
     * (ums_take_answer), by the `answerId` of a UMS_ERR_BUFFER_TOO_SMALL
     * document. The binding does this itself whenever an answer does not fit
     * its buffer, so you only need it to retry with an answerId found in an
     * exception's document. Returns the answer text exactly as received, or
     * throws the exception of the kept error; never sends anything.
     *
     * @throws Exception\AnswerGoneException the id is unknown, expired (120 s), evicted or
     *         already taken: the request's outcome is unknown, query before deciding
     */
    public function takeAnswer(string $answerId): string
    {
        $handle = $this->handle();
        $id = self::text($answerId, 'answerId');
        [$status, $text] = Library::takeAnswer($handle, $id, $this->bufferSize);
        if ($status !== Library::OK) {
            throw Library::exception($status, $text);
        }
        return $text;
    }

    /**
     * Prepares a request without sending it: defaults, checks and signature as
     * for a real call. $operation is an operation name ("update-qrcode",
     * "refund", ...) or a `/v1/...` path; $timestamp (yyyyMMddHHmmss) and
     * $nonce default to now and a random nonce.
     *
     * @return array{url: string, path: string, body: string, authorization: string}
     */
    public function prepare(string $operation, array|string $request, ?string $timestamp = null, ?string $nonce = null): array
    {
        $handle = $this->handle();
        $op = self::text($operation, 'operation');
        $json = self::request($request);
        $ts = self::optionalText($timestamp, 'timestamp');
        $nc = self::optionalText($nonce, 'nonce');
        /** @var array{url: string, path: string, body: string, authorization: string} */
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_prepare($handle, $op, $json, $ts, $nc, $buf, $cap, $len),
            $this->bufferSize
        ));
    }

    /**
     * A new 28-character merchant identifier (msgSrcId + Beijing time + 7
     * digits) for billNo, merOrderId or refundOrderId. Needs msgSrcId in the
     * config (ConfigException naming it otherwise).
     */
    public function newId(): string
    {
        $handle = $this->handle();
        $doc = Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_new_id($handle, $buf, $cap, $len),
            $this->bufferSize
        ));
        return (string) ($doc['id'] ?? '');
    }

    /**
     * The OPEN-BODY-SIG Authorization header for $body, for your own HTTP
     * stack: send exactly these bytes.
     *
     * @return array{authorization: string, timestamp: string, nonce: string}
     */
    public function signBody(string $body, ?string $timestamp = null, ?string $nonce = null): array
    {
        $handle = $this->handle();
        $ts = self::optionalText($timestamp, 'timestamp');
        $nc = self::optionalText($nonce, 'nonce');
        $length = strlen($body);
        // $body goes as a pointer plus its length, so it may hold any bytes.
        /** @var array{authorization: string, timestamp: string, nonce: string} */
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_sign_body($handle, $body, $length, $ts, $nc, $buf, $cap, $len),
            $this->bufferSize
        ));
    }

    /**
     * The signed token request body (POST /v1/token/access), for your own HTTP stack.
     *
     * @return array<string, mixed>
     */
    public function tokenRequest(?string $timestamp = null, ?string $nonce = null): array
    {
        $handle = $this->handle();
        $ts = self::optionalText($timestamp, 'timestamp');
        $nc = self::optionalText($nonce, 'nonce');
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->ums_token_request($handle, $ts, $nc, $buf, $cap, $len),
            $this->bufferSize
        ));
    }

    /** Cloning would free the handle twice. */
    private function __clone()
    {
    }

    /** A handle cannot outlive its process: refuse serialisation. */
    public function __serialize(): array
    {
        throw new \LogicException('a ChinaUms\\Client cannot be serialized');
    }

    /** @return array<string, mixed> */
    private function operation(string $method, array|string $request): array
    {
        $function = self::OPERATIONS[$method];
        $handle = $this->handle();
        $json = self::request($request);
        return Json::decodeObject(Library::runOrThrow(
            static fn ($buf, $cap, $len) => Library::ffi()->$function($handle, $json, $buf, $cap, $len),
            $this->bufferSize,
            $handle
        ));
    }

    private function handle(): \FFI\CData
    {
        if ($this->handle === null) {
            throw new ClientClosedException();
        }
        return $this->handle;
    }

    private static function request(array|string $request): string
    {
        return self::text(Json::encodeObject($request, 'the request'), 'request');
    }

    private static function optionalText(?string $value, string $name): ?string
    {
        return $value === null ? null : self::text($value, $name);
    }

    /** C strings end at NUL: refuse one inside rather than silently cut the text. */
    private static function text(string $value, string $name): string
    {
        if (str_contains($value, "\0")) {
            $message = "argument `$name` contains a NUL byte";
            throw new ValidationException(5, 'UMS_ERR_INVALID_ARGUMENT', $message, [
                'status' => 'UMS_ERR_INVALID_ARGUMENT',
                'message' => $message,
                'field' => $name,
            ]);
        }
        return $value;
    }
}
